package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.set;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.tensor.Tensor;

/**
 * The training batch normalization of {@link CpuNorm} for activations stored channels-last:
 * x (n, h, w, c), c a multiple of 16, statistics per channel over m = n·h·w values; gamma, beta,
 * the running and saved statistics (c) and the fused relu's affine (2c: scale, then shift) as
 * there. A pixel's c values are c/16 vectors of 16 channels, so every lane is one channel: no
 * transposes, no lane folds.
 *
 * <p>Math and per-value arithmetic are CpuNorm's: pivot K = the mean of image 0's values of the
 * channel, shifted moments S1 = Σ(x−K), S2 = Σ(x−K)² (again around the float mean when
 * d² > {@link CpuNorm#MAX_PIVOT_DISTANCE2}), the same float mean, scale and shift (the shift
 * taking the float mean's rounding), the same running-stat update, and per value the same
 * expressions: (x − mean)·scale + shift by fma, relu as compare and blend, add-relu as
 * .add(r).max(0f); backward dx = dy·a + (x − μ)·b + k with CpuNorm's a, b, k. Given the same
 * per-channel floats every output value has CpuNorm's bits (tested); only the summation order
 * of the statistics differs: float vector partials per block of {@link #PIXEL_BLOCK} pixels,
 * one accumulator for the even and one for the odd pixels (each lane adds 128 values, as
 * CpuNorm's lanes do over a {@link CpuReduce#BLOCK}), each block's partials added in double.
 *
 * <p>Threads: CpuNorm's contiguous ranges of whole images (a thread reads what the convolution
 * before it wrote), each walked in memory order: pixel by pixel, channel vectors innermost, in
 * groups of two vectors (32 channels; a last group of one) whose parameter vectors (pivot, mean,
 * scale, shift, a, b, k) sit in registers. For c ≤ 32 every pass is one stream; wider pixels go
 * block by block, each block group by group. Each range gives a double partial per channel and
 * the partials are added in range order: a fixed order for a given thread count, so the bits
 * repeat run to run (Note [Determinism]).
 */
final class CpuNormChannelsLast {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final int VL = 16;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** Pixels per float partial of the sums: 128 adds per accumulator lane, at most CpuReduce.BLOCK values a lane. */
    static final int PIXEL_BLOCK = 256;

    private CpuNormChannelsLast() {}

