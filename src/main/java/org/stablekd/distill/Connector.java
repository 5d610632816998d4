package org.stablekd.distill;

import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Module;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * A learned bridge between feature maps of different shapes (per image (C,H,W)): average pooling
 * by a whole factor when the source is larger, then a 1×1 convolution + BatchNorm on channels, and
 * optionally a ReLU (for an input connector whose output stands in for a ReLU-ended stage's).
 * StableKD's plans use connectors on channels only ({@link Plan#validate}): a cut's two connectors
 * go in opposite directions, and neither may upsample. Connectors belong to the distillation: they
 * are trained and checkpointed with the student but never exported with it.
 */
public final class Connector extends Module {
    private final int pool;
    private final Conv2d conv;
    private final BatchNorm2d bn;
    private final boolean relu;
    public final Shape from, to;

    public Connector(Shape from, Shape to, Rng rng) {
        this(from, to, rng, false);
    }

    public Connector(Shape from, Shape to, Rng rng, boolean relu) {
        if (!spatialRatioOk(from, to)) {
            throw new IllegalArgumentException("no connector from " + from + " to " + to + ": sizes must differ by a whole factor");
        }
        if (from.dim(1) < to.dim(1)) {
            throw new IllegalArgumentException("a connector from " + from + " to the larger " + to
                    + " would need upsampling, which connectors do not do; cut the networks where the student is at least as large");
        }
        this.from = from;
        this.to = to;
        this.pool = from.dim(1) / to.dim(1);
        this.relu = relu;
        this.conv = child("conv", new Conv2d(from.dim(0), to.dim(0), 1, 1, 0)).kaimingFanOut(rng);
        this.bn = child("bn", new BatchNorm2d(to.dim(0)));
    }

    /** Same aspect and a whole-number ratio between the heights (and the widths). */
    public static boolean spatialRatioOk(Shape a, Shape b) {
        if (a.rank() != 3 || b.rank() != 3) return false;
        int ah = a.dim(1), aw = a.dim(2), bh = b.dim(1), bw = b.dim(2);
        if (ah >= bh) return ah % bh == 0 && aw % bw == 0 && ah / bh == aw / bw;
        return bh % ah == 0 && bw % aw == 0 && bh / ah == bw / aw;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (pool > 1) x = Pool.avgPool2d(x, pool, pool, 0, false);
        return relu ? bn.forwardRelu(conv.forward(x)) : bn.forward(conv.forward(x));
    }
}
