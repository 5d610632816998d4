package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/**
 * One identity residual block in training, as {@link ConvKernels#residualChainTrain} runs it:
 * <pre>
 *   t = relu(bn1(conv3×3(x, w1)));   x' = relu(bn2(conv3×3(t, w2)) + x)
 * </pre>
 * w1, w2 (c, c, 3, 3) without bias; each BatchNorm's γ, β (c), its running mean and variance (c,
 * updated in place, unbiased variance) and the momentum of this batch (the caller counts the batch).
 */
public record ResidualBlockTraining(Tensor w1, Tensor gamma1, Tensor beta1, Tensor runMean1, Tensor runVar1, double momentum1,
                                    Tensor w2, Tensor gamma2, Tensor beta2, Tensor runMean2, Tensor runVar2, double momentum2) {
    /** Tensors saved per block by the forward for the backward (see {@link ConvKernels#residualChainTrain}). */
    public static final int SAVED = 10;
    /** Gradients per block: dw1, dγ1, dβ1, dw2, dγ2, dβ2. */
    public static final int GRADS = 6;
}
