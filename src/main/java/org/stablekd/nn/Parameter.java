package org.stablekd.nn;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
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
        Set<Parameter> seen = USES.get();
        if (seen != null) seen.add(this);
        return value;
    }

    private static final ThreadLocal<Set<Parameter>> USES = new ThreadLocal<>();

    /** The parameters {@code body} reads on this thread (which parameters a stage uses). */
    static Set<Parameter> usedBy(Runnable body) {
        Set<Parameter> previous = USES.get();
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        USES.set(seen);
        try {
            body.run();
        } finally {
            USES.set(previous);
        }
        return seen;
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
