package org.stablekd.backend.ref;

import org.stablekd.backend.DistillKernels;
import org.stablekd.tensor.Tensor;

/**
 * Reference DKD loss and attention maps, in double, written the plain way.
 *
 * <p>DKD, one row with target g, logits z/τ; s = softmax, s_o = Σ_{j≠g} s_j, ŝ = softmax over
 * j ≠ g only (t likewise for the teacher):
 * <pre>
 *   TCKD_i = t_g·log(t_g/s_g) + t_o·log(t_o/s_o)         NCKD_i = Σ_{j≠g} t̂_j·log(t̂_j/ŝ_j)
 *   loss   = τ²/n · Σ_i (α·TCKD_i + β·NCKD_i)
 *   dz_g   = τ/n · (−α·(s_o − t_o))                      (NCKD does not see z_g)
 *   dz_j   = τ/n · (α·ŝ_j·(s_o − t_o) + β·(ŝ_j − t̂_j))   j ≠ g
 * </pre>
 * (d log s_g/dz_j = (δ_jg − s_j)/τ and d log s_o/dz_j = (s_j·[j≠g]/s_o − s_j)/τ give the TCKD part.)
 *
 * <p>Attention map, f (n,c,p) with p = h·w: q = mean_c f², a = q/max(‖q‖, eps);
 * dq = (da − a·(a·da))/‖q‖ (or da/eps where the norm is clamped), df = 2·f·dq/c.
 */
final class RefDistill implements DistillKernels {