    /**
     * Training forward on x (n,h,w,c): y (n,h,w,c) = normalize; relu fused where affine != null
     * (affine gets scale then shift per channel, as CpuNorm); y = max(bn(x) + r, 0) where r != null
     * (r (n,h,w,c)); updates runMean/runVar (unbiased var, momentum) and writes saveMean (the float
     * mean) and saveInvStd.
     */
    static void train(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double momentum, double eps,
                      Tensor y, Tensor saveMean, Tensor saveInvStd, Tensor affine, Tensor r) {
        Simd.requireF32("batch_norm channels-last", x, gamma, beta, runMean, runVar, y, saveMean, saveInvStd, affine, r);
        int n = x.dim(0), hw = x.dim(1) * x.dim(2), c = channels(x);
        long m = (long) n * hw;
        boolean relu = affine != null;
        MemorySegment xs = x.segment(), ys = y.segment(), rs = r == null ? null : r.segment();
        long xo = x.offset(), yo = y.offset(), ro = r == null ? 0 : r.offset();
        MemorySegment gs = gamma.segment(), bs = beta.segment(), rms = runMean.segment(), rvs = runVar.segment();
        long go = gamma.offset(), bo = beta.offset(), rmo = runMean.offset(), rvo = runVar.offset();
        int parts = CpuNorm.imageParts(n, (long) c * hw);
        // the pivot: Σ over image 0's pixels (moments around 0, S1 kept), / hw
        float[] pivot = new float[c];
        double[] first = new double[2 * c];
        moments(xs, xo, c, 0, hw, pivot, first);
        for (int ch = 0; ch < c; ch++) pivot[ch] = (float) (first[ch] / hw);
        // pass 1: shifted moments, each part over its own images in memory order; partial[part]: S1 (c), then S2 (c)
        double[][] partial = new double[parts][2 * c];
        Parallel.forChunks(parts, part -> moments(xs, xo, c, firstPixel(n, hw, parts, part), firstPixel(n, hw, parts, part + 1), pivot, partial[part]));
        float[] mean = new float[c], scale = new float[c], shift = new float[c];
        double[] meanD = new double[c], sq = new double[c];   // μ and m·σ² in double
        boolean[] again = new boolean[c];
        boolean anyAgain = false;
        for (int ch = 0; ch < c; ch++) {
            double s1 = 0, s2 = 0;
            for (double[] q : partial) {   // the parts in order
                s1 += q[ch];
                s2 += q[c + ch];
            }
            double fromPivot = s1 / m;
            meanD[ch] = pivot[ch] + fromPivot;
            sq[ch] = Math.max(0, s2 - s1 * fromPivot);
            mean[ch] = (float) meanD[ch];
            again[ch] = fromPivot * fromPivot * m > CpuNorm.MAX_PIVOT_DISTANCE2 * sq[ch];
            anyAgain |= again[ch];
        }
        if (anyAgain) {
            // a pivot far from its mean cancelled digits in S2 − S1²/m: the moments again around the
            // float mean (S1 then tiny), for all channels in one pass, kept for those that need it
            double[][] second = new double[parts][2 * c];
            Parallel.forChunks(parts, part -> moments(xs, xo, c, firstPixel(n, hw, parts, part), firstPixel(n, hw, parts, part + 1), mean, second[part]));
            for (int ch = 0; ch < c; ch++) {
                if (!again[ch]) continue;
                double a1 = 0, a2 = 0;
                for (double[] q : second) {
                    a1 += q[ch];
                    a2 += q[c + ch];
                }
                sq[ch] = Math.max(0, a2 - a1 * a1 / m);
                meanD[ch] = mean[ch] + a1 / m;
                mean[ch] = (float) meanD[ch];
            }
        }
        for (int ch = 0; ch < c; ch++) {
            double invStd = 1.0 / Math.sqrt(sq[ch] / m + eps);
            double sc = get(gs, go + ch) * invStd;
            scale[ch] = (float) sc;
            // the float mean's rounding goes into the shift, as CpuNorm
            shift[ch] = (float) (get(bs, bo + ch) - (meanD[ch] - mean[ch]) * sc);
            set(saveMean.segment(), saveMean.offset() + ch, mean[ch]);
            set(saveInvStd.segment(), saveInvStd.offset() + ch, (float) invStd);
            if (relu) {
                set(affine.segment(), affine.offset() + ch, scale[ch]);
                set(affine.segment(), affine.offset() + c + ch, shift[ch]);
            }
            set(rms, rmo + ch, (float) ((1 - momentum) * get(rms, rmo + ch) + momentum * meanD[ch]));
            set(rvs, rvo + ch, (float) ((1 - momentum) * get(rvs, rvo + ch) + momentum * sq[ch] / (m - 1)));
        }
        // pass 2: normalize, each part its own images in memory order
        Parallel.forChunks(parts, part -> {
            long p0 = firstPixel(n, hw, parts, part), p1 = firstPixel(n, hw, parts, part + 1), step = elementwiseStep(c);
            for (long b = p0; b < p1; b += step) {
                int len = (int) Math.min(step, p1 - b);
                for (int ch = 0; ch < c; ch += 2 * VL) {
                    long e = b * c + ch;
                    boolean two = c - ch >= 2 * VL;
                    if (rs != null) {
                        if (two) normalizeAddRelu2(xs, xo + e, rs, ro + e, ys, yo + e, c, len, mean, scale, shift, ch);
                        else normalizeAddRelu1(xs, xo + e, rs, ro + e, ys, yo + e, c, len, mean, scale, shift, ch);
                    } else if (relu) {
                        if (two) normalizeRelu2(xs, xo + e, ys, yo + e, c, len, mean, scale, shift, ch);
                        else normalizeRelu1(xs, xo + e, ys, yo + e, c, len, mean, scale, shift, ch);
                    } else {
                        if (two) normalize2(xs, xo + e, ys, yo + e, c, len, mean, scale, shift, ch);
                        else normalize1(xs, xo + e, ys, yo + e, c, len, mean, scale, shift, ch);
                    }
                }
            }
        });
    }

