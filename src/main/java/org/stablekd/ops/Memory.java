package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * Copies and fills into tensors the caller owns ({@link Op#COPY}, {@link Op#FILL}): parameter
 * slabs, state dicts, gradient buffers, contiguous copies of views. Never recorded.
 */
public final class Memory {
    private Memory() {}

    /** dst[i] = src[i]; both any strided views of one shape, dtype and device. */
    public static void copy(Tensor src, Tensor dst) {
        same("copy", src, dst);
        Checks.backend(Op.COPY, dst).copy().copy(src, dst);
    }

    /** Every element of the contiguous float tensor t = v. */
    public static void fill(Tensor t, double v) {
        Checks.notNull("fill", "tensor", t);
        Checks.floats("fill", t);
        check(t.isContiguous(), "fill", "needs a contiguous tensor, got a view of shape %s", t.shape());
        Checks.backend(Op.FILL, t).pointwise().fill(t, v);
    }

    /** A new tensor shaped like {@code like}, every element scale·g (g one element): the backward of sum and mean. */
    public static Tensor broadcastScalar(Tensor g, double scale, Tensor like) {
        Checks.floats("fill", g);
        check(g.numel() == 1, "fill", "the value must be a one-element tensor, got shape %s", g.shape());
        Tensor y = Tensor.emptyLike(like);
        Checks.backend(Op.FILL, g).pointwise().fillFromScalar(g, scale, y);
        return y;
    }

    private static void same(String op, Tensor src, Tensor dst) {
        Checks.notNull(op, "source", src);
        Checks.notNull(op, "destination", dst);
        src.storage().checkAlive();
        dst.storage().checkAlive();
        check(src.shape().equals(dst.shape()), op, "source %s and destination %s differ in shape", src.shape(), dst.shape());
        check(src.dtype() == dst.dtype(), op, "source is %s, destination %s (shape %s)", src.dtype(), dst.dtype(), dst.shape());
        check(src.device().equals(dst.device()), op, "source on %s, destination on %s (shape %s)", src.device(), dst.device(), dst.shape());
    }
}
