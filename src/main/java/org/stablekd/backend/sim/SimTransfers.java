package org.stablekd.backend.sim;

import java.util.concurrent.atomic.AtomicLong;
import org.stablekd.backend.BatchUploader;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Transfers;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.KernelAccess;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Tensor;

/** {@link SimBackend}'s host↔device copies, each counted: a test reads {@link #counts()} before and after a step. */
public final class SimTransfers implements Transfers {
    private final AtomicLong uploads = new AtomicLong(), uploadBytes = new AtomicLong();
    private final AtomicLong batchUploads = new AtomicLong();
    private final AtomicLong downloads = new AtomicLong(), downloadBytes = new AtomicLong();

    /**
     * Copies so far: synchronous uploads, batch uploads (through an uploader) and downloads, with
     * bytes; {@link #minus} gives the copies between two readings.
     */
    public record Counts(long uploads, long uploadBytes, long batchUploads, long downloads, long downloadBytes) {
        public Counts minus(Counts before) {
            return new Counts(uploads - before.uploads, uploadBytes - before.uploadBytes, batchUploads - before.batchUploads,
                    downloads - before.downloads, downloadBytes - before.downloadBytes);
        }
    }

    SimTransfers() {}

    Counts counts() {
        return new Counts(uploads.get(), uploadBytes.get(), batchUploads.get(), downloads.get(), downloadBytes.get());
    }

    @Override
    public Tensor upload(Tensor host) {
        if (!host.device().isHost()) throw new IllegalArgumentException("upload: the tensor is already on " + host.device());
        uploads.incrementAndGet();
        uploadBytes.addAndGet(host.numel() * host.dtype().bytes);
        return copy(host, Device.SIM);
    }

    @Override
    public Tensor download(Tensor dev) {
        if (dev.device().kind() != Device.Kind.SIM) throw new IllegalArgumentException("download: the tensor is on " + dev.device() + ", not sim");
        downloads.incrementAndGet();
        downloadBytes.addAndGet(dev.numel() * dev.dtype().bytes);
        return copy(dev, Device.CPU);
    }

    @Override
    public BatchUploader uploader() {
        return new BatchUploader() {
            @Override
            public Tensor upload(Tensor host) {
                if (!host.device().isHost() || !host.isContiguous()) {
                    throw new IllegalArgumentException("upload needs a contiguous host tensor, got " + host.shape() + " on " + host.device());
                }
                batchUploads.incrementAndGet();
                uploadBytes.addAndGet(host.numel() * host.dtype().bytes);
                return copy(host, Device.SIM);
            }

            @Override
            public void close() {}
        };
    }

    /** A contiguous copy of {@code src} on {@code to} (the strided copy kernel reads both memories under the gate). */
    private static Tensor copy(Tensor src, Device to) {
        Tensor dst = Tensor.empty(src.dtype(), src.shape(), to);
        try (Restore g = KernelAccess.enter()) {
            Backends.ref().copy().copy(src, dst);
        }
        return dst;
    }
}
