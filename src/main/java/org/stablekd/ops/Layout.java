package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import java.util.Arrays;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/** Reshapes and channel moves. Every output is contiguous (copies where a view would not be). */
public final class Layout {
    private Layout() {}

    /** The same elements in a new shape (one dim may be -1); a view when the input is contiguous. */
    public static Tensor reshape(Tensor x, int... dims) {
        Checks.notNull("reshape", "input", x);
        x.storage().checkAlive();
        Shape target = x.inferShape(dims);
        Tensor xc = Checks.contiguous(x);
        Tensor y = xc.viewAs(target.dims());
        return Autograd.record(Op.RESHAPE, y, new Attrs.Reshape(x.shape()), new Tensor[] {xc});
    }

    /** (n, …) → (n, rest). */
    public static Tensor flatten(Tensor x) {
        Checks.notNull("flatten", "input", x);
        check(x.rank() >= 1, "flatten", "needs at least one dimension, got a scalar");
        return reshape(x, x.dim(0), -1);
    }

    /** Joins tensors along dim 1 (channels); all other dims must agree. */
    public static Tensor concat(Tensor... xs) {
        String op = "concat";
        check(xs.length >= 1, op, "needs at least one tensor");
        Checks.notNull(op, "input 0", xs[0]);
        int rank = xs[0].rank();
        check(rank >= 2, op, "joins along dim 1, input 0 has shape %s", xs[0].shape());
        int total = 0;
        for (int i = 0; i < xs.length; i++) {
            Checks.notNull(op, "input " + i, xs[i]);
            xs[i].storage().checkAlive();
            check(xs[i].dtype() == xs[0].dtype() && xs[i].device().equals(xs[0].device()), op,
                    "input %d is %s on %s, input 0 is %s on %s", i, xs[i].dtype(), xs[i].device(), xs[0].dtype(), xs[0].device());
            check(xs[i].rank() == rank && xs[i].shape().with(1, 0).equals(xs[0].shape().with(1, 0)), op,
                    "input %d has shape %s, input 0 has %s: all dims but 1 must agree", i, xs[i].shape(), xs[0].shape());
            total += xs[i].dim(1);
        }
        Tensor y = Tensor.emptyLike(xs[0], xs[0].shape().with(1, total));
        var copy = Checks.backend(Op.CONCAT, xs[0]).copy();
        int at = 0;
        Tensor[] inputs = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            inputs[i] = Checks.contiguous(xs[i]);
            copy.copy(inputs[i], y.narrowView(1, at, xs[i].dim(1)));
            at += xs[i].dim(1);
        }
        return Autograd.record(Op.CONCAT, y, null, inputs);
    }

    /** Elements [start, start+length) along {@code dim}, copied to a contiguous tensor. */
    public static Tensor narrow(Tensor x, int dim, int start, int length) {
        String op = "narrow";
        Checks.notNull(op, "input", x);
        x.storage().checkAlive();
        int d = dim < 0 ? x.rank() + dim : dim;
        check(d >= 0 && d < x.rank(), op, "dim %d out of range for shape %s", dim, x.shape());
        check(start >= 0 && length >= 0 && start + length <= x.dim(d), op,
                "[%d, %d) is outside dim %d of shape %s", start, start + length, d, x.shape());
        Tensor y = Tensor.emptyLike(x, x.shape().with(d, length));
        Checks.backend(Op.NARROW, x).copy().copy(x.narrowView(d, start, length), y);
        return Autograd.record(Op.NARROW, y, new Attrs.Narrow(d, start, length), new Tensor[] {x});
    }

    /** Splits dim 1 into pieces of the given sizes (they must add up to the channel count). */
    public static Tensor[] split(Tensor x, int... sizes) {
        Checks.notNull("split", "input", x);
        check(x.rank() >= 2 && Arrays.stream(sizes).sum() == x.dim(1) && Arrays.stream(sizes).allMatch(s -> s >= 0), "split",
                "sizes %s must be non-negative and add up to dim 1 of %s", Arrays.toString(sizes), x.shape());
        Tensor[] out = new Tensor[sizes.length];
        int at = 0;
        for (int i = 0; i < sizes.length; i++) {
            out[i] = narrow(x, 1, at, sizes[i]);
            at += sizes[i];
        }
        return out;
    }

    /** Splits dim 1 into {@code chunks} equal parts. */
    public static Tensor[] chunk(Tensor x, int chunks) {
        Checks.notNull("chunk", "input", x);
        check(chunks >= 1 && x.rank() >= 2 && x.dim(1) % chunks == 0, "chunk",
                "dim 1 of %s does not split into %d equal chunks", x.shape(), chunks);
        int[] sizes = new int[chunks];
        Arrays.fill(sizes, x.dim(1) / chunks);
        return split(x, sizes);
    }

    /**
     * ShuffleNet's channel shuffle of x (n,c,h,w): view channels as (groups, c/groups), transpose
     * to (c/groups, groups), flatten back. Output channel j·groups+i is input channel i·(c/groups)+j.
     */
    public static Tensor channelShuffle(Tensor x, int groups) {
        String op = "channel_shuffle";
        Checks.rank(op, "input", x, 4, "(N,C,H,W)");
        check(groups >= 1 && x.dim(1) % groups == 0, op, "groups=%d must divide the %d channels of %s", groups, x.dim(1), x.shape());
        Tensor xc = Checks.contiguous(x);
        Tensor y = Tensor.emptyLike(x);
        shuffleInto(xc, groups, y);
        return Autograd.record(Op.CHANNEL_SHUFFLE, y, new Attrs.Shuffle(groups), new Tensor[] {xc});
    }

    /** y = shuffle(x, groups); the backward is shuffleInto(dy, c/groups, dx). */
    static void shuffleInto(Tensor x, int groups, Tensor y) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor src = x.viewAs(n, groups, c / groups, h * w).permuteView(0, 2, 1, 3);
        Checks.backend(Op.CHANNEL_SHUFFLE, x).copy().copy(src, y.viewAs(n, c / groups, groups, h * w));
    }

    // ---------------------------------------------------------------- for the derivatives table

    /** The slices of dy (n, Σc_i, …) that belong to each input of a concat. */
    public static Tensor[] concatGrads(Tensor dy, int[] channels, boolean[] wanted) {
        Tensor[] out = new Tensor[channels.length];
        var copy = Checks.backend(Op.CONCAT, dy).copy();
        int at = 0;
        for (int i = 0; i < channels.length; i++) {
            if (wanted[i]) {
                out[i] = Tensor.emptyLike(dy, dy.shape().with(1, channels[i]));
                copy.copy(dy.narrowView(1, at, channels[i]), out[i]);
            }
            at += channels[i];
        }
        return out;
    }

    /** Zeros of {@code inputShape} with dy written at [start, start+length) of dim. */
    public static Tensor narrowGrad(Tensor dy, Shape inputShape, int dim, int start, int length) {
        Tensor dx = Tensor.emptyLike(dy, inputShape);
        var backend = Checks.backend(Op.NARROW, dy);
        backend.pointwise().fill(dx, 0);
        backend.copy().copy(dy, dx.narrowView(dim, start, length));
        return dx;
    }

    public static Tensor shuffleGrad(Tensor dy, int groups) {
        Tensor dx = Tensor.emptyLike(dy);
        shuffleInto(dy, dy.dim(1) / groups, dx);
        return dx;
    }
}
