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
import org.stablekd.backend.DistillKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * DKD loss and attention maps (formulas: RefDistill), F32, deterministic (Note [Determinism]).
 *
 * <p>DKD, one row per work item, target g, z = logits/τ. Only the non-target classes ("others",
 * the spans [0,g) and (g,C)) need passes: one for both maxima m_o, one for the exp-sums
 * S_o = Σ_{j≠g} exp(z_j − m_o) and W_o = Σ_{j≠g} exp(zt_j − mt_o)·(t_j − s_j). Then, in double,
 * <pre>
 *   L_o = m_o + log S_o           (log-sum-exp over the others)
 *   L   = logaddexp(z_g, L_o)      log p_g = z_g − L,  log p_o = L_o − L   (no 1 − p_g: no cancellation)
 *   TCKD_i = t_g·(log t_g − log s_g) + t_o·(log t_o − log s_o)
 *   NCKD_i = W_o/(τ·St_o) − (Lt_o − Ls_o)
 * </pre>
 * The non-target max keeps a confident teacher (z_g far above the rest) from underflowing the
 * renormalized softmax t̂. The backward adds one writing pass over the others:
 * dz_j = τ/n·(ŝ_j·(α·(s_o − t_o) + β) − β·t̂_j), and dz_g = −τ/n·α·(s_o − t_o).
 *
 * <p>Attention map, f (n,c,p): work items are (sample, block of {@link #P_BLOCK} positions);
 * q accumulates f² channel by channel in place (each f row is read in memory order), then one
 * pass per sample normalizes. The backward computes the per-sample scalars first, then
 * dq = (da − q·k₁)·k₂ per block and df = f·dq·2/c channel by channel.
 */
final class CpuDistill implements DistillKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.DKD_LOSS, Op.ATTENTION_MAP);

    /** Values a thread should get before work is split over threads. */
    private static final int GRAIN_VALUES = 1 << 14;
    /** Positions of one attention-map work item (a multiple of the lanes: 4 KiB of q). */
    static final int P_BLOCK = 1024;

    private static final CpuDistill INSTANCE = new CpuDistill();

    private CpuDistill() {}

    static DistillKernels kernels() {
        return INSTANCE;
    }

    // ---------------------------------------------------------------- DKD row helpers
    // s, t: spans of len student and teacher logits from elements so, to.

    // m[0] = max(m[0], max s), m[1] = max(m[1], max t)
    static void spanMax(MemorySegment s, long so, MemorySegment t, long to, int len, float[] m) {
        FloatVector vs = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), vt = vs;
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += LANES) {
            vs = vs.max(load(s, so + j));
            vt = vt.max(load(t, to + j));
        }
        float ms = Math.max(m[0], vs.reduceLanes(VectorOperators.MAX)), mt = Math.max(m[1], vt.reduceLanes(VectorOperators.MAX));
        for (; j < len; j++) {
            ms = Math.max(ms, get(s, so + j));
            mt = Math.max(mt, get(t, to + j));
        }
        m[0] = ms;
        m[1] = mt;
    }

    // acc += {Σ exp(s/τ − ms), Σ exp(t/τ − mt), Σ exp(t/τ − mt)·(t − s)}
    static void spanSums(MemorySegment s, long so, MemorySegment t, long to, int len, float invTau, float ms, float mt, float[] acc) {
        FloatVector sumS = FloatVector.zero(F), sumT = sumS, w = sumS;
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += LANES) {
            FloatVector xs = load(s, so + j), xt = load(t, to + j);
            FloatVector et = xt.fma(invTau, -mt).lanewise(VectorOperators.EXP);
            sumS = sumS.add(xs.fma(invTau, -ms).lanewise(VectorOperators.EXP));
            sumT = sumT.add(et);
            w = et.fma(xt.sub(xs), w);
        }
        float a0 = Simd.sumLanes(sumS), a1 = Simd.sumLanes(sumT), a2 = Simd.sumLanes(w);
        for (; j < len; j++) {
            float xs = get(s, so + j), xt = get(t, to + j);
            float et = (float) Math.exp(Math.fma(xt, invTau, -mt));
            a0 += (float) Math.exp(Math.fma(xs, invTau, -ms));
            a1 += et;
            a2 += et * (xt - xs);
        }
        acc[0] += a0;
        acc[1] += a1;
        acc[2] += a2;
    }

    // d = scale·(ŝ·coefS − β·t̂) with ŝ = exp(s/τ − ms)·invSs, t̂ = exp(t/τ − mt)·invSt
    static void spanBackward(MemorySegment s, long so, MemorySegment t, long to, MemorySegment d, long dO, int len,
                             float invTau, float ms, float mt, float invSs, float invSt, float coefS, float beta, float scale) {
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += LANES) {
            FloatVector sHat = load(s, so + j).fma(invTau, -ms).lanewise(VectorOperators.EXP).mul(invSs);
            FloatVector tHat = load(t, to + j).fma(invTau, -mt).lanewise(VectorOperators.EXP).mul(invSt);
            store(sHat.mul(coefS).sub(tHat.mul(beta)).mul(scale), d, dO + j);
        }
        for (; j < len; j++) {
            float sHat = (float) Math.exp(Math.fma(get(s, so + j), invTau, -ms)) * invSs;
            float tHat = (float) Math.exp(Math.fma(get(t, to + j), invTau, -mt)) * invSt;
            set(d, dO + j, (sHat * coefS - tHat * beta) * scale);
        }
    }

    /** Indices into the per-row DKD statistics. */
    private static final int MS = 0, MT = 1, SS = 2, ST = 3, LOG_SG = 4, LOG_SO = 5, LOG_TG = 6, LOG_TO = 7, NCKD = 8, DKD_STATS = 9;

    // The statistics of one row (s, t: cols logits each, target g) into stats (see the class comment).
    // m, acc: per-thread scratch of 2 and 3 floats.
    static void dkdRowStats(MemorySegment s, long so, MemorySegment t, long to, int cols, int g, float invTau,
                            float[] m, float[] acc, double[] stats) {
        int right = cols - g - 1;
        m[0] = m[1] = Float.NEGATIVE_INFINITY;
        spanMax(s, so, t, to, g, m);
        spanMax(s, so + g + 1, t, to + g + 1, right, m);
        float ms = m[0] * invTau, mt = m[1] * invTau;
        acc[0] = acc[1] = acc[2] = 0;
        spanSums(s, so, t, to, g, invTau, ms, mt, acc);
        spanSums(s, so + g + 1, t, to + g + 1, right, invTau, ms, mt, acc);
        double lso = ms + Math.log(acc[0]), lto = mt + Math.log(acc[1]);
        double zsg = get(s, so + g) * (double) invTau, ztg = get(t, to + g) * (double) invTau;
        double ls = logAddExp(zsg, lso), lt = logAddExp(ztg, lto);
        stats[MS] = ms;
        stats[MT] = mt;
        stats[SS] = acc[0];
        stats[ST] = acc[1];
        stats[LOG_SG] = zsg - ls;
        stats[LOG_SO] = lso - ls;
        stats[LOG_TG] = ztg - lt;
        stats[LOG_TO] = lto - lt;
        stats[NCKD] = acc[2] / (double) acc[1] * invTau - (lto - lso);
    }

    static double logAddExp(double a, double b) {
        double hi = Math.max(a, b), lo = Math.min(a, b);
        return hi == Double.NEGATIVE_INFINITY ? hi : hi + Math.log1p(Math.exp(lo - hi));
    }

    // α·TCKD_i + β·NCKD_i of one row from its statistics
    static double dkdRowLoss(double[] st, double alpha, double beta) {
        double tg = Math.exp(st[LOG_TG]), to = Math.exp(st[LOG_TO]);
        double tckd = klTerm(tg, st[LOG_TG], st[LOG_SG]) + klTerm(to, st[LOG_TO], st[LOG_SO]);
        return alpha * tckd + beta * st[NCKD];
    }

    // p·(log p − log q), 0 where p = 0 (PyTorch's kl_div: xlogy)
    private static double klTerm(double p, double logP, double logQ) {
        return p == 0 ? 0 : p * (logP - logQ);
    }

    // dz of one row into d (see the class comment)
    static void dkdBackwardRow(MemorySegment s, long so, MemorySegment t, long to, MemorySegment d, long dO, int cols, int g,
                               float invTau, double[] st, double alpha, double beta, float scale) {
        double diff = Math.exp(st[LOG_SO]) - Math.exp(st[LOG_TO]); // s_o − t_o
        float ms = (float) st[MS], mt = (float) st[MT];
        float invSs = (float) (1 / st[SS]), invSt = (float) (1 / st[ST]);
        float coefS = (float) (alpha * diff + beta), b = (float) beta;
        spanBackward(s, so, t, to, d, dO, g, invTau, ms, mt, invSs, invSt, coefS, b, scale);
        int r = g + 1;
        spanBackward(s, so + r, t, to + r, d, dO + r, cols - r, invTau, ms, mt, invSs, invSt, coefS, b, scale);
        set(d, dO + g, (float) (-alpha * diff * scale));
    }

    // ---------------------------------------------------------------- attention-map helpers
    // f: (c, p) of one sample from element fo; [k0, k0+len) a block of positions.

    // q[k0..k0+len) = Σ_ch f[ch, k]² / c
    static void attentionBlock(MemorySegment f, long fo, int c, int p, MemorySegment q, long qo, int k0, int len) {
        float invC = 1f / c;
        for (int ch = 0; ch < c; ch++) {
            long row = fo + (long) ch * p + k0;
            int j = 0;
            for (int bound = F.loopBound(len); j < bound; j += LANES) {
                FloatVector v = load(f, row + j);
                store(ch == 0 ? v.mul(v) : v.fma(v, load(q, qo + k0 + j)), q, qo + k0 + j);
            }
            for (; j < len; j++) {
                float v = get(f, row + j);
                set(q, qo + k0 + j, ch == 0 ? v * v : Math.fma(v, v, get(q, qo + k0 + j)));
            }
        }
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += LANES) store(load(q, qo + k0 + j).mul(invC), q, qo + k0 + j);
        for (; j < len; j++) set(q, qo + k0 + j, get(q, qo + k0 + j) * invC);
    }

    // df[·, k0..k0+len) = f·dq·2/c with dq = (da − q·k1)·k2 (dq kept in scratch)
    static void attentionBackwardBlock(MemorySegment f, long fo, MemorySegment df, long dfo, int c, int p,
                                       MemorySegment q, long qo, MemorySegment da, long dao, int k0, int len,
                                       float k1, float k2, float[] dq) {
        float k2c = k2 * 2f / c;
        int j = 0;
        for (int bound = F.loopBound(len); j < bound; j += LANES) {
            FloatVector v = load(q, qo + k0 + j).mul(-k1).add(load(da, dao + k0 + j)).mul(k2c);
            v.intoArray(dq, j);
        }
        for (; j < len; j++) dq[j] = (get(da, dao + k0 + j) - get(q, qo + k0 + j) * k1) * k2c;
        for (int ch = 0; ch < c; ch++) {
            long row = (long) ch * p + k0;
            j = 0;
            for (int bound = F.loopBound(len); j < bound; j += LANES) {
                store(load(f, fo + row + j).mul(FloatVector.fromArray(F, dq, j)), df, dfo + row + j);
            }
            for (; j < len; j++) set(df, dfo + row + j, get(f, fo + row + j) * dq[j]);
        }
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public void dkdLoss(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau, Tensor loss) {
        Simd.requireF32("dkd_loss", student, teacher, loss);
        int rows = student.dim(0), cols = student.dim(1);
        MemorySegment ss = student.segment(), ts = teacher.segment(), ls = labels.segment();
        long so = student.offset(), to = teacher.offset(), lo = labels.offset();
        checkLabels(ls, lo, rows, cols);
        float invTau = (float) (1 / tau);
        double[] perRow = Simd.doubles(rows);
        Parallel.forRange(rows, grainRows(cols), (r0, r1) -> {
            float[] m = new float[2], acc = new float[3];
            double[] stats = new double[DKD_STATS];
            for (int r = r0; r < r1; r++) {
                long e = (long) r * cols;
                dkdRowStats(ss, so + e, ts, to + e, cols, label(ls, lo, r), invTau, m, acc, stats);
                perRow[r] = dkdRowLoss(stats, alpha, beta);
            }
        });
        double total = 0;
        for (int r = 0; r < rows; r++) total += perRow[r];
        set(loss.segment(), loss.offset(), (float) (total * tau * tau / rows));
    }

    @Override
    public void dkdLossBackward(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau,
                                Tensor g, Tensor dStudent) {
        Simd.requireF32("dkd_loss backward", student, teacher, g, dStudent);
        if (dStudent == null) return;
        int rows = student.dim(0), cols = student.dim(1);
        MemorySegment ss = student.segment(), ts = teacher.segment(), ls = labels.segment(), ds = dStudent.segment();
        long so = student.offset(), to = teacher.offset(), lo = labels.offset(), dso = dStudent.offset();
        checkLabels(ls, lo, rows, cols);
        float invTau = (float) (1 / tau);
        float scale = (float) (get(g.segment(), g.offset()) * tau / rows);
        Parallel.forRange(rows, grainRows(cols), (r0, r1) -> {
            float[] m = new float[2], acc = new float[3];
            double[] stats = new double[DKD_STATS];
            for (int r = r0; r < r1; r++) {
                long e = (long) r * cols;
                int target = label(ls, lo, r);
                dkdRowStats(ss, so + e, ts, to + e, cols, target, invTau, m, acc, stats);
                dkdBackwardRow(ss, so + e, ts, to + e, ds, dso + e, cols, target, invTau, stats, alpha, beta, scale);
            }
        });
    }

    @Override
    public void attentionMap(Tensor f, double eps, Tensor q, Tensor a) {
        Simd.requireF32("attention_map", f, q, a);
        int n = f.dim(0), c = f.dim(1), p = f.dim(2) * f.dim(3);
        MemorySegment fs = f.segment(), qs = q.segment(), as = a.segment();
        long fo = f.offset(), qo = q.offset(), ao = a.offset();
        int blocks = (p + P_BLOCK - 1) / P_BLOCK;
        Parallel.forRange(n * blocks, grain((long) c * Math.min(p, P_BLOCK)), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int s = i / blocks, k0 = (i % blocks) * P_BLOCK;
                attentionBlock(fs, fo + (long) s * c * p, c, p, qs, qo + (long) s * p, k0, Math.min(P_BLOCK, p - k0));
            }
        });
        // a = q / max(‖q‖, eps), one sample per item
        Parallel.forRange(n, grain(p), (s0, s1) -> {
            for (int s = s0; s < s1; s++) {
                long row = (long) s * p;
                double norm = Math.sqrt(CpuSoftmaxLoss.rowDot(qs, qo + row, qs, qo + row, p));
                float inv = (float) (1 / Math.max(norm, eps));
                int j = 0;
                for (int bound = F.loopBound(p); j < bound; j += LANES) store(load(qs, qo + row + j).mul(inv), as, ao + row + j);
                for (; j < p; j++) set(as, ao + row + j, get(qs, qo + row + j) * inv);
            }
        });
    }

    @Override
    public void attentionMapBackward(Tensor f, Tensor q, Tensor da, double eps, Tensor df) {
        Simd.requireF32("attention_map backward", f, q, da, df);
        int n = f.dim(0), c = f.dim(1), p = f.dim(2) * f.dim(3);
        MemorySegment fs = f.segment(), qs = q.segment(), das = da.segment(), dfs = df.segment();
        long fo = f.offset(), qo = q.offset(), dao = da.offset(), dfo = df.offset();
        // per sample: dq = (da − a·(a·da))/‖q‖ = (da − q·k1)·k2 with k1 = (q·da)/‖q‖², k2 = 1/‖q‖;
        // where the norm is clamped (a = q/eps): k1 = 0, k2 = 1/eps
        float[] k = new float[2 * n];
        Parallel.forRange(n, grain(2L * p), (s0, s1) -> {
            for (int s = s0; s < s1; s++) {
                long row = (long) s * p;
                double sq = CpuSoftmaxLoss.rowDot(qs, qo + row, qs, qo + row, p);
                double norm = Math.sqrt(sq);
                if (norm >= eps) {
                    k[2 * s] = (float) (CpuSoftmaxLoss.rowDot(qs, qo + row, das, dao + row, p) / sq);
                    k[2 * s + 1] = (float) (1 / norm);
                } else {
                    k[2 * s] = 0;
                    k[2 * s + 1] = (float) (1 / eps);
                }
            }
        });
        int blocks = (p + P_BLOCK - 1) / P_BLOCK;
        Parallel.forRange(n * blocks, grain((long) c * Math.min(p, P_BLOCK)), (i0, i1) -> {
            float[] dq = Simd.floats(P_BLOCK);
            for (int i = i0; i < i1; i++) {
                int s = i / blocks, k0 = (i % blocks) * P_BLOCK;
                long fRow = (long) s * c * p, qRow = (long) s * p;
                attentionBackwardBlock(fs, fo + fRow, dfs, dfo + fRow, c, p, qs, qo + qRow, das, dao + qRow, k0,
                        Math.min(P_BLOCK, p - k0), k[2 * s], k[2 * s + 1], dq);
            }
        });
    }

    // ---------------------------------------------------------------- helpers

    /** Every label in [0, cols), else an IllegalArgumentException naming the first bad one (checked before any work). */
    static void checkLabels(MemorySegment labels, long lo, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int l = label(labels, lo, r);
            if (l < 0 || l >= cols) {
                throw new IllegalArgumentException("dkd_loss: label " + l + " at row " + r + " is outside [0, " + cols
                        + ") — labels must be class indices below the number of logits per row");
            }
        }
    }

    private static int label(MemorySegment labels, long lo, int r) {
        return labels.getAtIndex(ValueLayout.JAVA_INT, lo + r);
    }

    private static int grainRows(int cols) {
        return Math.max(1, GRAIN_VALUES / Math.max(1, cols));
    }

    private static int grain(long valuesPerItem) {
        return (int) Math.max(1, GRAIN_VALUES / Math.max(1, valuesPerItem));
    }
}
