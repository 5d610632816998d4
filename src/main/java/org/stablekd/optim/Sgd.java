package org.stablekd.optim;

import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * SGD with momentum, Nesterov and weight decay over a {@link ParameterSlab}: one kernel launch
 * per step over all parameters (PyTorch semantics, dampening 0; weight decay applies to every
 * parameter, as the CIFAR KD benchmark code does). The momentum buffer is a third slab.
 */
public final class Sgd {
    private final ParameterSlab slab;
    private final double momentum, weightDecay;
    private final boolean nesterov;
    private final Tensor momentumBuf;

    public Sgd(ParameterSlab slab, double momentum, double weightDecay, boolean nesterov) {
        if (momentum < 0 || weightDecay < 0) throw new IllegalArgumentException("SGD momentum and weight decay must be >= 0");
        if (nesterov && momentum == 0) throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        this.slab = slab;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        try (Restore r = Scope.suspend()) {
            this.momentumBuf = Tensor.zeros(DType.F32, slab.values().shape());
        }
    }

    /** p ← p − lr·(update), for every parameter at once. */
    public void step(double lr) {
        Backends.select(Op.SGD_STEP, DType.F32, slab.values().device()).optimizer()
                .sgd(slab.values(), slab.grads(), momentumBuf, lr, momentum, weightDecay, nesterov);
    }

    public void zeroGrad() {
        slab.zeroGrad();
    }

    /** The momentum slab (saved in checkpoints). */
    public Tensor momentumBuffer() {
        return momentumBuf;
    }

    public ParameterSlab slab() {
        return slab;
    }
}
