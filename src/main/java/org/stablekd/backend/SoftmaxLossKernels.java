package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/**
 * Softmax and the classification losses over rows of (n, classes) logits. Loss outputs are
 * one-element tensors; backwards take the incoming gradient as a one-element tensor g and
 * recompute the softmaxes from the logits (nothing but the inputs is saved).
 */
public interface SoftmaxLossKernels {
    /** y = softmax(x/T) or, if log, log_softmax(x/T), per row. */
    void softmax(Tensor x, double temperature, boolean log, Tensor y);

    /** dx from the forward output y and dy. */
    void softmaxBackward(Tensor y, Tensor dy, double temperature, boolean log, Tensor dx);

    /**
     * Mean over rows of cross-entropy with integer labels (n, I32); with label smoothing ε the
     * target is (1-ε)·onehot + ε/classes (PyTorch's definition).
     */
    void crossEntropy(Tensor logits, Tensor labels, double smoothing, Tensor loss);

    void crossEntropyBackward(Tensor logits, Tensor labels, double smoothing, Tensor g, Tensor dlogits);

    /** loss = τ²/n · Σ_rows KL(softmax(t/τ) ‖ softmax(s/τ)). */
    void kdLoss(Tensor student, Tensor teacher, double tau, Tensor loss);

    /** Gradients w.r.t. student (dS, may be null) and teacher (dT, may be null) logits. */
    void kdLossBackward(Tensor student, Tensor teacher, double tau, Tensor g, Tensor dStudent, Tensor dTeacher);

    /**
     * True where {@link #kdCrossEntropy} is one pass over each row (CUDA's kd_ce_fused_f32): the
     * distillation methods then ask for it instead of CE and KD apart. False on the host backends,
     * which keep the two ops (and their separately logged values) of every result so far.
     */
    default boolean fusesKdCe() {
        return false;
    }

    /**
     * loss = ceWeight·CE(student, labels) + kdWeight·τ²/n·Σ_rows KL(softmax(t/τ) ‖ softmax(s/τ)):
     * {@link #crossEntropy} (no smoothing) and {@link #kdLoss} weighted and added, in one pass.
     */
    void kdCrossEntropy(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight, Tensor loss);

    /**
     * dStudent = g/n·(ceWeight·(softmax(s) − onehot) + kdWeight·τ·(softmax(s/τ) − softmax(t/τ)));
     * the teacher gets no gradient.
     */
    void kdCrossEntropyBackward(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight,
                                Tensor g, Tensor dStudent);
}
