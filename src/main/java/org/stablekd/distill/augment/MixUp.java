package org.stablekd.distill.augment;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.stablekd.distill.Teacher;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/**
 * MixUp (Zhang et al., ICLR 2018): λ ~ Beta(α, α) once per batch, a random permutation π, and
 * x̃_i = λ·x_i + (1 − λ)·x_π(i) with target λ·y_i + (1 − λ)·y_π(i). α = 1 (λ uniform) is the
 * default of the official code and of Good-DA-in-KD. As in the official code π may map a sample
 * to itself; {@code distinctPartners} forbids that.
 *
 * <p>Draws, in order: λ, then π.
 */
public final class MixUp implements BatchAugment {
    private final double alpha;
    private final boolean distinctPartners;

    public MixUp(double alpha, boolean distinctPartners) {
        if (!(alpha > 0 && Double.isFinite(alpha))) throw new IllegalArgumentException("MixUp α must be positive, got " + alpha);
        this.alpha = alpha;
        this.distinctPartners = distinctPartners;
    }

    public MixUp(double alpha) {
        this(alpha, false);
    }

    public MixUp() {
        this(1.0);
    }

    @Override
    public String name() {
        return "mixup";
    }

    @Override
    public Mixed apply(Tensor images, Tensor labels, Teacher teacher, Rng rng) {
        HostBatch.check(images, labels);
        double lambda = Sampling.beta(rng, alpha, alpha);
        int b = images.dim(0);
        int[] partner = distinctPartners ? Sampling.derangement(rng, b) : Sampling.permutation(rng, b);
        return mix(images, labels, lambda, partner);
    }

    /** The mixing itself, for a given λ and partner permutation. */
    static Mixed mix(Tensor images, Tensor labels, double lambda, int[] partner) {
        int b = images.dim(0);
        long per = images.numel() / b;
        MemorySegment src = HostBatch.floats(images);
        Tensor out = HostBatch.like(images);
        MemorySegment dst = HostBatch.segmentOf(out);
        for (int i = 0; i < b; i++) {
            long a = i * per, p = (long) partner[i] * per;
            for (long k = 0; k < per; k++) {
                HostBatch.set(dst, a + k, (float) (lambda * HostBatch.get(src, a + k) + (1 - lambda) * HostBatch.get(src, p + k)));
            }
        }
        double[] lambdas = new double[b];
        Arrays.fill(lambdas, lambda);
        return new Mixed(out, labels, HostBatch.gather(labels.toIntArray(), partner), lambdas, null);
    }

    @Override
    public String toString() {
        return "mixup(α=" + alpha + (distinctPartners ? ", distinct partners" : "") + ")";
    }
}
