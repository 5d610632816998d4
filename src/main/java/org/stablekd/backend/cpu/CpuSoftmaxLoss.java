package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.F;
import static org.stablekd.backend.cpu.Simd.LANES;
import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.load;
import static org.stablekd.backend.cpu.Simd.set;
import static org.stablekd.backend.cpu.Simd.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.stablekd.backend.Op;
import org.stablekd.backend.SoftmaxLossKernels;
import org.stablekd.tensor.Tensor;

/**
 * Softmax and losses over rows of (rows, cols) logits, one row per work item. Formulas (the same
 * as RefSoftmaxLoss, rearranged so a row is read few times), with z = x/T, m = max z,
 * S = Σ exp(z − m), L = m + log S:
 * <pre>
 *   softmax = exp(z − m)/S            log_softmax = z − L
 *   CE_i  = L − (1−ε)·x_label − ε/C·Σx                dz = p − (1−ε)·onehot − ε/C
 *   KD_i  = KL(pt ‖ ps) = W/(τ·St) − (Lt − Ls),  W = Σ exp(t/τ − mt)·(t − s)
 *   dS    = τ/n·(ps − pt)              dT = τ/n·pt·((t − s) − W/St)/τ
 * </pre>
 * The KD row is fused: one pass for both maxima, one pass for both exp-sums and W (so the loss
 * needs two exps per logit pair and no scratch row); its backward adds one writing pass.
 * KD_CE_LOSS combines the CE and KD rows ({@link KdCrossEntropyRows}).
 * Per-row losses are added in row order in double: the same result for any thread count
 * (see Note [Determinism]).
 */
