package org.stablekd.distill.augment;

import org.stablekd.tensor.Rng;

/** The random draws of the mixing augmentations: λ ~ Beta(a, b) and partner permutations. */
final class Sampling {
    private Sampling() {}

    /**
     * λ ~ Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). Beta(1, 1) — the default of
     * MixUp and CutMix — is the uniform distribution and takes exactly one draw.
     */
    static double beta(Rng rng, double a, double b) {
        if (!(a > 0 && b > 0 && Double.isFinite(a) && Double.isFinite(b))) {
            throw new IllegalArgumentException("Beta(" + a + ", " + b + ") needs positive finite parameters");
        }
        if (a == 1 && b == 1) return rng.nextDouble();
        double x = gamma(rng, a), y = gamma(rng, b);
        if (x + y == 0) return rng.nextDouble() < a / (a + b) ? 1 : 0;   // both underflowed (tiny a, b): λ is 0 or 1 anyway
        return x / (x + y);
    }

    /**
     * Gamma(shape, 1) by Marsaglia and Tsang (2000): for shape ≥ 1, d = shape − 1/3, c = 1/√(9d),
     * accept d·v with v = (1 + c·z)³ for z ~ N(0, 1); for shape < 1, Gamma(shape + 1)·U^(1/shape).
     */
    static double gamma(Rng rng, double shape) {
        if (shape < 1) {
            double u = rng.nextDouble();
            return gamma(rng, shape + 1) * Math.pow(u, 1 / shape);
        }
        double d = shape - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double z = rng.nextGaussian();
            double v = 1 + c * z;
            if (v <= 0) continue;
            v = v * v * v;
            double u = rng.nextDouble();
            if (u < 1 - 0.0331 * z * z * z * z) return d * v;
            if (Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
        }
    }

    /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
    static int[] permutation(Rng rng, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * A uniformly random permutation without fixed points (every sample gets another sample as its
     * partner), by rejection: about e ≈ 2.7 tries on average. A batch of one has no such
     * permutation; its image is its own partner.
     */
    static int[] derangement(Rng rng, int n) {
        if (n < 2) return permutation(rng, n);
        while (true) {
            int[] p = permutation(rng, n);
            boolean fixed = false;
            for (int i = 0; i < n && !fixed; i++) fixed = p[i] == i;
            if (!fixed) return p;
        }
    }
}