    /**
     * Training backward: dx, dgamma, dbeta (each may be null) for dy (n,h,w,c); with affine != null
     * dy counts only where (x − mean)·scale + shift > 0, recomputed per value with the forward's own
     * floats (as CpuNorm.planeGradSumsMasked/gradInputMasked).
     */
    static void backward(Tensor x, Tensor affine, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor dgamma, Tensor dbeta) {
        Simd.requireF32("batch_norm channels-last backward", x, affine, dy, gamma, mean, invStd, dx, dgamma, dbeta);
        if (dx == null && dgamma == null && dbeta == null) return;
        int n = x.dim(0), hw = x.dim(1) * x.dim(2), c = channels(x);
        long m = (long) n * hw;
        boolean relu = affine != null;
        MemorySegment xs = x.segment(), dys = dy.segment(), gs = gamma.segment(), iss = invStd.segment();
        long xo = x.offset(), dyo = dy.offset(), go = gamma.offset(), iso = invStd.offset();
        // per channel: μ, the relu's scale and shift, then a, b, k of dx
        float[] mu = new float[c], scale = new float[c], shift = new float[c], a = new float[c], b = new float[c], k = new float[c];
        for (int ch = 0; ch < c; ch++) {
            mu[ch] = get(mean.segment(), mean.offset() + ch);
            if (relu) {
                scale[ch] = get(affine.segment(), affine.offset() + ch);
                shift[ch] = get(affine.segment(), affine.offset() + c + ch);
            }
        }
        int parts = CpuNorm.imageParts(n, (long) c * hw);
        double[][] partial = new double[parts][2 * c];   // per part: Σdy (c), then Σdy·(x − μ) (c)
        Parallel.forChunks(parts, part -> {
            long p0 = firstPixel(n, hw, parts, part), p1 = firstPixel(n, hw, parts, part + 1);
            double[] acc = partial[part];
            float[] lanes = new float[VL];
            for (long bl = p0; bl < p1; bl += PIXEL_BLOCK) {
                int len = (int) Math.min(PIXEL_BLOCK, p1 - bl);
                for (int ch = 0; ch < c; ch += 2 * VL) {
                    long e = bl * c + ch;
                    boolean two = c - ch >= 2 * VL;
                    if (relu) {
                        if (two) gradSumsMasked2(xs, xo + e, dys, dyo + e, c, len, mu, scale, shift, ch, acc, lanes);
                        else gradSumsMasked1(xs, xo + e, dys, dyo + e, c, len, mu, scale, shift, ch, acc, lanes);
                    } else {
                        if (two) gradSums2(xs, xo + e, dys, dyo + e, c, len, mu, ch, acc, lanes);
                        else gradSums1(xs, xo + e, dys, dyo + e, c, len, mu, ch, acc, lanes);
                    }
                }
            }
        });
        for (int ch = 0; ch < c; ch++) {
            double sumDy = 0, sumDyXc = 0;
            for (double[] q : partial) {   // the parts in order
                sumDy += q[ch];
                sumDyXc += q[c + ch];
            }
            double is = get(iss, iso + ch);
            double sumDyXhat = sumDyXc * is;
            if (dgamma != null) set(dgamma.segment(), dgamma.offset() + ch, (float) sumDyXhat);
            if (dbeta != null) set(dbeta.segment(), dbeta.offset() + ch, (float) sumDy);
            // dx = gm·dy − gm·is·Σdy·x̂/m·(x − μ) − gm·Σdy/m, as CpuNorm
            double gm = get(gs, go + ch) * is;
            a[ch] = (float) gm;
            b[ch] = (float) (-gm * is * sumDyXhat / m);
            k[ch] = (float) (-gm * sumDy / m);
        }
        if (dx == null) return;
        MemorySegment dxs = dx.segment();
        long dxo = dx.offset();
        Parallel.forChunks(parts, part -> {
            long p0 = firstPixel(n, hw, parts, part), p1 = firstPixel(n, hw, parts, part + 1), step = elementwiseStep(c);
            for (long bl = p0; bl < p1; bl += step) {
                int len = (int) Math.min(step, p1 - bl);
                for (int ch = 0; ch < c; ch += 2 * VL) {
                    long e = bl * c + ch;
                    boolean two = c - ch >= 2 * VL;
                    if (relu) {
                        if (two) gradInputMasked2(xs, xo + e, dys, dyo + e, dxs, dxo + e, c, len, mu, a, b, k, scale, shift, ch);
                        else gradInputMasked1(xs, xo + e, dys, dyo + e, dxs, dxo + e, c, len, mu, a, b, k, scale, shift, ch);
                    } else {
                        if (two) gradInput2(xs, xo + e, dys, dyo + e, dxs, dxo + e, c, len, mu, a, b, k, ch);
                        else gradInput1(xs, xo + e, dys, dyo + e, dxs, dxo + e, c, len, mu, a, b, k, ch);
                    }
                }
            }
        });
    }

