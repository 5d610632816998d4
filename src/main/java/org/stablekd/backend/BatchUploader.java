package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/**
 * Uploads training batches to a device without a host wait: on CUDA through pinned staging
 * buffers and a copy stream (two slots used in turn, PinnedUploader), so a tensor it returns is
 * valid for the work queued before the second upload after it. On the host, the identity.
 */
public interface BatchUploader extends AutoCloseable {
    /** The contiguous host tensor {@code host} on the device, usable by ops queued after this call. */
    Tensor upload(Tensor host);

    /** Frees the staging buffers; tensors returned earlier are invalid afterwards. */
    @Override
    void close();

    /** The host's uploader: hands the tensor back. */
    static BatchUploader identity() {
        return new BatchUploader() {
            @Override public Tensor upload(Tensor host) { return host; }
            @Override public void close() {}
        };
    }
}