final class CpuSoftmaxLoss implements SoftmaxLossKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.SOFTMAX, Op.LOG_SOFTMAX, Op.CROSS_ENTROPY, Op.KD_LOSS, Op.KD_CE_LOSS);

    /** Logits a thread should get before rows are split over threads. */
    private static final int GRAIN_VALUES = 1 << 13;

    private static final CpuSoftmaxLoss INSTANCE = new CpuSoftmaxLoss();

    private CpuSoftmaxLoss() {}

    static SoftmaxLossKernels kernels() {
        return INSTANCE;
    }

    // ---------------------------------------------------------------- row helpers
    // x: one row of (cols) contiguous values from element xo.

    // max x (NaN propagates, as Math.max)
    static float rowMax(MemorySegment x, long xo, int cols) {
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0;
        int j = 0;
        for (int bound = F.loopBound(cols) - LANES; j < bound; j += 2 * LANES) {
            m0 = m0.max(load(x, xo + j));
            m1 = m1.max(load(x, xo + j + LANES));
        }
        for (int bound = F.loopBound(cols); j < bound; j += LANES) m0 = m0.max(load(x, xo + j));
        float m = m0.max(m1).reduceLanes(VectorOperators.MAX);
        for (; j < cols; j++) m = Math.max(m, get(x, xo + j));
        return m;
    }

    // Σ exp(x·invT − m)
    static float rowSumExp(MemorySegment x, long xo, int cols, float invT, float m) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int j = 0;
        for (int bound = F.loopBound(cols) - LANES; j < bound; j += 2 * LANES) {
            a0 = a0.add(load(x, xo + j).fma(invT, -m).lanewise(VectorOperators.EXP));
            a1 = a1.add(load(x, xo + j + LANES).fma(invT, -m).lanewise(VectorOperators.EXP));
        }
        for (int bound = F.loopBound(cols); j < bound; j += LANES) {
            a0 = a0.add(load(x, xo + j).fma(invT, -m).lanewise(VectorOperators.EXP));
        }
        float s = Simd.sumLanes(a0.add(a1));
        for (; j < cols; j++) s += (float) Math.exp(Math.fma(get(x, xo + j), invT, -m));
        return s;
    }

    // Σ a
    static float rowSum(MemorySegment a, long ao, int cols) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int j = 0;
        for (int bound = F.loopBound(cols) - LANES; j < bound; j += 2 * LANES) {
            a0 = a0.add(load(a, ao + j));
            a1 = a1.add(load(a, ao + j + LANES));
        }
        for (int bound = F.loopBound(cols); j < bound; j += LANES) a0 = a0.add(load(a, ao + j));
        float s = Simd.sumLanes(a0.add(a1));
        for (; j < cols; j++) s += get(a, ao + j);
        return s;
    }

    // Σ a·b
    static float rowDot(MemorySegment a, long ao, MemorySegment b, long bo, int cols) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int j = 0;
        for (int bound = F.loopBound(cols) - LANES; j < bound; j += 2 * LANES) {
            a0 = load(a, ao + j).fma(load(b, bo + j), a0);
            a1 = load(a, ao + j + LANES).fma(load(b, bo + j + LANES), a1);
        }
        for (int bound = F.loopBound(cols); j < bound; j += LANES) a0 = load(a, ao + j).fma(load(b, bo + j), a0);
        float s = Simd.sumLanes(a0.add(a1));
        for (; j < cols; j++) s += get(a, ao + j) * get(b, bo + j);
        return s;
    }

    // ---------------------------------------------------------------- softmax kernels

    // y = softmax(x/T) or log_softmax(x/T) of one row (y may be x)
    static void softmaxRow(MemorySegment x, long xo, MemorySegment y, long yo, int cols, float invT, boolean log) {
        float m = rowMax(x, xo, cols) * invT;
        float s = rowSumExp(x, xo, cols, invT, m);
        int j = 0;
        if (log) {
            float lse = (float) (m + Math.log(s));
            for (int bound = F.loopBound(cols); j < bound; j += LANES) store(load(x, xo + j).fma(invT, -lse), y, yo + j);
            for (; j < cols; j++) set(y, yo + j, Math.fma(get(x, xo + j), invT, -lse));
        } else {
            float inv = 1f / s;
            for (int bound = F.loopBound(cols); j < bound; j += LANES) {
                store(load(x, xo + j).fma(invT, -m).lanewise(VectorOperators.EXP).mul(inv), y, yo + j);
            }
            for (; j < cols; j++) set(y, yo + j, (float) Math.exp(Math.fma(get(x, xo + j), invT, -m)) * inv);
        }
    }

    // dx of one row from the forward output y and dy:
    //   softmax:     dx = y·(dy − Σdy·y)/T        log_softmax: dx = (dy − exp(y)·Σdy)/T
    static void softmaxBackwardRow(MemorySegment y, long yo, MemorySegment dy, long dyo, MemorySegment dx, long dxo,
                                   int cols, float invT, boolean log) {
        int j = 0;
        if (log) {
            float dot = rowSum(dy, dyo, cols);
            for (int bound = F.loopBound(cols); j < bound; j += LANES) {
                FloatVector p = load(y, yo + j).lanewise(VectorOperators.EXP);
                store(p.mul(-dot).add(load(dy, dyo + j)).mul(invT), dx, dxo + j);
            }
            for (; j < cols; j++) set(dx, dxo + j, (get(dy, dyo + j) - (float) Math.exp(get(y, yo + j)) * dot) * invT);
        } else {
            float dot = rowDot(dy, dyo, y, yo, cols);
            for (int bound = F.loopBound(cols); j < bound; j += LANES) {
                store(load(y, yo + j).mul(load(dy, dyo + j).sub(dot)).mul(invT), dx, dxo + j);
            }
            for (; j < cols; j++) set(dx, dxo + j, get(y, yo + j) * (get(dy, dyo + j) - dot) * invT);
        }
    }

    // ---------------------------------------------------------------- cross-entropy kernels

    // CE of one row of logits against `label`, label smoothing eps (see the class comment).
    static double crossEntropyRow(MemorySegment x, long xo, int cols, int label, double eps) {
        float m = rowMax(x, xo, cols);
        double lse = m + Math.log(rowSumExp(x, xo, cols, 1f, m));
        double all = eps == 0 ? 0 : rowSum(x, xo, cols);
        return lse - (1 - eps) * get(x, xo + label) - eps / cols * all;
    }

    // d = scale·(softmax(x) − (1−ε)·onehot(label) − ε/C) for one row
    static void crossEntropyBackwardRow(MemorySegment x, long xo, MemorySegment d, long dO, int cols, int label,
                                        double eps, float scale) {
        float m = rowMax(x, xo, cols);
        float s = rowSumExp(x, xo, cols, 1f, m);
        float inv = 1f / s, floor = (float) (eps / cols);
        int j = 0;
        for (int bound = F.loopBound(cols); j < bound; j += LANES) {
            FloatVector p = load(x, xo + j).sub(m).lanewise(VectorOperators.EXP).mul(inv);
            store(p.sub(floor).mul(scale), d, dO + j);
        }
        for (; j < cols; j++) set(d, dO + j, ((float) Math.exp(get(x, xo + j) - m) * inv - floor) * scale);
        // The label's entry p − (1−ε) − ε/C cancels as p → 1 (a confident, correct prediction).
        // The row of d sums to zero, so take it as minus the sum of the other, accurate entries.
        double others = rowSum(d, dO, label) + rowSum(d, dO + label + 1, cols - label - 1);
        set(d, dO + label, (float) -others);
    }

    // ---------------------------------------------------------------- KD kernels

    /** Indices into the per-row KD statistics. */
    static final int MS = 0, MT = 1, INV_SS = 2, INV_ST = 3, W_OVER_ST = 4, LS = 5, LT = 6, KD_STATS = 7;

    // s, t: one row of student and teacher logits.  stats = {ms, mt, 1/Ss, 1/St, W/St, Ls, Lt} for
    // z = ·/τ (see the class comment).  Pass 1: both maxima; pass 2: both exp-sums and W.
    static void kdRowStats(MemorySegment s, long so, MemorySegment t, long to, int cols, float invTau, double[] stats) {
        FloatVector vs = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), vt = vs;
        int j = 0;
        for (int bound = F.loopBound(cols); j < bound; j += LANES) {
            vs = vs.max(load(s, so + j));
            vt = vt.max(load(t, to + j));
        }
        float maxS = vs.reduceLanes(VectorOperators.MAX), maxT = vt.reduceLanes(VectorOperators.MAX);
        for (; j < cols; j++) {
            maxS = Math.max(maxS, get(s, so + j));
            maxT = Math.max(maxT, get(t, to + j));
        }
        float ms = maxS * invTau, mt = maxT * invTau;
        FloatVector sumS = FloatVector.zero(F), sumT = sumS, w = sumS;
        j = 0;
        for (int bound = F.loopBound(cols); j < bound; j += LANES) {
            FloatVector xs = load(s, so + j), xt = load(t, to + j);
            FloatVector et = xt.fma(invTau, -mt).lanewise(VectorOperators.EXP);
            sumS = sumS.add(xs.fma(invTau, -ms).lanewise(VectorOperators.EXP));
            sumT = sumT.add(et);
            w = et.fma(xt.sub(xs), w);
        }
        float ss = Simd.sumLanes(sumS), st = Simd.sumLanes(sumT);
        float wt = Simd.sumLanes(w);
        for (; j < cols; j++) {
            float xs = get(s, so + j), xt = get(t, to + j);
            float et = (float) Math.exp(Math.fma(xt, invTau, -mt));
            ss += (float) Math.exp(Math.fma(xs, invTau, -ms));
            st += et;
            wt += et * (xt - xs);
        }
        stats[MS] = ms;
        stats[MT] = mt;
        stats[INV_SS] = 1.0 / ss;
        stats[INV_ST] = 1.0 / st;
        stats[W_OVER_ST] = wt / (double) st;
        stats[LS] = ms + Math.log(ss);
        stats[LT] = mt + Math.log(st);
    }

    // KL(softmax(t/τ) ‖ softmax(s/τ)) of one row from its statistics
    static double kdRowLoss(double[] stats, double invTau) {
        return stats[W_OVER_ST] * invTau - (stats[LT] - stats[LS]);
    }

    // dS = scale·(ps − pt), dT = scale·pt·((t − s) − W/St)/τ for one row; either output may be null
    static void kdBackwardRow(MemorySegment s, long so, MemorySegment t, long to, MemorySegment ds, long dso,
                              MemorySegment dt, long dto, int cols, float invTau, double[] stats, float scale) {
        float ms = (float) stats[MS], mt = (float) stats[MT];
        float invSs = (float) stats[INV_SS], invSt = (float) stats[INV_ST], wMean = (float) stats[W_OVER_ST];
        float dtScale = scale * invTau;
        int j = 0;
        for (int bound = F.loopBound(cols); j < bound; j += LANES) {
            FloatVector xs = load(s, so + j), xt = load(t, to + j);
            FloatVector pt = xt.fma(invTau, -mt).lanewise(VectorOperators.EXP).mul(invSt);
            if (ds != null) {
                FloatVector ps = xs.fma(invTau, -ms).lanewise(VectorOperators.EXP).mul(invSs);
                store(ps.sub(pt).mul(scale), ds, dso + j);
            }
            if (dt != null) store(pt.mul(xt.sub(xs).sub(wMean)).mul(dtScale), dt, dto + j);
        }
        for (; j < cols; j++) {
            float xs = get(s, so + j), xt = get(t, to + j);
            float pt = (float) Math.exp(Math.fma(xt, invTau, -mt)) * invSt;
            if (ds != null) set(ds, dso + j, ((float) Math.exp(Math.fma(xs, invTau, -ms)) * invSs - pt) * scale);
            if (dt != null) set(dt, dto + j, pt * (xt - xs - wMean) * dtScale);
        }
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public void softmax(Tensor x, double temperature, boolean log, Tensor y) {
        Simd.requireF32(log ? "log_softmax" : "softmax", x, y);
        int rows = x.dim(0), cols = x.dim(1);
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        float invT = (float) (1 / temperature);
        Parallel.forRange(rows, grainRows(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxRow(xs, xo + (long) r * cols, ys, yo + (long) r * cols, cols, invT, log);
        });
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, double temperature, boolean log, Tensor dx) {
        Simd.requireF32(log ? "log_softmax backward" : "softmax backward", y, dy, dx);
        int rows = y.dim(0), cols = y.dim(1);
        MemorySegment ys = y.segment(), dys = dy.segment(), dxs = dx.segment();
        long yo = y.offset(), dyo = dy.offset(), dxo = dx.offset();
        float invT = (float) (1 / temperature);
        Parallel.forRange(rows, grainRows(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                long e = (long) r * cols;
                softmaxBackwardRow(ys, yo + e, dys, dyo + e, dxs, dxo + e, cols, invT, log);
            }
        });
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor labels, double smoothing, Tensor loss) {
        Simd.requireF32("cross_entropy", logits, loss);
        int rows = logits.dim(0), cols = logits.dim(1);
        MemorySegment xs = logits.segment(), ls = labels.segment();
        long xo = logits.offset(), lo = labels.offset();
        checkLabels("cross_entropy", ls, lo, rows, cols);
        double[] perRow = Simd.doubles(rows);
        Parallel.forRange(rows, grainRows(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                perRow[r] = crossEntropyRow(xs, xo + (long) r * cols, cols, label(ls, lo, r), smoothing);
            }
        });
        set(loss.segment(), loss.offset(), (float) (sumInOrder(perRow, rows) / rows));
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor labels, double smoothing, Tensor g, Tensor dlogits) {
        Simd.requireF32("cross_entropy backward", logits, g, dlogits);
        int rows = logits.dim(0), cols = logits.dim(1);
        MemorySegment xs = logits.segment(), ls = labels.segment(), ds = dlogits.segment();
        long xo = logits.offset(), lo = labels.offset(), dO = dlogits.offset();
        checkLabels("cross_entropy", ls, lo, rows, cols);
        float scale = (float) (get(g.segment(), g.offset()) / (double) rows);
        Parallel.forRange(rows, grainRows(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                long e = (long) r * cols;
                crossEntropyBackwardRow(xs, xo + e, ds, dO + e, cols, label(ls, lo, r), smoothing, scale);
            }
        });
    }

    @Override
    public void kdLoss(Tensor student, Tensor teacher, double tau, Tensor loss) {
        Simd.requireF32("kd_loss", student, teacher, loss);
        int rows = student.dim(0), cols = student.dim(1);
        MemorySegment ss = student.segment(), ts = teacher.segment();
        long so = student.offset(), to = teacher.offset();
        float invTau = (float) (1 / tau);
        double[] perRow = Simd.doubles(rows);
        Parallel.forRange(rows, grainRows(cols), (r0, r1) -> {
            double[] stats = new double[KD_STATS];
            for (int r = r0; r < r1; r++) {
                long e = (long) r * cols;
                kdRowStats(ss, so + e, ts, to + e, cols, invTau, stats);
                perRow[r] = kdRowLoss(stats, 1 / tau);
            }
        });
        set(loss.segment(), loss.offset(), (float) (sumInOrder(perRow, rows) * tau * tau / rows));
    }

    @Override
    public void kdLossBackward(Tensor student, Tensor teacher, double tau, Tensor g, Tensor dStudent, Tensor dTeacher) {
        Simd.requireF32("kd_loss backward", student, teacher, g, dStudent, dTeacher);
        if (dStudent == null && dTeacher == null) return;
        int rows = student.dim(0), cols = student.dim(1);
        MemorySegment ss = student.segment(), ts = teacher.segment();
        long so = student.offset(), to = teacher.offset();
        MemorySegment dss = dStudent == null ? null : dStudent.segment(), dts = dTeacher == null ? null : dTeacher.segment();
        long dso = dStudent == null ? 0 : dStudent.offset(), dto = dTeacher == null ? 0 : dTeacher.offset();
        float invTau = (float) (1 / tau);
        float scale = (float) (get(g.segment(), g.offset()) * tau / rows);
        Parallel.forRange(rows, grainRows(cols), (r0, r1) -> {
            double[] stats = new double[KD_STATS];
            for (int r = r0; r < r1; r++) {
                long e = (long) r * cols;
                kdRowStats(ss, so + e, ts, to + e, cols, invTau, stats);
                kdBackwardRow(ss, so + e, ts, to + e, dss, dso + e, dts, dto + e, cols, invTau, stats, scale);
            }
        });
    }

    @Override
    public void kdCrossEntropy(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight, Tensor loss) {
        KdCrossEntropyRows.loss(student, teacher, labels, tau, ceWeight, kdWeight, loss);
    }

    @Override
    public void kdCrossEntropyBackward(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight,
                                       Tensor g, Tensor dStudent) {
        KdCrossEntropyRows.backward(student, teacher, labels, tau, ceWeight, kdWeight, g, dStudent);
    }

    // ---------------------------------------------------------------- helpers

    /** Every label in [0, cols), else an IllegalArgumentException naming the first bad one (checked before any work). */
    static void checkLabels(String op, MemorySegment labels, long lo, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int l = label(labels, lo, r);
            if (l < 0 || l >= cols) {
                throw new IllegalArgumentException(op + ": label " + l + " at row " + r + " is outside [0, " + cols
                        + ") — labels must be class indices below the number of logits per row");
            }
        }
    }

    static int label(MemorySegment labels, long lo, int r) {
        return labels.getAtIndex(ValueLayout.JAVA_INT, lo + r);
    }

    static double sumInOrder(double[] v, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += v[i];
        return s;
    }

    static int grainRows(int cols) {
        return Math.max(1, GRAIN_VALUES / Math.max(1, cols));
    }
}
