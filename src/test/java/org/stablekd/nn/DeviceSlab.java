package org.stablekd.nn;

import java.util.function.UnaryOperator;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * Test support for the GPU benchmarks and tests (lives in package nn for {@code rebind}): moves a
 * module's parameters into one value slab and one gradient slab on a device, the layout of
 * {@link ParameterSlab}, and its BatchNorm running statistics to the device. The engine
 * itself has no device move yet (a {@code Module.to(Device)} for the main code is open work).
 */
public record DeviceSlab(Tensor values, Tensor grads) {
    private static final int ALIGN = 16;

    public static DeviceSlab pack(Module module, Device device, UnaryOperator<Tensor> toDevice) {
        long total = 0;
        for (Parameter p : module.namedParameters().values()) total += (p.value().numel() + ALIGN - 1) / ALIGN * ALIGN;
        Tensor values, grads;
        try (Restore r = Scope.suspend()) {
            values = Tensor.empty(DType.F32, org.stablekd.tensor.Shape.of(Math.toIntExact(total)), device);
            grads = Tensor.empty(DType.F32, org.stablekd.tensor.Shape.of(Math.toIntExact(total)), device);
            var pointwise = Backends.select(Op.FILL, DType.F32, device).pointwise();
            pointwise.fill(values, 0);
            pointwise.fill(grads, 0);
            var copy = Backends.select(Op.COPY, DType.F32, device).copy();
            long at = 0;
            for (Parameter p : module.namedParameters().values()) {
                Tensor old = p.value();
                Tensor view = Tensor.wrap(values.storage(), at, DType.F32, old.shape());
                copy.copy(toDevice.apply(old), view);
                p.rebind(view);
                view.setGrad(Tensor.wrap(grads.storage(), at, DType.F32, old.shape()));
                at += (old.numel() + ALIGN - 1) / ALIGN * ALIGN;
            }
            // running statistics move; num_batches_tracked stays a host counter (BatchNorm2d bumps it with setFlat)
            module.namedBuffers().forEach((name, b) -> {
                if (name.endsWith("running_mean") || name.endsWith("running_var")) b.rebind(toDevice.apply(b.value()));
            });
        }
        return new DeviceSlab(values, grads);
    }
}
