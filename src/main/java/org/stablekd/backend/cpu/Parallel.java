package org.stablekd.backend.cpu;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The one parallel helper of the CPU backend: a fixed pool of {@code threads()-1} daemon workers
 * plus the calling thread. Work is split into a fixed number of chunks whose boundaries depend
 * only on the problem size and {@link #threads()}, never on timing, so results are bit-identical
 * from run to run for the same thread count (any thread may run any chunk, but each chunk writes
 * its own outputs). Calls from inside a worker run inline (no nested parallelism, no deadlock).
 *
 * <p>{@code -Dstablekd.threads=N} sets the pool size (default: available processors).
 */
public final class Parallel {
    private static final int THREADS = Math.max(1, Integer.getInteger("stablekd.threads",
            Runtime.getRuntime().availableProcessors()));
    private static final LinkedBlockingQueue<Job> QUEUE = new LinkedBlockingQueue<>();

    static {
        for (int i = 1; i < THREADS; i++) {
            new Worker(i).start();
        }
    }

    private Parallel() {}

    /** Body of one chunk: process items {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(int start, int end);
    }

    /** Body of one chunk by index. */
    @FunctionalInterface
    public interface Chunk {
        void run(int chunk);
    }

    public static int threads() {
        return THREADS;
    }

    private static boolean inWorker() {
        return Thread.currentThread() instanceof Worker;
    }

    private static final class Worker extends Thread {
        Worker(int i) {
            super(Parallel::workerLoop, "stablekd-cpu-" + i);
            setDaemon(true);
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)} in contiguous ranges of at least {@code grain} items,
     * at most one range per thread; small problems run on the caller alone.
     */
    public static void forRange(int n, int grain, Range body) {
        if (n <= 0) return;
        int chunks = (int) Math.min(THREADS, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        final int parts = chunks;
        forChunks(parts, c -> body.run((int) ((long) n * c / parts), (int) ((long) n * (c + 1) / parts)));
    }

    /** Runs chunks {@code 0..chunks-1}, each exactly once, on the pool and the calling thread. */
    public static void forChunks(int chunks, Chunk body) {
        if (chunks <= 0) return;
        if (chunks == 1 || THREADS == 1 || inWorker()) {
            for (int c = 0; c < chunks; c++) body.run(c);
            return;
        }
        Job job = new Job(chunks, body, Thread.currentThread());
        int helpers = Math.min(THREADS - 1, chunks - 1);
        for (int i = 0; i < helpers; i++) QUEUE.add(job);
        job.work();
        while (job.done.get() < chunks) LockSupport.park(job);
        Throwable error = job.error.get();
        if (error instanceof RuntimeException re) throw re;
        if (error instanceof Error e) throw e;
        if (error != null) throw new RuntimeException(error);
    }

    private static void workerLoop() {
        while (true) {
            Job job;
            try {
                job = QUEUE.take();
            } catch (InterruptedException e) {
                continue;
            }
            job.work();
        }
    }

    private static final class Job {
        final int chunks;
        final Chunk body;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();

        Job(int chunks, Chunk body, Thread caller) {
            this.chunks = chunks;
            this.body = body;
            this.caller = caller;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    if (error.get() == null) body.run(c);
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == chunks) LockSupport.unpark(caller);
                }
            }
        }
    }
}
