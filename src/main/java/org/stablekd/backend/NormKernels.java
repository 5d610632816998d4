package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/**
 * Batch normalization over (n, h, w) per channel of x (n,c,h,w). gamma, beta, running stats and
 * saved statistics are (c). PyTorch semantics: the batch is normalized with the biased variance;
 * the running variance is updated with the unbiased one: run = (1-momentum)·run + momentum·stat.
 */
public interface NormKernels {
    /** Training: y, saveMean, saveInvStd (= 1/sqrt(var+eps)), and the running stats updated in place. */
    void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                        double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd);

    /** Eval: y = (x - runMean) / sqrt(runVar + eps) · gamma + beta. */
    void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y);

    /**
     * Backward given the statistics the forward used (batch ones in training, running ones as
     * mean and 1/sqrt(var+eps) in eval). Any of dx, dgamma, dbeta may be null (not needed).
     */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                           Tensor dx, Tensor dgamma, Tensor dbeta);

    // ---- batch norm with the ReLU after it fused in (conv → BN → ReLU in every ResNet block)

    /**
     * True where the three {@code …Relu} kernels below exist; otherwise the frontend runs the
     * batch norm and a separate ReLU.
     */
    default boolean fusesRelu() {
        return false;
    }

    /**
     * {@link #batchNormTrain}, then y = max(y, 0) in the same pass. saveAffine (2c): where the
     * backend's backward recomputes the ReLU's mask, the per-channel scale (first c) and shift
     * (next c) of its forward, y = relu((x − saveMean)·scale + shift) exactly; others leave it.
     */
    default void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                    double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd, Tensor saveAffine) {
        throw new UnsupportedOperationException("this backend has no fused batch norm + relu");
    }

    /** {@link #batchNormEval}, then y = max(y, 0) in the same pass; saveAffine (2c) as in training, with the running mean. */
    default void batchNormEvalRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y,
                                   Tensor saveAffine) {
        throw new UnsupportedOperationException("this backend has no fused batch norm + relu");
    }

    /**
     * {@link #batchNormBackward} of y = relu(bn(x)): dy counts only where y > 0, as in the ReLU's
     * own backward, without materializing the masked dy. y is the fused forward's output and
     * affine what it saved: a backend may read the mask from y or recompute it from x and affine
     * (the same floats the forward compared, so the same decisions, without a third stream).
     */
    default void batchNormReluBackward(Tensor x, Tensor y, Tensor affine, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd,
                                       boolean training, Tensor dx, Tensor dgamma, Tensor dbeta) {
        throw new UnsupportedOperationException("this backend has no fused batch norm + relu");
    }

    // ---- batch norm, residual add and ReLU fused (the end of every ResNet basic block, in training)

    /** True where {@link #batchNormTrainAddRelu} exists; otherwise the frontend runs the batch norm and a separate add-ReLU. */
    default boolean fusesAddRelu() {
        return false;
    }

    /**
     * {@link #batchNormTrain}, then y = max(y + r, 0) in the same pass (r like x), the bits of the
     * two ops one after the other. The backward needs no kernel of its own: the add-ReLU's mask
     * from y, then {@link #batchNormBackward}.
     */
    default void batchNormTrainAddRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                       double momentum, double eps, Tensor r, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        throw new UnsupportedOperationException("this backend has no fused batch norm + add + relu");
    }
    // ---- synchronized batch norm (Op.SYNC_BATCH_NORM): statistics over the union of several ranks'
    // batches. The frontend (ops.Norm.syncBatchNorm) runs these around two all-reduces.

    /**
     * Sync forward, step 1: this rank's statistics of x into {@code row} (1 + 3c): the number of
     * values per channel m = n·h·w, then per channel the mean split into a high part (first c)
     * and the remainder mean − high (next c: a float high part alone loses half an ulp of |μ|,
     * much for |μ| ≫ σ), then m·σ² = Σ(x − μ)² (last c).
     */
    default void batchNormLocalStats(Tensor x, Tensor row) {
        throw new UnsupportedOperationException("this backend has no synchronized batch norm");
    }

    /**
     * Sync forward, step 2, after every rank's row was gathered into {@code rows} (ranks × (1 + 3c),
     * the same bits on every rank): combines them in rank order, M = Σm_r, μ = Σm_r·μ_r / M,
     * Mσ² = Σ(m_r·σ_r² + m_r·(μ_r − μ)²) (exact: no E[x²] − μ² cancellation); then as
     * {@link #batchNormTrain} with those statistics (running variance unbiased over M).
     */
    default void batchNormSyncTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, Tensor rows,
                                    double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        throw new UnsupportedOperationException("this backend has no synchronized batch norm");
    }

    /** Sync backward, step 1: this rank's Σdy (first c) and Σdy·(x − mean) (next c) into sums (2c). */
    default void batchNormGradSums(Tensor x, Tensor dy, Tensor mean, Tensor sums) {
        throw new UnsupportedOperationException("this backend has no synchronized batch norm");
    }

    /**
     * Sync backward, step 2: dβ = local Σdy, dγ = local Σdy·x̂ (each rank's share; the gradient
     * reducer sums them), and dx = γσ⁻¹/M·(M·dy − Σ_all dy − x̂·Σ_all dy·x̂) from the all-reduced
     * sums over the global count M. Any of dx, dgamma, dbeta may be null; globalSums may be null
     * when dx is.
     */
    default void batchNormSyncBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, Tensor localSums,
                                       Tensor globalSums, long count, Tensor dx, Tensor dgamma, Tensor dbeta) {
        throw new UnsupportedOperationException("this backend has no synchronized batch norm");
    }
}
