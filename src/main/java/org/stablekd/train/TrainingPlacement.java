package org.stablekd.train;

import org.stablekd.tensor.Device;

/**
 * Where a training run's tensors live. On a device (a GPU, or the simulated one in tests) the
 * method's modules move there before the parameter slab is packed, so the slab, the gradients and
 * the SGD momentum are made there too; batches arrive through {@link DeviceBatches}; a step
 * downloads only its numbers, together ({@link StepNumbers}: the total loss, the top-1 hits counted
 * on the device, and each loss part when there are several); evaluation downloads one loss and
 * two hit counts per batch, together; checkpoints and weights files are downloaded when written. Integer BatchNorm
 * counters stay on the host (Module.to). NOTES.md, Note [Device placement].
 */
final class TrainingPlacement {
    private TrainingPlacement() {}

    /** Moves {@code method} to {@code device}; refuses what reads device data on the host every step. */
    static void place(TrainingMethod method, Device device, boolean observer) {
        if (device.isHost()) return;
        if (observer) throw new IllegalArgumentException("--iboe-window reads every step's gradients on the host; run it with --device cpu");
        method.to(device);
    }
}
