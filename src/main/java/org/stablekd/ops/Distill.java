package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Ops of distillation methods beyond Hinton's KD ({@link Losses#kdLoss}): DKD's decoupled loss and
 * the attention maps of attention transfer. Kernels: {@code DistillKernels}.
 */
public final class Distill {
    private Distill() {}

    /** PyTorch's F.normalize default: rows are divided by max(‖row‖₂, eps). */
    public static final double NORMALIZE_EPS = 1e-12;

    /**
     * Decoupled knowledge distillation (Zhao et al., CVPR 2022; mdistiller's {@code dkd_loss}):
     * α·TCKD + β·NCKD, each τ²-scaled and averaged over the batch, where with s = softmax(student/τ),
     * t = softmax(teacher/τ) and each row's target g:
     * <pre>
     *   TCKD = KL([t_g, 1−t_g] ‖ [s_g, 1−s_g])      (target vs the rest)
     *   NCKD = KL(t̂ ‖ ŝ)                           (the softmaxes renormalized over the non-target classes)
     * </pre>
     * The teacher logits must not require a gradient (a frozen teacher: see distill.Teacher).
     *
     * @param student logits (N, classes), classes ≥ 2
     * @param teacher logits (N, classes)
     * @param labels  target classes (N), I32
     */
    public static Tensor dkdLoss(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau) {
        String op = Checks.name(Op.DKD_LOSS);
        Checks.logitsAndLabels(op, "DKD", student, teacher, labels);
        check(student.dim(1) >= 2, op, "logits %s: the target/non-target split needs at least 2 classes", student.shape());
        check(tau > 0 && Double.isFinite(tau), op, "temperature must be positive and finite, got %s", tau);
        check(Double.isFinite(alpha) && Double.isFinite(beta), op, "weights must be finite, got alpha %s, beta %s", alpha, beta);
        Tensor sc = Checks.contiguous(student), tc = Checks.contiguous(teacher), lc = Checks.contiguous(labels);
        Tensor loss = Tensor.emptyLike(student, Shape.scalar());
        Checks.backend(Op.DKD_LOSS, student).distill().dkdLoss(sc, tc, lc, alpha, beta, tau, loss);
        return Autograd.record(Op.DKD_LOSS, loss, new Attrs.Dkd(alpha, beta, tau), new Tensor[] {sc, tc, lc});
    }

    /**
     * The attention map of a feature map (Zagoruyko &amp; Komodakis; RepDistiller's {@code Attention},
     * p = 2): f (N,C,H,W) → a (N, H·W) = F.normalize(mean_c f²), i.e. each row divided by
     * max(‖row‖₂, 1e-12). The attention-transfer loss of a pair is {@code Losses.mse(a_s, a_t)}.
     */
    public static Tensor attentionMap(Tensor f) {
        String op = Checks.name(Op.ATTENTION_MAP);
        Checks.rank(op, "features", f, 4, "(N,C,H,W)");
        Checks.floats(op, f);
        check(f.numel() > 0, op, "empty features %s", f.shape());
        Tensor fc = Checks.contiguous(f);
        Shape out = Shape.of(f.dim(0), f.dim(2) * f.dim(3));
        Tensor q = Tensor.emptyLike(f, out), a = Tensor.emptyLike(f, out);
        Checks.backend(Op.ATTENTION_MAP, f).distill().attentionMap(fc, NORMALIZE_EPS, q, a);
        return Autograd.record(Op.ATTENTION_MAP, a, null, new Tensor[] {fc}, q);
    }

    // ---------------------------------------------------------------- for the derivatives table

    /** d loss / d student logits. */
    public static Tensor dkdGrad(Tensor student, Tensor teacher, Tensor labels, Attrs.Dkd a, Tensor g) {
        Tensor ds = Tensor.emptyLike(student);
        Checks.backend(Op.DKD_LOSS, student).distill().dkdLossBackward(student, teacher, labels, a.alpha(), a.beta(), a.tau(), g, ds);
        return ds;
    }

    /** df from the features, the saved un-normalized map q = mean_c f² and the output gradient. */
    public static Tensor attentionMapGrad(Tensor f, Tensor q, Tensor da) {
        Tensor df = Tensor.emptyLike(f);
        Checks.backend(Op.ATTENTION_MAP, f).distill().attentionMapBackward(f, q, da, NORMALIZE_EPS, df);
        return df;
    }
}