    // ---------------------------------------------------------------- layout and parts

    /** c of x (n,h,w,c), checked to be whole vectors. */
    private static int channels(Tensor x) {
        if (x.rank() != 4 || x.dim(3) % VL != 0) {
            throw new IllegalArgumentException("cpu batch_norm channels-last: x must be (n,h,w,c) with c a multiple of " + VL + ", got " + x.shape());
        }
        return x.dim(3);
    }

    /** Pixels an elementwise pass takes per group walk: the whole range when one group covers a pixel, else a block. */
    private static long elementwiseStep(int c) {
        return c <= 2 * VL ? Integer.MAX_VALUE : PIXEL_BLOCK;
    }

    /** First pixel of part {@code part} of {@code parts}: CpuNorm's first image of that part, times hw. */
    private static long firstPixel(int n, int hw, int parts, int part) {
        return (long) CpuNorm.firstImage(n, parts, part) * hw;
    }

    // ---------------------------------------------------------------- kernels
    // Arguments: e (per tensor) the element of channel ch in the first pixel, pixels c elements apart,
    // len pixels; "1" kernels take channels ch..ch+15, "2" kernels ch..ch+31. Sums go into
    // acc[ch + l] (first sum) and acc[c + ch + l] (second), l the lane.

    private static FloatVector load(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(S, s, i * Float.BYTES, ORDER);
    }

    private static void store(FloatVector v, MemorySegment s, long i) {
        v.intoMemorySegment(s, i * Float.BYTES, ORDER);
    }

    private static FloatVector at(float[] perChannel, int ch) {
        return FloatVector.fromArray(S, perChannel, ch);
    }

    // acc[at + l] += v[l]: a block's float partial into the double sums
    private static void addLanes(FloatVector v, float[] lanes, double[] acc, int at) {
        v.intoArray(lanes, 0);
        for (int l = 0; l < VL; l++) acc[at + l] += lanes[l];
    }

    // Σ(x − K), Σ(x − K)² per channel over pixels [p0, p1), block by block, group by group
    private static void moments(MemorySegment x, long xo, int c, long p0, long p1, float[] pivot, double[] acc) {
        float[] lanes = new float[VL];
        for (long b = p0; b < p1; b += PIXEL_BLOCK) {
            int len = (int) Math.min(PIXEL_BLOCK, p1 - b);
            for (int ch = 0; ch < c; ch += 2 * VL) {
                if (c - ch >= 2 * VL) moments2(x, xo + b * c + ch, c, len, pivot, ch, acc, lanes);
                else moments1(x, xo + b * c + ch, c, len, pivot, ch, acc, lanes);
            }
        }
    }

    private static void moments1(MemorySegment x, long e, int c, int len, float[] pivot, int ch, double[] acc, float[] lanes) {
        FloatVector k = at(pivot, ch);
        FloatVector s0 = FloatVector.zero(S), s1 = s0, q0 = s0, q1 = s0;   // even pixels, odd pixels
        int j = 0;
        for (; j < len - 1; j += 2, e += 2L * c) {
            FloatVector d0 = load(x, e).sub(k), d1 = load(x, e + c).sub(k);
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            q0 = d0.fma(d0, q0);
            q1 = d1.fma(d1, q1);
        }
        if (j < len) {
            FloatVector d = load(x, e).sub(k);
            s0 = s0.add(d);
            q0 = d.fma(d, q0);
        }
        addLanes(s0.add(s1), lanes, acc, ch);
        addLanes(q0.add(q1), lanes, acc, c + ch);
    }

