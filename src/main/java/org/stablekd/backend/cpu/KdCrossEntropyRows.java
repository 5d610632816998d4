package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.CpuSoftmaxLoss.INV_SS;
import static org.stablekd.backend.cpu.CpuSoftmaxLoss.INV_ST;
import static org.stablekd.backend.cpu.CpuSoftmaxLoss.KD_STATS;
import static org.stablekd.backend.cpu.CpuSoftmaxLoss.MS;
import static org.stablekd.backend.cpu.CpuSoftmaxLoss.MT;
import static org.stablekd.backend.cpu.Simd.F;
import static org.stablekd.backend.cpu.Simd.LANES;
import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.load;
import static org.stablekd.backend.cpu.Simd.set;
import static org.stablekd.backend.cpu.Simd.store;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.stablekd.tensor.Tensor;

/**
 * KD_CE_LOSS for CpuSoftmaxLoss, one row per work item, from its CE and KD row helpers:
 * <pre>
 *   loss_i = w_ce·(L − s_label) + w_kd·τ²·KL_i                  (L = log Σ exp s)
 *   dS     = g/n·(w_ce·(softmax(s) − onehot) + w_kd·τ·(ps − pt))
 * </pre>
 * The label's entry of dS is minus the sum of the others (the row sums to zero), as in the CE
 * backward: p − 1 cancels for a confident, correct prediction. Row losses are added in row order.
 */
final class KdCrossEntropyRows {
    private KdCrossEntropyRows() {}

    static void loss(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight, Tensor loss) {
        Simd.requireF32("kd_ce_loss", student, teacher, loss);
        int rows = student.dim(0), cols = student.dim(1);
        MemorySegment ss = student.segment(), ts = teacher.segment(), ls = labels.segment();
        long so = student.offset(), to = teacher.offset(), lo = labels.offset();
        CpuSoftmaxLoss.checkLabels("kd_ce_loss", ls, lo, rows, cols);
        float invTau = (float) (1 / tau);
        double kdScale = kdWeight * tau * tau;
        double[] perRow = Simd.doubles(rows);
        Parallel.forRange(rows, CpuSoftmaxLoss.grainRows(cols), (r0, r1) -> {
            double[] stats = new double[KD_STATS];
            for (int r = r0; r < r1; r++) {
                long e = (long) r * cols;
                double ce = CpuSoftmaxLoss.crossEntropyRow(ss, so + e, cols, CpuSoftmaxLoss.label(ls, lo, r), 0);
                CpuSoftmaxLoss.kdRowStats(ss, so + e, ts, to + e, cols, invTau, stats);
                perRow[r] = ceWeight * ce + kdScale * CpuSoftmaxLoss.kdRowLoss(stats, 1 / tau);
            }
        });
        set(loss.segment(), loss.offset(), (float) (CpuSoftmaxLoss.sumInOrder(perRow, rows) / rows));
    }

    static void backward(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight,
                         Tensor g, Tensor dStudent) {
        Simd.requireF32("kd_ce_loss backward", student, teacher, g, dStudent);
        int rows = student.dim(0), cols = student.dim(1);
        MemorySegment ss = student.segment(), ts = teacher.segment(), ls = labels.segment(), ds = dStudent.segment();
        long so = student.offset(), to = teacher.offset(), lo = labels.offset(), dso = dStudent.offset();
        CpuSoftmaxLoss.checkLabels("kd_ce_loss", ls, lo, rows, cols);
        float invTau = (float) (1 / tau);
        double gn = get(g.segment(), g.offset()) / (double) rows;
        float ceScale = (float) (gn * ceWeight), kdScale = (float) (gn * kdWeight * tau);
        Parallel.forRange(rows, CpuSoftmaxLoss.grainRows(cols), (r0, r1) -> {
            double[] stats = new double[KD_STATS];
            for (int r = r0; r < r1; r++) {
                long e = (long) r * cols;
                CpuSoftmaxLoss.kdRowStats(ss, so + e, ts, to + e, cols, invTau, stats);
                backwardRow(ss, so + e, ts, to + e, ds, dso + e, cols, CpuSoftmaxLoss.label(ls, lo, r), invTau, stats, ceScale, kdScale);
            }
        });
    }

    // d = ceScale·softmax(s) + kdScale·(ps − pt) for one row, then d[label] = −Σ_{j≠label} d_j
    private static void backwardRow(MemorySegment s, long so, MemorySegment t, long to, MemorySegment d, long dO, int cols, int label,
                                    float invTau, double[] stats, float ceScale, float kdScale) {
        float m = CpuSoftmaxLoss.rowMax(s, so, cols);
        float inv = 1f / CpuSoftmaxLoss.rowSumExp(s, so, cols, 1f, m);
        float ms = (float) stats[MS], mt = (float) stats[MT], invSs = (float) stats[INV_SS], invSt = (float) stats[INV_ST];
        int j = 0;
        for (int bound = F.loopBound(cols); j < bound; j += LANES) {
            FloatVector xs = load(s, so + j), xt = load(t, to + j);
            FloatVector p = xs.sub(m).lanewise(VectorOperators.EXP).mul(inv);
            FloatVector ps = xs.fma(invTau, -ms).lanewise(VectorOperators.EXP).mul(invSs);
            FloatVector pt = xt.fma(invTau, -mt).lanewise(VectorOperators.EXP).mul(invSt);
            store(ps.sub(pt).mul(kdScale).add(p.mul(ceScale)), d, dO + j);
        }
        for (; j < cols; j++) {
            float xs = get(s, so + j), xt = get(t, to + j);
            float p = (float) Math.exp(xs - m) * inv;
            float ps = (float) Math.exp(Math.fma(xs, invTau, -ms)) * invSs, pt = (float) Math.exp(Math.fma(xt, invTau, -mt)) * invSt;
            set(d, dO + j, (ps - pt) * kdScale + p * ceScale);
        }
        double others = CpuSoftmaxLoss.rowSum(d, dO, label) + CpuSoftmaxLoss.rowSum(d, dO + label + 1, cols - label - 1);
        set(d, dO + label, (float) -others);
    }
}
