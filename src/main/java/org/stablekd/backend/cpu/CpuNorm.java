package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.F;
import static org.stablekd.backend.cpu.Simd.LANES;
import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.load;
import static org.stablekd.backend.cpu.Simd.set;
import static org.stablekd.backend.cpu.Simd.store;

import java.lang.foreign.MemorySegment;
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
 * <p>Training forward, per channel (its n planes of h·w stay in L2 between the passes: 64×32×32
 * floats are 256 KiB): (1) μ = K + Σ(x−K)/m around a pivot K (the channel's first value),
 * (2) σ² = Σ(x−μ)²/m — two-pass, so a large mean does not cancel the variance away —
 * (3) y = (x−μ)·(γ/√(σ²+eps)) + β. Sums are float vector partials per plane (at most
 * {@link CpuReduce#BLOCK} values) added in double: accurate over 64×32×32 values, also for
 * |mean| ≫ std (tested at mean 1000, std 0.1).
 * Backward, per channel: one fused pass for Σdy and Σdy·(x−μ), one pass for
 * dx = γσ⁻¹·dy − γσ⁻³/m·Σdy(x−μ)·(x−μ) − γσ⁻¹/m·Σdy (training) or dx = γσ⁻¹·dy (eval).
 * Channels are independent, so work splits over channels (training) or planes (eval) and results
 * do not depend on the thread count.
 */
final class CpuNorm implements NormKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.BATCH_NORM);

    /** Values a thread should get before channels are split over threads. */
    private static final int GRAIN_VALUES = 1 << 15;

    private static final CpuNorm INSTANCE = new CpuNorm();

    private CpuNorm() {}

    static NormKernels kernels() {
        return INSTANCE;
    }

    // ---------------------------------------------------------------- kernels
    // x: (n, c, hw) contiguous from element xo; channel ch is the n planes at xo + (i·c + ch)·hw.

    // Σ over channel ch of (x − pivot), in double (float partials per plane block).
    static double channelSumShifted(MemorySegment x, long xo, int n, int c, int hw, int ch, float pivot) {
        double s = 0;
        for (int i = 0; i < n; i++) s += CpuReduce.sumShifted(x, xo + ((long) i * c + ch) * hw, hw, pivot);
        return s;
    }

    // Σ over channel ch of (x − mean)², in double (float partials per plane block).
    static double channelSumSqDev(MemorySegment x, long xo, int n, int c, int hw, int ch, float mean) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            long p = xo + ((long) i * c + ch) * hw;
            for (int b = 0; b < hw; b += CpuReduce.BLOCK) s += sumSqDev(x, p + b, Math.min(CpuReduce.BLOCK, hw - b), mean);
        }
        return s;
    }

    // Σ (x − mean)² over len ≤ BLOCK contiguous values, 2 float accumulators.
    private static float sumSqDev(MemorySegment x, long xo, int len, float mean) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int i = 0;
        for (int bound = F.loopBound(len) - LANES; i < bound; i += 2 * LANES) {
            FloatVector d0 = load(x, xo + i).sub(mean), d1 = load(x, xo + i + LANES).sub(mean);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
        }
        for (int bound = F.loopBound(len); i < bound; i += LANES) {
            FloatVector d = load(x, xo + i).sub(mean);
            a0 = d.fma(d, a0);
        }
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            float d = get(x, xo + i) - mean;
            s += d * d;
        }
        return s;
    }

    // y = (x − mean)·scale + shift over len contiguous values (one plane).
    static void normalize(MemorySegment x, long xo, MemorySegment y, long yo, int len, float mean, float scale, float shift) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += LANES) {
            store(load(x, xo + i).sub(mean).fma(scale, shift), y, yo + i);
        }
        for (; i < len; i++) set(y, yo + i, Math.fma(get(x, xo + i) - mean, scale, shift));
    }

    // sums[0] = Σdy, sums[1] = Σdy·(x − mean) over channel ch, in double; one pass over x and dy.
    static void channelGradSums(MemorySegment x, long xo, MemorySegment dy, long dyo, int n, int c, int hw, int ch,
                                float mean, double[] sums) {
        double sDy = 0, sDyXc = 0;
        for (int i = 0; i < n; i++) {
            long p = ((long) i * c + ch) * hw;
            for (int b = 0; b < hw; b += CpuReduce.BLOCK) {
                int len = Math.min(CpuReduce.BLOCK, hw - b);
                long xp = xo + p + b, dp = dyo + p + b;
                FloatVector a0 = FloatVector.zero(F), a1 = a0;
                int j = 0;
                for (int bound = F.loopBound(len); j < bound; j += LANES) {
                    FloatVector d = load(dy, dp + j);
                    a0 = a0.add(d);
                    a1 = d.fma(load(x, xp + j).sub(mean), a1);
                }
                float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
                for (; j < len; j++) {
                    float d = get(dy, dp + j);
                    s0 += d;
                    s1 += d * (get(x, xp + j) - mean);
                }
                sDy += s0;
                sDyXc += s1;
            }
        }
        sums[0] = sDy;
        sums[1] = sDyXc;
    }

    // dx = dy·a + (x − mean)·b + k over len contiguous values (one plane of the training backward).
    static void gradInput(MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment dx, long dxo, int len,
                          float mean, float a, float b, float k) {
        FloatVector av = FloatVector.broadcast(F, a);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += LANES) {
            FloatVector xc = load(x, xo + i).sub(mean);
            store(load(dy, dyo + i).fma(av, xc.fma(b, k)), dx, dxo + i);
        }
        for (; i < len; i++) {
            set(dx, dxo + i, Math.fma(get(dy, dyo + i), a, Math.fma(get(x, xo + i) - mean, b, k)));
        }
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                               double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
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
            for (int ch = c0; ch < c1; ch++) {
                // pass 1 around a pivot (the channel's first value): float partials of x − pivot
                // stay small even when |mean| ≫ std
                float pivot = get(xs, xo + (long) ch * hw);
                double mean = pivot + channelSumShifted(xs, xo, n, c, hw, ch, pivot) / m;
                float meanF = (float) mean;
                double sq = channelSumSqDev(xs, xo, n, c, hw, ch, meanF);
                // Σ(x − meanF)² = Σ(x − mean)² + m·(mean − meanF)²: remove the rounding of the mean
                sq = Math.max(0, sq - m * (mean - meanF) * (mean - meanF));
                double var = sq / m;
                double invStd = 1.0 / Math.sqrt(var + eps);
                double scaleD = get(gs, go + ch) * invStd;
                float scale = (float) scaleD;
                // y = (x − meanF)·scale + β − (mean − meanF)·scale: the float mean's rounding (up to
                // half an ulp of |mean|, large next to a small std) goes into the shift
                float shift = (float) (get(bs, bo + ch) - (mean - meanF) * scaleD);
                for (int i = 0; i < n; i++) {
                    long p = ((long) i * c + ch) * hw;
                    normalize(xs, xo + p, ys, yo + p, hw, meanF, scale, shift);
                }
                set(sms, smo + ch, meanF);
                set(sis, sio + ch, (float) invStd);
                set(rms, rmo + ch, (float) ((1 - momentum) * get(rms, rmo + ch) + momentum * mean));
                set(rvs, rvo + ch, (float) ((1 - momentum) * get(rvs, rvo + ch) + momentum * sq / (m - 1)));
            }
        });
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y) {
        Simd.requireF32("batch_norm", x, gamma, beta, runMean, runVar, y);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        MemorySegment gs = gamma.segment(), bs = beta.segment(), rms = runMean.segment(), rvs = runVar.segment();
        long go = gamma.offset(), bo = beta.offset(), rmo = runMean.offset(), rvo = runVar.offset();
        // planes (i, ch) in order; each plane is one affine map
        Parallel.forRange(n * c, Math.max(1, GRAIN_VALUES / Math.max(1, hw)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int ch = p % c;
                double invStd = 1.0 / Math.sqrt(get(rvs, rvo + ch) + eps);
                float scale = (float) (get(gs, go + ch) * invStd);
                normalize(xs, xo + (long) p * hw, ys, yo + (long) p * hw, hw, get(rms, rmo + ch), scale, get(bs, bo + ch));
            }
        });
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        Simd.requireF32("batch_norm backward", x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        long m = (long) n * hw;
        boolean sums = dgamma != null || dbeta != null || (dx != null && training);
        if (!sums && dx == null) return;
        MemorySegment xs = x.segment(), dys = dy.segment(), gs = gamma.segment(), ms = mean.segment(), iss = invStd.segment();
        long xo = x.offset(), dyo = dy.offset(), go = gamma.offset(), mo = mean.offset(), iso = invStd.offset();
        MemorySegment dxs = dx == null ? null : dx.segment();
        MemorySegment dgs = dgamma == null ? null : dgamma.segment(), dbs = dbeta == null ? null : dbeta.segment();
        long dxo = dx == null ? 0 : dx.offset();
        long dgo = dgamma == null ? 0 : dgamma.offset(), dbo = dbeta == null ? 0 : dbeta.offset();
        Parallel.forRange(c, grainChannels(m), (c0, c1) -> {
            double[] s = new double[2];
            for (int ch = c0; ch < c1; ch++) {
                float mu = get(ms, mo + ch);
                double is = get(iss, iso + ch);
                double sumDy = 0, sumDyXhat = 0;
                if (sums) {
                    channelGradSums(xs, xo, dys, dyo, n, c, hw, ch, mu, s);
                    sumDy = s[0];
                    sumDyXhat = s[1] * is;
                }
                if (dgs != null) set(dgs, dgo + ch, (float) sumDyXhat);
                if (dbs != null) set(dbs, dbo + ch, (float) sumDy);
                if (dxs == null) continue;
                double gm = get(gs, go + ch) * is;
                // training: dx = gm·dy − gm·is·Σdy·x̂/m·(x − μ) − gm·Σdy/m;  eval: dx = gm·dy
                float a = (float) gm;
                float b = training ? (float) (-gm * is * sumDyXhat / m) : 0f;
                float k = training ? (float) (-gm * sumDy / m) : 0f;
                for (int i = 0; i < n; i++) {
                    long p = ((long) i * c + ch) * hw;
                    if (training) gradInput(xs, xo + p, dys, dyo + p, dxs, dxo + p, hw, mu, a, b, k);
                    else CpuPointwise.scale(dys, dyo + p, a, dxs, dxo + p, hw);
                }
            }
        });
    }

    private static int grainChannels(long valuesPerChannel) {
        return (int) Math.max(1, GRAIN_VALUES / Math.max(1, valuesPerChannel));
    }
}
