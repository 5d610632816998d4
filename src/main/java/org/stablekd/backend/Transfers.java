package org.stablekd.backend;

import org.stablekd.tensor.Device;
import org.stablekd.tensor.Tensor;

/**
 * Copies between host memory and one device, the only way data crosses (host code cannot read a
 * device tensor). {@link #toDevice} and {@link #toHost} are synchronous; batches go through a
 * {@link BatchUploader}. The static helpers pick the device's backend and leave host tensors on
 * the host as they are.
 */
public interface Transfers {
    /** A contiguous copy of the host tensor {@code host} on this device. Not recorded by autograd. */
    Tensor upload(Tensor host);

    /** A contiguous host copy of {@code device}, after all work queued on it is done. */
    Tensor download(Tensor device);

    /** A new double-buffered uploader for training batches; close it when done. */
    BatchUploader uploader();

    /** {@code t} on {@code device}: itself if it is there, else a copy (through the host when both ends are devices). */
    static Tensor to(Tensor t, Device device) {
        if (t.device().equals(device)) return t;
        Tensor host = toHost(t);
        return device.isHost() ? host : of(device).upload(host);
    }

    /** {@code t} itself if it is on the host, else a contiguous host copy. */
    static Tensor toHost(Tensor t) {
        return t.device().isHost() ? t : of(t.device()).download(t);
    }

    /** Host copies of {@code tensors} in the same order (host tensors as they are): a state dict to write to a file. */
    static java.util.Map<String, Tensor> toHost(java.util.Map<String, Tensor> tensors) {
        java.util.Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        tensors.forEach((k, v) -> out.put(k, toHost(v)));
        return out;
    }

    /** The transfers of {@code device}'s backend (which must be loaded). */
    static Transfers of(Device device) {
        if (device.isHost()) throw new IllegalArgumentException("the host has no transfers; host tensors are read directly");
        return Backends.forDevice(device).transfers();
    }
}
