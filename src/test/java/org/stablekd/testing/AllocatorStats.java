package org.stablekd.testing;

import org.stablekd.tensor.HostAllocator;

/**
 * Allocator statistics for leak tests, read once earlier tests' garbage is gone: storage made
 * outside any scope returns to the cache through a {@code Cleaner} (Note [Memory scopes]) at a
 * time the GC chooses, so a test that compares in-use bytes before and after must not see another
 * test's tensors being freed in between.
 */
public final class AllocatorStats {
    private AllocatorStats() {}

    /** The stats after GC and the cleaner have settled: two reads 20 ms apart agree (at most ~1 s). */
    public static HostAllocator.Stats settled() {
        HostAllocator.Stats previous = null;
        for (int i = 0; i < 50; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            HostAllocator.Stats now = HostAllocator.get().stats();
            if (now.equals(previous)) return now;
            previous = now;
        }
        return HostAllocator.get().stats();
    }
}
