package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Storage;

/**
 * The caching device allocator against a fake driver that, like the real driver API, fails any
 * call made on a thread without the context bound: a cached block handed to a new thread must
 * still be poisoned in the right context.
 */
class CudaAllocatorTest {
    private static final class FakeDriver implements DriverMemory {
        private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        private long next = 0x7000_0000L;

        /** The real driver would return CUDA_ERROR_INVALID_CONTEXT (201) here. */
        private int call(String what) {
            if (!bound.get()) throw new AssertionError(what + " on " + Thread.currentThread().getName() + " without the context bound");
            calls.add(what);
            return 0;
        }

        @Override public Device device() { return Device.cuda(0); }
        @Override public void makeCurrent() { bound.set(true); }

        @Override public synchronized int alloc(long[] out, long bytes) {
            out[0] = next;
            next += bytes;
            return call("alloc");
        }

        @Override public int free(long ptr) { return call("free"); }
        @Override public int poison(long ptr, long bytes) { return call("poison " + bytes); }
        @Override public void sync() { call("sync"); }
    }

    @Test
    void aCachedBlockIsPoisonedWithTheContextBoundOnAnotherThread() throws Exception {
        FakeDriver driver = new FakeDriver();
        CudaAllocator allocator = new CudaAllocator(driver, true);
        Storage first = allocator.allocate(Device.cuda(0), 1000);
        long ptr = first.devicePointer();
        first.release();  // back to the cache
        Storage second = CompletableFuture.supplyAsync(() -> allocator.allocate(Device.cuda(0), 1000), r -> new Thread(r).start()).get();
        assertEquals(ptr, second.devicePointer(), "the cached block is reused");
        assertEquals(List.of("alloc", "poison 1000", "poison 1000"), driver.calls);
        assertEquals(1, allocator.stats().freshBlocks());
    }

    @Test
    void emptyingTheCacheFromAnotherThreadBindsTheContext() throws Exception {
        FakeDriver driver = new FakeDriver();
        CudaAllocator allocator = new CudaAllocator(driver, false);
        allocator.allocate(Device.cuda(0), 4096).release();
        CompletableFuture.runAsync(allocator::emptyCache, r -> new Thread(r).start()).get();
        assertEquals(List.of("alloc", "sync", "free"), driver.calls);
        assertEquals(0, allocator.stats().reservedBytes());
    }
}
