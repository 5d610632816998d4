package org.stablekd.nn;

import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/** Weight initializers (host tensors, before slab packing). Every draw comes from the run's Rng. */
public final class Init {
    private Init() {}

    public static void normal(Tensor t, Rng rng, double std) {
        for (long i = 0; i < t.numel(); i++) t.setFlat(i, rng.nextGaussian() * std);
    }

    public static void uniform(Tensor t, Rng rng, double lo, double hi) {
        for (long i = 0; i < t.numel(); i++) t.setFlat(i, lo + (hi - lo) * rng.nextDouble());
    }

    public static void constant(Tensor t, double v) {
        t.fill(v);
    }
}
