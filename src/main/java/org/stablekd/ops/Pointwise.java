package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/** Elementwise ops on tensors of one shape (no broadcasting). */
public final class Pointwise {
    private Pointwise() {}

    public static Tensor relu(Tensor x) {
        Tensor y = unary(Op.RELU, x, 0);
        return Autograd.record(Op.RELU, y, null, new Tensor[] {Checks.contiguous(x)}, y);
    }

    /** min(max(x, 0), 6), as MobileNetV2 uses. */
    public static Tensor relu6(Tensor x) {
        Tensor xc = Checks.contiguous(x);
        Tensor y = unary(Op.RELU6, xc, 0);
        return Autograd.record(Op.RELU6, y, null, new Tensor[] {xc});
    }

    /** x · c. */
    public static Tensor scale(Tensor x, double c) {
        Tensor y = unary(Op.SCALE, x, c);
        return Autograd.record(Op.SCALE, y, new Attrs.Scalar(c), new Tensor[] {Checks.contiguous(x)});
    }

    /** x + c. */
    public static Tensor addScalar(Tensor x, double c) {
        Tensor y = unary(Op.ADD_SCALAR, x, c);
        return Autograd.record(Op.ADD_SCALAR, y, new Attrs.Scalar(c), new Tensor[] {Checks.contiguous(x)});
    }

    public static Tensor add(Tensor a, Tensor b) {
        return binary(Op.ADD, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return binary(Op.SUB, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return binary(Op.MUL, a, b);
    }

    /** relu(a + b) in one pass: the end of a residual block. */
    public static Tensor addRelu(Tensor a, Tensor b) {
        return binary(Op.ADD_RELU, a, b);
    }

    private static Tensor unary(Op op, Tensor x, double c) {
        String name = Checks.name(op);
        Checks.notNull(name, "input", x);
        Checks.floats(name, x);
        check(Double.isFinite(c), name, "the scalar must be finite, got %s", c);
        Tensor xc = Checks.contiguous(x);
        Tensor y = Tensor.emptyLike(x);
        Checks.backend(op, x).pointwise().unary(op, xc, c, y);
        return y;
    }

    private static Tensor binary(Op op, Tensor a, Tensor b) {
        String name = Checks.name(op);
        Checks.notNull(name, "first input", a);
        Checks.notNull(name, "second input", b);
        Checks.floats(name, a, b);
        check(a.shape().equals(b.shape()), name, "shapes differ: %s and %s (no broadcasting)", a.shape(), b.shape());
        Tensor ac = Checks.contiguous(a), bc = Checks.contiguous(b);
        Tensor y = Tensor.emptyLike(a);
        Checks.backend(op, a).pointwise().binary(op, ac, bc, y);
        Tensor[] saved = op == Op.ADD_RELU ? new Tensor[] {y} : new Tensor[0];
        return Autograd.record(op, y, null, new Tensor[] {ac, bc}, saved);
    }

    // ---------------------------------------------------------------- for the derivatives table

    /** dx = dy where the activation let the value through (see PointwiseKernels#activationBackward). */
    public static Tensor activationGrad(Op op, Tensor ref, Tensor dy) {
        Tensor dx = Tensor.emptyLike(dy);
        Checks.backend(op, dy).pointwise().activationBackward(op, ref, dy, dx);
        return dx;
    }

    /** a·b elementwise, not recorded. */
    public static Tensor mulRaw(Tensor a, Tensor b) {
        Tensor y = Tensor.emptyLike(a);
        Checks.backend(Op.MUL, a).pointwise().binary(Op.MUL, a, b, y);
        return y;
    }

    /** x·c, not recorded. */
    public static Tensor scaleRaw(Tensor x, double c) {
        Tensor y = Tensor.emptyLike(x);
        Checks.backend(Op.SCALE, x).pointwise().unary(Op.SCALE, x, c, y);
        return y;
    }
}
