package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.cuMemAlloc;
import static org.bytedeco.cuda.global.cudart.cuMemFree;
import static org.bytedeco.cuda.global.cudart.cuMemsetD8Async;

import org.stablekd.tensor.Device;

/**
 * The driver calls {@link CudaAllocator} makes, behind an interface so a CPU test can check
 * that each runs with the context bound on the calling thread. Each returns the CUresult.
 */
interface DriverMemory {
    Device device();

    /** Binds the context to the calling thread (the driver API's binding is per thread). */
    void makeCurrent();

    /** cuMemAlloc into out[0]. */
    int alloc(long[] out, long bytes);

    int free(long ptr);

    /** 0xFF bytes (NaN as floats) over [ptr, ptr + bytes), queued on the compute stream. */
    int poison(long ptr, long bytes);

    /** Waits for the compute stream. */
    void sync();

    /** The real one: the context's device and stream. */
    record OnContext(CudaContext ctx) implements DriverMemory {
        @Override public Device device() { return ctx.device; }
        @Override public void makeCurrent() { ctx.makeCurrent(); }
        @Override public int alloc(long[] out, long bytes) { return cuMemAlloc(out, bytes); }
        @Override public int free(long ptr) { return cuMemFree(ptr); }
        @Override public int poison(long ptr, long bytes) { return cuMemsetD8Async(ptr, (byte) 0xFF, bytes, ctx.stream); }
        @Override public void sync() { ctx.sync(); }
    }
}
