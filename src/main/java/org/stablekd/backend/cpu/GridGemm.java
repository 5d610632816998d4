package org.stablekd.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The product of a convolution on the shared-padding grid ({@link ConvGrid}):
 * <pre>
 *   c[i·cs + t] = Σ_p a[i][p] · b[base[p] + t]      i < m, p < rows, t in [t0, t1)
 * </pre>
 * a (m, rows) is the weights (one row per output channel, one column per tap: input plane and
 * offset), packed once per call ({@link #pack}); b is the input grid read in place: row p of the
 * implicit im2col matrix is the contiguous run starting at base[p], so nothing is packed or
 * gathered per pixel. c is the output grid (plane stride cs).
 *
 * <p>Register tile, from the vector length: MR output channels × NV vectors of pixels, all
 * accumulators held over the whole depth (rows), so each output is one in-order sum of its
 * rows, whatever the blocking or thread split (Note [Determinism]).
 * <ul>
 *   <li>16 lanes (AVX-512, 32 registers): 8 × 3 vectors = 24 accumulators + 3 + 1 in use, per
 *       step 3 loads and 8 broadcasts for 24 FMAs (measured 100–107 GFLOP/s on one Zen 4 core,
 *       against 87–98 for 8 × 2);</li>
 *   <li>8 lanes or fewer (AVX2, 16 registers): 4 × 3 vectors = 12 accumulators + 3 + 1 in use.</li>
 * </ul>
 * Tiles are whole: c has roundUp(m, MR) planes and t runs to t1 in steps of NR, so the caller's
 * buffers hold whole tiles (b's zero tail covers the reads past the last image).
 */
final class GridGemm {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int VL = SPECIES.length();
    private static final boolean WIDE = VL >= 16;
    /** Output channels per tile. */
    static final int MR = WIDE ? 8 : 4;
    /** Pixels per tile (three vectors). */
    static final int NR = 3 * VL;

    private GridGemm() {}

    /** Floats of the packed weights for m rows of depth rows. */
    static int packedSize(int m, int rows) {
        return ConvGrid.roundUp(m, MR) * rows;
    }

    /**
     * ap[apOff + (i/MR)·MR·rows + p·MR + i%MR] = a[aOff + i·lda + p] (rows past m zero): MR-tall
     * panels, each step of p one broadcast group.
     */
    static void pack(int m, int rows, float[] a, int aOff, int lda, float[] ap, int apOff) {
        int mp = ConvGrid.roundUp(m, MR);
        for (int i = 0; i < mp; i++) {
            int dst = apOff + (i / MR) * MR * rows + (i % MR);
            if (i < m) {
                for (int p = 0; p < rows; p++) ap[dst + p * MR] = a[aOff + i * lda + p];
            } else {
                for (int p = 0; p < rows; p++) ap[dst + p * MR] = 0f;
            }
        }
    }

    /**
     * c[cOff + i·cs + t] for i < roundUp(m, MR), t in [t0, t1) (t0 a multiple of NR, t1 − t0 of {@link #TAIL}),
     * from the packed weights at ap[apOff..] and the rows base[baseOff .. baseOff+rows).
     * One tile runs over all rows (no depth blocking: measured, cutting 576 rows into chunks of
     * 144 and adding the partial tiles into c was 15 % slower, into chunks of 40 twice as slow).
     */
    static void multiply(int m, int rows, float[] ap, int apOff, float[] b, int[] base, int baseOff, int t0, int t1,
                         float[] c, int cOff, int cs) {
        int panelSize = MR * rows;
        int t = t0;
        for (; t1 - t >= NR; t += NR) {
            for (int i = 0, a = apOff; i < m; i += MR, a += panelSize) {
                if (WIDE) tile8x3(rows, ap, a, b, base, baseOff, t, c, cOff + i * cs + t, cs);
                else tile4x3(rows, ap, a, b, base, baseOff, t, c, cOff + i * cs + t, cs);
            }
        }
        if (t == t1) return;
        if (!WIDE) throw new IllegalArgumentException("tiles " + t0 + ".." + t1 + " are not whole GridGemm tiles of " + NR);
        // 16 or 32 tiles left (WIDE only: see TAIL): the same sums on a narrower register tile
        for (int i = 0, a = apOff; i < m; i += MR, a += panelSize) {
            if (t1 - t == 2 * VL) tile8x2(rows, ap, a, b, base, baseOff, t, c, cOff + i * cs + t, cs);
            else tile8x1(rows, ap, a, b, base, baseOff, t, c, cOff + i * cs + t, cs);
        }
    }

    /**
     * Tiles {@link #multiply} takes t1 − t0 in multiples of: NR, or with 16 lanes one vector (a last
     * 16 or 32 tiles on a register tile of 8 channels × 1 or 2 vectors, the same in-order sums).
     */
    static final int TAIL = WIDE ? VL : NR;

    // 8 channels × 2 vectors: tile8x3's sums for 2·VL pixels
    private static void tile8x2(int rows, float[] ap, int a, float[] b, int[] base, int baseOff, int t, float[] c, int ci, int cs) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z,
                c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        for (int p = 0; p < rows; p++, a += 8) {
            int bi = base[baseOff + p] + t;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bi), b1 = FloatVector.fromArray(SPECIES, b, bi + VL);
            FloatVector w = FloatVector.broadcast(SPECIES, ap[a]);
            c00 = w.fma(b0, c00); c01 = w.fma(b1, c01);
            w = FloatVector.broadcast(SPECIES, ap[a + 1]);
            c10 = w.fma(b0, c10); c11 = w.fma(b1, c11);
            w = FloatVector.broadcast(SPECIES, ap[a + 2]);
            c20 = w.fma(b0, c20); c21 = w.fma(b1, c21);
            w = FloatVector.broadcast(SPECIES, ap[a + 3]);
            c30 = w.fma(b0, c30); c31 = w.fma(b1, c31);
            w = FloatVector.broadcast(SPECIES, ap[a + 4]);
            c40 = w.fma(b0, c40); c41 = w.fma(b1, c41);
            w = FloatVector.broadcast(SPECIES, ap[a + 5]);
            c50 = w.fma(b0, c50); c51 = w.fma(b1, c51);
            w = FloatVector.broadcast(SPECIES, ap[a + 6]);
            c60 = w.fma(b0, c60); c61 = w.fma(b1, c61);
            w = FloatVector.broadcast(SPECIES, ap[a + 7]);
            c70 = w.fma(b0, c70); c71 = w.fma(b1, c71);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + VL); ci += cs;
        c10.intoArray(c, ci); c11.intoArray(c, ci + VL); ci += cs;
        c20.intoArray(c, ci); c21.intoArray(c, ci + VL); ci += cs;
        c30.intoArray(c, ci); c31.intoArray(c, ci + VL); ci += cs;
        c40.intoArray(c, ci); c41.intoArray(c, ci + VL); ci += cs;
        c50.intoArray(c, ci); c51.intoArray(c, ci + VL); ci += cs;
        c60.intoArray(c, ci); c61.intoArray(c, ci + VL); ci += cs;
        c70.intoArray(c, ci); c71.intoArray(c, ci + VL);
    }

    // 8 channels × 1 vector: tile8x3's sums for VL pixels
    private static void tile8x1(int rows, float[] ap, int a, float[] b, int[] base, int baseOff, int t, float[] c, int ci, int cs) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
        for (int p = 0; p < rows; p++, a += 8) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, base[baseOff + p] + t);
            c0 = FloatVector.broadcast(SPECIES, ap[a]).fma(b0, c0);
            c1 = FloatVector.broadcast(SPECIES, ap[a + 1]).fma(b0, c1);
            c2 = FloatVector.broadcast(SPECIES, ap[a + 2]).fma(b0, c2);
            c3 = FloatVector.broadcast(SPECIES, ap[a + 3]).fma(b0, c3);
            c4 = FloatVector.broadcast(SPECIES, ap[a + 4]).fma(b0, c4);
            c5 = FloatVector.broadcast(SPECIES, ap[a + 5]).fma(b0, c5);
            c6 = FloatVector.broadcast(SPECIES, ap[a + 6]).fma(b0, c6);
            c7 = FloatVector.broadcast(SPECIES, ap[a + 7]).fma(b0, c7);
        }
        c0.intoArray(c, ci); c1.intoArray(c, ci + cs); c2.intoArray(c, ci + 2 * cs); c3.intoArray(c, ci + 3 * cs);
        c4.intoArray(c, ci + 4 * cs); c5.intoArray(c, ci + 5 * cs); c6.intoArray(c, ci + 6 * cs); c7.intoArray(c, ci + 7 * cs);
    }

    // 8 channels × 3 vectors: c[ci + r·cs + v·VL ..] for r < 8, v < 3
    private static void tile8x3(int rows, float[] ap, int a, float[] b, int[] base, int baseOff, int t, float[] c, int ci, int cs) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z,
                c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        for (int p = 0; p < rows; p++, a += 8) {
            int bi = base[baseOff + p] + t;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bi), b1 = FloatVector.fromArray(SPECIES, b, bi + VL),
                        b2 = FloatVector.fromArray(SPECIES, b, bi + 2 * VL);
            FloatVector w = FloatVector.broadcast(SPECIES, ap[a]);
            c00 = w.fma(b0, c00); c01 = w.fma(b1, c01); c02 = w.fma(b2, c02);
            w = FloatVector.broadcast(SPECIES, ap[a + 1]);
            c10 = w.fma(b0, c10); c11 = w.fma(b1, c11); c12 = w.fma(b2, c12);
            w = FloatVector.broadcast(SPECIES, ap[a + 2]);
            c20 = w.fma(b0, c20); c21 = w.fma(b1, c21); c22 = w.fma(b2, c22);
            w = FloatVector.broadcast(SPECIES, ap[a + 3]);
            c30 = w.fma(b0, c30); c31 = w.fma(b1, c31); c32 = w.fma(b2, c32);
            w = FloatVector.broadcast(SPECIES, ap[a + 4]);
            c40 = w.fma(b0, c40); c41 = w.fma(b1, c41); c42 = w.fma(b2, c42);
            w = FloatVector.broadcast(SPECIES, ap[a + 5]);
            c50 = w.fma(b0, c50); c51 = w.fma(b1, c51); c52 = w.fma(b2, c52);
            w = FloatVector.broadcast(SPECIES, ap[a + 6]);
            c60 = w.fma(b0, c60); c61 = w.fma(b1, c61); c62 = w.fma(b2, c62);
            w = FloatVector.broadcast(SPECIES, ap[a + 7]);
            c70 = w.fma(b0, c70); c71 = w.fma(b1, c71); c72 = w.fma(b2, c72);
        }
        int v2 = 2 * VL;
        c00.intoArray(c, ci); c01.intoArray(c, ci + VL); c02.intoArray(c, ci + v2); ci += cs;
        c10.intoArray(c, ci); c11.intoArray(c, ci + VL); c12.intoArray(c, ci + v2); ci += cs;
        c20.intoArray(c, ci); c21.intoArray(c, ci + VL); c22.intoArray(c, ci + v2); ci += cs;
        c30.intoArray(c, ci); c31.intoArray(c, ci + VL); c32.intoArray(c, ci + v2); ci += cs;
        c40.intoArray(c, ci); c41.intoArray(c, ci + VL); c42.intoArray(c, ci + v2); ci += cs;
        c50.intoArray(c, ci); c51.intoArray(c, ci + VL); c52.intoArray(c, ci + v2); ci += cs;
        c60.intoArray(c, ci); c61.intoArray(c, ci + VL); c62.intoArray(c, ci + v2); ci += cs;
        c70.intoArray(c, ci); c71.intoArray(c, ci + VL); c72.intoArray(c, ci + v2);
    }

    // 4 channels × 3 vectors (AVX2): c[ci + r·cs + v·VL ..] for r < 4, v < 3
    private static void tile4x3(int rows, float[] ap, int a, float[] b, int[] base, int baseOff, int t, float[] c, int ci, int cs) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00,
                c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
        for (int p = 0; p < rows; p++, a += 4) {
            int bi = base[baseOff + p] + t;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bi), b1 = FloatVector.fromArray(SPECIES, b, bi + VL),
                        b2 = FloatVector.fromArray(SPECIES, b, bi + 2 * VL);
            FloatVector w = FloatVector.broadcast(SPECIES, ap[a]);
            c00 = w.fma(b0, c00); c01 = w.fma(b1, c01); c02 = w.fma(b2, c02);
            w = FloatVector.broadcast(SPECIES, ap[a + 1]);
            c10 = w.fma(b0, c10); c11 = w.fma(b1, c11); c12 = w.fma(b2, c12);
            w = FloatVector.broadcast(SPECIES, ap[a + 2]);
            c20 = w.fma(b0, c20); c21 = w.fma(b1, c21); c22 = w.fma(b2, c22);
            w = FloatVector.broadcast(SPECIES, ap[a + 3]);
            c30 = w.fma(b0, c30); c31 = w.fma(b1, c31); c32 = w.fma(b2, c32);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + VL); c02.intoArray(c, ci + 2 * VL); ci += cs;
        c10.intoArray(c, ci); c11.intoArray(c, ci + VL); c12.intoArray(c, ci + 2 * VL); ci += cs;
        c20.intoArray(c, ci); c21.intoArray(c, ci + VL); c22.intoArray(c, ci + 2 * VL); ci += cs;
        c30.intoArray(c, ci); c31.intoArray(c, ci + VL); c32.intoArray(c, ci + 2 * VL);
    }
}
