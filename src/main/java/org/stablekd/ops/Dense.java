package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * The linear layer. Its forward (a bias broadcast and a GEMM) and its backward (two GEMMs and a
 * column sum) are the kernels a backend supporting {@link Op#LINEAR} provides, so all of them
 * dispatch under LINEAR.
 */
public final class Dense {
    private Dense() {}

    /** y (n,out) = x (n,in) · wᵀ (w is (out,in)) + bias (out), bias optional. */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        String op = "linear";
        Checks.rank(op, "input", x, 2, "(N,in)");
        Checks.rank(op, "weight", w, 2, "(out,in)");
        Checks.floats(op, x, w, bias);
        check(x.dim(1) == w.dim(1), op, "input %s has %d features, weight %s expects %d", x.shape(), x.dim(1), w.shape(), w.dim(1));
        if (bias != null) Checks.shape(op, "bias", bias, Shape.of(w.dim(0)));
        Tensor xc = Checks.contiguous(x), wc = Checks.contiguous(w), bc = Checks.contiguous(bias);
        Tensor y = Tensor.emptyLike(x, Shape.of(x.dim(0), w.dim(0)));
        var backend = Checks.backend(Op.LINEAR, x);
        if (bc != null) backend.copy().copy(bc.viewAs(1, w.dim(0)).expandView(x.dim(0), w.dim(0)), y);
        backend.gemm().matmul(false, true, 1, xc, wc, bc != null ? 1 : 0, y);
        MacCounter.add((long) x.dim(0) * x.dim(1) * w.dim(0));
        return Autograd.record(Op.LINEAR, y, null, new Tensor[] {xc, wc, bc});
    }

    /**
     * {dx = g·w, dw = gᵀ·x, dbias = Σ_rows g} of y = x·wᵀ + b, each null where not wanted (for the
     * derivatives table).
     */
    public static Tensor[] grads(Tensor x, Tensor w, Tensor g, boolean wantX, boolean wantW, boolean wantBias) {
        return new Tensor[] {wantX ? matmul(false, g, w) : null, wantW ? matmul(true, g, x) : null, wantBias ? sumRows(g) : null};
    }

    // c = op(a)·b into a new tensor
    private static Tensor matmul(boolean transA, Tensor a, Tensor b) {
        Tensor c = Tensor.emptyLike(a, Shape.of(transA ? a.dim(1) : a.dim(0), b.dim(1)));
        Checks.backend(Op.LINEAR, a).gemm().matmul(transA, false, 1, a, b, 0, c);
        return c;
    }

    // column sums of x (rows, cols)
    private static Tensor sumRows(Tensor x) {
        Tensor out = Tensor.emptyLike(x, Shape.of(x.dim(1)));
        Checks.backend(Op.LINEAR, x).reduce().sumRows(x, out);
        return out;
    }
}
