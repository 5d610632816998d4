package org.stablekd.ops;

import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/** Full reductions to a one-element tensor. */
public final class Reduce {
    private Reduce() {}

    public static Tensor sum(Tensor x) {
        Checks.notNull("sum", "input", x);
        Checks.floats("sum", x);
        Tensor xc = Checks.contiguous(x);
        Tensor out = Tensor.emptyLike(x, Shape.scalar());
        Checks.backend(Op.SUM, x).reduce().sum(xc, out);
        return Autograd.record(Op.SUM, out, null, new Tensor[] {xc});
    }

    public static Tensor mean(Tensor x) {
        Checks.notNull("mean", "input", x);
        Checks.floats("mean", x);
        Checks.check(x.numel() > 0, "mean", "empty input %s", x.shape());
        Tensor xc = Checks.contiguous(x);
        Tensor out = Tensor.emptyLike(x, Shape.scalar());
        var backend = Checks.backend(Op.MEAN, x);
        backend.reduce().sum(xc, out);
        backend.pointwise().unary(Op.SCALE, out, 1.0 / x.numel(), out);
        return Autograd.record(Op.MEAN, out, null, new Tensor[] {xc});
    }

    /**
     * {top-1 hits, top-k hits} (a (2) F32 tensor on the logits' device) of logits (N, classes)
     * against I32 labels (N), ranked as {@link org.stablekd.backend.TopK#rank}: accuracy counted
     * where the logits are, so a device step downloads two numbers, not the logits. Not recorded.
     */
    public static Tensor topkHits(Tensor logits, Tensor labels, int k) {
        Checks.notNull("topk_hits", "logits", logits);
        Checks.notNull("topk_hits", "labels", labels);
        Checks.check(logits.rank() == 2 && logits.dtype() == org.stablekd.tensor.DType.F32, "topk_hits",
                "logits must be (N, classes) F32, got %s %s", logits.dtype(), logits.shape());
        Checks.check(labels.rank() == 1 && labels.dtype() == org.stablekd.tensor.DType.I32 && labels.dim(0) == logits.dim(0), "topk_hits",
                "labels must be (%d) I32 for logits %s, got %s %s", logits.dim(0), logits.shape(), labels.dtype(), labels.shape());
        Checks.check(labels.device().equals(logits.device()), "topk_hits", "labels on %s, logits on %s", labels.device(), logits.device());
        Checks.check(k >= 1, "topk_hits", "k must be at least 1, got %d", k);
        Tensor out = Tensor.emptyLike(logits, Shape.of(2));
        Checks.backend(Op.TOPK_HITS, logits).reduce().topkHits(Checks.contiguous(logits), Checks.contiguous(labels), k, out);
        return out;
    }

    /**
     * out (cols) = Σ over the rows of x (rows, cols), F32, on x's device: a statistic (the
     * teacher's mean probability), not recorded, so x must not require a gradient.
     */
    public static Tensor columnSums(Tensor x) {
        Checks.notNull("sum", "input", x);
        Checks.check(x.rank() == 2 && x.dtype() == org.stablekd.tensor.DType.F32, "sum", "columnSums needs (rows, cols) F32, got %s %s", x.dtype(), x.shape());
        Checks.check(!x.requiresGrad(), "sum", "columnSums is not recorded; compute it under Autograd.noGrad() from a tensor without a gradient");
        Tensor out = Tensor.emptyLike(x, Shape.of(x.dim(1)));
        Checks.backend(Op.SUM, x).reduce().sumRows(Checks.contiguous(x), out);
        return out;
    }
}
