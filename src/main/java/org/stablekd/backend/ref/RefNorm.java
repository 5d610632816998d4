package org.stablekd.backend.ref;

import org.stablekd.backend.NormKernels;
import org.stablekd.tensor.Tensor;

/**
 * Reference batch normalization over x (n,c,h,w), statistics per channel over m = n·h·w values.
 * Backward (training): x̂ = (x-μ)·σ⁻¹, dβ = Σdy, dγ = Σdy·x̂, dx = γσ⁻¹/m · (m·dy − dβ − x̂·dγ).
 * Backward (eval, statistics constant): dx = dy·γ·σ⁻¹.
 */
final class RefNorm implements NormKernels {

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                               double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        Buf xb = Buf.of(x), yb = Buf.of(y), gb = Buf.of(gamma), bb = Buf.of(beta);
        Buf rm = Buf.of(runMean), rv = Buf.of(runVar), sm = Buf.of(saveMean), si = Buf.of(saveInvStd);
        long m = (long) n * hw;
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) sum += xb.get(((long) i * c + ch) * hw + j);
            double mean = sum / m;
            double sq = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    double d = xb.get(((long) i * c + ch) * hw + j) - mean;
                    sq += d * d;
                }
            double var = sq / m;
            double invStd = 1.0 / Math.sqrt(var + eps);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    long idx = ((long) i * c + ch) * hw + j;
                    yb.set(idx, (xb.get(idx) - mean) * invStd * gb.get(ch) + bb.get(ch));
                }
            sm.set(ch, mean);
            si.set(ch, invStd);
            rm.set(ch, (1 - momentum) * rm.get(ch) + momentum * mean);
            rv.set(ch, (1 - momentum) * rv.get(ch) + momentum * sq / (m - 1));
        }
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        Buf xb = Buf.of(x), yb = Buf.of(y), gb = Buf.of(gamma), bb = Buf.of(beta), rm = Buf.of(runMean), rv = Buf.of(runVar);
        for (int ch = 0; ch < c; ch++) {
            double invStd = 1.0 / Math.sqrt(rv.get(ch) + eps);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    long idx = ((long) i * c + ch) * hw + j;
                    yb.set(idx, (xb.get(idx) - rm.get(ch)) * invStd * gb.get(ch) + bb.get(ch));
                }
        }
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        Buf xb = Buf.of(x), dyb = Buf.of(dy), gb = Buf.of(gamma), mb = Buf.of(mean), sb = Buf.of(invStd);
        Buf dxb = Buf.of(dx), dgb = Buf.of(dgamma), dbb = Buf.of(dbeta);
        long m = (long) n * hw;
        for (int ch = 0; ch < c; ch++) {
            double mu = mb.get(ch), is = sb.get(ch);
            double sumDy = 0, sumDyXhat = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    long idx = ((long) i * c + ch) * hw + j;
                    double d = dyb.get(idx);
                    sumDy += d;
                    sumDyXhat += d * (xb.get(idx) - mu) * is;
                }
            if (dgb != null) dgb.set(ch, sumDyXhat);
            if (dbb != null) dbb.set(ch, sumDy);
            if (dxb == null) continue;
            double gm = gb.get(ch) * is;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    long idx = ((long) i * c + ch) * hw + j;
                    double d = dyb.get(idx);
                    if (training) {
                        double xhat = (xb.get(idx) - mu) * is;
                        dxb.set(idx, gm / m * (m * d - sumDy - xhat * sumDyXhat));
                    } else {
                        dxb.set(idx, gm * d);
                    }
                }
        }
    }

    // ---- fused relu: by definition the composition (the oracle for the fused kernels); the mask is read from y

    @Override
    public boolean fusesRelu() {
        return true;
    }

    @Override
    public void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd, Tensor saveAffine) {
        batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
        reluInPlace(y);
    }

    @Override
    public void batchNormEvalRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y,
                                  Tensor saveAffine) {
        batchNormEval(x, gamma, beta, runMean, runVar, eps, y);
        reluInPlace(y);
    }

    @Override
    public void batchNormReluBackward(Tensor x, Tensor y, Tensor affine, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd,
                                      boolean training, Tensor dx, Tensor dgamma, Tensor dbeta) {
        Tensor masked = Tensor.emptyLike(dy);
        Buf yb = Buf.of(y), db = Buf.of(dy), mb = Buf.of(masked);
        for (long i = 0, n = dy.numel(); i < n; i++) mb.set(i, yb.get(i) > 0 ? db.get(i) : 0);
        batchNormBackward(x, masked, gamma, mean, invStd, training, dx, dgamma, dbeta);
    }

    // ---- fused add + relu: by definition the composition (the oracle for the fused kernel)

    @Override
    public boolean fusesAddRelu() {
        return true;
    }

    @Override
    public void batchNormTrainAddRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                      double momentum, double eps, Tensor r, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
        Buf yb = Buf.of(y), rb = Buf.of(r);
        for (long i = 0, n = y.numel(); i < n; i++) {
            double v = yb.get(i) + rb.get(i);
            yb.set(i, v > 0 ? v : 0);
        }
    }

    private static void reluInPlace(Tensor y) {
        Buf yb = Buf.of(y);
        for (long i = 0, n = y.numel(); i < n; i++) {
            double v = yb.get(i);
            yb.set(i, v > 0 ? v : 0);
        }
    }
    // ---- synchronized batch norm: local statistics, their rank-ordered combination, the backward
    // from local and all-reduced sums (see NormKernels for the layouts)

    @Override
    public void batchNormLocalStats(Tensor x, Tensor row) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        Buf xb = Buf.of(x), rb = Buf.of(row);
        long m = (long) n * hw;
        rb.set(0, m);
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) sum += xb.get(((long) i * c + ch) * hw + j);
            double mean = sum / m;
            double sq = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    double d = xb.get(((long) i * c + ch) * hw + j) - mean;
                    sq += d * d;
                }
            rb.set(1 + ch, mean);
            rb.set(1 + c + ch, mean - rb.get(1 + ch));   // what the row's dtype could not hold
            rb.set(1 + 2 * c + ch, sq);
        }
    }

    @Override
    public void batchNormSyncTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, Tensor rows,
                                   double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3), ranks = rows.dim(0), w = 1 + 3 * c;
        Buf xb = Buf.of(x), yb = Buf.of(y), gb = Buf.of(gamma), bb = Buf.of(beta), rs = Buf.of(rows);
        Buf rm = Buf.of(runMean), rv = Buf.of(runVar), sm = Buf.of(saveMean), si = Buf.of(saveInvStd);
        for (int ch = 0; ch < c; ch++) {
            double count = 0, weighted = 0;
            for (int r = 0; r < ranks; r++) {
                double mr = rs.get((long) r * w);
                count += mr;
                weighted += mr * (rs.get((long) r * w + 1 + ch) + rs.get((long) r * w + 1 + c + ch));
            }
            double mean = weighted / count;
            double sq = 0;   // M·σ² = Σ_r (m_r·σ_r² + m_r·(μ_r − μ)²)
            for (int r = 0; r < ranks; r++) {
                double mr = rs.get((long) r * w), d = rs.get((long) r * w + 1 + ch) + rs.get((long) r * w + 1 + c + ch) - mean;
                sq += rs.get((long) r * w + 1 + 2 * c + ch) + mr * d * d;
            }
            double invStd = 1.0 / Math.sqrt(sq / count + eps);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    long idx = ((long) i * c + ch) * hw + j;
                    yb.set(idx, (xb.get(idx) - mean) * invStd * gb.get(ch) + bb.get(ch));
                }
            sm.set(ch, mean);
            si.set(ch, invStd);
            rm.set(ch, (1 - momentum) * rm.get(ch) + momentum * mean);
            rv.set(ch, (1 - momentum) * rv.get(ch) + momentum * sq / (count - 1));
        }
    }

    @Override
    public void batchNormGradSums(Tensor x, Tensor dy, Tensor mean, Tensor sums) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        Buf xb = Buf.of(x), dyb = Buf.of(dy), mb = Buf.of(mean), sb = Buf.of(sums);
        for (int ch = 0; ch < c; ch++) {
            double sumDy = 0, sumDyXc = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    long idx = ((long) i * c + ch) * hw + j;
                    sumDy += dyb.get(idx);
                    sumDyXc += dyb.get(idx) * (xb.get(idx) - mb.get(ch));
                }
            sb.set(ch, sumDy);
            sb.set(c + ch, sumDyXc);
        }
    }

    @Override
    public void batchNormSyncBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, Tensor localSums,
                                      Tensor globalSums, long count, Tensor dx, Tensor dgamma, Tensor dbeta) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        Buf xb = Buf.of(x), dyb = Buf.of(dy), gb = Buf.of(gamma), mb = Buf.of(mean), sb = Buf.of(invStd);
        Buf ls = Buf.of(localSums), gs = Buf.of(globalSums), dxb = Buf.of(dx), dgb = Buf.of(dgamma), dbb = Buf.of(dbeta);
        for (int ch = 0; ch < c; ch++) {
            double mu = mb.get(ch), is = sb.get(ch);
            if (dbb != null) dbb.set(ch, ls.get(ch));
            if (dgb != null) dgb.set(ch, ls.get(c + ch) * is);
            if (dxb == null) continue;
            double sumDy = gs.get(ch), sumDyXhat = gs.get(c + ch) * is, gm = gb.get(ch) * is;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    long idx = ((long) i * c + ch) * hw + j;
                    double xhat = (xb.get(idx) - mu) * is;
                    dxb.set(idx, gm / count * (count * dyb.get(idx) - sumDy - xhat * sumDyXhat));
                }
        }
    }
}
