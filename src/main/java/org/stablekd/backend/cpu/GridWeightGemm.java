package org.stablekd.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A convolution's weight gradient on the shared-padding grid ({@link ConvGrid}) as a product
 * whose depth is the pixels of a whole block of images:
 * <pre>
 *   acc[r·kp + m] += Σ_t x[base[r] + t] · dy[m][t]        r < rows (taps), m < kp, t < len
 * </pre>
 * x is the input grid read in place (row r of the implicit im2col matrix starts at base[r]),
 * dyt is dy transposed to pixel-major ({@link #transposeGrid}): per block of NR = 2·VL output
 * channels, those of output pixel t side by side, zero at the grid's garbage pixels. So one tile is MR taps × 2 vectors of
 * channels, and its accumulators stay in registers over the whole block (thousands of steps),
 * each step one broadcast per tap and two vector loads for 2·MR FMAs: the forward's
 * efficiency, with no lane partials to fold.
 *
 * <p>Tiles from the vector length: 8 taps × 2 vectors (16 accumulators, AVX-512) or 6 × 2
 * (12, AVX2). kp = roundUp(k, 2·VL); with 16 lanes and k ≤ 16 half of every tile would be
 * padding, so {@link GridConv} uses {@link DotRows} there instead.
 *
 * <p>Each acc entry sums its block's t in order and is added to once per call: the order
 * depends only on the sizes and the block cuts (Note [Determinism]).
 */
final class GridWeightGemm {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int VL = SPECIES.length();
    private static final boolean WIDE = VL >= 16;
    /** Taps per tile. */
    static final int MR = WIDE ? 8 : 6;
    /** Channels per tile (two vectors). */
    static final int NR = 2 * VL;

    private GridWeightGemm() {}

    /** Channels of dyt per pixel for k output channels. */
    static int channelsPadded(int k) {
        return ConvGrid.roundUp(k, NR);
    }

    /**
     * dyt = dy transposed from its input grid dg (plane stride pl, output t at o + t, zero at the
     * garbage pixels), in blocks of NR channels: channel m of pixel t at
     * dyt[(m/NR)·len·NR + t·NR + m%NR] (zero for k ≤ m < kp), so that a tile streams one
     * contiguous run. One gather of VL channels per pixel. idx: VL ints of scratch.
     */
    static void transposeGrid(float[] dg, int pl, int o, int k, int len, float[] dyt, int[] idx) {
        int kp = channelsPadded(k);
        for (int lane = 0; lane < VL; lane++) idx[lane] = lane * pl;
        for (int m0 = 0; m0 < kp; m0 += VL) {
            int block = (m0 / NR) * len * NR + m0 % NR;
            if (m0 + VL <= k) {
                for (int t = 0, src = m0 * pl + o, dst = block; t < len; t++, src++, dst += NR) {
                    FloatVector.fromArray(SPECIES, dg, src, idx, 0).intoArray(dyt, dst);
                }
            } else {
                for (int t = 0; t < len; t++) {
                    for (int m = m0; m < m0 + VL; m++) dyt[block + t * NR + m - m0] = m < k ? dg[m * pl + o + t] : 0f;
                }
            }
        }
    }

    /** Scratch floats one call needs for its register tile. */
    static final int TILE = MR * NR;

    /**
     * acc[accOff..] (rows, kp) += the block's product (see the class comment); kp a multiple of
     * NR; tile: scratch of {@link #TILE} floats.
     */
    static void accumulate(int rows, int kp, int len, float[] x, int[] base, float[] dyt, float[] acc, int accOff, float[] tile) {
        for (int m = 0; m < kp; m += NR) {
            for (int r = 0; r < rows; r += MR) {
                int nr = Math.min(MR, rows - r);
                if (WIDE) tile8x2(len, x, base, r, nr, dyt, m * len, tile);
                else tile6x2(len, x, base, r, nr, dyt, m * len, tile);
                addTile(tile, nr, acc, accOff + r * kp + m, kp);
            }
        }
    }

    // taps r0.. (nr valid; the rest repeat the last) × channels m..m+2·VL, over t < len
    private static void tile8x2(int len, float[] x, int[] base, int r0, int nr, float[] dyt, int d0, float[] tile) {
        int x0 = base[r0], x1 = base[r0 + Math.min(1, nr - 1)], x2 = base[r0 + Math.min(2, nr - 1)], x3 = base[r0 + Math.min(3, nr - 1)],
            x4 = base[r0 + Math.min(4, nr - 1)], x5 = base[r0 + Math.min(5, nr - 1)], x6 = base[r0 + Math.min(6, nr - 1)],
            x7 = base[r0 + Math.min(7, nr - 1)];
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
                c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        for (int t = 0, d = d0; t < len; t++, d += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, dyt, d), b1 = FloatVector.fromArray(SPECIES, dyt, d + VL);
            FloatVector v = FloatVector.broadcast(SPECIES, x[x0 + t]);
            c00 = v.fma(b0, c00); c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(SPECIES, x[x1 + t]);
            c10 = v.fma(b0, c10); c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(SPECIES, x[x2 + t]);
            c20 = v.fma(b0, c20); c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(SPECIES, x[x3 + t]);
            c30 = v.fma(b0, c30); c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(SPECIES, x[x4 + t]);
            c40 = v.fma(b0, c40); c41 = v.fma(b1, c41);
            v = FloatVector.broadcast(SPECIES, x[x5 + t]);
            c50 = v.fma(b0, c50); c51 = v.fma(b1, c51);
            v = FloatVector.broadcast(SPECIES, x[x6 + t]);
            c60 = v.fma(b0, c60); c61 = v.fma(b1, c61);
            v = FloatVector.broadcast(SPECIES, x[x7 + t]);
            c70 = v.fma(b0, c70); c71 = v.fma(b1, c71);
        }
        // spill (no vector may cross a call C2 does not inline, or it boxes them all), then add the valid taps
        c00.intoArray(tile, 0); c01.intoArray(tile, VL); c10.intoArray(tile, 2 * VL); c11.intoArray(tile, 3 * VL);
        c20.intoArray(tile, 4 * VL); c21.intoArray(tile, 5 * VL); c30.intoArray(tile, 6 * VL); c31.intoArray(tile, 7 * VL);
        c40.intoArray(tile, 8 * VL); c41.intoArray(tile, 9 * VL); c50.intoArray(tile, 10 * VL); c51.intoArray(tile, 11 * VL);
        c60.intoArray(tile, 12 * VL); c61.intoArray(tile, 13 * VL); c70.intoArray(tile, 14 * VL); c71.intoArray(tile, 15 * VL);
    }

    // 6 taps × 2 vectors (AVX2), as tile8x2
    private static void tile6x2(int len, float[] x, int[] base, int r0, int nr, float[] dyt, int d0, float[] tile) {
        int x0 = base[r0], x1 = base[r0 + Math.min(1, nr - 1)], x2 = base[r0 + Math.min(2, nr - 1)], x3 = base[r0 + Math.min(3, nr - 1)],
            x4 = base[r0 + Math.min(4, nr - 1)], x5 = base[r0 + Math.min(5, nr - 1)];
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
                c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int t = 0, d = d0; t < len; t++, d += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, dyt, d), b1 = FloatVector.fromArray(SPECIES, dyt, d + VL);
            FloatVector v = FloatVector.broadcast(SPECIES, x[x0 + t]);
            c00 = v.fma(b0, c00); c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(SPECIES, x[x1 + t]);
            c10 = v.fma(b0, c10); c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(SPECIES, x[x2 + t]);
            c20 = v.fma(b0, c20); c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(SPECIES, x[x3 + t]);
            c30 = v.fma(b0, c30); c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(SPECIES, x[x4 + t]);
            c40 = v.fma(b0, c40); c41 = v.fma(b1, c41);
            v = FloatVector.broadcast(SPECIES, x[x5 + t]);
            c50 = v.fma(b0, c50); c51 = v.fma(b1, c51);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, VL); c10.intoArray(tile, 2 * VL); c11.intoArray(tile, 3 * VL);
        c20.intoArray(tile, 4 * VL); c21.intoArray(tile, 5 * VL); c30.intoArray(tile, 6 * VL); c31.intoArray(tile, 7 * VL);
        c40.intoArray(tile, 8 * VL); c41.intoArray(tile, 9 * VL); c50.intoArray(tile, 10 * VL); c51.intoArray(tile, 11 * VL);
    }

    /** acc[a + i·kp ..] += tile row i (2 vectors) for the nr valid taps. */
    private static void addTile(float[] tile, int nr, float[] acc, int a, int kp) {
        for (int i = 0; i < nr; i++, a += kp) {
            for (int v = 0; v < NR; v += VL) {
                FloatVector.fromArray(SPECIES, acc, a + v).add(FloatVector.fromArray(SPECIES, tile, i * NR + v)).intoArray(acc, a + v);
            }
        }
    }
}
