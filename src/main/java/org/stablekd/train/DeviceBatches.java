package org.stablekd.train;

import org.stablekd.backend.BatchUploader;
import org.stablekd.backend.Transfers;
import org.stablekd.data.Batch;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Tensor;

/**
 * Loader batches on the training device: on the host the batch's own tensors; on a device, copies
 * made by two {@link BatchUploader}s, one for images and one for labels (on CUDA each a pinned
 * double buffer on a copy stream). A placed batch is valid for the work queued before the second
 * batch placed after it, which covers a training step, an evaluation batch and the prefetch of
 * the next one. One instance serves training, evaluation and BatchNorm recalibration in turn.
 */
public final class DeviceBatches implements AutoCloseable {
    private final Device device;
    private final BatchUploader images, labels;

    /** A batch's images (B, C, H, W) F32 and labels (B) I32 on the device. */
    public record Placed(Tensor images, Tensor labels) {}

    public DeviceBatches(Device device) {
        this.device = device;
        if (device.isHost()) {
            this.images = BatchUploader.identity();
            this.labels = BatchUploader.identity();
        } else {
            this.images = Transfers.of(device).uploader();
            this.labels = Transfers.of(device).uploader();
        }
    }

    /** Batches stay where the loader made them (no copies). */
    public static DeviceBatches host() {
        return new DeviceBatches(Device.CPU);
    }

    public Device device() {
        return device;
    }

    /** The batch on the device: two uploads on a device, none on the host. */
    public Placed place(Batch b) {
        return new Placed(images.upload(b.images()), labels.upload(b.labels()));
    }

    @Override
    public void close() {
        try {
            images.close();
        } finally {
            labels.close();
        }
    }
}
