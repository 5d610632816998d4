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
    /** Analytic double gradients against central finite differences (step {@link #FD_STEP}). */
    public static final Tolerance FD_F64 = new Tolerance(1e-6, 1e-5);
    public static final double FD_STEP = 1e-6;
    /** Our float32 results against PyTorch float32 golden fixtures. */
    public static final Tolerance GOLDEN_F32 = new Tolerance(1e-4, 1e-4);
    /** Whole-model logits against PyTorch (deeper sums, more rounding). */
    public static final Tolerance GOLDEN_MODEL_F32 = new Tolerance(5e-4, 5e-4);
    /** Bit-identical. */
    public static final Tolerance EXACT = new Tolerance(0, 0);
}
