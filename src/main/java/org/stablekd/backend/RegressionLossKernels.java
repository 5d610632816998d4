package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/**
 * Losses between two tensors of one shape (feature distillation: FitNets' hints, StableKD's
 * inner losses). Contiguous inputs; the loss is a one-element tensor; backwards take the incoming
 * gradient g as a one-element tensor.
 */
public interface RegressionLossKernels {
    /** loss = mean((a-b)²). */
    void mse(Tensor a, Tensor b, Tensor loss);

    /** da = 2g(a-b)/numel, db = -da; either may be null. */
    void mseBackward(Tensor a, Tensor b, Tensor g, Tensor da, Tensor db);
}
