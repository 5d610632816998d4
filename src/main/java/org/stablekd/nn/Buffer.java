package org.stablekd.nn;

import org.stablekd.tensor.Tensor;

/** A non-trainable tensor in a module's state (BatchNorm running statistics). */
public final class Buffer {
    private Tensor value;

    Buffer(Tensor initial) {
        this.value = initial;
    }

    public Tensor value() {
        return value;
    }

    void rebind(Tensor v) {
        if (!v.shape().equals(value.shape())) {
            throw new IllegalArgumentException("buffer rebind: shape " + v.shape() + " differs from " + value.shape());
        }
        value = v;
    }
}
