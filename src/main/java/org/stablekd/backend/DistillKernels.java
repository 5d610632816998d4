package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/**
 * Kernels of distillation methods beyond plain KD: DKD's decoupled loss (Zhao et al., CVPR 2022)
 * and attention maps for attention transfer (Zagoruyko &amp; Komodakis, ICLR 2017). Inputs are
 * contiguous (the frontend made them so); loss outputs are one-element tensors; backwards take
 * the incoming gradient g as a one-element tensor (losses) or a tensor shaped like the output.
 */
public interface DistillKernels {
    /**
     * loss = α·TCKD + β·NCKD over rows of (n, classes) logits with target g = labels[i] (I32):
     * <pre>
     *   s = softmax(student/τ), t = softmax(teacher/τ)
     *   TCKD = τ²/n · Σ_i KL([t_g, 1−t_g] ‖ [s_g, 1−s_g])
     *   NCKD = τ²/n · Σ_i KL(t̂ ‖ ŝ),  t̂, ŝ = the softmaxes over the non-target classes only
     * </pre>
     */
    void dkdLoss(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau, Tensor loss);

    /** The gradient w.r.t. the student logits (the teacher is frozen: it never gets one). */
    void dkdLossBackward(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau,
                         Tensor g, Tensor dStudent);

    /**
     * f (n,c,h,w) → q (n, h·w) = mean_c f² and a = q / max(‖q‖₂, eps) per row (PyTorch's
     * F.normalize). q is kept for the backward.
     */
    void attentionMap(Tensor f, double eps, Tensor q, Tensor a);

    /** df from f, the saved q, and da (n, h·w). */
    void attentionMapBackward(Tensor f, Tensor q, Tensor da, double eps, Tensor df);
}
