package org.stablekd.backend.cuda;

import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * What every CUDA kernel family needs: the context (stream, library handles), our kernel module
 * and the allocator (for temporaries), plus the pointer arithmetic from a tensor to its device
 * address.
 */
record CudaRuntime(CudaContext ctx, KernelModule kernels, CudaAllocator allocator) {

    /** The device address of t's element (0,…,0); 0 for null (an optional output). */
    static long ptr(Tensor t) {
        if (t == null) return 0;
        if (t.device().isHost()) {
            throw new IllegalArgumentException("a host tensor " + t.shape() + " was passed to a CUDA kernel; copy it with CudaTensors.toDevice");
        }
        return t.storage().devicePointer() + t.offset() * t.dtype().bytes;
    }

    /** Fails unless t is F32 and contiguous (what the float kernels read). */
    static void f32(Tensor t, String what) {
        if (t == null) return;
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(what + ": the CUDA kernels compute F32, got " + t.dtype());
        if (!t.isContiguous()) throw new IllegalArgumentException(what + ": expects a contiguous tensor, got strides of shape " + t.shape());
    }

    /** A device temporary of {@code bytes}, returned to the cache by {@link Temp#close()} (stream order keeps that safe). */
    Temp temp(long bytes) {
        return new Temp(allocator, allocator.allocateRaw(bytes), bytes);
    }

    record Temp(CudaAllocator allocator, long ptr, long bytes) implements AutoCloseable {
        @Override
        public void close() {
            allocator.giveBackRaw(ptr, bytes);
        }
    }
}
