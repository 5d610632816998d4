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
 * as {@link CpuPointwise}'s relu) and saves each channel's scale and shift; the backward's two
 * passes recompute (x − μ)·scale + shift per value, bit for bit the forward's, and take dy only
 * where it is positive. Against BN then ReLU this drops the ReLU's own passes and the masked-dy
 * tensor: 3 instead of 5 streams over memory forward, 5 instead of 8 backward (reading the saved
 * output as the mask instead, 7, measured no faster than the two ops: one stream too many).
 *
 * <p>Threads take contiguous ranges of whole images, the ranges the convolutions before and after
 * give them (Parallel's home ranges), so each thread reads the activations it wrote itself: on
 * the 2-vCPU Zen 4 reading what the other thread wrote was up to 2× slower (see {@link Parallel}).
 * Each pass walks its range in memory order (image by image, all planes) rather than channel by
 * channel: a channel's planes lie c·h·w apart, and reading 4 KiB pieces at a 256 KiB stride is
 * ~2× slower than a stream (64×64×32×32, one thread: moments 1.13 → 0.44 ms, normalize 1.8 →
 * 1.0 ms). Each range gives a partial sum per channel (float block partials added in double, its
 * images in order), and the partials are added in range order: a fixed order for a given thread
 * count (Note [Determinism]). Until 2026-12-06 threads took blocks of channels, and the bits did
 * not depend on the thread count at all.
 */
final class CpuNorm implements NormKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.BATCH_NORM, Op.SYNC_BATCH_NORM);

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

    // y = max((x − mean)·scale + shift + r, 0): normalize's float, then CpuPointwise.addRelu's arithmetic (the same bits as the two ops)
    static void normalizeAddRelu(MemorySegment x, long xo, MemorySegment r, long ro, MemorySegment y, long yo, int hw,
                                 float mean, float scale, float shift) {
        int i = 0;
        for (int bound = F.loopBound(hw); i < bound; i += LANES) {
            store(load(x, xo + i).sub(mean).fma(scale, shift).add(load(r, ro + i)).max(0f), y, yo + i);
        }
        for (; i < hw; i++) set(y, yo + i, Math.max(Math.fma(get(x, xo + i) - mean, scale, shift) + get(r, ro + i), 0f));
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

    // planeGradSums of dy masked where the fused relu passed its value: (x − mean)·scale + shift > 0,
    // recomputed from x with the forward's own floats (so its very decisions), the same sums in the same order
    static void planeGradSumsMasked(MemorySegment x, long xo, MemorySegment dy, long dyo, int hw, float mean, float scale, float shift,
                                    double[] acc, int at) {
        FloatVector zero = FloatVector.zero(F);
        for (int b = 0; b < hw; b += CpuReduce.BLOCK) {
            int len = Math.min(CpuReduce.BLOCK, hw - b);
            long xp = xo + b, dp = dyo + b;
            FloatVector s0 = zero, s1 = s0, t0 = s0, t1 = s0;
            int j = 0;
            for (int bound = F.loopBound(len) - LANES; j < bound; j += 2 * LANES) {
                FloatVector xc0 = load(x, xp + j).sub(mean), xc1 = load(x, xp + j + LANES).sub(mean);
                FloatVector d0 = zero.blend(load(dy, dp + j), xc0.fma(scale, shift).compare(VectorOperators.GT, 0f));
                FloatVector d1 = zero.blend(load(dy, dp + j + LANES), xc1.fma(scale, shift).compare(VectorOperators.GT, 0f));
                s0 = s0.add(d0);
                s1 = s1.add(d1);
                t0 = d0.fma(xc0, t0);
                t1 = d1.fma(xc1, t1);
            }
            for (int bound = F.loopBound(len); j < bound; j += LANES) {
                FloatVector xc = load(x, xp + j).sub(mean);
                FloatVector d = zero.blend(load(dy, dp + j), xc.fma(scale, shift).compare(VectorOperators.GT, 0f));
                s0 = s0.add(d);
                t0 = d.fma(xc, t0);
            }
            float sDy = Simd.sumLanes(s0.add(s1)), sDyXc = Simd.sumLanes(t0.add(t1));
            for (; j < len; j++) {
                float xc = get(x, xp + j) - mean;
                float d = Math.fma(xc, scale, shift) > 0 ? get(dy, dp + j) : 0f;
                sDy += d;
                sDyXc += d * xc;
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

    // gradInput of dy masked as in planeGradSumsMasked
    static void gradInputMasked(MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment dx, long dxo, int hw,
                                float mean, float a, float b, float k, float scale, float shift) {
        FloatVector av = FloatVector.broadcast(F, a), zero = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(hw); i < bound; i += LANES) {
            FloatVector xc = load(x, xo + i).sub(mean);
            FloatVector d = zero.blend(load(dy, dyo + i), xc.fma(scale, shift).compare(VectorOperators.GT, 0f));
            store(d.fma(av, xc.fma(b, k)), dx, dxo + i);
        }
        for (; i < hw; i++) {
            float xc = get(x, xo + i) - mean;
            float d = Math.fma(xc, scale, shift) > 0 ? get(dy, dyo + i) : 0f;
            set(dx, dxo + i, Math.fma(d, a, Math.fma(xc, b, k)));
        }
    }

    // dx = dy·a where the fused relu passed its value, else 0 (the eval backward of one plane)
    private static void scaleMasked(MemorySegment x, long xo, MemorySegment dy, long dyo, MemorySegment dx, long dxo, int hw,
                                    float mean, float a, float scale, float shift) {
        FloatVector zero = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(hw); i < bound; i += LANES) {
            FloatVector on = zero.blend(load(dy, dyo + i), load(x, xo + i).sub(mean).fma(scale, shift).compare(VectorOperators.GT, 0f));
            store(on.mul(a), dx, dxo + i);
        }
        for (; i < hw; i++) set(dx, dxo + i, (Math.fma(get(x, xo + i) - mean, scale, shift) > 0 ? get(dy, dyo + i) : 0f) * a);
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public boolean fusesRelu() {
        return true;
    }

    @Override
    public boolean fusesAddRelu() {
        return true;
    }

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                               double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, null, null);
    }

    @Override
    public void batchNormTrainAddRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                      double momentum, double eps, Tensor r, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        Simd.requireF32("batch_norm+add+relu", r);
        train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, null, r);
    }

    @Override
    public void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd, Tensor saveAffine) {
        Simd.requireF32("batch_norm+relu", saveAffine);
        train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, saveAffine, null);
    }

    /** The training forward; relu fused where affine != null, the residual add and relu where r != null. */
    private static void train(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                              double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd, Tensor affine, Tensor r) {
        boolean relu = affine != null;   // relu fused: affine (2c) receives each channel's scale and shift
        MemorySegment rs = r == null ? null : r.segment();
        long ro = r == null ? 0 : r.offset();
        Simd.requireF32("batch_norm", x, gamma, beta, runMean, runVar, y, saveMean, saveInvStd);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        long m = (long) n * hw;
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        MemorySegment gs = gamma.segment(), bs = beta.segment(), rms = runMean.segment(), rvs = runVar.segment();
        MemorySegment sms = saveMean.segment(), sis = saveInvStd.segment();
        long go = gamma.offset(), bo = beta.offset(), rmo = runMean.offset(), rvo = runVar.offset();
        long smo = saveMean.offset(), sio = saveInvStd.offset();
        MemorySegment as = relu ? affine.segment() : null;
        long ao = relu ? affine.offset() : 0;
        int parts = imageParts(n, (long) c * hw);
        double[][] partial = new double[parts][2 * c];   // per part, per channel: S1, S2 of its images
        float[] par = new float[3 * c];                  // per channel: pivot then mean, scale, shift
        for (int ch = 0; ch < c; ch++) par[3 * ch] = (float) (CpuReduce.sum(xs, xo + (long) ch * hw, hw) / hw);
        // pass 1: shifted moments, each part over its own images in memory order
        Parallel.forChunks(parts, part -> {
            for (int i = firstImage(n, parts, part), end = firstImage(n, parts, part + 1); i < end; i++)
                for (int ch = 0; ch < c; ch++) planeMoments(xs, xo + ((long) i * c + ch) * hw, hw, par[3 * ch], partial[part], 2 * ch);
        });
        for (int ch = 0; ch < c; ch++) {
            double s1 = 0, s2 = 0;
            for (double[] q : partial) {   // the parts in order
                s1 += q[2 * ch];
                s2 += q[2 * ch + 1];
            }
            double fromPivot = s1 / m, mean = par[3 * ch] + fromPivot;
            double sq = Math.max(0, s2 - s1 * fromPivot); // m·σ²
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
            par[3 * ch] = meanF;
            par[3 * ch + 1] = (float) scale;
            // y = (x − meanF)·scale + β − (mean − meanF)·scale: the float mean's rounding (up
            // to half an ulp of |mean|, large next to a small σ) goes into the shift
            par[3 * ch + 2] = (float) (get(bs, bo + ch) - (mean - meanF) * scale);
            set(sms, smo + ch, meanF);
            set(sis, sio + ch, (float) invStd);
            if (relu) {
                set(as, ao + ch, par[3 * ch + 1]);
                set(as, ao + c + ch, par[3 * ch + 2]);
            }
            set(rms, rmo + ch, (float) ((1 - momentum) * get(rms, rmo + ch) + momentum * mean));
            set(rvs, rvo + ch, (float) ((1 - momentum) * get(rvs, rvo + ch) + momentum * sq / (m - 1)));
        }
        // pass 2: normalize, each part its own images in memory order
        Parallel.forChunks(parts, part -> {
            for (int i = firstImage(n, parts, part), end = firstImage(n, parts, part + 1); i < end; i++)
                for (int ch = 0; ch < c; ch++) {
                    long p = ((long) i * c + ch) * hw;
                    if (rs != null) normalizeAddRelu(xs, xo + p, rs, ro + p, ys, yo + p, hw, par[3 * ch], par[3 * ch + 1], par[3 * ch + 2]);
                    else if (relu) normalizeRelu(xs, xo + p, ys, yo + p, hw, par[3 * ch], par[3 * ch + 1], par[3 * ch + 2]);
                    else normalize(xs, xo + p, ys, yo + p, hw, par[3 * ch], par[3 * ch + 1], par[3 * ch + 2]);
                }
        });
    }

    /**
     * Parts of the batch for the training passes: contiguous ranges of whole images, one per
     * thread (the ranges the convolutions give each thread, so a thread reads what it wrote), or
     * fewer for small tensors (at least GRAIN_VALUES values per part).
     */
    static int imageParts(int n, long valuesPerImage) {
        long grain = Math.max(1, GRAIN_VALUES / Math.max(1, valuesPerImage));
        return (int) Math.min(Parallel.threads(), Math.max(1, n / grain));
    }

    /** First image of part {@code part} of {@code parts} (Parallel.forRange's split). */
    static int firstImage(int n, int parts, int part) {
        return (int) ((long) n * part / parts);
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y) {
        eval(x, gamma, beta, runMean, runVar, eps, y, false, null);
    }

    @Override
    public void batchNormEvalRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y,
                                  Tensor saveAffine) {
        eval(x, gamma, beta, runMean, runVar, eps, y, true, saveAffine);
    }

    private static void eval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y, boolean relu,
                             Tensor affine) {
        Simd.requireF32("batch_norm", x, gamma, beta, runMean, runVar, y);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        MemorySegment gs = gamma.segment(), bs = beta.segment(), rms = runMean.segment(), rvs = runVar.segment();
        long go = gamma.offset(), bo = beta.offset(), rmo = runMean.offset(), rvo = runVar.offset();
        if (affine != null) {
            for (int ch = 0; ch < c; ch++) {
                set(affine.segment(), affine.offset() + ch, evalScale(gs, go + ch, rvs, rvo + ch, eps));
                set(affine.segment(), affine.offset() + c + ch, get(bs, bo + ch));
            }
        }
        // planes (i, ch) in memory order; each plane is one affine map
        Parallel.forRange(n * c, Math.max(1, GRAIN_VALUES / Math.max(1, hw)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int ch = p % c;
                float scale = evalScale(gs, go + ch, rvs, rvo + ch, eps);
                if (relu) normalizeRelu(xs, xo + (long) p * hw, ys, yo + (long) p * hw, hw, get(rms, rmo + ch), scale, get(bs, bo + ch));
                else normalize(xs, xo + (long) p * hw, ys, yo + (long) p * hw, hw, get(rms, rmo + ch), scale, get(bs, bo + ch));
            }
        });
    }

    // γ/√(runVar + eps) as a float: the eval forward's scale
    private static float evalScale(MemorySegment gs, long g, MemorySegment rvs, long rv, double eps) {
        return (float) (get(gs, g) * (1.0 / Math.sqrt(get(rvs, rv) + eps)));
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        backward(x, null, dy, gamma, mean, invStd, training, dx, dgamma, dbeta);
    }

    @Override
    public void batchNormReluBackward(Tensor x, Tensor y, Tensor affine, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd,
                                      boolean training, Tensor dx, Tensor dgamma, Tensor dbeta) {
        Simd.requireF32("batch_norm+relu backward", affine);
        backward(x, affine, dy, gamma, mean, invStd, training, dx, dgamma, dbeta);
    }

    /**
     * The backward; with the fused relu's affine (2c: the forward's scale, then shift) not null,
     * dy counts only where (x − mean)·scale + shift > 0, recomputed per value.
     */
    private static void backward(Tensor x, Tensor affine, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                 Tensor dx, Tensor dgamma, Tensor dbeta) {
        Simd.requireF32("batch_norm backward", x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        long m = (long) n * hw;
        boolean needSums = dgamma != null || dbeta != null || (dx != null && training);
        if (!needSums && dx == null) return;
        boolean relu = affine != null;
        MemorySegment xs = x.segment(), dys = dy.segment(), gs = gamma.segment(), ms = mean.segment(), iss = invStd.segment();
        long xo = x.offset(), dyo = dy.offset(), go = gamma.offset(), mo = mean.offset(), iso = invStd.offset();
        MemorySegment as = relu ? affine.segment() : null;
        long ao = relu ? affine.offset() : 0;
        MemorySegment dxs = dx == null ? null : dx.segment();
        MemorySegment dgs = dgamma == null ? null : dgamma.segment(), dbs = dbeta == null ? null : dbeta.segment();
        long dxo = dx == null ? 0 : dx.offset();
        long dgo = dgamma == null ? 0 : dgamma.offset(), dbo = dbeta == null ? 0 : dbeta.offset();
        int parts = imageParts(n, (long) c * hw);
        double[][] partial = new double[parts][2 * c];   // per part, per channel: Σdy, Σdy·(x − μ) over its images
        float[] par = new float[6 * c];                   // per channel: μ, a, b, k of gradInput, then the relu's scale, shift
        for (int ch = 0; ch < c; ch++) {
            par[6 * ch] = get(ms, mo + ch);
            if (relu) {
                par[6 * ch + 4] = get(as, ao + ch);
                par[6 * ch + 5] = get(as, ao + c + ch);
            }
        }
        if (needSums) {
            Parallel.forChunks(parts, part -> {
                for (int i = firstImage(n, parts, part), end = firstImage(n, parts, part + 1); i < end; i++)
                    for (int ch = 0; ch < c; ch++) {
                        long p = ((long) i * c + ch) * hw;
                        if (relu) planeGradSumsMasked(xs, xo + p, dys, dyo + p, hw, par[6 * ch], par[6 * ch + 4], par[6 * ch + 5], partial[part], 2 * ch);
                        else planeGradSums(xs, xo + p, dys, dyo + p, hw, par[6 * ch], partial[part], 2 * ch);
                    }
            });
        }
        for (int ch = 0; ch < c; ch++) {
            double sumDy = 0, sumDyXc = 0;
            for (double[] q : partial) {   // the parts in order
                sumDy += q[2 * ch];
                sumDyXc += q[2 * ch + 1];
            }
            double is = get(iss, iso + ch);
            double sumDyXhat = sumDyXc * is;
            if (dgs != null) set(dgs, dgo + ch, (float) sumDyXhat);
            if (dbs != null) set(dbs, dbo + ch, (float) sumDy);
            // training: dx = gm·dy − gm·is·Σdy·x̂/m·(x − μ) − gm·Σdy/m;  eval: dx = gm·dy
            double gm = get(gs, go + ch) * is;
            par[6 * ch + 1] = (float) gm;
            par[6 * ch + 2] = (float) (-gm * is * sumDyXhat / m);
            par[6 * ch + 3] = (float) (-gm * sumDy / m);
        }
        if (dxs == null) return;
        Parallel.forChunks(parts, part -> {
            for (int i = firstImage(n, parts, part), end = firstImage(n, parts, part + 1); i < end; i++)
                for (int ch = 0; ch < c; ch++) {
                    long p = ((long) i * c + ch) * hw;
                    float mu = par[6 * ch], a = par[6 * ch + 1], b = par[6 * ch + 2], kk = par[6 * ch + 3];
                    if (training && relu) {
                        gradInputMasked(xs, xo + p, dys, dyo + p, dxs, dxo + p, hw, mu, a, b, kk, par[6 * ch + 4], par[6 * ch + 5]);
                    } else if (training) {
                        gradInput(xs, xo + p, dys, dyo + p, dxs, dxo + p, hw, mu, a, b, kk);
                    } else if (relu) {
                        scaleMasked(xs, xo + p, dys, dyo + p, dxs, dxo + p, hw, mu, a, par[6 * ch + 4], par[6 * ch + 5]);
                    } else {
                        CpuPointwise.scale(dys, dyo + p, a, dxs, dxo + p, hw);
                    }
                }
        });
    }

    // ---- synchronized batch norm: CpuSyncNorm, built from the plane kernels above

    @Override
    public void batchNormLocalStats(Tensor x, Tensor row) {
        CpuSyncNorm.localStats(x, row);
    }

    @Override
    public void batchNormSyncTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, Tensor rows,
                                   double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        CpuSyncNorm.train(x, gamma, beta, runMean, runVar, rows, momentum, eps, y, saveMean, saveInvStd);
    }

    @Override
    public void batchNormGradSums(Tensor x, Tensor dy, Tensor mean, Tensor sums) {
        CpuSyncNorm.gradSums(x, dy, mean, sums);
    }

    @Override
    public void batchNormSyncBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, Tensor localSums,
                                      Tensor globalSums, long count, Tensor dx, Tensor dgamma, Tensor dbeta) {
        CpuSyncNorm.backward(x, dy, gamma, mean, invStd, localSums, globalSums, count, dx, dgamma, dbeta);
    }
}
