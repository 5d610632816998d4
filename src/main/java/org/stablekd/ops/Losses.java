package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Softmax with a temperature and the losses of classification and distillation over (n, classes)
 * logits; the mean squared error of feature distillation.
 */
public final class Losses {
    private Losses() {}

    /** softmax(x / temperature) per row. */
    public static Tensor softmax(Tensor x, double temperature) {
        return softmax(Op.SOFTMAX, x, temperature);
    }

    /** log_softmax(x / temperature) per row. */
    public static Tensor logSoftmax(Tensor x, double temperature) {
        return softmax(Op.LOG_SOFTMAX, x, temperature);
    }

    private static Tensor softmax(Op op, Tensor x, double t) {
        String name = Checks.name(op);
        Checks.rank(name, "input", x, 2, "(N,classes)");
        Checks.floats(name, x);
        check(t > 0 && Double.isFinite(t), name, "temperature must be positive and finite, got %s", t);
        check(x.dim(1) >= 1, name, "input %s has no classes", x.shape());
        Tensor xc = Checks.contiguous(x);
        Tensor y = Tensor.emptyLike(x);
        Checks.backend(op, x).softmaxLoss().softmax(xc, t, op == Op.LOG_SOFTMAX, y);
        return Autograd.record(op, y, new Attrs.Softmax(t), new Tensor[] {xc}, y);
    }

    /** Mean cross-entropy of logits (n, classes) against integer labels (n). */
    public static Tensor crossEntropy(Tensor logits, Tensor labels) {
        return crossEntropy(logits, labels, 0);
    }

    /** With label smoothing ε: target = (1−ε)·onehot + ε/classes. */
    public static Tensor crossEntropy(Tensor logits, Tensor labels, double labelSmoothing) {
        String op = "cross_entropy";
        Checks.rank(op, "logits", logits, 2, "(N,classes)");
        Checks.floats(op, logits);
        Checks.rank(op, "labels", labels, 1, "(N)");
        check(labels.dtype() == DType.I32, op, "labels must be I32 class indices, got %s", labels.dtype());
        check(labels.dim(0) == logits.dim(0), op, "%d labels for logits %s", labels.dim(0), logits.shape());
        check(labels.device().equals(logits.device()), op, "labels on %s, logits on %s", labels.device(), logits.device());
        check(logits.dim(0) >= 1, op, "empty batch");
        check(labelSmoothing >= 0 && labelSmoothing <= 1, op, "label smoothing must be in [0, 1], got %s", labelSmoothing);
        Tensor xc = Checks.contiguous(logits), lc = Checks.contiguous(labels);
        Tensor loss = Tensor.emptyLike(logits, Shape.scalar());
        Checks.backend(Op.CROSS_ENTROPY, logits).softmaxLoss().crossEntropy(xc, lc, labelSmoothing, loss);
        return Autograd.record(Op.CROSS_ENTROPY, loss, new Attrs.CrossEntropy(labelSmoothing), new Tensor[] {xc, lc});
    }

    /**
     * Hinton's distillation loss τ²·KL(softmax(teacher/τ) ‖ softmax(student/τ)), averaged over the
     * batch (PyTorch: kl_div(log_softmax(s/τ), softmax(t/τ), reduction='batchmean')·τ²).
     */
    public static Tensor kdLoss(Tensor student, Tensor teacher, double tau) {
        String op = "kd_loss";
        Checks.rank(op, "student logits", student, 2, "(N,classes)");
        Checks.rank(op, "teacher logits", teacher, 2, "(N,classes)");
        Checks.floats(op, student, teacher);
        check(student.shape().equals(teacher.shape()), op, "student logits %s and teacher logits %s differ", student.shape(), teacher.shape());
        check(tau > 0 && Double.isFinite(tau), op, "temperature must be positive and finite, got %s", tau);
        check(student.dim(0) >= 1, op, "empty batch");
        Tensor sc = Checks.contiguous(student), tc = Checks.contiguous(teacher);
        Tensor loss = Tensor.emptyLike(student, Shape.scalar());
        Checks.backend(Op.KD_LOSS, student).softmaxLoss().kdLoss(sc, tc, tau, loss);
        return Autograd.record(Op.KD_LOSS, loss, new Attrs.Kd(tau), new Tensor[] {sc, tc});
    }

