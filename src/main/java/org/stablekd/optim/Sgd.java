package org.stablekd.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.nn.Parameter;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Memory;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * SGD with momentum, Nesterov and weight decay over a {@link ParameterSlab}: one kernel launch
 * per step over all parameters (PyTorch semantics, dampening 0; weight decay applies to every
 * parameter, as the CIFAR KD benchmark code does). The momentum buffer is a third slab.
 *
 * <p>Parameters can be {@linkplain #freeze frozen}: the step then runs over the slab's runs of
 * unfrozen entries only, so a frozen parameter and its momentum stay bit-identical (no weight
 * decay, no momentum drift — what PyTorch does for a parameter whose grad is None). The update is
 * elementwise, so the other parameters get exactly the values one launch over the slab gives.
 */
public final class Sgd {
    private final ParameterSlab slab;
    private final double momentum, weightDecay;
    private final boolean nesterov;
    private final Tensor momentumBuf;
    /** (values, grads, momentum) views of the runs of unfrozen entries; null: the whole slab, one launch. */
    private List<Tensor[]> runs;

    public Sgd(ParameterSlab slab, double momentum, double weightDecay, boolean nesterov) {
        if (momentum < 0 || weightDecay < 0) throw new IllegalArgumentException("SGD momentum and weight decay must be >= 0");
        if (nesterov && momentum == 0) throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        this.slab = slab;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        try (Restore r = Scope.suspend()) {
            this.momentumBuf = Tensor.empty(DType.F32, slab.values().shape(), slab.values().device());   // on the slab's device
            Memory.fill(momentumBuf, 0);
        }
    }

    /** p ← p − lr·(update), for every parameter that is not frozen. */
    public void step(double lr) {
        if (runs == null) {
            update(slab.values(), slab.grads(), momentumBuf, lr);
        } else {
            for (Tensor[] r : runs) update(r[0], r[1], r[2], lr);
        }
    }

    private void update(Tensor values, Tensor grads, Tensor buf, double lr) {
        Backends.select(Op.SGD_STEP, DType.F32, values.device()).optimizer().sgd(values, grads, buf, lr, momentum, weightDecay, nesterov);
    }

    /** From now on, {@code frozen} (compared by identity; may be empty) get no updates until the next call. */
    public void freeze(Set<Parameter> frozen) {
        if (frozen.isEmpty()) {
            runs = null;
            return;
        }
        Set<Parameter> f = Collections.newSetFromMap(new IdentityHashMap<>());
        f.addAll(frozen);
        List<Tensor[]> out = new ArrayList<>();
        long start = -1, end = -1;   // the current run of unfrozen entries, [start, end) in slab elements
        for (ParameterSlab.Entry e : slab.entries()) {
            if (f.contains(e.parameter())) {
                if (start >= 0) out.add(run(start, end));
                start = -1;
            } else {
                if (start < 0) start = e.offset();
                end = e.offset() + e.numel();
            }
        }
        if (start >= 0) out.add(run(start, end));
        runs = out;
    }

    private Tensor[] run(long start, long end) {
        Shape s = Shape.of(Math.toIntExact(end - start));
        return new Tensor[] {view(slab.values(), start, s), view(slab.grads(), start, s), view(momentumBuf, start, s)};
    }

    private static Tensor view(Tensor slabTensor, long start, Shape s) {
        return Tensor.wrap(slabTensor.storage(), slabTensor.offset() + start, DType.F32, s);
    }

    /** Zeroes the momentum of every parameter (StableKD's momentum_at_merge: reset). */
    public void resetMomentum() {
        Memory.fill(momentumBuf, 0);
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
