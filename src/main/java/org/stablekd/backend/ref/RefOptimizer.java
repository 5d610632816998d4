package org.stablekd.backend.ref;

import org.stablekd.backend.OptimizerKernels;
import org.stablekd.tensor.Tensor;

/** Reference SGD step, element by element (see {@link OptimizerKernels#sgd}). */
final class RefOptimizer implements OptimizerKernels {

    @Override
    public void sgd(Tensor params, Tensor grads, Tensor momentumBuf, double lr, double momentum, double weightDecay, boolean nesterov) {
        Buf p = Buf.of(params), g = Buf.of(grads), b = Buf.of(momentumBuf);
        for (long i = 0, n = params.numel(); i < n; i++) {
            double d = g.get(i) + weightDecay * p.get(i);
            double buf = momentum * b.get(i) + d;
            b.set(i, buf);
            double step = nesterov ? d + momentum * buf : buf;
            p.set(i, p.get(i) - lr * step);
        }
    }
}