    /**
     * The logit loss of a KD step as one op: ceWeight·CE(student, labels) + kdWeight·{@link #kdLoss}
     * (no label smoothing). Where the backend fuses it (CUDA) both terms and the gradient come from
     * one pass over each row. The teacher logits must not require a gradient (a frozen teacher).
     */
    public static Tensor kdCrossEntropy(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight) {
        String op = Checks.name(Op.KD_CE_LOSS);
        Checks.logitsAndLabels(op, "KD", student, teacher, labels);
        check(tau > 0 && Double.isFinite(tau), op, "temperature must be positive and finite, got %s", tau);
        check(Double.isFinite(ceWeight) && Double.isFinite(kdWeight), op, "weights must be finite, got ce %s, kd %s", ceWeight, kdWeight);
        Tensor sc = Checks.contiguous(student), tc = Checks.contiguous(teacher), lc = Checks.contiguous(labels);
        Tensor loss = Tensor.emptyLike(student, Shape.scalar());
        Checks.backend(Op.KD_CE_LOSS, student).softmaxLoss().kdCrossEntropy(sc, tc, lc, tau, ceWeight, kdWeight, loss);
        return Autograd.record(Op.KD_CE_LOSS, loss, new Attrs.KdCe(tau, ceWeight, kdWeight), new Tensor[] {sc, tc, lc});
    }

    /**
     * Whether the backend that runs KD_CE_LOSS on {@code student} fuses it ({@code fusesKdCe}):
     * where true, a KD step's logit loss should be one {@link #kdCrossEntropy} rather than
     * {@link #crossEntropy} and {@link #kdLoss} (distill.KdLogitLoss decides with this).
     */
    public static boolean fusesKdCe(Tensor student) {
        return Checks.backend(Op.KD_CE_LOSS, student).softmaxLoss().fusesKdCe();
    }

    /** mean((a − b)²) over all elements (feature distillation). */
    public static Tensor mse(Tensor a, Tensor b) {
        String op = "mse_loss";
        Checks.notNull(op, "input", a);
        Checks.notNull(op, "target", b);
        Checks.floats(op, a, b);
        check(a.shape().equals(b.shape()), op, "input %s and target %s differ", a.shape(), b.shape());
        check(a.numel() >= 1, op, "empty input");
        Tensor ac = Checks.contiguous(a), bc = Checks.contiguous(b);
        Tensor loss = Tensor.emptyLike(a, Shape.scalar());
        Checks.backend(Op.MSE_LOSS, a).regressionLoss().mse(ac, bc, loss);
        return Autograd.record(Op.MSE_LOSS, loss, null, new Tensor[] {ac, bc});
    }

    // ---------------------------------------------------------------- for the derivatives table

    public static Tensor softmaxGrad(Tensor y, Tensor dy, double t, boolean log) {
        Tensor dx = Tensor.emptyLike(y);
        Checks.backend(log ? Op.LOG_SOFTMAX : Op.SOFTMAX, y).softmaxLoss().softmaxBackward(y, dy, t, log, dx);
        return dx;
    }

    public static Tensor crossEntropyGrad(Tensor logits, Tensor labels, double smoothing, Tensor g) {
        Tensor dx = Tensor.emptyLike(logits);
        Checks.backend(Op.CROSS_ENTROPY, logits).softmaxLoss().crossEntropyBackward(logits, labels, smoothing, g, dx);
        return dx;
    }

    /** {dStudent, dTeacher}, each null where not wanted. */
    public static Tensor[] kdGrads(Tensor s, Tensor t, double tau, Tensor g, boolean wantS, boolean wantT) {
        Tensor ds = wantS ? Tensor.emptyLike(s) : null, dt = wantT ? Tensor.emptyLike(t) : null;
        Checks.backend(Op.KD_LOSS, s).softmaxLoss().kdLossBackward(s, t, tau, g, ds, dt);
        return new Tensor[] {ds, dt};
    }

    /** d loss/d student of {@link #kdCrossEntropy}. */
    public static Tensor kdCrossEntropyGrad(Tensor s, Tensor t, Tensor labels, Attrs.KdCe a, Tensor g) {
        Tensor ds = Tensor.emptyLike(s);
        Checks.backend(Op.KD_CE_LOSS, s).softmaxLoss().kdCrossEntropyBackward(s, t, labels, a.tau(), a.ceWeight(), a.kdWeight(), g, ds);
        return ds;
    }

    public static Tensor[] mseGrads(Tensor a, Tensor b, Tensor g, boolean wantA, boolean wantB) {
        Tensor da = wantA ? Tensor.emptyLike(a) : null, db = wantB ? Tensor.emptyLike(b) : null;
        Checks.backend(Op.MSE_LOSS, a).regressionLoss().mseBackward(a, b, g, da, db);
        return new Tensor[] {da, db};
    }
}
