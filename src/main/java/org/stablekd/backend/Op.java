package org.stablekd.backend;

/**
 * Every op the frontend dispatches to a backend. The derivatives table
 * ({@code org.stablekd.autograd.Derivatives}) is an exhaustive switch over this enum, so an op
 * added here without a backward rule does not compile; the op registry test fails for a
 * differentiable op without a test entry. Non-differentiable ops (copies, fills, optimizer
 * updates) write into a tensor the caller owns, are never recorded, and their "rule" is an error.
 */
public enum Op {
    // convolution and dense layers
    CONV2D,
    LINEAR,
    RESIDUAL_CHAIN, // identity residual blocks in training (conv, BN, ReLU, conv, BN, add, ReLU each) as one op where fused
    // normalization: training (batch statistics) or eval (running statistics)
    BATCH_NORM,
    SYNC_BATCH_NORM, // training batch norm with statistics over every rank's batch (a ReduceGroup)
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
    KD_CE_LOSS,     // ce_weight·CE + kd_weight·KD_LOSS in one op: the whole logit loss of a KD step
    // losses between two tensors of one shape (RegressionLossKernels)
    MSE_LOSS,
    // distillation methods (DistillKernels)
    DKD_LOSS,       // decoupled KD: α·TCKD + β·NCKD (Zhao et al. 2022)
    ATTENTION_MAP,  // (N,C,H,W) → (N,H·W): normalize_rows(mean_c f²) (attention transfer)
    // reductions to a scalar
    SUM,
    MEAN,
    // memory (not differentiable): a strided copy into a given tensor; a fill with a value or a one-element tensor
    COPY,
    FILL,
    // optimizer updates over a parameter slab (not differentiable)
    SGD_STEP,
    // metrics (not differentiable): top-1 and top-k hits of logits against labels, counted where the logits are
    TOPK_HITS;

    /** False for ops that write into a tensor the caller gives and are never recorded. */
    public boolean differentiable() {
        return switch (this) {
            case COPY, FILL, SGD_STEP, TOPK_HITS -> false;
            default -> true;
        };
    }
}
