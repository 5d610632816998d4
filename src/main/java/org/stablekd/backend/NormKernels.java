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
}