    private static void moments2(MemorySegment x, long e, int c, int len, float[] pivot, int ch, double[] acc, float[] lanes) {
        FloatVector ka = at(pivot, ch), kb = at(pivot, ch + VL);
        FloatVector sa0 = FloatVector.zero(S), sa1 = sa0, sb0 = sa0, sb1 = sa0, qa0 = sa0, qa1 = sa0, qb0 = sa0, qb1 = sa0;
        int j = 0;
        for (; j < len - 1; j += 2, e += 2L * c) {
            FloatVector da0 = load(x, e).sub(ka), db0 = load(x, e + VL).sub(kb);
            FloatVector da1 = load(x, e + c).sub(ka), db1 = load(x, e + c + VL).sub(kb);
            sa0 = sa0.add(da0);
            sb0 = sb0.add(db0);
            sa1 = sa1.add(da1);
            sb1 = sb1.add(db1);
            qa0 = da0.fma(da0, qa0);
            qb0 = db0.fma(db0, qb0);
            qa1 = da1.fma(da1, qa1);
            qb1 = db1.fma(db1, qb1);
        }
        if (j < len) {
            FloatVector da = load(x, e).sub(ka), db = load(x, e + VL).sub(kb);
            sa0 = sa0.add(da);
            sb0 = sb0.add(db);
            qa0 = da.fma(da, qa0);
            qb0 = db.fma(db, qb0);
        }
        addLanes(sa0.add(sa1), lanes, acc, ch);
        addLanes(sb0.add(sb1), lanes, acc, ch + VL);
        addLanes(qa0.add(qa1), lanes, acc, c + ch);
        addLanes(qb0.add(qb1), lanes, acc, c + ch + VL);
    }

    // y = (x − mean)·scale + shift
    private static void normalize1(MemorySegment x, long xe, MemorySegment y, long ye, int c, int len,
                                   float[] mean, float[] scale, float[] shift, int ch) {
        FloatVector mu = at(mean, ch), sc = at(scale, ch), sh = at(shift, ch);
        for (int j = 0; j < len; j++, xe += c, ye += c) store(load(x, xe).sub(mu).fma(sc, sh), y, ye);
    }

    private static void normalize2(MemorySegment x, long xe, MemorySegment y, long ye, int c, int len,
                                   float[] mean, float[] scale, float[] shift, int ch) {
        FloatVector mua = at(mean, ch), sca = at(scale, ch), sha = at(shift, ch);
        FloatVector mub = at(mean, ch + VL), scb = at(scale, ch + VL), shb = at(shift, ch + VL);
        for (int j = 0; j < len; j++, xe += c, ye += c) {
            store(load(x, xe).sub(mua).fma(sca, sha), y, ye);
            store(load(x, xe + VL).sub(mub).fma(scb, shb), y, ye + VL);
        }
    }

    // y = relu((x − mean)·scale + shift), relu as compare and blend (relu(NaN) = 0)
    private static void normalizeRelu1(MemorySegment x, long xe, MemorySegment y, long ye, int c, int len,
                                       float[] mean, float[] scale, float[] shift, int ch) {
        FloatVector mu = at(mean, ch), sc = at(scale, ch), sh = at(shift, ch), zero = FloatVector.zero(S);
        for (int j = 0; j < len; j++, xe += c, ye += c) {
            FloatVector v = load(x, xe).sub(mu).fma(sc, sh);
            store(zero.blend(v, v.compare(VectorOperators.GT, 0f)), y, ye);
        }
    }

    private static void normalizeRelu2(MemorySegment x, long xe, MemorySegment y, long ye, int c, int len,
                                       float[] mean, float[] scale, float[] shift, int ch) {
        FloatVector mua = at(mean, ch), sca = at(scale, ch), sha = at(shift, ch);
        FloatVector mub = at(mean, ch + VL), scb = at(scale, ch + VL), shb = at(shift, ch + VL), zero = FloatVector.zero(S);
        for (int j = 0; j < len; j++, xe += c, ye += c) {
            FloatVector va = load(x, xe).sub(mua).fma(sca, sha), vb = load(x, xe + VL).sub(mub).fma(scb, shb);
            store(zero.blend(va, va.compare(VectorOperators.GT, 0f)), y, ye);
            store(zero.blend(vb, vb.compare(VectorOperators.GT, 0f)), y, ye + VL);
        }
    }

