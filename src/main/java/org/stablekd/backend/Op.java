package org.stablekd.backend;

/**
 * Every differentiable op of the engine. The derivatives table
 * ({@code org.stablekd.autograd.Derivatives}) is an exhaustive switch over this enum, so an op
 * added here without a backward rule does not compile; the op registry test fails for an op
 * without a test entry.
 */
public enum Op {
    // convolution and dense layers
    CONV2D,
    LINEAR,
    // normalization: training (batch statistics) or eval (running statistics)
    BATCH_NORM,
    // pointwise
    RELU,
    RELU6,
    ADD,
    SUB,
    MUL,
    SCALE,          // x * c
    ADD_SCALAR,     // x + c
    ADD_RELU,       // relu(a + b), fused for residual blocks
    // layout
    RESHAPE,
    CONCAT,         // along dim 1 (channels)
    NARROW,         // a slice along one dim: split and chunk
    CHANNEL_SHUFFLE,
    // pooling
    MAX_POOL2D,
    AVG_POOL2D,
    GLOBAL_AVG_POOL,
    // softmax and losses over the last dim of (N, C)
    SOFTMAX,
    LOG_SOFTMAX,
    CROSS_ENTROPY,
    KD_LOSS,
    MSE_LOSS,
    // reductions to a scalar
    SUM,
    MEAN
}
