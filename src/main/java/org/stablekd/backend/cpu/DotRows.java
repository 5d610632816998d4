package org.stablekd.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of rows: acc(i, j) += Σ_t a[aOff + i·lda + t] · b[bRows[j] + t], t < len. Both
 * operands stream along t, contiguous, so nothing is transposed or packed. This is a stride-1
 * convolution's weight gradient read straight from the zero-padded image (see
 * {@code CpuConv.backwardWeightDirect}): with t running over output rows of the padded width,
 * row j = (ci, i, jj) of cols starts at padded[(ci·hp + i)·wp + jj] and is contiguous; a holds dy
 * with its rows widened to wp by zeros, so the extra columns add nothing.
 *
 * <p>Lane partials: the sums are kept per vector lane, in {@code acc (m, n, VL)}, and added to
 * across calls (one call per image); {@link #reduce} folds the lanes in a fixed order at the
 * end. So the summation order depends only on the sizes, never on timing or JIT tier (a
 * {@code reduceLanes} may associate differently when interpreted than when compiled).
 *
 * <p>Micro-tile: 4 rows of a × 4 rows of b = 16 vector accumulators; per step of VL along k,
 * 8 loads feed 16 FMAs. Edge tiles recompute the last row instead of branching, and store only
 * the valid part; the k tail is a masked load (zeros in the unused lanes).
 */
final class DotRows {
    private static final VectorSpecies<Float> SPECIES = Sgemm.SPECIES;
    static final int VL = SPECIES.length();
    /** Scratch floats one call needs for its register tile. */
    static final int TILE = 16 * VL;

    private DotRows() {}

    /**
     * acc[accOff + (i·n + j)·VL + lane] += Σ_{p ≡ lane mod VL} a[aOff + i·lda + p] · b[bRows[j] + p],
     * for i < m, j < n, p < k. buf is scratch of {@link #TILE} floats.
     */
    static void accumulate(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int[] bRows, float[] acc, int accOff, float[] buf) {
        int kv = SPECIES.loopBound(k);
        for (int i0 = 0; i0 < m; i0 += 4) {
            int a0 = aOff + i0 * lda, a1 = aOff + Math.min(i0 + 1, m - 1) * lda,
                a2 = aOff + Math.min(i0 + 2, m - 1) * lda, a3 = aOff + Math.min(i0 + 3, m - 1) * lda;
            int mi = Math.min(4, m - i0);
            for (int j0 = 0; j0 < n; j0 += 4) {
                int b0 = bRows[j0], b1 = bRows[Math.min(j0 + 1, n - 1)],
                    b2 = bRows[Math.min(j0 + 2, n - 1)], b3 = bRows[Math.min(j0 + 3, n - 1)];
                int nj = Math.min(4, n - j0);
                tile(kv, k, a, a0, a1, a2, a3, b, b0, b1, b2, b3, acc, accOff + (i0 * n + j0) * VL, n * VL, mi, nj, buf);
            }
        }
    }

    /** One 4×4 tile; its lane partials start at acc[at], rows of the tile are rowStep apart. */
    private static void tile(int kv, int k, float[] a, int a0, int a1, int a2, int a3,
                             float[] b, int b0, int b1, int b2, int b3, float[] acc, int at, int rowStep, int mi, int nj,
                             float[] buf) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z,
                c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        for (int p = 0; p < kv; p += VL) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, b, b0 + p), x1 = FloatVector.fromArray(SPECIES, b, b1 + p),
                        x2 = FloatVector.fromArray(SPECIES, b, b2 + p), x3 = FloatVector.fromArray(SPECIES, b, b3 + p);
            FloatVector y = FloatVector.fromArray(SPECIES, a, a0 + p);
            c00 = y.fma(x0, c00); c01 = y.fma(x1, c01); c02 = y.fma(x2, c02); c03 = y.fma(x3, c03);
            y = FloatVector.fromArray(SPECIES, a, a1 + p);
            c10 = y.fma(x0, c10); c11 = y.fma(x1, c11); c12 = y.fma(x2, c12); c13 = y.fma(x3, c13);
            y = FloatVector.fromArray(SPECIES, a, a2 + p);
            c20 = y.fma(x0, c20); c21 = y.fma(x1, c21); c22 = y.fma(x2, c22); c23 = y.fma(x3, c23);
            y = FloatVector.fromArray(SPECIES, a, a3 + p);
            c30 = y.fma(x0, c30); c31 = y.fma(x1, c31); c32 = y.fma(x2, c32); c33 = y.fma(x3, c33);
        }
        if (kv < k) {
            VectorMask<Float> tail = SPECIES.indexInRange(kv, k);
            FloatVector x0 = FloatVector.fromArray(SPECIES, b, b0 + kv, tail), x1 = FloatVector.fromArray(SPECIES, b, b1 + kv, tail),
                        x2 = FloatVector.fromArray(SPECIES, b, b2 + kv, tail), x3 = FloatVector.fromArray(SPECIES, b, b3 + kv, tail);
            FloatVector y = FloatVector.fromArray(SPECIES, a, a0 + kv, tail);
            c00 = y.fma(x0, c00); c01 = y.fma(x1, c01); c02 = y.fma(x2, c02); c03 = y.fma(x3, c03);
            y = FloatVector.fromArray(SPECIES, a, a1 + kv, tail);
            c10 = y.fma(x0, c10); c11 = y.fma(x1, c11); c12 = y.fma(x2, c12); c13 = y.fma(x3, c13);
            y = FloatVector.fromArray(SPECIES, a, a2 + kv, tail);
            c20 = y.fma(x0, c20); c21 = y.fma(x1, c21); c22 = y.fma(x2, c22); c23 = y.fma(x3, c23);
            y = FloatVector.fromArray(SPECIES, a, a3 + kv, tail);
            c30 = y.fma(x0, c30); c31 = y.fma(x1, c31); c32 = y.fma(x2, c32); c33 = y.fma(x3, c33);
        }
        // spill to the tile buffer (no vector crosses a call, so C2 keeps them all in registers),
        // then add the valid mi × nj part to the lane partials
        c00.intoArray(buf, 0); c01.intoArray(buf, VL); c02.intoArray(buf, 2 * VL); c03.intoArray(buf, 3 * VL);
        c10.intoArray(buf, 4 * VL); c11.intoArray(buf, 5 * VL); c12.intoArray(buf, 6 * VL); c13.intoArray(buf, 7 * VL);
        c20.intoArray(buf, 8 * VL); c21.intoArray(buf, 9 * VL); c22.intoArray(buf, 10 * VL); c23.intoArray(buf, 11 * VL);
        c30.intoArray(buf, 12 * VL); c31.intoArray(buf, 13 * VL); c32.intoArray(buf, 14 * VL); c33.intoArray(buf, 15 * VL);
        for (int i = 0; i < mi; i++) {
            for (int j = 0; j < nj; j++) {
                int dst = at + i * rowStep + j * VL, src = (i * 4 + j) * VL;
                FloatVector.fromArray(SPECIES, acc, dst).add(FloatVector.fromArray(SPECIES, buf, src)).intoArray(acc, dst);
            }
        }
    }

    /** The sum of the VL lane partials acc[at .. at+VL), lanes in order. */
    static float reduce(float[] acc, int at) {
        float sum = 0f;
        for (int lane = 0; lane < VL; lane++) sum += acc[at + lane];
        return sum;
    }
}
