package org.stablekd.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.stablekd.ops.Memory;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Storage;
import org.stablekd.tensor.Tensor;

/**
 * All parameters of a module in one contiguous F32 slab, and their gradients in a second slab
 * of the same layout: zeroing gradients is one fill, an optimizer step one kernel over the slab,
 * a checkpoint one write. Each parameter becomes a view of the value slab whose {@code grad} is
 * the matching view of the gradient slab; entries start on 64-byte boundaries (16 floats).
 */
public final class ParameterSlab {
    private static final int ALIGN = 16;

    /** One parameter's place in the slabs. */
    public record Entry(String name, Parameter parameter, long offset, long numel) {}

    private final Tensor values;
    private final Tensor grads;
    private final List<Entry> entries;

    private ParameterSlab(Tensor values, Tensor grads, List<Entry> entries) {
        this.values = values;
        this.grads = grads;
        this.entries = entries;
    }

    /**
     * Moves every parameter of {@code module} into fresh slabs (values copied, gradients zero) on
     * the parameters' device ({@link Module#device()}: move the module there first with
     * {@link Module#to}), so the optimizer's update and every gradient stay on that device.
     */
    public static ParameterSlab pack(Module module) {
        org.stablekd.tensor.Device device = module.device();
        Map<String, Parameter> ps = module.namedParameters();
        long total = 0;
        List<Entry> entries = new ArrayList<>();
        for (var e : ps.entrySet()) {
            Tensor v = e.getValue().value();
            if (v.dtype() != DType.F32) throw new IllegalArgumentException("parameter " + e.getKey() + " is " + v.dtype() + "; slabs hold F32");
            entries.add(new Entry(e.getKey(), e.getValue(), total, v.numel()));
            total += (v.numel() + ALIGN - 1) / ALIGN * ALIGN;
        }
        Tensor values, grads;
        try (Restore r = Scope.suspend()) {
            values = Tensor.empty(DType.F32, org.stablekd.tensor.Shape.of(Math.toIntExact(total)), device);
            grads = Tensor.empty(DType.F32, org.stablekd.tensor.Shape.of(Math.toIntExact(total)), device);
            Memory.fill(values, 0);   // the alignment gaps too: an SGD step runs over them
            Memory.fill(grads, 0);
        }
        for (Entry en : entries) {
            Tensor old = en.parameter().value();
            Tensor view = view(values.storage(), en, old);
            Memory.copy(old, view);
            en.parameter().rebind(view);
            view.setGrad(view(grads.storage(), en, old));
        }
        return new ParameterSlab(values, grads, Collections.unmodifiableList(entries));
    }

    private static Tensor view(Storage s, Entry e, Tensor like) {
        return Tensor.wrap(s, e.offset(), DType.F32, like.shape());
    }

    /** The value slab (1-D). */
    public Tensor values() {
        return values;
    }

    /** The gradient slab (1-D, same layout). */
    public Tensor grads() {
        return grads;
    }

    public List<Entry> entries() {
        return entries;
    }

    /** Sets every gradient to zero (one fill). */
    public void zeroGrad() {
        Memory.fill(grads, 0);
    }
}
