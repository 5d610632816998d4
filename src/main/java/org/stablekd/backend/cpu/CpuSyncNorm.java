package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.set;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.stablekd.tensor.Tensor;

/**
 * Synchronized batch normalization (Op.SYNC_BATCH_NORM) on the CPU: the four steps of
 * {@link org.stablekd.backend.NormKernels}' sync methods, built from {@link CpuNorm}'s plane
 * kernels, so each pass is organized as CpuNorm's (threads over blocks of whole channels, each
 * block walked in memory order, float vector partials per plane block added in double).
 *
 * <ul>
 *   <li>local statistics: CpuNorm's shifted moments around the mean of the channel's first
 *       plane (again around the mean where the pivot was far); the row holds m, μ as a float
 *       and its float remainder, and m·σ²;</li>
 *   <li>combination: per channel in double, ranks in order (every rank computes the same bits
 *       from the same gathered rows), then CpuNorm's normalize with the float mean's rounding
 *       moved into the shift;</li>
 *   <li>backward: CpuNorm's Σdy, Σdy·(x − μ) pass; dx from the all-reduced sums by CpuNorm's
 *       gradInput, dx = dy·a + (x − μ)·b + k.</li>
 * </ul>
 */
final class CpuSyncNorm {
    private static final int GRAIN_VALUES = 1 << 15;

    private CpuSyncNorm() {}

    private static int grainChannels(long valuesPerChannel) {
        return (int) Math.max(1, GRAIN_VALUES / Math.max(1, valuesPerChannel));
    }

