package org.stablekd.infer;

import java.util.Arrays;
import java.util.function.LongSupplier;
import org.stablekd.backend.cpu.Parallel;

/**
 * Whether a Predictor's calls of one batch size run on the CPU thread pool or on the calling
 * thread alone, chosen by measuring both. At batch 1 a layer split over two threads saves little
 * (its output moves between the cores' caches for the next layer), and the pool's gain is not
 * even stable: a batch-1 resnet20 on 2 threads ran 0.39–0.42 ms per call for thousands of calls
 * and then 0.80–0.84 ms for thousands more, in one JVM, against 0.63 ms on one thread. Measured
 * beside it (2026-12-06, scratch loop, 80 rounds): in every slow round a cache line took 163–283 ns
 * between the two threads, in the fast ones mostly 34–41 ns, while two FMA loops ran at full
 * speed together in both — the host moves the two vCPUs between places that share a cache and
 * places that do not, and a call's ~30 hand-offs and its shared activations pay for it. No fixed
 * rule is right; the predictor times both.
 *
 * <p>A probe runs {@link #PROBE} timed calls on the pool, then as many on the caller (each turn
 * after {@link #SETTLE} untimed ones: alternating single calls let the worker park between its
 * calls and made the pool look slower than it runs), and keeps the mode with the lower median.
 * Probes repeat after 500, 2 000, 5 000 and 10 000 calls (a probe during the JIT's warm-up can
 * pick wrong: compiler threads take a vCPU from the pool) and then every {@link #EVERY} calls;
 * between probes the median of each {@link #WATCH} calls is watched, and when the chosen mode
 * gets {@link #SLOWER}× slower than the other mode's last median a probe starts at once. Both
 * modes run the same chunks of work ({@link Parallel#onCaller}), so the logits are the same bits
 * either way. {@code -Dstablekd.predictorThreads=pool} or {@code =caller} fixes the mode (for
 * measuring).
 */
final class ThreadChoice {
    static final int PROBE = 16;
    /** Calls run, untimed, at the start of each mode's turn in a probe: the pool's worker wakes and refills its caches. */
    static final int SETTLE = 4;
    static final int EVERY = 5_000;
    static final int WATCH = 64;
    static final double SLOWER = 1.25;
    private static final int[] FIRST_GAPS = {500, 2_000, 5_000, 10_000};
    private static final String FIXED = System.getProperty("stablekd.predictorThreads", "auto");

    private final LongSupplier clock;
    private final long[][] samples = new long[2][PROBE];
    private final int[] taken = new int[2];
    private int settled;
    /** The last probe's median per mode, and the chosen mode's latest calls since. */
    private final long[] probeMedian = new long[2];
    private final long[] recent = new long[WATCH];
    private int nRecent;
    private boolean probing = true;
    private boolean onCaller;
    private long untilProbe;
    private int probes;

    ThreadChoice() {
        this(System::nanoTime);
    }

    /** With a clock to read (tests give a fake one). */
    ThreadChoice(LongSupplier clock) {
        this.clock = clock;
        if (!FIXED.equals("auto") && !FIXED.equals("pool") && !FIXED.equals("caller")) {
            throw new IllegalArgumentException("-Dstablekd.predictorThreads must be auto, pool or caller, not " + FIXED);
        }
    }

    /** Runs one call in the mode chosen now, or in the mode whose turn it is while probing; times it. */
    void run(Runnable call) {
        if (Parallel.threads() == 1 || FIXED.equals("pool")) {
            call.run();
            return;
        }
        if (FIXED.equals("caller")) {
            Parallel.onCaller(call);
            return;
        }
        int mode;
        synchronized (this) {
            if (!probing && --untilProbe <= 0) startProbe();
            mode = !probing ? (onCaller ? 1 : 0) : taken[0] < PROBE ? 0 : 1;   // a probe: the pool's turn, then the caller's
        }
        long t0 = clock.getAsLong();
        if (mode == 1) Parallel.onCaller(call);
        else call.run();
        long dt = clock.getAsLong() - t0;
        synchronized (this) {
            if (probing) {
                if (settled < SETTLE * (mode + 1)) {
                    settled++;
                } else if (taken[mode] < PROBE) {
                    samples[mode][taken[mode]++] = dt;
                    if (taken[0] == PROBE && taken[1] == PROBE) decide();
                }
            } else if (mode == (onCaller ? 1 : 0)) {
                recent[nRecent++] = dt;
                if (nRecent == WATCH) {
                    nRecent = 0;
                    if (median(recent) > SLOWER * probeMedian[1 - mode]) startProbe();
                }
            }
        }
    }

    private void startProbe() {
        probing = true;
        taken[0] = taken[1] = 0;
        settled = 0;
    }

    private void decide() {
        probeMedian[0] = median(samples[0]);
        probeMedian[1] = median(samples[1]);
        onCaller = probeMedian[1] < probeMedian[0];
        nRecent = 0;
        probing = false;
        untilProbe = probes < FIRST_GAPS.length ? FIRST_GAPS[probes] : EVERY;
        probes++;
    }

    private static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** True while calls run on the caller alone (for tests and diagnostics). */
    synchronized boolean onCaller() {
        return onCaller;
    }

    /** True while a probe is timing both modes. */
    synchronized boolean probing() {
        return probing;
    }
}