    // y = max((x − mean)·scale + shift + r, 0)
    private static void normalizeAddRelu1(MemorySegment x, long xe, MemorySegment r, long re, MemorySegment y, long ye, int c, int len,
                                          float[] mean, float[] scale, float[] shift, int ch) {
        FloatVector mu = at(mean, ch), sc = at(scale, ch), sh = at(shift, ch);
        for (int j = 0; j < len; j++, xe += c, re += c, ye += c) store(load(x, xe).sub(mu).fma(sc, sh).add(load(r, re)).max(0f), y, ye);
    }

    private static void normalizeAddRelu2(MemorySegment x, long xe, MemorySegment r, long re, MemorySegment y, long ye, int c, int len,
                                          float[] mean, float[] scale, float[] shift, int ch) {
        FloatVector mua = at(mean, ch), sca = at(scale, ch), sha = at(shift, ch);
        FloatVector mub = at(mean, ch + VL), scb = at(scale, ch + VL), shb = at(shift, ch + VL);
        for (int j = 0; j < len; j++, xe += c, re += c, ye += c) {
            store(load(x, xe).sub(mua).fma(sca, sha).add(load(r, re)).max(0f), y, ye);
            store(load(x, xe + VL).sub(mub).fma(scb, shb).add(load(r, re + VL)).max(0f), y, ye + VL);
        }
    }

    // Σdy, Σdy·(x − mean)
    private static void gradSums1(MemorySegment x, long xe, MemorySegment dy, long de, int c, int len, float[] mean, int ch,
                                  double[] acc, float[] lanes) {
        FloatVector mu = at(mean, ch);
        FloatVector s0 = FloatVector.zero(S), s1 = s0, t0 = s0, t1 = s0;   // even pixels, odd pixels
        int j = 0;
        for (; j < len - 1; j += 2, xe += 2L * c, de += 2L * c) {
            FloatVector d0 = load(dy, de), d1 = load(dy, de + c);
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            t0 = d0.fma(load(x, xe).sub(mu), t0);
            t1 = d1.fma(load(x, xe + c).sub(mu), t1);
        }
        if (j < len) {
            FloatVector d = load(dy, de);
            s0 = s0.add(d);
            t0 = d.fma(load(x, xe).sub(mu), t0);
        }
        addLanes(s0.add(s1), lanes, acc, ch);
        addLanes(t0.add(t1), lanes, acc, c + ch);
    }

    private static void gradSums2(MemorySegment x, long xe, MemorySegment dy, long de, int c, int len, float[] mean, int ch,
                                  double[] acc, float[] lanes) {
        FloatVector mua = at(mean, ch), mub = at(mean, ch + VL);
        FloatVector sa0 = FloatVector.zero(S), sa1 = sa0, sb0 = sa0, sb1 = sa0, ta0 = sa0, ta1 = sa0, tb0 = sa0, tb1 = sa0;
        int j = 0;
        for (; j < len - 1; j += 2, xe += 2L * c, de += 2L * c) {
            FloatVector da0 = load(dy, de), db0 = load(dy, de + VL), da1 = load(dy, de + c), db1 = load(dy, de + c + VL);
            sa0 = sa0.add(da0);
            sb0 = sb0.add(db0);
            sa1 = sa1.add(da1);
            sb1 = sb1.add(db1);
            ta0 = da0.fma(load(x, xe).sub(mua), ta0);
            tb0 = db0.fma(load(x, xe + VL).sub(mub), tb0);
            ta1 = da1.fma(load(x, xe + c).sub(mua), ta1);
            tb1 = db1.fma(load(x, xe + c + VL).sub(mub), tb1);
        }
        if (j < len) {
            FloatVector da = load(dy, de), db = load(dy, de + VL);
            sa0 = sa0.add(da);
            sb0 = sb0.add(db);
            ta0 = da.fma(load(x, xe).sub(mua), ta0);
            tb0 = db.fma(load(x, xe + VL).sub(mub), tb0);
        }
        addLanes(sa0.add(sa1), lanes, acc, ch);
        addLanes(sb0.add(sb1), lanes, acc, ch + VL);
        addLanes(ta0.add(ta1), lanes, acc, c + ch);
        addLanes(tb0.add(tb1), lanes, acc, c + ch + VL);
    }

