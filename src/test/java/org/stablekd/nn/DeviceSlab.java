package org.stablekd.nn;

import org.stablekd.tensor.Device;
import org.stablekd.tensor.Tensor;

/**
 * Test support for the GPU benchmarks and tests: a module moved to a device ({@link Module#to})
 * and its parameters packed into slabs there ({@link ParameterSlab#pack}), the engine's own
 * placement path, so the GPU suites exercise it. Float buffers (BatchNorm running statistics)
 * move; num_batches_tracked stays a host counter.
 */
public record DeviceSlab(Tensor values, Tensor grads) {
    public static DeviceSlab pack(Module module, Device device) {
        module.to(device);
        ParameterSlab s = ParameterSlab.pack(module);
        return new DeviceSlab(s.values(), s.grads());
    }
}
