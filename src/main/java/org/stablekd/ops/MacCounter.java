package org.stablekd.ops;

/**
 * Counts the multiply-adds of convolutions and linear layers run on this thread while open
 * (for `stablekd models` MFLOPs and for benchmarks): {@code try (MacCounter c = MacCounter.start()) { model.forward(x); c.macs(); }}.
 */
public final class MacCounter implements AutoCloseable {
    private static final ThreadLocal<MacCounter> ACTIVE = new ThreadLocal<>();
    private final MacCounter previous;
    private long macs;

    private MacCounter(MacCounter previous) {
        this.previous = previous;
    }

    public static MacCounter start() {
        MacCounter c = new MacCounter(ACTIVE.get());
        ACTIVE.set(c);
        return c;
    }

    public long macs() {
        return macs;
    }

    static void add(long n) {
        for (MacCounter c = ACTIVE.get(); c != null; c = c.previous) c.macs += n;
    }

    @Override
    public void close() {
        ACTIVE.set(previous);
    }
}
