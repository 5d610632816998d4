package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/** Optimizer updates over whole parameter slabs (1-D, same length), in place. */
public interface OptimizerKernels {
    /**
     * One SGD step, PyTorch semantics (dampening 0), per element:
     * g = grad + wd·p;  buf = momentum·buf + g;  g = nesterov ? g + momentum·buf : buf;  p −= lr·g.
     */
    void sgd(Tensor params, Tensor grads, Tensor momentumBuf, double lr, double momentum, double weightDecay, boolean nesterov);
}
