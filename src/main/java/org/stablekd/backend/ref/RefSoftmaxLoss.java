package org.stablekd.backend.ref;

import org.stablekd.backend.SoftmaxLossKernels;
import org.stablekd.tensor.Tensor;

/**
 * Reference softmax and losses over rows of (n, classes), in double.
 *   log_softmax(z)_j = z_j − max z − log Σ exp(z − max z)
 *   CE_i = −(1−ε)·logp_i[label] − ε/C·Σ_j logp_ij;         dz = p − (1−ε)·onehot − ε/C
 *   KD   = τ²/n·Σ_i Σ_j pt_ij (log pt_ij − log ps_ij);     dS = τ/n·(ps − pt)
 *                                                          dT = τ/n·pt·((log pt − log ps) − KL_i)
 *   KD+CE = w_ce·CE + w_kd·KD (ε = 0);                     dS = w_ce·dz + w_kd·dS of KD
 */
final class RefSoftmaxLoss implements SoftmaxLossKernels {

    /** Writes log_softmax(row/T) of row {@code i} into {@code out}. */
    static void logSoftmaxRow(Buf x, long i, int cols, double t, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) max = Math.max(max, x.get(i * cols + j) / t);
        double sum = 0;
        for (int j = 0; j < cols; j++) sum += Math.exp(x.get(i * cols + j) / t - max);
        double lse = max + Math.log(sum);
        for (int j = 0; j < cols; j++) out[j] = x.get(i * cols + j) / t - lse;
    }

    @Override
    public void softmax(Tensor x, double temperature, boolean log, Tensor y) {
        int rows = x.dim(0), cols = x.dim(1);
        Buf xb = Buf.of(x), yb = Buf.of(y);
        double[] lp = new double[cols];
        for (long i = 0; i < rows; i++) {
            logSoftmaxRow(xb, i, cols, temperature, lp);
            for (int j = 0; j < cols; j++) yb.set(i * cols + j, log ? lp[j] : Math.exp(lp[j]));
        }
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, double temperature, boolean log, Tensor dx) {
        int rows = y.dim(0), cols = y.dim(1);
        Buf yb = Buf.of(y), db = Buf.of(dy), xb = Buf.of(dx);
        for (long i = 0; i < rows; i++) {
            double dot = 0;
            for (int j = 0; j < cols; j++) {
                long e = i * cols + j;
                dot += log ? db.get(e) : db.get(e) * yb.get(e);
            }
            for (int j = 0; j < cols; j++) {
                long e = i * cols + j;
                double dz = log ? db.get(e) - Math.exp(yb.get(e)) * dot : yb.get(e) * (db.get(e) - dot);
                xb.set(e, dz / temperature);
            }
        }
    }

    static int label(String op, Buf labels, long i, int cols) {
        int l = labels.getInt(i);
        if (l < 0 || l >= cols) {
            throw new IllegalArgumentException(op + ": label " + l + " at row " + i + " is outside [0, " + cols + ")");
        }
        return l;
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor labels, double smoothing, Tensor loss) {
        int rows = logits.dim(0), cols = logits.dim(1);
        Buf xb = Buf.of(logits), lb = Buf.of(labels);
        double[] lp = new double[cols];
        double total = 0;
        for (long i = 0; i < rows; i++) {
            logSoftmaxRow(xb, i, cols, 1, lp);
            double all = 0;
            for (int j = 0; j < cols; j++) all += lp[j];
            total += -(1 - smoothing) * lp[label("cross_entropy", lb, i, cols)] - smoothing / cols * all;
        }
        Buf.of(loss).set(0, total / rows);
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor labels, double smoothing, Tensor g, Tensor dlogits) {
        int rows = logits.dim(0), cols = logits.dim(1);
        Buf xb = Buf.of(logits), lb = Buf.of(labels), db = Buf.of(dlogits);
        double scale = Buf.of(g).get(0) / rows;
        double[] lp = new double[cols];
        for (long i = 0; i < rows; i++) {
            logSoftmaxRow(xb, i, cols, 1, lp);
            int l = label("cross_entropy", lb, i, cols);
            for (int j = 0; j < cols; j++) {
                double target = (j == l ? 1 - smoothing : 0) + smoothing / cols;
                db.set(i * cols + j, scale * (Math.exp(lp[j]) - target));
            }
        }
    }

    @Override
    public void kdLoss(Tensor student, Tensor teacher, double tau, Tensor loss) {
        int rows = student.dim(0), cols = student.dim(1);
        Buf sb = Buf.of(student), tb = Buf.of(teacher);
        double[] ls = new double[cols], lt = new double[cols];
        double total = 0;
        for (long i = 0; i < rows; i++) {
            logSoftmaxRow(sb, i, cols, tau, ls);
            logSoftmaxRow(tb, i, cols, tau, lt);
            for (int j = 0; j < cols; j++) total += Math.exp(lt[j]) * (lt[j] - ls[j]);
        }
        Buf.of(loss).set(0, total * tau * tau / rows);
    }

    @Override
    public void kdLossBackward(Tensor student, Tensor teacher, double tau, Tensor g, Tensor dStudent, Tensor dTeacher) {
        int rows = student.dim(0), cols = student.dim(1);
        Buf sb = Buf.of(student), tb = Buf.of(teacher), ds = Buf.of(dStudent), dt = Buf.of(dTeacher);
        double scale = Buf.of(g).get(0) * tau / rows;
        double[] ls = new double[cols], lt = new double[cols];
        for (long i = 0; i < rows; i++) {
            logSoftmaxRow(sb, i, cols, tau, ls);
            logSoftmaxRow(tb, i, cols, tau, lt);
            double kl = 0;
            for (int j = 0; j < cols; j++) kl += Math.exp(lt[j]) * (lt[j] - ls[j]);
            for (int j = 0; j < cols; j++) {
                double pt = Math.exp(lt[j]);
                if (ds != null) ds.set(i * cols + j, scale * (Math.exp(ls[j]) - pt));
                if (dt != null) dt.set(i * cols + j, scale * pt * ((lt[j] - ls[j]) - kl));
            }
        }
    }

    @Override
    public void kdCrossEntropy(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight, Tensor loss) {
        int rows = student.dim(0), cols = student.dim(1);
        Buf sb = Buf.of(student), tb = Buf.of(teacher), lb = Buf.of(labels);
        double[] lp = new double[cols], ls = new double[cols], lt = new double[cols];
        double ce = 0, kl = 0;
        for (long i = 0; i < rows; i++) {
            logSoftmaxRow(sb, i, cols, 1, lp);
            ce -= lp[label("kd_ce_loss", lb, i, cols)];
            logSoftmaxRow(sb, i, cols, tau, ls);
            logSoftmaxRow(tb, i, cols, tau, lt);
            for (int j = 0; j < cols; j++) kl += Math.exp(lt[j]) * (lt[j] - ls[j]);
        }
        Buf.of(loss).set(0, ceWeight * ce / rows + kdWeight * kl * tau * tau / rows);
    }

    @Override
    public void kdCrossEntropyBackward(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight,
                                       Tensor g, Tensor dStudent) {
        int rows = student.dim(0), cols = student.dim(1);
        Buf sb = Buf.of(student), tb = Buf.of(teacher), lb = Buf.of(labels), ds = Buf.of(dStudent);
        double scale = Buf.of(g).get(0) / rows;
        double[] lp = new double[cols], ls = new double[cols], lt = new double[cols];
        for (long i = 0; i < rows; i++) {
            logSoftmaxRow(sb, i, cols, 1, lp);
            logSoftmaxRow(sb, i, cols, tau, ls);
            logSoftmaxRow(tb, i, cols, tau, lt);
            int l = label("kd_ce_loss", lb, i, cols);
            for (int j = 0; j < cols; j++) {
                double ce = Math.exp(lp[j]) - (j == l ? 1 : 0), kd = tau * (Math.exp(ls[j]) - Math.exp(lt[j]));
                ds.set(i * cols + j, scale * (ceWeight * ce + kdWeight * kd));
            }
        }
    }
}
