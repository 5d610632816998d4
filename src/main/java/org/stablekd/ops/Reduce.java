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
}
