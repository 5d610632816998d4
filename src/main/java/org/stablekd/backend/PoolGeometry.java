package org.stablekd.backend;

/**
 * The sizes of one 2-D pooling window, PyTorch semantics (floor or ceil mode; in ceil mode a
 * window that would start in the right/bottom padding is dropped).
 * in: x (n, c, h, w); out: y (n, c, p, q).
 */
public record PoolGeometry(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                           boolean ceilMode, int p, int q) {

    public static PoolGeometry of(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, boolean ceilMode) {
        return new PoolGeometry(n, c, h, w, kh, kw, sh, sw, ph, pw, ceilMode,
                outSize(h, kh, sh, ph, ceilMode), outSize(w, kw, sw, pw, ceilMode));
    }

    static int outSize(int in, int k, int stride, int pad, boolean ceil) {
        int span = in + 2 * pad - k;
        int out = (ceil ? Math.floorDiv(span + stride - 1, stride) : Math.floorDiv(span, stride)) + 1;
        if (ceil && (long) (out - 1) * stride >= in + pad) out--;
        return out;
    }

    /**
     * The divisor of average pooling at output (i, j): the window clipped to the padded input
     * (padding counts, what lies beyond it does not), as PyTorch's count_include_pad=True.
     */
    public int avgDivisor(int i, int j) {
        int h0 = i * sh - ph, w0 = j * sw - pw;
        int h1 = Math.min(h0 + kh, h + ph), w1 = Math.min(w0 + kw, w + pw);
        return (h1 - h0) * (w1 - w0);
    }
}