    static void localStats(Tensor x, Tensor row) {
        Simd.requireF32("sync_batch_norm", x, row);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        long m = (long) n * hw;
        MemorySegment xs = x.segment(), rs = row.segment();
        long xo = x.offset(), ro = row.offset();
        set(rs, ro, (float) m);
        Parallel.forRange(c, grainChannels(m), (c0, c1) -> {
            int k = c1 - c0;
            double[] acc = Simd.doubles(2 * k);   // per channel j: S1 = Σ(x − K), S2 = Σ(x − K)²
            float[] pivot = Simd.floats(k);
            Arrays.fill(acc, 0, 2 * k, 0);
            for (int j = 0; j < k; j++) pivot[j] = (float) (CpuReduce.sum(xs, xo + (long) (c0 + j) * hw, hw) / hw);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++) CpuNorm.planeMoments(xs, xo + ((long) i * c + c0 + j) * hw, hw, pivot[j], acc, 2 * j);
            for (int j = 0; j < k; j++) {
                int ch = c0 + j;
                double fromPivot = acc[2 * j] / m, mean = pivot[j] + fromPivot;
                double sq = Math.max(0, acc[2 * j + 1] - acc[2 * j] * fromPivot);   // m·σ²
                if (fromPivot * fromPivot * m > CpuNorm.MAX_PIVOT_DISTANCE2 * sq) {
                    // far pivot: the moments again around the float mean (see CpuNorm)
                    float meanF = (float) mean;
                    double[] again = new double[2];
                    for (int i = 0; i < n; i++) CpuNorm.planeMoments(xs, xo + ((long) i * c + ch) * hw, hw, meanF, again, 0);
                    sq = Math.max(0, again[1] - again[0] * again[0] / m);
                    mean = meanF + again[0] / m;
                }
                float hi = (float) mean;
                set(rs, ro + 1 + ch, hi);
                set(rs, ro + 1 + c + ch, (float) (mean - hi));
                set(rs, ro + 1 + 2 * c + ch, (float) sq);
            }
        });
    }

    static void train(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, Tensor rows,
                      double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        Simd.requireF32("sync_batch_norm", x, gamma, beta, runMean, runVar, rows, y, saveMean, saveInvStd);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3), ranks = rows.dim(0), w = 1 + 3 * c;
        MemorySegment rs = rows.segment(), gs = gamma.segment(), bs = beta.segment();
        MemorySegment rms = runMean.segment(), rvs = runVar.segment(), sms = saveMean.segment(), sis = saveInvStd.segment();
        long ro = rows.offset(), go = gamma.offset(), bo = beta.offset(), rmo = runMean.offset(), rvo = runVar.offset();
        long smo = saveMean.offset(), sio = saveInvStd.offset();
        float[] par = new float[3 * c];   // per channel: float mean, scale, shift
        for (int ch = 0; ch < c; ch++) {
            // combine the ranks' rows in rank order, in double
            double count = 0, weighted = 0;
            for (int r = 0; r < ranks; r++) {
                long at = ro + (long) r * w;
                double mr = get(rs, at);
                count += mr;
                weighted += mr * ((double) get(rs, at + 1 + ch) + get(rs, at + 1 + c + ch));
            }
            double mean = weighted / count, sq = 0;
            for (int r = 0; r < ranks; r++) {
                long at = ro + (long) r * w;
                double mr = get(rs, at), d = (double) get(rs, at + 1 + ch) + get(rs, at + 1 + c + ch) - mean;
                sq += get(rs, at + 1 + 2 * c + ch) + mr * d * d;
            }
            double invStd = 1.0 / Math.sqrt(sq / count + eps);
            double scale = get(gs, go + ch) * invStd;
            float meanF = (float) mean;
            par[3 * ch] = meanF;
            par[3 * ch + 1] = (float) scale;
            par[3 * ch + 2] = (float) (get(bs, bo + ch) - (mean - meanF) * scale);
            set(sms, smo + ch, meanF);
            set(sis, sio + ch, (float) invStd);
            set(rms, rmo + ch, (float) ((1 - momentum) * get(rms, rmo + ch) + momentum * mean));
            set(rvs, rvo + ch, (float) ((1 - momentum) * get(rvs, rvo + ch) + momentum * sq / (count - 1)));
        }
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        Parallel.forRange(c, grainChannels((long) n * hw), (c0, c1) -> {
            for (int i = 0; i < n; i++)
                for (int ch = c0; ch < c1; ch++) {
                    long p = ((long) i * c + ch) * hw;
                    CpuNorm.normalize(xs, xo + p, ys, yo + p, hw, par[3 * ch], par[3 * ch + 1], par[3 * ch + 2]);
                }
        });
    }

    static void gradSums(Tensor x, Tensor dy, Tensor mean, Tensor sums) {
        Simd.requireF32("sync_batch_norm backward", x, dy, mean, sums);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        MemorySegment xs = x.segment(), dys = dy.segment(), ms = mean.segment(), ss = sums.segment();
        long xo = x.offset(), dyo = dy.offset(), mo = mean.offset(), so = sums.offset();
        Parallel.forRange(c, grainChannels((long) n * hw), (c0, c1) -> {
            int k = c1 - c0;
            double[] acc = Simd.doubles(2 * k);   // per channel j: Σdy, Σdy·(x − μ)
            Arrays.fill(acc, 0, 2 * k, 0);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++) {
                    long p = ((long) i * c + c0 + j) * hw;
                    CpuNorm.planeGradSums(xs, xo + p, dys, dyo + p, hw, get(ms, mo + c0 + j), acc, 2 * j);
                }
            for (int j = 0; j < k; j++) {
                set(ss, so + c0 + j, (float) acc[2 * j]);
                set(ss, so + c + c0 + j, (float) acc[2 * j + 1]);
            }
        });
    }

    static void backward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, Tensor localSums, Tensor globalSums,
                         long count, Tensor dx, Tensor dgamma, Tensor dbeta) {
        Simd.requireF32("sync_batch_norm backward", x, dy, gamma, mean, invStd, localSums, globalSums, dx, dgamma, dbeta);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        MemorySegment gs = gamma.segment(), ms = mean.segment(), iss = invStd.segment(), ls = localSums.segment();
        long go = gamma.offset(), mo = mean.offset(), iso = invStd.offset(), lo = localSums.offset();
        for (int ch = 0; ch < c; ch++) {
            double is = get(iss, iso + ch);
            if (dbeta != null) set(dbeta.segment(), dbeta.offset() + ch, get(ls, lo + ch));
            if (dgamma != null) set(dgamma.segment(), dgamma.offset() + ch, (float) (get(ls, lo + c + ch) * is));
        }
        if (dx == null) return;
        MemorySegment gls = globalSums.segment();
        long glo = globalSums.offset();
        float[] par = new float[4 * c];   // per channel: μ, a, b, k of dx = dy·a + (x − μ)·b + k
        for (int ch = 0; ch < c; ch++) {
            double is = get(iss, iso + ch), gm = get(gs, go + ch) * is;
            double sumDy = get(gls, glo + ch), sumDyXhat = get(gls, glo + c + ch) * is;
            par[4 * ch] = get(ms, mo + ch);
            par[4 * ch + 1] = (float) gm;
            par[4 * ch + 2] = (float) (-gm * is * sumDyXhat / count);
            par[4 * ch + 3] = (float) (-gm * sumDy / count);
        }
        MemorySegment xs = x.segment(), dys = dy.segment(), dxs = dx.segment();
        long xo = x.offset(), dyo = dy.offset(), dxo = dx.offset();
        Parallel.forRange(c, grainChannels((long) n * hw), (c0, c1) -> {
            for (int i = 0; i < n; i++)
                for (int ch = c0; ch < c1; ch++) {
                    long p = ((long) i * c + ch) * hw;
                    CpuNorm.gradInput(xs, xo + p, dys, dyo + p, dxs, dxo + p, hw, par[4 * ch], par[4 * ch + 1], par[4 * ch + 2], par[4 * ch + 3]);
                }
        });
    }
}
