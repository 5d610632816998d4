package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

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
 * so that y (k, p·q) = w (k, c·r·s) · cols. The forward never stores cols: {@link #packPanels}
 * writes blocks of it straight into SGEMM's packed-B layout. The backward of the input (strided
 * layers) runs the other way: cols' = wᵀ · dy, then {@link #col2im} adds every entry back into a
 * padded image and {@link #crop} drops the border. Padding the image first keeps the inner loops
 * free of bounds tests; with stride 1 a row of cols is a shifted run of a padded row.
 */
final class Im2col {
    private static final VectorSpecies<Float> SPECIES = Sgemm.SPECIES;
    private static final int VL = Sgemm.VL, NR = Sgemm.NR;

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

    /**
     * Implicit im2col: columns [j0, j0+n) of cols, written straight into SGEMM's packed-B panel
     * layout ({@link Sgemm#packB} with kc = c·r·s): panel t holds pixels j0 + t·NR.., as
     * bp[t·NR·crs + row·NR + jj], pixels past n zero. Each half panel (VL pixels) is one vector
     * load per cols row: a plain load when its pixels sit consecutively in the padded image
     * (stride 1 within one output row, or across rows when they abut: 1×1 without padding), else a gather through {@code index} (scratch of VL ints).
     */
    static void packPanels(float[] padded, int c, int hp, int wp, int r, int s, int sh, int sw, int p, int q,
                           int j0, int n, float[] bp, int[] index) {
        int crs = c * r * s;
        for (int t = 0; t * NR < n; t++) {
            for (int half = 0; half < NR; half += VL) {
                int first = j0 + t * NR + half, valid = Math.min(VL, j0 + n - first);
                int dst = t * NR * crs + half;
                if (valid <= 0) {
                    for (int row = 0; row < crs; row++) FloatVector.zero(SPECIES).intoArray(bp, dst + row * NR);
                    continue;
                }
                int oh = first / q, ow = first % q;
                int base = oh * sh * wp + ow * sw;
                if (sw == 1 && valid == VL && (ow + VL <= q || (wp == q && sh == 1))) {   // one row, or rows that abut
                    for (int ci = 0, row = 0; ci < c; ci++)
                        for (int i = 0; i < r; i++)
                            for (int j = 0; j < s; j++, row++)
                                FloatVector.fromArray(SPECIES, padded, base + (ci * hp + i) * wp + j).intoArray(bp, dst + row * NR);
                } else {
                    for (int lane = 0; lane < VL; lane++) {
                        int pix = Math.min(first + lane, first + valid - 1);
                        index[lane] = (pix / q) * sh * wp + (pix % q) * sw;
                    }
                    VectorMask<Float> mask = SPECIES.indexInRange(0, valid);
                    for (int ci = 0, row = 0; ci < c; ci++)
                        for (int i = 0; i < r; i++)
                            for (int j = 0; j < s; j++, row++)
                                FloatVector.fromArray(SPECIES, padded, (ci * hp + i) * wp + j, index, 0, mask).intoArray(bp, dst + row * NR);
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

    /** padded (c, hp, wp) += the entries of cols (c·r·s, p·q) at the places cols would have read them from (the class comment). */
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
