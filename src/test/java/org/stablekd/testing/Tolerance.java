package org.stablekd.testing;

/**
 * Every tolerance the tests use, in one place: |actual − expected| ≤ atol + rtol·|expected|.
 */
public record Tolerance(double atol, double rtol) {
    /** A float32 kernel against the double-accumulating reference on small test shapes. */
    public static final Tolerance F32_VS_REF = new Tolerance(1e-4, 1e-4);
    /**
     * {@link #F32_VS_REF} without its atol: for results far below 1e-4 whose relative accuracy is
     * the point (e.g. the cross-entropy gradient of a confident, correct prediction).
     */
    public static final Tolerance F32_RELATIVE = new Tolerance(0, 1e-4);
    /**
     * CUDA kernels (float32, cuDNN FMA math, no TF32) against the cpu backend on the registry's small
     * shapes: both are float32 against the same double oracle within {@link #F32_VS_REF}, so the
     * same bound. TF32 (-Dstablekd.cuda.tf32=true) is never tested against this.
     */
    public static final Tolerance CUDA_VS_CPU = new Tolerance(1e-4, 1e-4);
    /**
     * Synchronized BatchNorm over ranks' parts of a batch against ordinary BatchNorm over the
     * whole batch (dist.SyncBatchNormTest), both float32: the same math with sums split and
     * combined in another order (2026-12-05: largest difference seen 5e-7, on input gradients).
     */
    public static final Tolerance SYNC_BN_VS_WHOLE_BATCH = new Tolerance(2e-6, 2e-6);
    /**
     * A whole resnet8 step with synchronized BatchNorm on two ranks against one process on the
     * whole batch (dist.SyncBatchNormModelTest), atol relative to each tensor's scale
     * ({@link #atScale}; 2026-12-05: largest seen 1.8e-6, layer2.0.bn1.weight's gradient).
     */
    public static final Tolerance SYNC_BN_MODEL_VS_WHOLE_BATCH = new Tolerance(1e-5, 0);
    /** Analytic double gradients against central finite differences (step {@link #FD_STEP}). */
    public static final Tolerance FD_F64 = new Tolerance(1e-6, 1e-5);
    public static final double FD_STEP = 1e-6;
    /** Our float32 results against PyTorch float32 golden fixtures. */
    public static final Tolerance GOLDEN_F32 = new Tolerance(1e-4, 1e-4);
    /** Whole-model logits against PyTorch (deeper sums, more rounding). */
    public static final Tolerance GOLDEN_MODEL_F32 = new Tolerance(5e-4, 5e-4);
    /**
     * Whole-model gradients (and SGD momentum buffers) against PyTorch computed in float64
     * (golden/steps-v1), atol stated relative to the tensor's scale ({@link #atScale}: its largest
     * magnitude, floored at 1 % of the largest gradient of the model, so that a structurally zero
     * gradient — a bias before a train-mode BatchNorm — is measured against the gradients flowing
     * through the network). Deep sums of float32: PyTorch's own float32 is up to 3e-6 (ResNets,
     * WRN) and 3e-5 (vgg8's structurally zero conv biases) off; ours 2e-6 and 2e-5. 1e-4 leaves a
     * factor 5 over the worst. Holds only where no ReLU or max-pool decision is within float32
     * rounding of its kink: the fixtures' inputs are chosen so (make_step_fixtures.py, KinkMonitor).
     */
    public static final Tolerance GOLDEN_GRAD_F32 = new Tolerance(1e-4, 0);
    /**
     * {@link #GOLDEN_GRAD_F32} for mobile_half at batch 2: its last stages normalize 2×2 planes of
     * a residual stream much larger than their spread, so float32 loses digits (PyTorch's own
     * float32: 2.5e-4 on gradients, 1.2e-5 on running statistics; ours 2.2e-4 and 8.7e-6; the ref
     * backend's, which accumulates in double, 1.5e-4: the loss is in storing float32 values).
     */
    public static final Tolerance GOLDEN_GRAD_F32_ILL_CONDITIONED = new Tolerance(2e-3, 0);
    /**
     * ShuffleV1 and ShuffleV2 at 1×28×28, batch 2: the same ill-conditioning, worse — float32
     * errors at the last stages' ReLU inputs reach 1e-4..2e-4 of a channel's spread, so some ReLU
     * decisions fall on the other side of the kink in any float32 implementation, and the
     * gradient of that element moves as a whole. PyTorch's own float32 is 1.5e-2 off on both (up
     * to 6e-2 for other inputs), ours 2.3e-2 (ShuffleV1) and 1.2e-2 (ShuffleV2; the ref backend,
     * accumulating in double, 1.6e-5 there but still 1.5e-2 on ShuffleV1). This bound catches wrong
     * wiring, a missing or doubled term, a wrong sign or scale of a layer (a channel-shuffle
     * backward left out fails it by 10x and more), not a subtle error (a 0.1 % error in every conv weight
     * gradient passes): those are the other models' job.
     */
    public static final Tolerance GOLDEN_GRAD_F32_KINKED = new Tolerance(0.1, 0);
    /**
     * Parameters after an SGD step and BatchNorm running statistics against PyTorch in float64,
     * relative to the tensor's largest magnitude: float32 rounding of the values themselves plus
     * lr times the gradient's error (PyTorch's float32: 1.9e-7; ours 1e-7 for resnet8, 2.7e-7 for
     * vgg8's running statistics). Tight enough to see a weight decay of 6e-4 instead of 5e-4 in the
     * parameters after one step (lr·Δwd·|p| ≈ 5e-6 of max |p|).
     */
    public static final Tolerance GOLDEN_STATE_F32 = new Tolerance(2e-6, 0);
    /**
     * Losses of whole models against PyTorch in float64 (relative): PyTorch's float32 3e-6 at
     * most (ShuffleV1, and the KD term of the KD step), ours 3.5e-6.
     */
    public static final Tolerance GOLDEN_LOSS_F32 = new Tolerance(0, 2e-5);
    /** Bit-identical. */
    public static final Tolerance EXACT = new Tolerance(0, 0);

    /** This tolerance with its atol multiplied by {@code scale}: for tolerances stated relative to a tensor's magnitude. */
    public Tolerance atScale(double scale) {
        return new Tolerance(atol * scale, rtol);
    }
}
