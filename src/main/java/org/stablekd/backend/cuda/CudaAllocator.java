package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_OUT_OF_MEMORY;
import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.DeviceAllocator;
import org.stablekd.tensor.Storage;

/**
 * The caching device allocator, registered for {@link Device.Kind#CUDA}: cuMemAlloc is slow and
 * synchronizes the device, so freed blocks are kept per size class and handed out again. A
 * training step asks for the same sizes every step, so after the first one nothing new is
 * allocated (as the host's, see NOTES.md, Note [Memory scopes]).
 *
 * <p>Size classes: 512-byte granules up to 1 MiB, then 8 classes per power of two (at most
 * 12.5 % slack). Reuse is safe without events because the backend queues all work on one stream
 * ({@link CudaContext}): whatever uses a block next runs after whatever used it before.
 *
 * <p>When cuMemAlloc runs out of memory the cache is emptied and the allocation tried once more;
 * then it is an {@link OutOfMemoryError} that says how much is in use and cached.
 * {@code -Dstablekd.poison=true} fills every block handed out with 0xFF bytes (NaN as floats),
 * as the host allocator does in tests.
 *
 * <p>Every driver call is preceded by {@link DriverMemory#makeCurrent()}: the driver API binds
 * the context per thread, and a cached block handed to a new thread (a data-loader or cleaner
 * thread, a test's executor) must still be poisoned in the right context.
 */
final class CudaAllocator implements DeviceAllocator {
    static final long GRANULE = 512;
    private static final Cleaner CLEANER = Cleaner.create();

    private final DriverMemory mem;
    private final boolean poison;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private long reservedBytes, inUseBytes, freshBlocks, requests;

    CudaAllocator(CudaContext ctx) {
        this(new DriverMemory.OnContext(ctx), Boolean.getBoolean("stablekd.poison"));
    }

    CudaAllocator(DriverMemory mem, boolean poison) {
        this.mem = mem;
        this.poison = poison;
    }

    static long sizeClass(long bytes) {
        bytes = Math.max(bytes, 1);
        if (bytes <= (1L << 20)) return (bytes + GRANULE - 1) / GRANULE * GRANULE;
        long step = Long.highestOneBit(bytes) >> 3;
        return (bytes + step - 1) / step * step;
    }

    @Override
    public Storage allocate(Device device, long bytes) {
        if (!device.equals(mem.device())) throw new IllegalArgumentException("this allocator serves " + mem.device() + ", not " + device);
        long cls = sizeClass(bytes);
        long ptr = take(cls);
        if (poison && bytes > 0) {
            mem.makeCurrent();  // a cached block skipped take()'s binding
            Check.cu(mem.poison(ptr, bytes), "cuMemsetD8Async (poison)");
        }
        ReturnToCache back = new ReturnToCache(this, ptr, cls);
        Storage s = Storage.device(device, ptr, bytes, back);
        back.cleanable = CLEANER.register(s, back);
        return s;
    }

    /** A raw block for a kernel's own temporaries (partial sums, cuDNN workspace); give it back with {@link #giveBack}. */
    long allocateRaw(long bytes) {
        return take(sizeClass(bytes));
    }

    void giveBackRaw(long ptr, long bytes) {
        giveBack(ptr, sizeClass(bytes));
    }

    private long take(long cls) {
        synchronized (this) {
            requests++;
            ArrayDeque<Long> q = free.get(cls);
            Long cached = q == null ? null : q.pollFirst();
            if (cached != null) {
                inUseBytes += cls;
                return cached;
            }
        }
        mem.makeCurrent();
        long[] out = new long[1];
        int rc = mem.alloc(out, cls);
        if (rc == CUDA_ERROR_OUT_OF_MEMORY) {
            emptyCache();
            mem.makeCurrent();
            rc = mem.alloc(out, cls);
        }
        if (rc == CUDA_ERROR_OUT_OF_MEMORY) {
            throw new OutOfMemoryError(String.format("CUDA allocation of %,d bytes failed on %s (in use %,d bytes, nothing left to free in the cache); "
                    + "reduce the batch size", cls, mem.device(), inUseBytes));
        }
        Check.cu(rc, "cuMemAlloc(" + cls + " bytes)");
        synchronized (this) {
            reservedBytes += cls;
            inUseBytes += cls;
            freshBlocks++;
        }
        return out[0];
    }

    private synchronized void giveBack(long ptr, long cls) {
        inUseBytes -= cls;
        free.computeIfAbsent(cls, k -> new ArrayDeque<>()).addFirst(ptr);
    }

    /** Frees the cached (unused) blocks; waits for the stream first so none is still being read. */
    void emptyCache() {
        mem.makeCurrent();
        mem.sync();
        synchronized (this) {
            for (Map.Entry<Long, ArrayDeque<Long>> e : free.entrySet()) {
                for (long p : e.getValue()) {
                    int rc = mem.free(p);
                    if (rc != CUDA_SUCCESS) throw new CudaException("cuMemFree failed: " + Check.driverError(rc));
                    reservedBytes -= e.getKey();
                }
            }
            free.clear();
        }
    }

    /** reserved: all cuMemAlloc'ed bytes; inUse: held by live storage; freshBlocks: cuMemAlloc calls that succeeded. */
    record Stats(long reservedBytes, long inUseBytes, long freshBlocks, long requests) {}

    synchronized Stats stats() {
        return new Stats(reservedBytes, inUseBytes, freshBlocks, requests);
    }

    /** The explicit release and the cleaner (unreachable storage) both end here, once. */
    private static final class ReturnToCache implements Runnable, Storage.Releaser {
        private final CudaAllocator allocator;
        private final long ptr, cls;
        Cleaner.Cleanable cleanable;

        ReturnToCache(CudaAllocator allocator, long ptr, long cls) {
            this.allocator = allocator;
            this.ptr = ptr;
            this.cls = cls;
        }

        @Override
        public void run() {
            allocator.giveBack(ptr, cls);
        }

        @Override
        public void release() {
            cleanable.clean();
        }
    }
}