    // gradSums of dy where the fused relu passed its value: (x − mean)·scale + shift > 0, the forward's very decision
    private static void gradSumsMasked1(MemorySegment x, long xe, MemorySegment dy, long de, int c, int len,
                                        float[] mean, float[] scale, float[] shift, int ch, double[] acc, float[] lanes) {
        FloatVector mu = at(mean, ch), sc = at(scale, ch), sh = at(shift, ch), zero = FloatVector.zero(S);
        FloatVector s0 = zero, s1 = zero, t0 = zero, t1 = zero;   // even pixels, odd pixels
        int j = 0;
        for (; j < len - 1; j += 2, xe += 2L * c, de += 2L * c) {
            FloatVector xc0 = load(x, xe).sub(mu), xc1 = load(x, xe + c).sub(mu);
            FloatVector d0 = zero.blend(load(dy, de), xc0.fma(sc, sh).compare(VectorOperators.GT, 0f));
            FloatVector d1 = zero.blend(load(dy, de + c), xc1.fma(sc, sh).compare(VectorOperators.GT, 0f));
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            t0 = d0.fma(xc0, t0);
            t1 = d1.fma(xc1, t1);
        }
        if (j < len) {
            FloatVector xc = load(x, xe).sub(mu);
            FloatVector d = zero.blend(load(dy, de), xc.fma(sc, sh).compare(VectorOperators.GT, 0f));
            s0 = s0.add(d);
            t0 = d.fma(xc, t0);
        }
        addLanes(s0.add(s1), lanes, acc, ch);
        addLanes(t0.add(t1), lanes, acc, c + ch);
    }

    private static void gradSumsMasked2(MemorySegment x, long xe, MemorySegment dy, long de, int c, int len,
                                        float[] mean, float[] scale, float[] shift, int ch, double[] acc, float[] lanes) {
        FloatVector mua = at(mean, ch), sca = at(scale, ch), sha = at(shift, ch);
        FloatVector mub = at(mean, ch + VL), scb = at(scale, ch + VL), shb = at(shift, ch + VL), zero = FloatVector.zero(S);
        FloatVector sa0 = zero, sa1 = zero, sb0 = zero, sb1 = zero, ta0 = zero, ta1 = zero, tb0 = zero, tb1 = zero;
        int j = 0;
        for (; j < len - 1; j += 2, xe += 2L * c, de += 2L * c) {
            FloatVector xa0 = load(x, xe).sub(mua), xb0 = load(x, xe + VL).sub(mub);
            FloatVector xa1 = load(x, xe + c).sub(mua), xb1 = load(x, xe + c + VL).sub(mub);
            FloatVector da0 = zero.blend(load(dy, de), xa0.fma(sca, sha).compare(VectorOperators.GT, 0f));
            FloatVector db0 = zero.blend(load(dy, de + VL), xb0.fma(scb, shb).compare(VectorOperators.GT, 0f));
            FloatVector da1 = zero.blend(load(dy, de + c), xa1.fma(sca, sha).compare(VectorOperators.GT, 0f));
            FloatVector db1 = zero.blend(load(dy, de + c + VL), xb1.fma(scb, shb).compare(VectorOperators.GT, 0f));
            sa0 = sa0.add(da0);
            sb0 = sb0.add(db0);
            sa1 = sa1.add(da1);
            sb1 = sb1.add(db1);
            ta0 = da0.fma(xa0, ta0);
            tb0 = db0.fma(xb0, tb0);
            ta1 = da1.fma(xa1, ta1);
            tb1 = db1.fma(xb1, tb1);
        }
        if (j < len) {
            FloatVector xa = load(x, xe).sub(mua), xb = load(x, xe + VL).sub(mub);
            FloatVector da = zero.blend(load(dy, de), xa.fma(sca, sha).compare(VectorOperators.GT, 0f));
            FloatVector db = zero.blend(load(dy, de + VL), xb.fma(scb, shb).compare(VectorOperators.GT, 0f));
            sa0 = sa0.add(da);
            sb0 = sb0.add(db);
            ta0 = da.fma(xa, ta0);
            tb0 = db.fma(xb, tb0);
        }
        addLanes(sa0.add(sa1), lanes, acc, ch);
        addLanes(sb0.add(sb1), lanes, acc, ch + VL);
        addLanes(ta0.add(ta1), lanes, acc, c + ch);
        addLanes(tb0.add(tb1), lanes, acc, c + ch + VL);
    }

