package org.stablekd.nn;

import org.stablekd.tensor.Tensor;

/**
 * A trainable tensor owned by a module. Modules read {@link #value()} at every forward, so the
 * value can be moved into a slab ({@link ParameterSlab}) or another device after construction.
 */
public final class Parameter {
    private Tensor value;

    Parameter(Tensor initial) {
        this.value = initial.requiresGrad(true);
    }

    /** The current value: a leaf tensor that requires a gradient. */
    public Tensor value() {
        return value;
    }

    /** The accumulated gradient (null before the first backward unless slab-backed). */
    public Tensor grad() {
        return value.grad();
    }

    /** Replaces the value tensor (same shape); used by slab packing and device moves. */
    void rebind(Tensor v) {
        if (!v.shape().equals(value.shape())) {
            throw new IllegalArgumentException("parameter rebind: shape " + v.shape() + " differs from " + value.shape());
        }
        value = v.requiresGrad(true);
    }
}
