package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.backend.PoolGeometry;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/** Max, average and global average pooling over x (n,c,h,w), PyTorch semantics. */
public final class Pool {
    private Pool() {}

    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding, boolean ceilMode) {
        PoolGeometry g = geometry("max_pool2d", x, kernel, stride, padding, ceilMode);
        Tensor xc = Checks.contiguous(x);
        Shape out = Shape.of(g.n(), g.c(), g.p(), g.q());
        Tensor y = Tensor.emptyLike(x, out);
        Tensor argmax = Tensor.empty(DType.I32, out, x.device());
        Checks.backend(Op.MAX_POOL2D, x).pool().maxForward(g, xc, y, argmax);
        return Autograd.record(Op.MAX_POOL2D, y, g, new Tensor[] {xc}, argmax);
    }

    /** Average pooling; padding counts in the divisor (count_include_pad=True), as PyTorch's default. */
    public static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding, boolean ceilMode) {
        PoolGeometry g = geometry("avg_pool2d", x, kernel, stride, padding, ceilMode);
        Tensor xc = Checks.contiguous(x);
        Tensor y = Tensor.emptyLike(x, Shape.of(g.n(), g.c(), g.p(), g.q()));
        Checks.backend(Op.AVG_POOL2D, x).pool().avgForward(g, xc, y);
        return Autograd.record(Op.AVG_POOL2D, y, g, new Tensor[] {xc});
    }

    /** (n,c,h,w) → (n,c): the mean of each plane (AdaptiveAvgPool2d(1) followed by flatten). */
    public static Tensor globalAvgPool(Tensor x) {
        String op = "global_avg_pool";
        Checks.rank(op, "input", x, 4, "(N,C,H,W)");
        Checks.floats(op, x);
        check(x.dim(2) * x.dim(3) > 0, op, "input %s has empty planes", x.shape());
        Tensor xc = Checks.contiguous(x);
        Tensor y = Tensor.emptyLike(x, Shape.of(x.dim(0), x.dim(1)));
        Checks.backend(Op.GLOBAL_AVG_POOL, x).pool().globalAvgForward(xc, y);
        return Autograd.record(Op.GLOBAL_AVG_POOL, y, null, new Tensor[] {xc});
    }

    private static PoolGeometry geometry(String op, Tensor x, int kernel, int stride, int padding, boolean ceilMode) {
        Checks.rank(op, "input", x, 4, "(N,C,H,W)");
        Checks.floats(op, x);
        check(kernel >= 1 && stride >= 1 && padding >= 0, op, "kernel %d and stride %d must be >= 1, padding %d >= 0", kernel, stride, padding);
        check(2 * padding <= kernel, op, "padding %d must be at most half the kernel %d", padding, kernel);
        PoolGeometry g = PoolGeometry.of(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernel, kernel, stride, stride, padding, padding, ceilMode);
        check(g.p() >= 1 && g.q() >= 1, op, "kernel %d with padding %d does not fit input %s", kernel, padding, x.shape());
        return g;
    }

    // ---------------------------------------------------------------- for the derivatives table

    public static Tensor maxGrad(PoolGeometry g, Tensor dy, Tensor argmax) {
        Tensor dx = Tensor.emptyLike(dy, Shape.of(g.n(), g.c(), g.h(), g.w()));
        Checks.backend(Op.MAX_POOL2D, dy).pool().maxBackward(g, dy, argmax, dx);
        return dx;
    }

    public static Tensor avgGrad(PoolGeometry g, Tensor dy) {
        Tensor dx = Tensor.emptyLike(dy, Shape.of(g.n(), g.c(), g.h(), g.w()));
        Checks.backend(Op.AVG_POOL2D, dy).pool().avgBackward(g, dy, dx);
        return dx;
    }

    public static Tensor globalAvgGrad(Tensor dy, Shape inputShape) {
        Tensor dx = Tensor.emptyLike(dy, inputShape);
        Checks.backend(Op.GLOBAL_AVG_POOL, dy).pool().globalAvgBackward(dy, dx);
        return dx;
    }
}