    // dx = dy·a + (x − mean)·b + k
    private static void gradInput1(MemorySegment x, long xe, MemorySegment dy, long de, MemorySegment dx, long dxe, int c, int len,
                                   float[] mean, float[] a, float[] b, float[] k, int ch) {
        FloatVector mu = at(mean, ch), av = at(a, ch), bv = at(b, ch), kv = at(k, ch);
        for (int j = 0; j < len; j++, xe += c, de += c, dxe += c) {
            store(load(dy, de).fma(av, load(x, xe).sub(mu).fma(bv, kv)), dx, dxe);
        }
    }

    private static void gradInput2(MemorySegment x, long xe, MemorySegment dy, long de, MemorySegment dx, long dxe, int c, int len,
                                   float[] mean, float[] a, float[] b, float[] k, int ch) {
        FloatVector mua = at(mean, ch), aa = at(a, ch), ba = at(b, ch), ka = at(k, ch);
        FloatVector mub = at(mean, ch + VL), ab = at(a, ch + VL), bb = at(b, ch + VL), kb = at(k, ch + VL);
        for (int j = 0; j < len; j++, xe += c, de += c, dxe += c) {
            store(load(dy, de).fma(aa, load(x, xe).sub(mua).fma(ba, ka)), dx, dxe);
            store(load(dy, de + VL).fma(ab, load(x, xe + VL).sub(mub).fma(bb, kb)), dx, dxe + VL);
        }
    }

    // gradInput of dy masked as in gradSumsMasked
    private static void gradInputMasked1(MemorySegment x, long xe, MemorySegment dy, long de, MemorySegment dx, long dxe, int c, int len,
                                         float[] mean, float[] a, float[] b, float[] k, float[] scale, float[] shift, int ch) {
        FloatVector mu = at(mean, ch), av = at(a, ch), bv = at(b, ch), kv = at(k, ch);
        FloatVector sc = at(scale, ch), sh = at(shift, ch), zero = FloatVector.zero(S);
        for (int j = 0; j < len; j++, xe += c, de += c, dxe += c) {
            FloatVector xc = load(x, xe).sub(mu);
            FloatVector d = zero.blend(load(dy, de), xc.fma(sc, sh).compare(VectorOperators.GT, 0f));
            store(d.fma(av, xc.fma(bv, kv)), dx, dxe);
        }
    }

    private static void gradInputMasked2(MemorySegment x, long xe, MemorySegment dy, long de, MemorySegment dx, long dxe, int c, int len,
                                         float[] mean, float[] a, float[] b, float[] k, float[] scale, float[] shift, int ch) {
        FloatVector mua = at(mean, ch), aa = at(a, ch), ba = at(b, ch), ka = at(k, ch), sca = at(scale, ch), sha = at(shift, ch);
        FloatVector mub = at(mean, ch + VL), ab = at(a, ch + VL), bb = at(b, ch + VL), kb = at(k, ch + VL);
        FloatVector scb = at(scale, ch + VL), shb = at(shift, ch + VL), zero = FloatVector.zero(S);
        for (int j = 0; j < len; j++, xe += c, de += c, dxe += c) {
            FloatVector xa = load(x, xe).sub(mua), xb = load(x, xe + VL).sub(mub);
            FloatVector da = zero.blend(load(dy, de), xa.fma(sca, sha).compare(VectorOperators.GT, 0f));
            FloatVector db = zero.blend(load(dy, de + VL), xb.fma(scb, shb).compare(VectorOperators.GT, 0f));
            store(da.fma(aa, xa.fma(ba, ka)), dx, dxe);
            store(db.fma(ab, xb.fma(bb, kb)), dx, dxe + VL);
        }
    }
}
