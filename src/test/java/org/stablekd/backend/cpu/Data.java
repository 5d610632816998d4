package org.stablekd.backend.cpu;

import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/** Test inputs for the cpu kernel tests: seeded, F32, contiguous unless said otherwise. */
final class Data {
    private Data() {}

    /** Sizes that hit every loop shape: one element, below/at/above one vector, long with tails, parallel. */
    static final int[] SIZES = {1, 7, 15, 16, 17, 31, 33, 63, 64, 65, 1000, 1003, 70_001};

    static Tensor normal(long seed, double std, int... dims) {
        return Tensor.randn(new Rng(seed), DType.F32, std, dims);
    }

    static Tensor uniform(long seed, double lo, double hi, int... dims) {
        return Tensor.uniform(new Rng(seed), DType.F32, lo, hi, dims);
    }

    /** N(0, 3) with NaN, ±∞, ±0 and the relu6 kinks 0 and 6 planted at fixed places. */
    static Tensor withSpecials(long seed, int n) {
        Tensor t = normal(seed, 3, n);
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, 6f, 6.5f, -1e-30f};
        for (int i = 0; i < specials.length && i < n; i++) t.setFlat((long) i * 7 % n, specials[i]);
        return t;
    }

    /** The same values at a non-zero element offset inside a bigger buffer (a narrowed 1-d view). */
    static Tensor atOffset(Tensor t, int offset) {
        int n = (int) t.numel();
        Tensor big = Tensor.zeros(t.dtype(), n + offset + 3);
        Tensor view = big.narrowView(0, offset, n);
        for (int i = 0; i < n; i++) view.setFlat(i, t.getFlat(i));
        return view.viewAs(t.shape().dims());
    }

    static Tensor emptyLike(Tensor t) {
        return Tensor.emptyLike(t);
    }
}
