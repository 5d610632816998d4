package org.stablekd.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the pool's threads wait: an opt-in account of every job {@link Parallel} hands to the pool,
 * for profiling (benchmarks' LayerProfile prints it). Off unless {@link #start}ed; one volatile
 * read per job when off. Per job, keyed by the class that submitted it (a kernel family):
 * <pre>
 *   idle = threads × (end − publish) − Σ chunk run times    thread-time lost inside the job: a
 *                                                           worker woken late, uneven halves
 *   late = Σ over workers of (join − publish)               the part of idle before the workers
 *                                                           joined (end − publish if one never did)
 *   gap  = publish − end of the previous pooled job         the caller alone before it (serial
 *                                                           kernels, autograd, allocation), while
 *                                                           threads − 1 threads spin or park
 * </pre>
 * Meant for one submitting thread (a training step); concurrent callers mix their gaps.
 */
public final class ParallelStats {
    private static volatile boolean on;
    private static final ConcurrentHashMap<String, long[]> BY_SUBMITTER = new ConcurrentHashMap<>();
    /** The submitting class's simple name, per lambda class (WinogradConv for WinogradConv$$Lambda/0x…). */
    private static final ClassValue<String> NAMES = new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> c) {
            String n = c.getName();
            int lambda = n.indexOf("$$Lambda");
            if (lambda >= 0) n = n.substring(0, lambda);
            return n.substring(n.lastIndexOf('.') + 1);
        }
    };
    private static volatile long lastEnd;

    private ParallelStats() {}

    /** One submitter's totals since {@link #start}: pooled jobs, idle and gap in nanoseconds (see the class comment). */
    public record Row(String submitter, long jobs, long idleNanos, long lateNanos, long gapNanos) {}

    /** Clears the totals and starts counting. */
    public static void start() {
        BY_SUBMITTER.clear();
        lastEnd = 0;
        on = true;
    }

    /** Stops counting; the totals per submitter, most thread-time lost first. */
    public static List<Row> stop() {
        on = false;
        List<Row> rows = new ArrayList<>();
        BY_SUBMITTER.forEach((name, t) -> rows.add(new Row(name, t[0], t[1], t[3], t[2])));
        long others = Math.max(0, Parallel.threads() - 1);
        rows.sort((a, b) -> Long.compare(b.idleNanos + others * b.gapNanos, a.idleNanos + others * a.gapNanos));
        return rows;
    }

    static boolean on() {
        return on;
    }

    /**
     * A pooled job of {@code submitter} published at {@code publish}, done at {@code end}, whose
     * chunks ran {@code busy} ns in all; joined[p] when worker p joined it (0 if it had not yet).
     * A worker may join after the caller has read joined: that counts as late to the end, at worst.
     */
    static void record(Object submitter, long publish, long end, long busy, long[] joined) {
        long previous = lastEnd;
        long late = 0;
        for (int p = 1; p < joined.length; p++) {
            long j = joined[p];
            late += j == 0 || j > end ? end - publish : Math.max(0, j - publish);
        }
        long[] t = BY_SUBMITTER.computeIfAbsent(NAMES.get(submitter.getClass()), c -> new long[4]);
        synchronized (t) {
            t[0]++;
            t[3] += late;
            t[1] += Math.max(0, Parallel.threads() * (end - publish) - busy);
            if (previous != 0) t[2] += Math.max(0, publish - previous);
        }
        lastEnd = end;
    }
}
