package org.stablekd.backend;

/**
 * The sizes of one 2-D convolution, computed and checked once by the op frontend.
 * in: x (n, c, h, w); weight (k, c/groups, r, s); out: y (n, k, p, q).
 */
public record ConvGeometry(int n, int c, int h, int w, int k, int r, int s,
                           int strideH, int strideW, int padH, int padW, int groups, int p, int q) {

    public static ConvGeometry of(int n, int c, int h, int w, int k, int r, int s,
                                  int strideH, int strideW, int padH, int padW, int groups) {
        int p = (h + 2 * padH - r) / strideH + 1;
        int q = (w + 2 * padW - s) / strideW + 1;
        return new ConvGeometry(n, c, h, w, k, r, s, strideH, strideW, padH, padW, groups, p, q);
    }

    public int cPerGroup() { return c / groups; }
    public int kPerGroup() { return k / groups; }
    /** True for a depthwise convolution: one input and one output channel per group. */
    public boolean depthwise() { return groups == c && groups == k; }
    /** Multiply-adds of the forward pass (the backwards cost the same). */
    public long macs() { return (long) n * k * p * q * cPerGroup() * r * s; }
}
