package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Lowering a convolution to a matrix product, one image (or one group of it) at a time.
 *
 * <p>Layouts (all row-major, heap scratch unless noted):
 * <pre>
 *   x      (c, h, w)                 one image, off-heap tensor memory at an element offset
 *   padded (c, hp, wp)               hp = h + 2·padH, wp = w + 2·padW, zero border
 *   cols   (c·r·s, p·q)              cols[(ci·r + i)·s + j][oh·q + ow] = padded[ci][oh·sh + i][ow·sw + j]
 *   rows   (p·q, c·r·s)              rows = colsᵀ (for the weight gradient)
 * </pre>
 * so that y (k, p·q) = w (k, c·r·s) · cols. The backward of the input runs the other way:
 * cols' = wᵀ · dy, then {@link #col2im} adds every column entry back into a padded image, and
 * {@link #crop} drops the border. Padding the image first keeps the inner loops free of bounds
 * tests; with stride 1 a row of cols is a plain copy of a padded row.
 */
final class Im2col {
    private Im2col() {}

    /** padded (c, h+2ph, w+2pw) = x (c, h, w) with a zero border; x at element xOff of seg. */
    static void pad(MemorySegment x, long xOff, int c, int h, int w, int ph, int pw, float[] padded) {
        int hp = h + 2 * ph, wp = w + 2 * pw;
        if (ph == 0 && pw == 0) {
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, xOff * Float.BYTES, padded, 0, c * h * w);
            return;
        }
        Arrays.fill(padded, 0, c * hp * wp, 0f);
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < h; i++) {
                long src = (xOff + ((long) ci * h + i) * w) * Float.BYTES;
                MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, src, padded, (ci * hp + i + ph) * wp + pw, w);
            }
        }
    }

    /** cols (c·r·s, p·q) from a padded image (c, hp, wp), see the class comment. */
    static void im2col(float[] padded, int c, int hp, int wp, int r, int s, int sh, int sw, int p, int q, float[] cols) {
        int pq = p * q;
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < s; j++) {
                    int row = ((ci * r + i) * s + j) * pq;
                    for (int oh = 0; oh < p; oh++) {
                        int src = (ci * hp + oh * sh + i) * wp + j;
                        int dst = row + oh * q;
                        if (sw == 1) {
                            System.arraycopy(padded, src, cols, dst, q);
                        } else {
                            for (int ow = 0; ow < q; ow++) cols[dst + ow] = padded[src + ow * sw];
                        }
                    }
                }
            }
        }
    }

    /**
     * rows (p·q, c·r·s) = colsᵀ, written directly (pixel-major): the B operand of the weight
     * gradient dw (k, c·r·s) = dy (k, p·q) · rows, which then packs with plain vector copies.
     * The r·s taps of one channel and row are s consecutive padded columns.
     */
    static void im2row(float[] padded, int c, int hp, int wp, int r, int s, int sh, int sw, int p, int q, float[] rows) {
        int crs = c * r * s;
        for (int oh = 0; oh < p; oh++) {
            for (int ow = 0; ow < q; ow++) {
                int dst = (oh * q + ow) * crs;
                for (int ci = 0; ci < c; ci++) {
                    for (int i = 0; i < r; i++, dst += s) {
                        int src = (ci * hp + oh * sh + i) * wp + ow * sw;
                        for (int j = 0; j < s; j++) rows[dst + j] = padded[src + j];
                    }
                }
            }
        }
    }

    /** padded (c, hp, wp) += the entries of cols (c·r·s, p·q) at the places {@link #im2col} read them from. */
    static void col2im(float[] cols, int c, int hp, int wp, int r, int s, int sh, int sw, int p, int q, float[] padded) {
        int pq = p * q;
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < s; j++) {
                    int row = ((ci * r + i) * s + j) * pq;
                    for (int oh = 0; oh < p; oh++) {
                        int dst = (ci * hp + oh * sh + i) * wp + j;
                        int src = row + oh * q;
                        if (sw == 1) {
                            for (int ow = 0; ow < q; ow++) padded[dst + ow] += cols[src + ow];
                        } else {
                            for (int ow = 0; ow < q; ow++) padded[dst + ow * sw] += cols[src + ow];
                        }
                    }
                }
            }
        }
    }

    /** dx (c, h, w) at element dxOff of seg = the interior of padded (c, h+2ph, w+2pw). */
    static void crop(float[] padded, int c, int h, int w, int ph, int pw, MemorySegment dx, long dxOff) {
        int hp = h + 2 * ph, wp = w + 2 * pw;
        if (ph == 0 && pw == 0) {
            MemorySegment.copy(padded, 0, dx, ValueLayout.JAVA_FLOAT, dxOff * Float.BYTES, c * h * w);
            return;
        }
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < h; i++) {
                long dst = (dxOff + ((long) ci * h + i) * w) * Float.BYTES;
                MemorySegment.copy(padded, (ci * hp + i + ph) * wp + pw, dx, ValueLayout.JAVA_FLOAT, dst, w);
            }
        }
    }
}
