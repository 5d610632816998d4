package org.stablekd.ops;

import org.stablekd.tensor.Shape;

/** The attributes ops record for their backward (see each op's frontend). */
public final class Attrs {
    private Attrs() {}

    /**
     * BATCH_NORM: training uses and updates batch statistics; eval uses the running ones. relu:
     * y = max(bn(x), 0) in one op (the backward then reads the saved output as the ReLU's mask).
     * addRelu: y = max(bn(x) + r, 0) in one op, r the op's fourth input (training only; see
     * Norm.batchNormAddRelu).
     */
    public record BatchNorm(boolean training, double eps, boolean relu, boolean addRelu) {}

    /** A residual chain in training: the layers' geometry, the blocks (their weights and BatchNorm arguments), eps. */
    public record ResidualChain(org.stablekd.backend.ConvGeometry geometry, org.stablekd.backend.ResidualBlockTraining[] blocks, double eps) {}

    /**
     * SYNC_BATCH_NORM (training only): the group its statistics were reduced over (the backward
     * all-reduces through it again) and the global number of values per channel.
     */
    public record SyncBatchNorm(double eps, ReduceGroup group, long count) {}

    /** SCALE and ADD_SCALAR. */
    public record Scalar(double value) {}

    /** RESHAPE: the input's shape. */
    public record Reshape(Shape inputShape) {}

    /** NARROW: elements [start, start+length) of dim. */
    public record Narrow(int dim, int start, int length) {}

    /** CHANNEL_SHUFFLE. */
    public record Shuffle(int groups) {}

    /** SOFTMAX and LOG_SOFTMAX. */
    public record Softmax(double temperature) {}

    /** CROSS_ENTROPY. */
    public record CrossEntropy(double labelSmoothing) {}

    /** KD_LOSS. */
    public record Kd(double tau) {}

    /** KD_CE_LOSS: ceWeight·CE + kdWeight·KD at temperature τ. */
    public record KdCe(double tau, double ceWeight, double kdWeight) {}

    /** DKD_LOSS: α·TCKD + β·NCKD at temperature τ. */
    public record Dkd(double alpha, double beta, double tau) {}
}
