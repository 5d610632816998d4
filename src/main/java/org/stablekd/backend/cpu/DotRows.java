package org.stablekd.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of rows: acc(i, j) += Σ_t a[aOff + i·lda + t] · b[bRows[j] + t], t < len. Both
 * operands stream along t, contiguous, so nothing is transposed or packed. This is a
 * convolution's weight gradient: a = dy in the output grid, b = the input grid, row j of b one
 * tap (plane and offset) of the implicit im2col matrix (see {@link GridConv} and
 * {@code CpuConv.backwardWeightDirect}).
 *
 * <p>len must be a multiple of VL (callers pad a with zeros; b must be readable that far).
 *
 * <p>Lane partials: the sums are kept per vector lane, in {@code acc (m, n, VL)}, and added to
 * across calls; {@link #reduce} folds the lanes in a fixed order at the end. Each lane sums its
 * t's of one {@link #CHUNK} in increasing order and adds that to its partial, so the result
 * depends only on the sizes and the calls made, never on timing or JIT tier (a
 * {@code reduceLanes} may associate differently when interpreted than when compiled).
 *
 * <p>Micro-tile: MW rows of a × 3 rows of b (3 taps of one input row, which overlap in memory
 * and so come from L1 after the first): 8 × 3 = 24 accumulators with 32 vector registers
 * (AVX-512), 4 × 3 = 12 with 16 (AVX2). t runs in equal chunks of at most {@link #CHUNK} so a
 * tile's rows of a stay in L1 across the tiles of one chunk. Edge tiles recompute the last row instead of
 * branching and add only the valid part.
 */
final class DotRows {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int VL = SPECIES.length();
    private static final boolean WIDE = VL >= 16;
    /** Rows of a per tile. */
    private static final int MW = WIDE ? 8 : 4;
    /** Scratch floats one call needs for its register tile. */
    static final int TILE = MW * 3 * VL;
    /** Floats of t per pass over the tiles. */
    static final int CHUNK = 1024;

    private DotRows() {}

    /**
     * acc[accOff + (i·n + j)·VL + lane] += Σ_{t ≡ lane mod VL} a[aOff + i·lda + t] · b[bRows[j] + t],
     * for i < m, j < n, t < len (a multiple of VL). buf is scratch of {@link #TILE} floats.
     */
    static void accumulate(int m, int n, int len, float[] a, int aOff, int lda, float[] b, int[] bRows, float[] acc, int accOff, float[] buf) {
        int chunks = (len + CHUNK - 1) / CHUNK, step = (len / VL + chunks - 1) / chunks * VL;   // equal chunks of whole vectors
        for (int t0 = 0; t0 < len; t0 += step) {
            int t1 = Math.min(len, t0 + step);
            for (int i0 = 0; i0 < m; i0 += MW) {
                int mi = Math.min(MW, m - i0), a0 = aOff + i0 * lda;
                for (int j0 = 0; j0 < n; j0 += 3) {
                    int nj = Math.min(3, n - j0);
                    int b0 = bRows[j0], b1 = bRows[Math.min(j0 + 1, n - 1)], b2 = bRows[Math.min(j0 + 2, n - 1)];
                    int at = accOff + (i0 * n + j0) * VL;
                    if (WIDE) tile8x3(t0, t1, a, a0, lda, mi, b, b0, b1, b2, buf);
                    else tile4x3(t0, t1, a, a0, lda, mi, b, b0, b1, b2, buf);
                    addTile(buf, acc, at, n * VL, mi, nj);
                }
            }
        }
    }

    /** Floats {@link #pack} writes for m rows of len (a multiple of VL). */
    static int packedSize(int m, int len) {
        return ConvGrid.roundUp(m, MW) * len;
    }

    /**
     * ap = rows [0, m) of a (from aOff, lda apart, len a multiple of VL) in panels of MW rows:
     * panel i/MW holds, per vector step of t, its MW rows' vectors side by side (rows past m
     * repeat the last), so a tile reads all its rows at fixed offsets from one index.
     */
    static void pack(int m, int len, float[] a, int aOff, int lda, float[] ap) {
        int mp = ConvGrid.roundUp(m, MW);
        for (int i = 0; i < mp; i++) {
            int src = aOff + Math.min(i, m - 1) * lda, dst = (i / MW) * MW * len + (i % MW) * VL;
            for (int t = 0; t < len; t += VL, dst += MW * VL) FloatVector.fromArray(SPECIES, a, src + t).intoArray(ap, dst);
        }
    }

    /**
     * {@link #accumulate} for a packed by {@link #pack} and b's rows in triplets of neighbours:
     * bRows[j+1] = bRows[j] + 1 and bRows[j+2] = bRows[j] + 2 for every j ≡ 0 mod 3, n a multiple
     * of 3 (the kernel rows of a 3×3 stride-1 layer). Each tile then indexes a and b from two
     * registers instead of eleven; with the general form's address registers spilled, this
     * measured 75 against 62 GFLOP/s on one Zen 4 core. Tiles run over the whole len (no
     * chunks: a longer run amortizes the tile's spill and add, measured faster than L1-sized
     * chunks). Each lane sums its t's of the call in increasing order.
     */
    static void accumulateTriplets(int m, int n, int len, float[] ap, float[] b, int[] bRows, float[] acc, int accOff, float[] buf) {
        for (int i0 = 0; i0 < m; i0 += MW) {
            int mi = Math.min(MW, m - i0), a0 = i0 * len;
            for (int j0 = 0; j0 < n; j0 += 3) {
                if (WIDE) tile8x3Packed(len, ap, a0, b, bRows[j0], buf);
                else tile4x3Packed(len, ap, a0, b, bRows[j0], buf);
                addTile(buf, acc, accOff + (i0 * n + j0) * VL, n * VL, mi, 3);
            }
        }
    }

    // packed rows a0.. (8 vectors per step) × taps b0, b0+1, b0+2, over t < len → buf
    private static void tile8x3Packed(int len, float[] ap, int a0, float[] b, int b0, float[] buf) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z,
                c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        for (int p = a0, t = b0, end = b0 + len; t < end; t += VL, p += 8 * VL) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, b, t), x1 = FloatVector.fromArray(SPECIES, b, t + 1),
                        x2 = FloatVector.fromArray(SPECIES, b, t + 2);
            FloatVector y = FloatVector.fromArray(SPECIES, ap, p);
            c00 = y.fma(x0, c00); c01 = y.fma(x1, c01); c02 = y.fma(x2, c02);
            y = FloatVector.fromArray(SPECIES, ap, p + VL);
            c10 = y.fma(x0, c10); c11 = y.fma(x1, c11); c12 = y.fma(x2, c12);
            y = FloatVector.fromArray(SPECIES, ap, p + 2 * VL);
            c20 = y.fma(x0, c20); c21 = y.fma(x1, c21); c22 = y.fma(x2, c22);
            y = FloatVector.fromArray(SPECIES, ap, p + 3 * VL);
            c30 = y.fma(x0, c30); c31 = y.fma(x1, c31); c32 = y.fma(x2, c32);
            y = FloatVector.fromArray(SPECIES, ap, p + 4 * VL);
            c40 = y.fma(x0, c40); c41 = y.fma(x1, c41); c42 = y.fma(x2, c42);
            y = FloatVector.fromArray(SPECIES, ap, p + 5 * VL);
            c50 = y.fma(x0, c50); c51 = y.fma(x1, c51); c52 = y.fma(x2, c52);
            y = FloatVector.fromArray(SPECIES, ap, p + 6 * VL);
            c60 = y.fma(x0, c60); c61 = y.fma(x1, c61); c62 = y.fma(x2, c62);
            y = FloatVector.fromArray(SPECIES, ap, p + 7 * VL);
            c70 = y.fma(x0, c70); c71 = y.fma(x1, c71); c72 = y.fma(x2, c72);
        }
        c00.intoArray(buf, 0); c01.intoArray(buf, VL); c02.intoArray(buf, 2 * VL);
        c10.intoArray(buf, 3 * VL); c11.intoArray(buf, 4 * VL); c12.intoArray(buf, 5 * VL);
        c20.intoArray(buf, 6 * VL); c21.intoArray(buf, 7 * VL); c22.intoArray(buf, 8 * VL);
        c30.intoArray(buf, 9 * VL); c31.intoArray(buf, 10 * VL); c32.intoArray(buf, 11 * VL);
        c40.intoArray(buf, 12 * VL); c41.intoArray(buf, 13 * VL); c42.intoArray(buf, 14 * VL);
        c50.intoArray(buf, 15 * VL); c51.intoArray(buf, 16 * VL); c52.intoArray(buf, 17 * VL);
        c60.intoArray(buf, 18 * VL); c61.intoArray(buf, 19 * VL); c62.intoArray(buf, 20 * VL);
        c70.intoArray(buf, 21 * VL); c71.intoArray(buf, 22 * VL); c72.intoArray(buf, 23 * VL);
    }

    // packed rows a0.. (4 vectors per step) × taps b0, b0+1, b0+2 (AVX2), as tile8x3Packed
    private static void tile4x3Packed(int len, float[] ap, int a0, float[] b, int b0, float[] buf) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        for (int p = a0, t = b0, end = b0 + len; t < end; t += VL, p += 4 * VL) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, b, t), x1 = FloatVector.fromArray(SPECIES, b, t + 1),
                        x2 = FloatVector.fromArray(SPECIES, b, t + 2);
            FloatVector y = FloatVector.fromArray(SPECIES, ap, p);
            c00 = y.fma(x0, c00); c01 = y.fma(x1, c01); c02 = y.fma(x2, c02);
            y = FloatVector.fromArray(SPECIES, ap, p + VL);
            c10 = y.fma(x0, c10); c11 = y.fma(x1, c11); c12 = y.fma(x2, c12);
            y = FloatVector.fromArray(SPECIES, ap, p + 2 * VL);
            c20 = y.fma(x0, c20); c21 = y.fma(x1, c21); c22 = y.fma(x2, c22);
            y = FloatVector.fromArray(SPECIES, ap, p + 3 * VL);
            c30 = y.fma(x0, c30); c31 = y.fma(x1, c31); c32 = y.fma(x2, c32);
        }
        c00.intoArray(buf, 0); c01.intoArray(buf, VL); c02.intoArray(buf, 2 * VL);
        c10.intoArray(buf, 3 * VL); c11.intoArray(buf, 4 * VL); c12.intoArray(buf, 5 * VL);
        c20.intoArray(buf, 6 * VL); c21.intoArray(buf, 7 * VL); c22.intoArray(buf, 8 * VL);
        c30.intoArray(buf, 9 * VL); c31.intoArray(buf, 10 * VL); c32.intoArray(buf, 11 * VL);
    }

    /** acc[at + i·rowStep + j·VL ..] += buf tile (i < mi, j < nj). */
    private static void addTile(float[] buf, float[] acc, int at, int rowStep, int mi, int nj) {
        for (int i = 0; i < mi; i++) {
            for (int j = 0; j < nj; j++) {
                int dst = at + i * rowStep + j * VL, src = (i * 3 + j) * VL;
                FloatVector.fromArray(SPECIES, acc, dst).add(FloatVector.fromArray(SPECIES, buf, src)).intoArray(acc, dst);
            }
        }
    }

    // 8 rows of a (from a0, lda apart; rows past mi repeat the last) × 3 rows of b, over t in [t0, t1) → buf
    private static void tile8x3(int t0, int t1, float[] a, int a0, int lda, int mi, float[] b, int b0, int b1, int b2, float[] buf) {
        int a1 = a0 + Math.min(1, mi - 1) * lda, a2 = a0 + Math.min(2, mi - 1) * lda, a3 = a0 + Math.min(3, mi - 1) * lda,
            a4 = a0 + Math.min(4, mi - 1) * lda, a5 = a0 + Math.min(5, mi - 1) * lda, a6 = a0 + Math.min(6, mi - 1) * lda,
            a7 = a0 + Math.min(7, mi - 1) * lda;
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z,
                c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        for (int t = t0; t < t1; t += VL) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, b, b0 + t), x1 = FloatVector.fromArray(SPECIES, b, b1 + t),
                        x2 = FloatVector.fromArray(SPECIES, b, b2 + t);
            FloatVector y = FloatVector.fromArray(SPECIES, a, a0 + t);
            c00 = y.fma(x0, c00); c01 = y.fma(x1, c01); c02 = y.fma(x2, c02);
            y = FloatVector.fromArray(SPECIES, a, a1 + t);
            c10 = y.fma(x0, c10); c11 = y.fma(x1, c11); c12 = y.fma(x2, c12);
            y = FloatVector.fromArray(SPECIES, a, a2 + t);
            c20 = y.fma(x0, c20); c21 = y.fma(x1, c21); c22 = y.fma(x2, c22);
            y = FloatVector.fromArray(SPECIES, a, a3 + t);
            c30 = y.fma(x0, c30); c31 = y.fma(x1, c31); c32 = y.fma(x2, c32);
            y = FloatVector.fromArray(SPECIES, a, a4 + t);
            c40 = y.fma(x0, c40); c41 = y.fma(x1, c41); c42 = y.fma(x2, c42);
            y = FloatVector.fromArray(SPECIES, a, a5 + t);
            c50 = y.fma(x0, c50); c51 = y.fma(x1, c51); c52 = y.fma(x2, c52);
            y = FloatVector.fromArray(SPECIES, a, a6 + t);
            c60 = y.fma(x0, c60); c61 = y.fma(x1, c61); c62 = y.fma(x2, c62);
            y = FloatVector.fromArray(SPECIES, a, a7 + t);
            c70 = y.fma(x0, c70); c71 = y.fma(x1, c71); c72 = y.fma(x2, c72);
        }
        // spill (no vector crosses a call, so C2 keeps them all in registers)
        c00.intoArray(buf, 0); c01.intoArray(buf, VL); c02.intoArray(buf, 2 * VL);
        c10.intoArray(buf, 3 * VL); c11.intoArray(buf, 4 * VL); c12.intoArray(buf, 5 * VL);
        c20.intoArray(buf, 6 * VL); c21.intoArray(buf, 7 * VL); c22.intoArray(buf, 8 * VL);
        c30.intoArray(buf, 9 * VL); c31.intoArray(buf, 10 * VL); c32.intoArray(buf, 11 * VL);
        c40.intoArray(buf, 12 * VL); c41.intoArray(buf, 13 * VL); c42.intoArray(buf, 14 * VL);
        c50.intoArray(buf, 15 * VL); c51.intoArray(buf, 16 * VL); c52.intoArray(buf, 17 * VL);
        c60.intoArray(buf, 18 * VL); c61.intoArray(buf, 19 * VL); c62.intoArray(buf, 20 * VL);
        c70.intoArray(buf, 21 * VL); c71.intoArray(buf, 22 * VL); c72.intoArray(buf, 23 * VL);
    }

    // 4 rows of a × 3 rows of b (AVX2), as tile8x3
    private static void tile4x3(int t0, int t1, float[] a, int a0, int lda, int mi, float[] b, int b0, int b1, int b2, float[] buf) {
        int a1 = a0 + Math.min(1, mi - 1) * lda, a2 = a0 + Math.min(2, mi - 1) * lda, a3 = a0 + Math.min(3, mi - 1) * lda;
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        for (int t = t0; t < t1; t += VL) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, b, b0 + t), x1 = FloatVector.fromArray(SPECIES, b, b1 + t),
                        x2 = FloatVector.fromArray(SPECIES, b, b2 + t);
            FloatVector y = FloatVector.fromArray(SPECIES, a, a0 + t);
            c00 = y.fma(x0, c00); c01 = y.fma(x1, c01); c02 = y.fma(x2, c02);
            y = FloatVector.fromArray(SPECIES, a, a1 + t);
            c10 = y.fma(x0, c10); c11 = y.fma(x1, c11); c12 = y.fma(x2, c12);
            y = FloatVector.fromArray(SPECIES, a, a2 + t);
            c20 = y.fma(x0, c20); c21 = y.fma(x1, c21); c22 = y.fma(x2, c22);
            y = FloatVector.fromArray(SPECIES, a, a3 + t);
            c30 = y.fma(x0, c30); c31 = y.fma(x1, c31); c32 = y.fma(x2, c32);
        }
        c00.intoArray(buf, 0); c01.intoArray(buf, VL); c02.intoArray(buf, 2 * VL);
        c10.intoArray(buf, 3 * VL); c11.intoArray(buf, 4 * VL); c12.intoArray(buf, 5 * VL);
        c20.intoArray(buf, 6 * VL); c21.intoArray(buf, 7 * VL); c22.intoArray(buf, 8 * VL);
        c30.intoArray(buf, 9 * VL); c31.intoArray(buf, 10 * VL); c32.intoArray(buf, 11 * VL);
    }

    /** The sum of the VL lane partials acc[at .. at+VL), lanes in order. */
    static float reduce(float[] acc, int at) {
        float sum = 0f;
        for (int lane = 0; lane < VL; lane++) sum += acc[at + lane];
        return sum;
    }
}
