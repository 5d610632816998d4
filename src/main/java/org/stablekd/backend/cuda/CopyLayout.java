package org.stablekd.backend.cuda;

import java.util.Arrays;

/**
 * The shape and strides of a strided copy, simplified for copy.cu: size-1 dims dropped and
 * neighbouring dims merged where both sides are contiguous across them (e.g. a narrow along
 * channels of (n,c,h,w) becomes (n, c'·h·w) with row strides c·h·w and c'·h·w). The kernel then
 * decodes fewer digits per element; a copy that merges to rank ≤ 1 with unit strides is a
 * plain memcpy. Pure arithmetic, tested without a GPU.
 */
record CopyLayout(long[] sizes, long[] srcStrides, long[] dstStrides) {

    static CopyLayout of(int[] dims, long[] srcStrides, long[] dstStrides) {
        int r = dims.length;
        long[] sz = new long[r], ss = new long[r], ds = new long[r];
        int k = 0;
        for (int i = 0; i < r; i++) {
            if (dims[i] == 1) continue;
            if (k > 0 && ss[k - 1] == dims[i] * srcStrides[i] && ds[k - 1] == dims[i] * dstStrides[i]) {
                // dim k-1 steps exactly over dim i on both sides: one dim of size sz·dims[i]
                sz[k - 1] *= dims[i];
                ss[k - 1] = srcStrides[i];
                ds[k - 1] = dstStrides[i];
            } else {
                sz[k] = dims[i];
                ss[k] = srcStrides[i];
                ds[k] = dstStrides[i];
                k++;
            }
        }
        return new CopyLayout(Arrays.copyOf(sz, k), Arrays.copyOf(ss, k), Arrays.copyOf(ds, k));
    }

    int rank() {
        return sizes.length;
    }

    long numel() {
        long n = 1;
        for (long s : sizes) n *= s;
        return n;
    }

    /** True when both sides are one dense run (rank 0, or rank 1 with unit strides). */
    boolean dense() {
        return rank() == 0 || (rank() == 1 && srcStrides[0] == 1 && dstStrides[0] == 1);
    }
}
