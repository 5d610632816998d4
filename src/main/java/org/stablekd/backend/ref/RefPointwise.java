package org.stablekd.backend.ref;

import org.stablekd.backend.Op;
import org.stablekd.backend.PointwiseKernels;
import org.stablekd.tensor.Tensor;

/** Reference elementwise kernels. */
final class RefPointwise implements PointwiseKernels {

    @Override
    public void unary(Op op, Tensor x, double c, Tensor y) {
        Buf xb = Buf.of(x), yb = Buf.of(y);
        for (long i = 0, n = x.numel(); i < n; i++) {
            double v = xb.get(i);
            yb.set(i, switch (op) {
                case RELU -> v > 0 ? v : 0;
                case RELU6 -> Math.min(Math.max(v, 0), 6);
                case SCALE -> v * c;
                case ADD_SCALAR -> v + c;
                default -> throw new IllegalArgumentException(op + " is not a unary pointwise op");
            });
        }
    }

    @Override
    public void binary(Op op, Tensor a, Tensor b, Tensor y) {
        Buf ab = Buf.of(a), bb = Buf.of(b), yb = Buf.of(y);
        for (long i = 0, n = a.numel(); i < n; i++) {
            double u = ab.get(i), v = bb.get(i);
            yb.set(i, switch (op) {
                case ADD -> u + v;
                case SUB -> u - v;
                case MUL -> u * v;
                case ADD_RELU -> Math.max(u + v, 0);
                default -> throw new IllegalArgumentException(op + " is not a binary pointwise op");
            });
        }
    }

    @Override
    public void activationBackward(Op op, Tensor ref, Tensor dy, Tensor dx) {
        Buf rb = Buf.of(ref), db = Buf.of(dy), xb = Buf.of(dx);
        for (long i = 0, n = ref.numel(); i < n; i++) {
            double r = rb.get(i);
            boolean pass = switch (op) {
                case RELU, ADD_RELU -> r > 0;
                case RELU6 -> r > 0 && r < 6;
                default -> throw new IllegalArgumentException(op + " is not an activation");
            };
            xb.set(i, pass ? db.get(i) : 0);
        }
    }

    @Override
    public void axpy(Tensor a, double c, Tensor b, Tensor y) {
        Buf ab = Buf.of(a), bb = Buf.of(b), yb = Buf.of(y);
        for (long i = 0, n = a.numel(); i < n; i++) yb.set(i, ab.get(i) + c * bb.get(i));
    }

    @Override
    public void fillFromScalar(Tensor g, double scale, Tensor y) {
        double v = Buf.of(g).get(0) * scale;
        fill(y, v);
    }

    @Override
    public void fill(Tensor y, double v) {
        Buf yb = Buf.of(y);
        for (long i = 0, n = y.numel(); i < n; i++) yb.set(i, v);
    }
}