    // log_softmax(z/τ) of row i over the classes j ≠ skip (skip = −1: all); entry skip is left as is
    private static void logSoftmaxRow(Buf x, long i, int cols, double tau, int skip, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) if (j != skip) max = Math.max(max, x.get(i * cols + j) / tau);
        double sum = 0;
        for (int j = 0; j < cols; j++) if (j != skip) sum += Math.exp(x.get(i * cols + j) / tau - max);
        double lse = max + Math.log(sum);
        for (int j = 0; j < cols; j++) if (j != skip) out[j] = x.get(i * cols + j) / tau - lse;
    }

    // p·log(p/q) with 0·log 0 = 0 (PyTorch's kl_div uses xlogy)
    private static double klTerm(double p, double logP, double logQ) {
        return p == 0 ? 0 : p * (logP - logQ);
    }

    private static int label(Buf labels, long i, int cols) {
        int l = labels.getInt(i);
        if (l < 0 || l >= cols) {
            throw new IllegalArgumentException("dkd_loss: label " + l + " at row " + i + " is outside [0, " + cols + ")");
        }
        return l;
    }

    /** Σ_{j≠g} exp(logp_j): the probability of "not the target". */
    private static double others(double[] logp, int g) {
        double s = 0;
        for (int j = 0; j < logp.length; j++) if (j != g) s += Math.exp(logp[j]);
        return s;
    }

    @Override
    public void dkdLoss(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau, Tensor loss) {
        int rows = student.dim(0), cols = student.dim(1);
        Buf sb = Buf.of(student), tb = Buf.of(teacher), lb = Buf.of(labels);
        double[] ls = new double[cols], lt = new double[cols], lsHat = new double[cols], ltHat = new double[cols];
        double total = 0;
        for (long i = 0; i < rows; i++) {
            int g = label(lb, i, cols);
            logSoftmaxRow(sb, i, cols, tau, -1, ls);
            logSoftmaxRow(tb, i, cols, tau, -1, lt);
            double so = others(ls, g), to = others(lt, g);
            double tckd = klTerm(Math.exp(lt[g]), lt[g], ls[g]) + klTerm(to, Math.log(to), Math.log(so));
            logSoftmaxRow(sb, i, cols, tau, g, lsHat);
            logSoftmaxRow(tb, i, cols, tau, g, ltHat);
            double nckd = 0;
            for (int j = 0; j < cols; j++) if (j != g) nckd += klTerm(Math.exp(ltHat[j]), ltHat[j], lsHat[j]);
            total += alpha * tckd + beta * nckd;
        }
        Buf.of(loss).set(0, total * tau * tau / rows);
    }

    @Override
    public void dkdLossBackward(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau,
                                Tensor g, Tensor dStudent) {
        if (dStudent == null) return;
        int rows = student.dim(0), cols = student.dim(1);
        Buf sb = Buf.of(student), tb = Buf.of(teacher), lb = Buf.of(labels), ds = Buf.of(dStudent);
        double scale = Buf.of(g).get(0) * tau / rows;
        double[] ls = new double[cols], lt = new double[cols], lsHat = new double[cols], ltHat = new double[cols];
        for (long i = 0; i < rows; i++) {
            int target = label(lb, i, cols);
            logSoftmaxRow(sb, i, cols, tau, -1, ls);
            logSoftmaxRow(tb, i, cols, tau, -1, lt);
            double d = others(ls, target) - others(lt, target);  // s_o − t_o
            logSoftmaxRow(sb, i, cols, tau, target, lsHat);
            logSoftmaxRow(tb, i, cols, tau, target, ltHat);
            for (int j = 0; j < cols; j++) {
                double v;
                if (j == target) {
                    v = -alpha * d;
                } else {
                    double sHat = Math.exp(lsHat[j]), tHat = Math.exp(ltHat[j]);
                    v = alpha * sHat * d + beta * (sHat - tHat);
                }
                ds.set(i * cols + j, scale * v);
            }
        }
    }

    @Override
    public void attentionMap(Tensor f, double eps, Tensor q, Tensor a) {
        int n = f.dim(0), c = f.dim(1), p = f.dim(2) * f.dim(3);
        Buf fb = Buf.of(f), qb = Buf.of(q), ab = Buf.of(a);
        double[] row = new double[p];
        for (long i = 0; i < n; i++) {
            double sq = 0;
            for (int k = 0; k < p; k++) {
                double s = 0;
                for (int ch = 0; ch < c; ch++) {
                    double v = fb.get((i * c + ch) * p + k);
                    s += v * v;
                }
                row[k] = s / c;
                sq += row[k] * row[k];
            }
            double den = Math.max(Math.sqrt(sq), eps);
            for (int k = 0; k < p; k++) {
                qb.set(i * p + k, row[k]);
                ab.set(i * p + k, row[k] / den);
            }
        }
    }

    @Override
    public void attentionMapBackward(Tensor f, Tensor q, Tensor da, double eps, Tensor df) {
        int n = f.dim(0), c = f.dim(1), p = f.dim(2) * f.dim(3);
        Buf fb = Buf.of(f), qb = Buf.of(q), db = Buf.of(da), dfb = Buf.of(df);
        double[] dq = new double[p];
        for (long i = 0; i < n; i++) {
            double sq = 0;
            for (int k = 0; k < p; k++) sq += qb.get(i * p + k) * qb.get(i * p + k);
            double norm = Math.sqrt(sq);
            if (norm >= eps) {
                // a = q/‖q‖:  dq = (da − a·(a·da))/‖q‖
                double dot = 0;
                for (int k = 0; k < p; k++) dot += qb.get(i * p + k) / norm * db.get(i * p + k);
                for (int k = 0; k < p; k++) dq[k] = (db.get(i * p + k) - qb.get(i * p + k) / norm * dot) / norm;
            } else {
                // the norm is clamped to eps, a constant: a = q/eps
                for (int k = 0; k < p; k++) dq[k] = db.get(i * p + k) / eps;
            }
            for (int ch = 0; ch < c; ch++) {
                for (int k = 0; k < p; k++) {
                    long e = (i * c + ch) * p + k;
                    dfb.set(e, 2 * fb.get(e) * dq[k] / c);
                }
            }
        }
    }
}
