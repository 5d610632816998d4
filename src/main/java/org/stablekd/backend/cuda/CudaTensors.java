package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoHAsync;
import static org.bytedeco.cuda.global.cudart.cuMemcpyHtoDAsync;
import java.lang.ref.Reference;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Tensor;

/**
 * Explicit copies between host and GPU memory. Tensor's element accessors work on host tensors
 * only; move a result back with {@link #toHost} to read it. Both directions go through the
 * compute stream and wait for it, so a copy sees every kernel queued before it. (Overlapped
 * batch uploads are {@link PinnedUploader}'s job.)
 */
public final class CudaTensors {
    private CudaTensors() {}

    /** A contiguous copy of {@code host} on {@code device} (cuda:0). Not recorded by autograd. */
    public static Tensor toDevice(Tensor host, Device device) {
        if (!host.device().isHost()) throw new IllegalArgumentException("toDevice: the tensor is already on " + host.device());
        CudaBackend b = CudaBackend.require();
        Tensor src = host.isContiguous() ? host : contiguousOnHost(host);
        Tensor dst = Tensor.empty(host.dtype(), host.shape(), device);
        long bytes = src.numel() * src.dtype().bytes;
        if (bytes > 0) {
            b.rt.ctx().makeCurrent();
            long address = src.segment().address() + src.offset() * src.dtype().bytes;
            Check.cu(cuMemcpyHtoDAsync(CudaRuntime.ptr(dst), new RawPointer(address), bytes, b.rt.ctx().stream), "cuMemcpyHtoDAsync");
            b.rt.ctx().sync();  // the host tensor may be freed or reused as soon as we return
            Reference.reachabilityFence(src);  // not before: a collected temporary would free the source under the copy
        }
        return dst;
    }

    /** {@link #toDevice(Tensor, Device)} on cuda:0. */
    public static Tensor toDevice(Tensor host) {
        return toDevice(host, Device.cuda(0));
    }

    /** A contiguous host copy of a GPU tensor, after all queued work on it is done. */
    public static Tensor toHost(Tensor dev) {
        if (dev.device().isHost()) throw new IllegalArgumentException("toHost: the tensor is already on the host");
        CudaBackend b = CudaBackend.require();
        Tensor src = dev;
        if (!dev.isContiguous()) {
            src = Tensor.empty(dev.dtype(), dev.shape(), dev.device());
            b.copy().copy(dev, src);
        }
        Tensor dst = Tensor.empty(dev.dtype(), dev.shape());
        long bytes = src.numel() * src.dtype().bytes;
        if (bytes > 0) {
            b.rt.ctx().makeCurrent();
            Check.cu(cuMemcpyDtoHAsync(new RawPointer(dst.segment().address()), CudaRuntime.ptr(src), bytes, b.rt.ctx().stream), "cuMemcpyDtoHAsync");
        }
        b.rt.ctx().sync();
        Reference.reachabilityFence(src);  // a strided source's packed device copy stays allocated until the copy is done
        return dst;
    }

    private static Tensor contiguousOnHost(Tensor t) {
        Tensor c = Tensor.emptyLike(t);
        Backends.select(Op.COPY, t.dtype(), t.device()).copy().copy(t, c);
        return c;
    }
}
