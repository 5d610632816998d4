package org.stablekd.data;

import org.stablekd.tensor.Rng;

/**
 * A per-image transform: rewrites the image in an {@link ImageBuffer} (in place or through its spare
 * array; never allocating per image). Random transforms draw only from the {@link Rng} they are
 * given, so a transform is a pure function of (image, rng state) — the loader seeds one Rng per
 * (epoch, sample) and the result does not depend on which thread ran it. Implementations hold no
 * per-call state and are shared by the loader's threads.
 */
public interface Transform {
    /** The shape of the output for an input of {@code input}; throws IllegalArgumentException if unsupported. */
    ImageShape outputShape(ImageShape input);

    void apply(ImageBuffer image, Rng rng);

    /** The transform that changes nothing. */
    Transform IDENTITY = new Transform() {
        @Override
        public ImageShape outputShape(ImageShape input) {
            return input;
        }

        @Override
        public void apply(ImageBuffer image, Rng rng) {}

        @Override
        public String toString() {
            return "Identity";
        }
    };
}
