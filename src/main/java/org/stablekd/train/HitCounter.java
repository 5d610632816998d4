package org.stablekd.train;

import org.stablekd.backend.Transfers;
import org.stablekd.ops.Memory;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Reduce;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Top-1 hits of an epoch's training steps, summed where the logits are: each step adds its
 * {@link Reduce#topkHits} to a (2) tensor on the device, so a step downloads no logits and no
 * count; {@link #read()} downloads the sum (at the end of an epoch, or for a progress bar). F32
 * holds integer counts exactly up to 2^24 per epoch.
 */
final class HitCounter {
    private final Tensor sum;

    HitCounter(Device device) {
        try (Restore r = Scope.suspend()) {
            sum = Tensor.empty(DType.F32, Shape.of(2), device);
        }
        Memory.fill(sum, 0);
    }

    /** Adds the top-1 hits of {@code logits} (N, classes) against {@code labels} (N), on their device. */
    void add(Tensor logits, Tensor labels) {
        Memory.copy(Pointwise.add(sum, Reduce.topkHits(logits.detach(), labels, 1)), sum);
    }

    /** Top-1 hits so far (one download on a device). */
    long read() {
        return (long) Transfers.toHost(sum).getFlat(0);
    }

    void reset() {
        Memory.fill(sum, 0);
    }
}
