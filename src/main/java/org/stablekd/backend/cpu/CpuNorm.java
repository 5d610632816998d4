package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.F;
import static org.stablekd.backend.cpu.Simd.LANES;
import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.load;
import static org.stablekd.backend.cpu.Simd.set;
import static org.stablekd.backend.cpu.Simd.store;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.stablekd.backend.NormKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * Batch normalization over x (n,c,h,w), statistics per channel over m = n·h·w values.
 *
 * <p>Training forward: (1) one fused pass for the shifted moments S1 = Σ(x−K), S2 = Σ(x−K)²
 * around a pivot K, the mean of the channel's first plane, giving μ = K + S1/m and
 * mσ² = S2 − S1²/m; (2) y = (x−μ)·(γ/√(σ²+eps)) + β. The shift keeps the float partials small
 * however large |μ| is; the cancellation in S2 − S1²/m costs a factor 1 + d², d = (K−μ)/σ, small
 * for a pivot taken from the data (and at most 1 + n: the first plane is part of the variance).
 * When d² > {@link #MAX_PIVOT_DISTANCE2} the moments are taken again around μ (an exact
 * two-pass variance). Sums are float vector partials per plane block (at most
 * {@link CpuReduce#BLOCK} values) added in double: accurate over 64×32×32 values, also for
 * |μ| ≫ σ (tested at μ = 1000, σ = 0.1, where a one-pass E[x²] − E[x]² loses everything).
 *
 * <p>Backward: one fused pass for Σdy and Σdy·(x−μ), then
 * dx = γσ⁻¹·dy − γσ⁻³/m·Σdy(x−μ)·(x−μ) − γσ⁻¹/m·Σdy (training) or dx = γσ⁻¹·dy (eval).
 *
 * <p>With the ReLU fused ({@code …Relu}): the normalize pass writes max(y, 0) (compare and blend,
 * as {@link CpuPointwise}'s relu), and the backward's two passes read dy where the saved output
 * is positive, else 0. Against BN then ReLU this drops the ReLU's own passes and the masked-dy
 * tensor between them: 3 instead of 5 streams over memory forward, 7 instead of 8 backward.
 *
 * <p>Threads take blocks of whole channels. Each pass walks its block in memory order (sample by
 * sample, the block's planes one after the other) rather than channel by channel: a channel's
 * planes lie c·h·w apart, and reading 4 KiB pieces at a 256 KiB stride is ~2× slower than a
 * stream (64×64×32×32, one thread: moments 1.13 → 0.44 ms, normalize 1.8 → 1.0 ms). A channel's
 * sums still run over samples in order, so results do not depend on the thread count (see
 * Note [Determinism]).
 */
final class CpuNorm implements NormKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.BATCH_NORM);

    /**
     * The largest squared distance d² = (K−μ)²/σ² of the pivot from the mean for which the
     * one-pass variance is kept (it loses about log10(1 + d²) of ~7 digits); beyond, a second pass.
     */
    static final double MAX_PIVOT_DISTANCE2 = 16;

    /** Values a thread should get before channels are split over threads. */
    private static final int GRAIN_VALUES = 1 << 15;

    private static final CpuNorm INSTANCE = new CpuNorm();

    private CpuNorm() {}

    static NormKernels kernels() {
        return INSTANCE;
    }

    // ---------------------------------------------------------------- kernels (one plane of hw values)

    // acc[at] += Σ(x − pivot), acc[at+1] += Σ(x − pivot)²; float partials per block, added in double
    static void planeMoments(MemorySegment x, long xo, int hw, float pivot, double[] acc, int at) {
        for (int b = 0; b < hw; b += CpuReduce.BLOCK) {
            int len = Math.min(CpuReduce.BLOCK, hw - b);
            long p = xo + b;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, q0 = s0, q1 = s0;
            int j = 0;
            for (int bound = F.loopBound(len) - LANES; j < bound; j += 2 * LANES) {
                FloatVector d0 = load(x, p + j).sub(pivot), d1 = load(x, p + j + LANES).sub(pivot);
                s0 = s0.add(d0);
                s1 = s1.add(d1);
                q0 = d0.fma(d0, q0);
                q1 = d1.fma(d1, q1);
            }
            for (int bound = F.loopBound(len); j < bound; j += LANES) {
                FloatVector d = load(x, p + j).sub(pivot);
                s0 = s0.add(d);
                q0 = d.fma(d, q0);
            }
            float sum = Simd.sumLanes(s0.add(s1)), sq = Simd.sumLanes(q0.add(q1));
            for (; j < len; j++) {
                float d = get(x, p + j) - pivot;
                sum += d;
                sq += d * d;
            }
            acc[at] += sum;
            acc[at + 1] += sq;
        }
    }

    // y = (x − mean)·scale + shift
    static void normalize(MemorySegment x, long xo, MemorySegment y, long yo, int hw, float mean, float scale, float shift) {
        int i = 0;
        for (int bound = F.loopBound(hw); i < bound; i += LANES) {
            store(load(x, xo + i).sub(mean).fma(scale, shift), y, yo + i);
        }
        for (; i < hw; i++) set(y, yo + i, Math.fma(get(x, xo + i) - mean, scale, shift));
    }

    // y = relu((x − mean)·scale + shift), relu as CpuPointwise's (a compare and blend: relu(NaN) = 0)
    static void normalizeRelu(MemorySegment x, long xo, MemorySegment y, long yo, int hw, float mean, float scale, float shift) {
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(hw); i < bound; i += LANES) {
            FloatVector v = load(x, xo + i).sub(mean).fma(scale, shift);
            store(zero.blend(v, v.compare(VectorOperators.GT, 0f)), y, yo + i);
        }
        for (; i < hw; i++) {
            float v = Math.fma(get(x, xo + i) - mean, scale, shift);
            set(y, yo + i, v > 0 ? v : 0f);
        }
    }

    // acc[at] += Σdy, acc[at+1] += Σdy·(x − mean); one pass over x and dy
    static void planeGradSums(MemorySegment x, long xo, MemorySegment dy, long dyo, int hw, float mean, double[] acc, int at) {
        for (int b = 0; b < hw; b += CpuReduce.BLOCK) {
            int len = Math.min(CpuReduce.BLOCK, hw - b);
            long xp = xo + b, dp = dyo + b;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, t0 = s0, t1 = s0;
            int j = 0;
            for (int bound = F.loopBound(len) - LANES; j < bound; j += 2 * LANES) {
                FloatVector d0 = load(dy, dp + j), d1 = load(dy, dp + j + LANES);
                s0 = s0.add(d0);
                s1 = s1.add(d1);
                t0 = d0.fma(load(x, xp + j).sub(mean), t0);
                t1 = d1.fma(load(x, xp + j + LANES).sub(mean), t1);
            }
            for (int bound = F.loopBound(len); j < bound; j += LANES) {
                FloatVector d = load(dy, dp + j);
                s0 = s0.add(d);
                t0 = d.fma(load(x, xp + j).sub(mean), t0);
            }
            float sDy = Simd.sumLanes(s0.add(s1)), sDyXc = Simd.sumLanes(t0.add(t1));
            for (; j < len; j++) {
                float d = get(dy, dp + j);
                sDy += d;
                sDyXc += d * (get(x, xp + j) - mean);
            }
            acc[at] += sDy;
            acc[at + 1] += sDyXc;
        }
    }

    // planeGradSums of dy masked by r > 0 (r: the fused relu's output), the same sums in the same order
    static void planeGradSumsMasked(MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment r, long ro, int hw, float mean,
                                    double[] acc, int at) {
        FloatVector zero = FloatVector.zero(F);
        for (int b = 0; b < hw; b += CpuReduce.BLOCK) {
            int len = Math.min(CpuReduce.BLOCK, hw - b);
            long xp = xo + b, dp = dyo + b, rp = ro + b;
            FloatVector s0 = zero, s1 = s0, t0 = s0, t1 = s0;
            int j = 0;
            for (int bound = F.loopBound(len) - LANES; j < bound; j += 2 * LANES) {
                FloatVector d0 = zero.blend(load(dy, dp + j), load(r, rp + j).compare(VectorOperators.GT, 0f));
                FloatVector d1 = zero.blend(load(dy, dp + j + LANES), load(r, rp + j + LANES).compare(VectorOperators.GT, 0f));
                s0 = s0.add(d0);
                s1 = s1.add(d1);
                t0 = d0.fma(load(x, xp + j).sub(mean), t0);
                t1 = d1.fma(load(x, xp + j + LANES).sub(mean), t1);
            }
            for (int bound = F.loopBound(len); j < bound; j += LANES) {
                FloatVector d = zero.blend(load(dy, dp + j), load(r, rp + j).compare(VectorOperators.GT, 0f));
                s0 = s0.add(d);
                t0 = d.fma(load(x, xp + j).sub(mean), t0);
            }
            float sDy = Simd.sumLanes(s0.add(s1)), sDyXc = Simd.sumLanes(t0.add(t1));
            for (; j < len; j++) {
                float d = get(r, rp + j) > 0 ? get(dy, dp + j) : 0f;
                sDy += d;
                sDyXc += d * (get(x, xp + j) - mean);
            }
            acc[at] += sDy;
            acc[at + 1] += sDyXc;
        }
    }

    // dx = dy·a + (x − mean)·b + k (the training backward of one plane)
    static void gradInput(MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment dx, long dxo, int hw,
                          float mean, float a, float b, float k) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (int bound = F.loopBound(hw); i < bound; i += LANES) {
            FloatVector xc = load(x, xo + i).sub(mean);
            store(load(dy, dyo + i).fma(av, xc.fma(b, k)), dx, dxo + i);
        }
        for (; i < hw; i++) {
            set(dx, dxo + i, Math.fma(get(dy, dyo + i), a, Math.fma(get(x, xo + i) - mean, b, k)));
        }
    }

    // gradInput of dy masked by r > 0 (r: the fused relu's output)
    static void gradInputMasked(MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment r, long ro, MemorySegment dx, long dxo,
                                int hw, float mean, float a, float b, float k) {
        FloatVector av = FloatVector.broadcast(F, a), zero = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(hw); i < bound; i += LANES) {
            FloatVector xc = load(x, xo + i).sub(mean);
            FloatVector d = zero.blend(load(dy, dyo + i), load(r, ro + i).compare(VectorOperators.GT, 0f));
            store(d.fma(av, xc.fma(b, k)), dx, dxo + i);
        }
        for (; i < hw; i++) {
            float d = get(r, ro + i) > 0 ? get(dy, dyo + i) : 0f;
            set(dx, dxo + i, Math.fma(d, a, Math.fma(get(x, xo + i) - mean, b, k)));
        }
    }

    // dx = (r > 0 ? dy : 0)·a (the eval backward of one plane under a fused relu)
    private static void scaleMasked(MemorySegment dy, long dyo, MemorySegment r, long ro, float a, MemorySegment dx, long dxo, int hw) {
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(hw); i < bound; i += LANES) {
            store(zero.blend(load(dy, dyo + i), load(r, ro + i).compare(VectorOperators.GT, 0f)).mul(a), dx, dxo + i);
        }
        for (; i < hw; i++) set(dx, dxo + i, (get(r, ro + i) > 0 ? get(dy, dyo + i) : 0f) * a);
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public boolean fusesRelu() {
        return true;
    }

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                               double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, false);
    }

    @Override
    public void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, true);
    }

    private static void train(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                              double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd, boolean relu) {
        Simd.requireF32("batch_norm", x, gamma, beta, runMean, runVar, y, saveMean, saveInvStd);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        long m = (long) n * hw;
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        MemorySegment gs = gamma.segment(), bs = beta.segment(), rms = runMean.segment(), rvs = runVar.segment();
        MemorySegment sms = saveMean.segment(), sis = saveInvStd.segment();
        long go = gamma.offset(), bo = beta.offset(), rmo = runMean.offset(), rvo = runVar.offset();
        long smo = saveMean.offset(), sio = saveInvStd.offset();
        Parallel.forRange(c, grainChannels(m), (c0, c1) -> {
            int k = c1 - c0;
            double[] acc = Simd.doubles(2 * k);   // per channel j: S1, S2
            float[] par = Simd.floats(3 * k);     // per channel j: pivot then mean, scale, shift
            Arrays.fill(acc, 0, 2 * k, 0);
            for (int j = 0; j < k; j++) par[3 * j] = (float) (CpuReduce.sum(xs, xo + (long) (c0 + j) * hw, hw) / hw);
            // pass 1: shifted moments, in memory order
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++) planeMoments(xs, xo + ((long) i * c + c0 + j) * hw, hw, par[3 * j], acc, 2 * j);
            for (int j = 0; j < k; j++) {
                int ch = c0 + j;
                double fromPivot = acc[2 * j] / m, mean = par[3 * j] + fromPivot;
                double sq = Math.max(0, acc[2 * j + 1] - acc[2 * j] * fromPivot); // m·σ²
                float meanF = (float) mean;
                if (fromPivot * fromPivot * m > MAX_PIVOT_DISTANCE2 * sq) {
                    // the pivot was far from the mean and S2 − S1²/m cancelled digits: the moments
                    // again around meanF (S1 is then tiny, so nothing cancels)
                    double[] again = new double[2];
                    for (int i = 0; i < n; i++) planeMoments(xs, xo + ((long) i * c + ch) * hw, hw, meanF, again, 0);
                    sq = Math.max(0, again[1] - again[0] * again[0] / m);
                    mean = meanF + again[0] / m;
                    meanF = (float) mean;
                }
                double invStd = 1.0 / Math.sqrt(sq / m + eps);
                double scale = get(gs, go + ch) * invStd;
                par[3 * j] = meanF;
                par[3 * j + 1] = (float) scale;
                // y = (x − meanF)·scale + β − (mean − meanF)·scale: the float mean's rounding (up
                // to half an ulp of |mean|, large next to a small σ) goes into the shift
                par[3 * j + 2] = (float) (get(bs, bo + ch) - (mean - meanF) * scale);
                set(sms, smo + ch, meanF);
                set(sis, sio + ch, (float) invStd);
                set(rms, rmo + ch, (float) ((1 - momentum) * get(rms, rmo + ch) + momentum * mean));
                set(rvs, rvo + ch, (float) ((1 - momentum) * get(rvs, rvo + ch) + momentum * sq / (m - 1)));
            }
            // pass 2: normalize, in memory order
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++) {
                    long p = ((long) i * c + c0 + j) * hw;
                    if (relu) normalizeRelu(xs, xo + p, ys, yo + p, hw, par[3 * j], par[3 * j + 1], par[3 * j + 2]);
                    else normalize(xs, xo + p, ys, yo + p, hw, par[3 * j], par[3 * j + 1], par[3 * j + 2]);
                }
        });
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y) {
        eval(x, gamma, beta, runMean, runVar, eps, y, false);
    }

    @Override
    public void batchNormEvalRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y) {
        eval(x, gamma, beta, runMean, runVar, eps, y, true);
    }

    private static void eval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y, boolean relu) {
        Simd.requireF32("batch_norm", x, gamma, beta, runMean, runVar, y);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        MemorySegment gs = gamma.segment(), bs = beta.segment(), rms = runMean.segment(), rvs = runVar.segment();
        long go = gamma.offset(), bo = beta.offset(), rmo = runMean.offset(), rvo = runVar.offset();
        // planes (i, ch) in memory order; each plane is one affine map
        Parallel.forRange(n * c, Math.max(1, GRAIN_VALUES / Math.max(1, hw)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int ch = p % c;
                double invStd = 1.0 / Math.sqrt(get(rvs, rvo + ch) + eps);
                float scale = (float) (get(gs, go + ch) * invStd);
                if (relu) normalizeRelu(xs, xo + (long) p * hw, ys, yo + (long) p * hw, hw, get(rms, rmo + ch), scale, get(bs, bo + ch));
                else normalize(xs, xo + (long) p * hw, ys, yo + (long) p * hw, hw, get(rms, rmo + ch), scale, get(bs, bo + ch));
            }
        });
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        backward(x, null, dy, gamma, mean, invStd, training, dx, dgamma, dbeta);
    }

    @Override
    public void batchNormReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                      Tensor dx, Tensor dgamma, Tensor dbeta) {
        Simd.requireF32("batch_norm+relu backward", y);
        backward(x, y, dy, gamma, mean, invStd, training, dx, dgamma, dbeta);
    }

    /** The backward; with y (the fused relu's output) not null, dy counts only where y > 0. */
    private static void backward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                 Tensor dx, Tensor dgamma, Tensor dbeta) {
        Simd.requireF32("batch_norm backward", x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        long m = (long) n * hw;
        boolean needSums = dgamma != null || dbeta != null || (dx != null && training);
        if (!needSums && dx == null) return;
        MemorySegment xs = x.segment(), dys = dy.segment(), gs = gamma.segment(), ms = mean.segment(), iss = invStd.segment();
        long xo = x.offset(), dyo = dy.offset(), go = gamma.offset(), mo = mean.offset(), iso = invStd.offset();
        MemorySegment rs = y == null ? null : y.segment();
        long ro = y == null ? 0 : y.offset();
        MemorySegment dxs = dx == null ? null : dx.segment();
        MemorySegment dgs = dgamma == null ? null : dgamma.segment(), dbs = dbeta == null ? null : dbeta.segment();
        long dxo = dx == null ? 0 : dx.offset();
        long dgo = dgamma == null ? 0 : dgamma.offset(), dbo = dbeta == null ? 0 : dbeta.offset();
        Parallel.forRange(c, grainChannels(m), (c0, c1) -> {
            int k = c1 - c0;
            double[] acc = Simd.doubles(2 * k);   // per channel j: Σdy, Σdy·(x − μ)
            float[] par = Simd.floats(4 * k);     // per channel j: μ, a, b, k of gradInput
            Arrays.fill(acc, 0, 2 * k, 0);
            for (int j = 0; j < k; j++) par[4 * j] = get(ms, mo + c0 + j);
            if (needSums) {
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < k; j++) {
                        long p = ((long) i * c + c0 + j) * hw;
                        if (rs == null) planeGradSums(xs, xo + p, dys, dyo + p, hw, par[4 * j], acc, 2 * j);
                        else planeGradSumsMasked(xs, xo + p, dys, dyo + p, rs, ro + p, hw, par[4 * j], acc, 2 * j);
                    }
            }
            for (int j = 0; j < k; j++) {
                int ch = c0 + j;
                double is = get(iss, iso + ch);
                double sumDy = acc[2 * j], sumDyXhat = acc[2 * j + 1] * is;
                if (dgs != null) set(dgs, dgo + ch, (float) sumDyXhat);
                if (dbs != null) set(dbs, dbo + ch, (float) sumDy);
                // training: dx = gm·dy − gm·is·Σdy·x̂/m·(x − μ) − gm·Σdy/m;  eval: dx = gm·dy
                double gm = get(gs, go + ch) * is;
                par[4 * j + 1] = (float) gm;
                par[4 * j + 2] = (float) (-gm * is * sumDyXhat / m);
                par[4 * j + 3] = (float) (-gm * sumDy / m);
            }
            if (dxs == null) return;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++) {
                    long p = ((long) i * c + c0 + j) * hw;
                    if (training && rs == null) {
                        gradInput(xs, xo + p, dys, dyo + p, dxs, dxo + p, hw, par[4 * j], par[4 * j + 1], par[4 * j + 2], par[4 * j + 3]);
                    } else if (training) {
                        gradInputMasked(xs, xo + p, dys, dyo + p, rs, ro + p, dxs, dxo + p, hw, par[4 * j], par[4 * j + 1], par[4 * j + 2],
                                par[4 * j + 3]);
                    } else if (rs == null) {
                        CpuPointwise.scale(dys, dyo + p, par[4 * j + 1], dxs, dxo + p, hw);
                    } else {
                        scaleMasked(dys, dyo + p, rs, ro + p, par[4 * j + 1], dxs, dxo + p, hw);
                    }
                }
        });
    }

    private static int grainChannels(long valuesPerChannel) {
        return (int) Math.max(1, GRAIN_VALUES / Math.max(1, valuesPerChannel));
    }
}
