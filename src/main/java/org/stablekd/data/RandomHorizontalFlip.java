package org.stablekd.data;

import org.stablekd.tensor.Rng;

/**
 * Mirrors the image left-right with probability {@code p}, in place. Always draws exactly one
 * number (so later draws do not depend on the outcome).
 */
public final class RandomHorizontalFlip implements Transform {
    private final double p;

    public RandomHorizontalFlip(double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("flip probability must be in [0, 1], got " + p);
        this.p = p;
    }

    public RandomHorizontalFlip() {
        this(0.5);
    }

    @Override
    public ImageShape outputShape(ImageShape in) {
        return in;
    }

    @Override
    public void apply(ImageBuffer image, Rng rng) {
        if (rng.nextDouble() >= p) return;
        float[] d = image.data();
        int w = image.width(), rows = image.channels() * image.height();
        for (int r = 0; r < rows; r++) {
            for (int a = r * w, b = a + w - 1; a < b; a++, b--) {
                float t = d[a];
                d[a] = d[b];
                d[b] = t;
            }
        }
    }

    @Override
    public String toString() {
        return "RandomHorizontalFlip(" + p + ")";
    }
}
