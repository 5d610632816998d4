package org.stablekd.tensor;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gate of host-backed device storage ({@link Storage#hostBacked}): its segment opens only
 * while a kernel of that device runs, so a host read of device data outside a transfer fails.
 * A process-wide count, not per thread, because CPU kernels fan out to worker threads; a
 * concurrent kernel on another thread can therefore let a stray read through, never fail a
 * correct one.
 */
public final class KernelAccess {
    private static final AtomicInteger RUNNING = new AtomicInteger();

    private KernelAccess() {}

    /** Opens the gate until the returned handle is closed (nestable). */
    public static Restore enter() {
        RUNNING.incrementAndGet();
        return RUNNING::decrementAndGet;
    }

    static boolean open() {
        return RUNNING.get() > 0;
    }
}
