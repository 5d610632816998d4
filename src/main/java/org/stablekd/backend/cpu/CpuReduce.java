package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.F;
import static org.stablekd.backend.cpu.Simd.LANES;
import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.load;
import static org.stablekd.backend.cpu.Simd.set;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.stablekd.backend.Op;
import org.stablekd.backend.ReduceKernels;
import org.stablekd.tensor.Tensor;

/**
 * Reductions. Accuracy: float vector partial sums over blocks of at most {@link #BLOCK}
 * elements, blocks added in double (blocked summation: the float error is that of ~BLOCK/64
 * additions per lane, whatever the length). Determinism: a big sum is cut into fixed
 * {@link #SUM_CHUNK}-element pieces whose partials are added in order, so the result does not
 * even depend on the thread count (see Note [Determinism]).
 */
final class CpuReduce implements ReduceKernels {
    /** SUM and MEAN (MEAN = sum then SCALE, and its backward fillFromScalar, from CpuPointwise). */
    static final Set<Op> SUPPORTED = EnumSet.of(Op.SUM, Op.MEAN, Op.TOPK_HITS);

    static final int BLOCK = 4096;
    static final int SUM_CHUNK = 1 << 15;
    /** Rows summed in float before sumRows adds them into its double column sums. */
    static final int ROW_BLOCK = 64;

    private static final CpuReduce INSTANCE = new CpuReduce();

    private CpuReduce() {}

    static ReduceKernels kernels() {
        return INSTANCE;
    }

    // ---------------------------------------------------------------- kernels

    // x: (n) contiguous from element xo.  Returns Σ x in double (float blocks of BLOCK, 4 accumulators).
    static double sum(MemorySegment x, long xo, long n) {
        double total = 0;
        for (long b = 0; b < n; b += BLOCK) {
            total += sumBlock(x, xo + b, (int) Math.min(BLOCK, n - b));
        }
        return total;
    }

    // Σ x over len ≤ BLOCK contiguous values, in float.
    private static float sumBlock(MemorySegment x, long xo, int len) {
        if (len < LANES) {   // no vector step: the same sum as below (0 + the tail in order) without the lane fold
            float s = 0f;
            for (int i = 0; i < len; i++) s += get(x, xo + i);
            return s;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int bound = F.loopBound(len) - 3 * LANES; i < bound; i += 4 * LANES) {
            a0 = a0.add(load(x, xo + i));
            a1 = a1.add(load(x, xo + i + LANES));
            a2 = a2.add(load(x, xo + i + 2 * LANES));
            a3 = a3.add(load(x, xo + i + 3 * LANES));
        }
        for (int bound = F.loopBound(len); i < bound; i += LANES) a0 = a0.add(load(x, xo + i));
        float s = Simd.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; i < len; i++) s += get(x, xo + i);
        return s;
    }

    // x: (rows, cols) contiguous, out: (cols).  out[j] = Σ_i x[i][j] for columns [j0, j1).
    // Columns go LANES at a time down the rows; every ROW_BLOCK rows the float lanes are added
    // into double per-column sums (blocked summation again).
    static void sumRows(MemorySegment x, long xo, int rows, int cols, MemorySegment out, long oo, int j0, int j1) {
        float[] lanes = new float[LANES];   // LANES-sized, once per call
        double[] acc = new double[LANES];
        int j = j0;
        for (; j + LANES <= j1; j += LANES) {
            Arrays.fill(acc, 0);
            for (int r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
                FloatVector a = FloatVector.zero(F);
                for (int r = r0, r1 = Math.min(rows, r0 + ROW_BLOCK); r < r1; r++) {
                    a = a.add(load(x, xo + (long) r * cols + j));
                }
                a.intoArray(lanes, 0);
                for (int l = 0; l < LANES; l++) acc[l] += lanes[l];
            }
            for (int l = 0; l < LANES; l++) set(out, oo + j + l, (float) acc[l]);
        }
        for (; j < j1; j++) {
            double s = 0;
            for (int r = 0; r < rows; r++) s += get(x, xo + (long) r * cols + j);
            set(out, oo + j, (float) s);
        }
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public void sum(Tensor x, Tensor out) {
        Simd.requireF32("sum", x, out);
        set(out.segment(), out.offset(), (float) sumParallel(x.segment(), x.offset(), x.numel()));
    }

    /** Σ x over [0, n), in fixed SUM_CHUNK pieces added in order (deterministic for any thread count). */
    static double sumParallel(MemorySegment x, long xo, long n) {
        return inChunks(n, (from, count) -> sum(x, xo + from, count));
    }

    /** A partial sum over elements {@code [from, from+count)}. */
    @FunctionalInterface
    interface Piece {
        double sum(long from, long count);
    }

    /**
     * Σ of {@code piece} over [0, n) cut into fixed SUM_CHUNK pieces, computed in parallel and
     * added in piece order: the chunking depends on n only, so the result is the same for any
     * thread count.
     */
    static double inChunks(long n, Piece piece) {
        if (n <= SUM_CHUNK) return piece.sum(0, n);
        int chunks = Math.toIntExact((n + SUM_CHUNK - 1) / SUM_CHUNK);
        double[] partial = Simd.doubles(chunks);
        Parallel.forRange(chunks, 2, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                long from = (long) c * SUM_CHUNK;
                partial[c] = piece.sum(from, Math.min(SUM_CHUNK, n - from));
            }
        });
        double total = 0;
        for (int c = 0; c < chunks; c++) total += partial[c];
        return total;
    }

    @Override
    public void sumRows(Tensor x, Tensor out) {
        Simd.requireF32("sumRows", x, out);
        int rows = x.dim(0), cols = x.dim(1);
        MemorySegment xs = x.segment(), os = out.segment();
        long xo = x.offset(), oo = out.offset();
        // parallel over whole LANES-wide column strips; the last chunk also takes the scalar tail
        int strips = (cols + LANES - 1) / LANES;
        int grain = Math.max(1, (1 << 15) / Math.max(1, rows * LANES));
        Parallel.forRange(strips, grain, (s0, s1) ->
                sumRows(xs, xo, rows, cols, os, oo, s0 * LANES, Math.min(cols, s1 * LANES)));
    }
}
