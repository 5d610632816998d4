package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix product, BLIS style: c = alpha·op(a)·op(b) + beta·c.
 *
 * <p>Layout: every matrix is row-major in a {@link MemorySegment} (off-heap tensor storage, or a
 * heap {@code float[]} seen through {@code MemorySegment.ofArray}), addressed by an element
 * offset and a leading dimension (elements between consecutive rows):
 * <pre>
 *   op(a) (m,k): a[i*lda + p], or if transA a is (k,m) and op(a)[i][p] = a[p*lda + i]
 *   op(b) (k,n): b[p*ldb + j], or if transB b is (n,k) and op(b)[p][j] = b[j*ldb + p]
 *   c     (m,n): c[i*ldc + j]
 * </pre>
 * beta = 0 ignores c's old content (even NaN), as the {@code GemmKernels} contract says.
 *
 * <p>Blocking (the Goto/BLIS loop nest): c is cut into NC-wide column blocks; for each, k is cut
 * into KC-deep slices and the (KC, NC) slice of op(b) is packed into NR-wide panels; then rows
 * are cut into MC-tall blocks and the (MC, KC) slice of op(a) is packed into MR-tall panels.
 * The micro-kernel multiplies one MR-panel by one NR-panel into an MR×NR tile of c held in
 * registers: MR·NR/VL FMA accumulators, two B vectors loaded and one A value broadcast per row
 * for each step of k. Packing makes every micro-kernel read unit-stride and zero-padded, so tails
 * (m, n not multiples of MR, NR) cost only the merge of a partial tile.
 *
 * <p>Summation order: each c element sums its k products in order, in float, one KC slice at a
 * time (fresh accumulators per slice, added to c). It depends only on k and KC, never on the
 * thread count, so results are bit-identical however the work is split (Note [Determinism]).
 *
 * <p>Threads: {@link #gemm} splits c into column (or row) ranges, one per {@link Parallel} chunk;
 * every thread packs into its own scratch ({@link Scratch}), so nothing is allocated in the
 * steady state. {@link #gemmSerial} runs on the calling thread (for callers that already split
 * work, e.g. convolution over images).
 */
final class Sgemm {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int VL = SPECIES.length();
    /** Micro-tile: MR rows × NR columns (two vectors). */
    static final int MR = 8;
    static final int NR = 2 * VL;
    /** Cache blocking: a (KC, NR) panel of b sits in L1/L2, an (MC, KC) block of a in L2. */
    static final int KC = 384;
    static final int MC = 128;
    static final int NC = 2048;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Below this many multiply-adds a product runs on one thread (fork/join costs more). */
    private static final long PARALLEL_MACS = 1L << 18;

    private Sgemm() {}

    /** Multi-threaded product (see the class comment for the layout). */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                     float beta, MemorySegment c, long cOff, int ldc) {
        if (m <= 0 || n <= 0) return;
        int threads = Parallel.threads();
        long macs = (long) m * n * Math.max(k, 1);
        if (threads == 1 || macs < PARALLEL_MACS) {
            gemmSerial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        // split the wider side in whole micro-tiles; each chunk owns its part of c
        boolean splitColumns = ceilDiv(n, NR) >= threads || ceilDiv(n, NR) >= ceilDiv(m, MR);
        int units = splitColumns ? ceilDiv(n, NR) : ceilDiv(m, MR);
        int chunks = Math.min(threads, units);
        Parallel.forChunks(chunks, chunk -> {
            int u0 = (int) ((long) units * chunk / chunks), u1 = (int) ((long) units * (chunk + 1) / chunks);
            if (splitColumns) {
                int j0 = u0 * NR, j1 = Math.min(n, u1 * NR);
                long bPart = bOff + (transB ? (long) j0 * ldb : j0);
                gemmSerial(transA, transB, m, j1 - j0, k, alpha, a, aOff, lda, b, bPart, ldb, beta, c, cOff + j0, ldc);
            } else {
                int i0 = u0 * MR, i1 = Math.min(m, u1 * MR);
                long aPart = aOff + (transA ? i0 : (long) i0 * lda);
                gemmSerial(transA, transB, i1 - i0, n, k, alpha, a, aPart, lda, b, bOff, ldb, beta, c, cOff + (long) i0 * ldc, ldc);
            }
        });
    }

    /** At most this many rows of a (with b transposed) take {@link #dotRows} instead of packing. */
    static final int SMALL_M = 2;

    /**
     * c[i][j] = alpha·(row i of a · row j of b) + beta·c[i][j], for op(b) = bᵀ and m ≤ SMALL_M:
     * a Linear layer at batch 1 or 2 (x · wᵀ). Both rows are contiguous, so nothing is packed;
     * packing the (n, k) weights for one row of a cost ~40× the product (1280 → 100 at batch 1).
     * Each dot sums two vector partials over k in order, then their lanes (Simd.sumLanes), then
     * the tail: the order depends only on k.
     */
    private static void dotRows(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda,
                                MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            long ar = aOff + (long) i * lda;
            for (int j = 0; j < n; j++) {
                long br = bOff + (long) j * ldb;
                FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0;
                int p = 0;
                for (; p + 2 * VL <= k; p += 2 * VL) {
                    s0 = load(a, ar + p).fma(load(b, br + p), s0);
                    s1 = load(a, ar + p + VL).fma(load(b, br + p + VL), s1);
                }
                for (; p + VL <= k; p += VL) s0 = load(a, ar + p).fma(load(b, br + p), s0);
                float dot = Simd.sumLanes(s0.add(s1));
                for (; p < k; p++) dot += a.getAtIndex(ValueLayout.JAVA_FLOAT, ar + p) * b.getAtIndex(ValueLayout.JAVA_FLOAT, br + p);
                long at = cOff + (long) i * ldc + j;
                float v = alpha * dot;
                c.setAtIndex(ValueLayout.JAVA_FLOAT, at, beta == 0f ? v : v + beta * c.getAtIndex(ValueLayout.JAVA_FLOAT, at));
            }
        }
    }

    private static FloatVector load(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(SPECIES, s, i * Float.BYTES, ORDER);
    }

    /** The same product on the calling thread only. */
    static void gemmSerial(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                           float beta, MemorySegment c, long cOff, int ldc) {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            scale(m, n, beta, c, cOff, ldc);
            return;
        }
        if (m <= SMALL_M && !transA && transB) {
            dotRows(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        Scratch s = Scratch.get();
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            float[] bp = s.packedB(roundUp(nc, NR) * Math.min(KC, k));
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                float betaHere = pc == 0 ? beta : 1f;   // later slices add to what the first wrote
                packB(transB, kc, nc, b, bOff, ldb, pc, jc, bp);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    float[] ap = s.packedA(roundUp(mc, MR) * kc);
                    packA(transA, mc, kc, a, aOff, lda, ic, pc, ap, 0);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            long cTile = cOff + (long) (ic + ir) * ldc + jc + jr;
                            kernel(kc, ap, ir * kc, bp, jr * kc, alpha, betaHere, c, cTile, ldc, mr, nr, s.tile);
                        }
                    }
                }
            }
        }
    }

    /**
     * c (m,n) = alpha·A·B + beta·c with both operands already packed over the whole depth k:
     * ap from apOff holds ⌈m/MR⌉ panels in the {@link #packA} layout with kc = k, bp from bpOff
     * ⌈n/NR⌉ panels in the {@link #packB} layout with kc = k. For callers that pack once and
     * reuse (a convolution's weights) or pack straight from their own layout (im2col panels).
     * Calling thread only; same summation order as {@link #gemmSerial}.
     */
    static void gemmPacked(int m, int n, int k, float alpha, float[] ap, int apOff, float[] bp, int bpOff,
                           float beta, MemorySegment c, long cOff, int ldc) {
        float[] tile = Scratch.get().tile;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            float betaHere = pc == 0 ? beta : 1f;
            for (int jr = 0; jr < n; jr += NR) {
                int nr = Math.min(NR, n - jr);
                for (int ir = 0; ir < m; ir += MR) {
                    int mr = Math.min(MR, m - ir);
                    kernel(kc, ap, apOff + ir * k + pc * MR, bp, bpOff + jr * k + pc * NR, alpha, betaHere,
                            c, cOff + (long) ir * ldc + jr, ldc, mr, nr, tile);
                }
            }
        }
    }

    // ---------------------------------------------------------------- packing

    /**
     * Packs op(b)[pc..pc+kc)[jc..jc+nc) into NR-wide panels: panel t holds columns
     * jc+t·NR.., stored as bp[t·NR·kc + p·NR + jj]; columns past nc are zero.
     */
    static void packB(boolean transB, int kc, int nc, MemorySegment b, long bOff, int ldb, int pc, int jc, float[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = jr * kc;
            if (!transB && nr == NR) {
                // rows of b are contiguous: two vector copies per step of k
                long src = (bOff + (long) pc * ldb + jc + jr) * Float.BYTES;
                long step = (long) ldb * Float.BYTES;
                for (int p = 0; p < kc; p++, src += step, dst += NR) {
                    FloatVector.fromMemorySegment(SPECIES, b, src, ORDER).intoArray(bp, dst);
                    FloatVector.fromMemorySegment(SPECIES, b, src + VL * Float.BYTES, ORDER).intoArray(bp, dst + VL);
                }
            } else if (!transB) {
                for (int p = 0; p < kc; p++, dst += NR) {
                    long src = bOff + (long) (pc + p) * ldb + jc + jr;
                    for (int jj = 0; jj < nr; jj++) bp[dst + jj] = b.getAtIndex(ValueLayout.JAVA_FLOAT, src + jj);
                    for (int jj = nr; jj < NR; jj++) bp[dst + jj] = 0f;
                }
            } else {
                // b is (n,k): column j of op(b) is row j of b, contiguous in p
                for (int jj = 0; jj < NR; jj++) {
                    if (jj < nr) {
                        long src = bOff + (long) (jc + jr + jj) * ldb + pc;
                        for (int p = 0; p < kc; p++) bp[dst + p * NR + jj] = b.getAtIndex(ValueLayout.JAVA_FLOAT, src + p);
                    } else {
                        for (int p = 0; p < kc; p++) bp[dst + p * NR + jj] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs op(a)[ic..ic+mc)[pc..pc+kc) into MR-tall panels: panel t holds rows ic+t·MR..,
     * stored as ap[apOff + t·MR·kc + p·MR + ii]; rows past mc are zero.
     */
    static void packA(boolean transA, int mc, int kc, MemorySegment a, long aOff, int lda, int ic, int pc, float[] ap, int apOff) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int dst = apOff + ir * kc;
            if (transA) {
                // a is (k,m): the MR values of one step of k are contiguous
                for (int p = 0; p < kc; p++, dst += MR) {
                    long src = aOff + (long) (pc + p) * lda + ic + ir;
                    for (int ii = 0; ii < mr; ii++) ap[dst + ii] = a.getAtIndex(ValueLayout.JAVA_FLOAT, src + ii);
                    for (int ii = mr; ii < MR; ii++) ap[dst + ii] = 0f;
                }
            } else {
                for (int ii = 0; ii < MR; ii++) {
                    if (ii < mr) {
                        long src = aOff + (long) (ic + ir + ii) * lda + pc;
                        for (int p = 0; p < kc; p++) ap[dst + p * MR + ii] = a.getAtIndex(ValueLayout.JAVA_FLOAT, src + p);
                    } else {
                        for (int p = 0; p < kc; p++) ap[dst + p * MR + ii] = 0f;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- micro-kernel

    /**
     * tile (MR, NR) = Σ_p ap[aAt + p·MR + i] · bp[bAt + p·NR + j] over kc steps, then
     * c[i·ldc + j] = alpha·tile + beta·c (beta = 0: c not read) for i < mr, j < nr.
     * Sixteen accumulators (8 rows × 2 vectors) stay in registers across the k loop.
     */
    static void kernel(int kc, float[] ap, int aAt, float[] bp, int bAt, float alpha, float beta,
                       MemorySegment c, long cTile, int ldc, int mr, int nr, float[] tile) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00,
                c70 = c00, c71 = c00;
        for (int p = 0; p < kc; p++) {
            int bi = bAt + p * NR, ai = aAt + p * MR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, bp, bi);
            FloatVector b1 = FloatVector.fromArray(SPECIES, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(SPECIES, ap[ai]);
            c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(SPECIES, ap[ai + 1]);
            c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(SPECIES, ap[ai + 2]);
            c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(SPECIES, ap[ai + 3]);
            c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(SPECIES, ap[ai + 4]);
            c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(SPECIES, ap[ai + 5]);
            c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(SPECIES, ap[ai + 6]);
            c60 = av.fma(b0, c60); c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(SPECIES, ap[ai + 7]);
            c70 = av.fma(b0, c70); c71 = av.fma(b1, c71);
        }
        // spill the registers to the tile buffer (keeps this method small enough for C2 to
        // keep every vector in a register), then merge the tile into c
        c00.intoArray(tile, 0); c01.intoArray(tile, VL);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + VL);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + VL);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + VL);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + VL);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + VL);
        c60.intoArray(tile, 6 * NR); c61.intoArray(tile, 6 * NR + VL);
        c70.intoArray(tile, 7 * NR); c71.intoArray(tile, 7 * NR + VL);
        mergeTile(tile, alpha, beta, c, cTile, ldc, mr, nr);
    }

    /** c[i·ldc + j] = alpha·tile[i·NR + j] + beta·c (beta = 0: c not read), i < mr, j < nr. */
    static void mergeTile(float[] tile, float alpha, float beta, MemorySegment c, long cTile, int ldc, int mr, int nr) {
        if (nr == NR) {
            FloatVector va = FloatVector.broadcast(SPECIES, alpha), vb = FloatVector.broadcast(SPECIES, beta);
            for (int i = 0; i < mr; i++) {
                long row = (cTile + (long) i * ldc) * Float.BYTES;
                for (int v = 0; v < NR; v += VL, row += VL * Float.BYTES) {
                    FloatVector t = FloatVector.fromArray(SPECIES, tile, i * NR + v).mul(va);
                    if (beta != 0f) t = FloatVector.fromMemorySegment(SPECIES, c, row, ORDER).fma(vb, t);
                    t.intoMemorySegment(c, row, ORDER);
                }
            }
            return;
        }
        for (int i = 0; i < mr; i++) {
            for (int j = 0; j < nr; j++) {
                long at = cTile + (long) i * ldc + j;
                float v = alpha * tile[i * NR + j];
                if (beta != 0) v = Math.fma(beta, c.getAtIndex(ValueLayout.JAVA_FLOAT, at), v);
                c.setAtIndex(ValueLayout.JAVA_FLOAT, at, v);
            }
        }
    }

    /** c = beta·c (beta = 0 writes zeros): the whole product when k = 0. */
    static void scale(int m, int n, float beta, MemorySegment c, long cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long at = cOff + (long) i * ldc + j;
                c.setAtIndex(ValueLayout.JAVA_FLOAT, at, beta == 0 ? 0f : beta * c.getAtIndex(ValueLayout.JAVA_FLOAT, at));
            }
        }
    }

    static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    static int roundUp(int x, int y) {
        return ceilDiv(x, y) * y;
    }

    /** Per-thread packing buffers, grown on demand and then reused (no steady-state allocation). */
    static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        private float[] a = new float[0];
        private float[] b = new float[0];
        final float[] tile = new float[MR * NR];

        static Scratch get() {
            return LOCAL.get();
        }

        float[] packedA(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        float[] packedB(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }
    }
}
