package org.stablekd.train;

import java.util.List;
import org.stablekd.backend.Transfers;
import org.stablekd.ops.Memory;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * A step's numbers (losses, hit counts: one-element F32 tensors on one device) brought to the
 * host together: on a device they are copied into one vector there and downloaded once (one sync
 * per step, not one per number); on the host they are read as they are.
 */
final class Scalars {
    private Scalars() {}

    static float[] download(List<Tensor> scalars) {
        float[] out = new float[scalars.size()];
        Device device = scalars.getFirst().device();
        if (device.isHost()) {
            for (int i = 0; i < out.length; i++) out[i] = (float) scalars.get(i).item();
            return out;
        }
        Tensor packed = Tensor.empty(DType.F32, Shape.of(out.length), device);
        for (int i = 0; i < out.length; i++) {
            Tensor s = scalars.get(i);
            if (s.numel() != 1) throw new IllegalArgumentException("step number " + i + " has shape " + s.shape() + ", not one element");
            Memory.copy(s.detach().viewAs(1), packed.narrowView(0, i, 1));
        }
        return Transfers.toHost(packed).toFloatArray();
    }
}
