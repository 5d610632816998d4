package org.stablekd.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The one parallel helper of the CPU backend: a fixed pool of {@code threads()-1} daemon workers
 * plus the calling thread. Work is split into a fixed number of chunks whose boundaries depend
 * only on the problem size and {@link #threads()}, never on timing, so results are bit-identical
 * from run to run for the same thread count (any thread may run any chunk, but each chunk writes
 * its own outputs). Calls from inside a worker run inline (no nested parallelism, no deadlock).
 *
 * <p>Dispatch: a job is published in one volatile slot; workers that finished the previous job
 * spin on that slot for {@link #SPIN_NANOS} before they park, and the caller spins the same way
 * for the last chunks. A training step issues hundreds of kernels back to back, a few
 * microseconds apart; handing each to a parked thread (a futex wake and a reschedule, 20–50 µs
 * on these machines) cost more than a small kernel itself and made 2 threads slower than 1 for
 * memory-bound passes.
 *
 * <p>Home ranges: participant p (the caller is 0, worker i is i) first runs the chunks of its own
 * range, [p·chunks/T, (p+1)·chunks/T), and only then takes unclaimed chunks from the others'
 * ranges. So with the usual split of a batch into one range of images per thread, each thread
 * keeps the same images from kernel to kernel, and reads activations it wrote itself. Measured on
 * the 2-vCPU Zen 4 (2026-12-06, scratch loop): reading 2 MB that the other thread had just
 * written took 157–182 µs, its own 66–95 µs; the host's two vCPUs share no fast cache. A thread
 * that is late (parked) still has its chunks taken by the others, so no one waits on it.
 *
 * <p>{@link ParallelStats} (off by default) accounts where the threads wait, per submitting kernel.
 *
 * <p>{@code -Dstablekd.threads=N} sets the pool size (default: available processors);
 * {@code -Dstablekd.spinMicros=N} how long idle threads spin before parking (default 400: 100
 * until 2026-12-06, when batch-1 calls on the Zen 5 host left gaps of more than 100 µs between
 * parallel sections, the worker parked in them and woke 20–50 µs late; resnet20's 2-thread call
 * 0.334 against 0.343 and 0.338 against 0.352 ms, resnet8x4's 1.242 against 1.272, together with
 * WinogradChannelsLast.MIN_PART_MACS, one JVM switching every 300 calls).
 */
public final class Parallel {
    private static final int THREADS = Math.max(1, Integer.getInteger("stablekd.threads",
            Runtime.getRuntime().availableProcessors()));
    private static final long SPIN_NANOS = 1000L * Math.max(0, Integer.getInteger("stablekd.spinMicros", 400));
    private static final Worker[] WORKERS = new Worker[THREADS - 1];
    /** The job being offered to the workers (the latest published). */
    private static volatile Job current;

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker(i + 1);
            WORKERS[i].start();
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

    /** Bound while a caller runs its chunks itself (see {@link #onCaller}). */
    private static final ScopedValue<Boolean> ON_CALLER = ScopedValue.newInstance();

    /**
     * Runs {@code body} with every Parallel call it makes on this thread run by this thread alone:
     * the same chunks, one after another, so the results are the same bits as on the pool. For
     * latency-bound callers that measured the pool to cost more than it saves (the Predictor
     * measures and chooses, see its ThreadChoice).
     */
    public static void onCaller(Runnable body) {
        ScopedValue.where(ON_CALLER, Boolean.TRUE).run(body);
    }

    private static final class Worker extends Thread {
        /** True while parked or about to park (the publisher then unparks it). */
        volatile boolean parking;
        /** Participant index (1..threads-1): whose home range this worker runs first. */
        final int index;

        Worker(int i) {
            super(null, null, "stablekd-cpu-" + i, 0);
            this.index = i;
            setDaemon(true);
        }

        @Override
        public void run() {
            Job last = null;
            while (true) {
                Job job = current;
                if (job != last && job != null) {
                    last = job;
                    job.work(index);
                    continue;
                }
                // spin a little: the next kernel usually follows within microseconds
                long until = System.nanoTime() + SPIN_NANOS;
                while ((job = current) == last && System.nanoTime() < until) Thread.onSpinWait();
                if (job != last) continue;
                parking = true;
                if (current == last) LockSupport.park(this);   // a publish after this check unparks us
                parking = false;
            }
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
        forChunks(parts, c -> body.run((int) ((long) n * c / parts), (int) ((long) n * (c + 1) / parts)), body);
    }

    /**
     * Runs {@code body} over {@code [0, n)} cut as forRange would with grain 1 (one contiguous range
     * per thread), each range then cut from its start into blocks of at most {@code block} items,
     * each block its own chunk, so a thread done with its range takes the others' last blocks
     * ({@link #forChunks}); {@code body} gets one block at a time.
     */
    public static void forBlocks(int n, int block, Range body) {
        if (n <= 0) return;
        int ranges = Math.min(THREADS, n), perRange = Sgemm.ceilDiv(Sgemm.ceilDiv(n, ranges), block);
        forChunks(ranges * perRange, item -> {
            int r = item / perRange, r0 = (int) ((long) n * r / ranges), r1 = (int) ((long) n * (r + 1) / ranges);
            int b0 = r0 + item % perRange * block;
            if (b0 < r1) body.run(b0, Math.min(r1, b0 + block));
        }, body);
    }

    /**
     * Runs chunks {@code 0..chunks-1}, each exactly once, on the pool and the calling thread. Each
     * thread starts on its home range; one that finishes first takes the others' unclaimed chunks.
     * So kernels whose items are independent and each worth tens of microseconds or more (an image,
     * a group of images with its own partial sum) give each item its own chunk rather than one
     * range per thread (forRange): on this 2-vCPU host one vCPU is often slower than the other for
     * a while, and a job of two fixed halves ends when the slower finishes (2026-12-07: each thread
     * idle about 12 % of resnet8x4's Winograd jobs). Measured on resnet20's step, switching every
     * two steps in one JVM (WinogradChannelsLast, WinogradWeightGradBands, DirectChannelsLast with
     * a chunk per item): 2.5–4.6 % faster in the slow minutes, level in the fast ones.
     */
    public static void forChunks(int chunks, Chunk body) {
        forChunks(chunks, body, body);
    }

    /** forChunks, with ParallelStats told who submitted the job. */
    private static void forChunks(int chunks, Chunk body, Object submitter) {
        if (chunks <= 0) return;
        if (chunks == 1 || THREADS == 1 || inWorker() || ON_CALLER.isBound()) {
            for (int c = 0; c < chunks; c++) body.run(c);
            return;
        }
        boolean timed = ParallelStats.on();
        long published = timed ? System.nanoTime() : 0;
        Job job = new Job(chunks, body, Thread.currentThread(), timed);
        current = job;
        for (Worker w : WORKERS) if (w.parking) LockSupport.unpark(w);
        job.work(0);
        job.await();
        if (timed) ParallelStats.record(submitter, published, System.nanoTime(), job.busy.get(), job.startedAt);
        Throwable error = job.error.get();
        if (error instanceof RuntimeException re) throw re;
        if (error instanceof Error e) throw e;
        if (error != null) throw new RuntimeException(error);
    }

    private static final class Job {
        final int chunks;
        final Chunk body;
        final Thread caller;
        /** next.get(r): the next unclaimed chunk of home range r (ranges end at rangeEnd(r)). */
        final AtomicIntegerArray next = new AtomicIntegerArray(THREADS);
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        volatile boolean callerParking;
        /** With ParallelStats on: the chunks' run times are summed into busy (ns); else busy is null. */
        final boolean timed;
        final AtomicLong busy;
        /** With ParallelStats on: when each worker joined (0: not before the caller returned). */
        final long[] startedAt;

        Job(int chunks, Chunk body, Thread caller, boolean timed) {
            this.chunks = chunks;
            this.timed = timed;
            this.busy = timed ? new AtomicLong() : null;
            this.startedAt = timed ? new long[THREADS] : null;
            this.body = body;
            this.caller = caller;
            for (int r = 1; r < THREADS; r++) next.set(r, rangeEnd(r - 1));
        }

        /** End of home range r: [rangeEnd(r − 1), rangeEnd(r)). */
        int rangeEnd(int r) {
            return (int) ((long) chunks * (r + 1) / THREADS);
        }

        /** Participant p: its own range first, then what is left of the others', in order. */
        void work(int p) {
            if (timed) startedAt[p] = System.nanoTime();
            for (int i = 0; i < THREADS; i++) {
                int r = (p + i) % THREADS, end = rangeEnd(r), c;
                while ((c = next.getAndIncrement(r)) < end) {
                    long t0 = timed ? System.nanoTime() : 0;
                    try {
                        if (error.get() == null) body.run(c);
                    } catch (Throwable t) {
                        error.compareAndSet(null, t);
                    } finally {
                        if (timed) busy.addAndGet(System.nanoTime() - t0);
                        if (done.incrementAndGet() == chunks && callerParking) LockSupport.unpark(caller);
                    }
                }
            }
        }

        /** On the caller: until every chunk is done (spin, then park). */
        void await() {
            long until = System.nanoTime() + SPIN_NANOS;
            while (done.get() < chunks && System.nanoTime() < until) Thread.onSpinWait();
            if (done.get() >= chunks) return;
            callerParking = true;
            while (done.get() < chunks) LockSupport.park(this);
            callerParking = false;
        }
    }
}
