package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The pool's contract: every chunk runs exactly once whatever the chunk count against the thread
 * count (home ranges, then what the others left), from the caller, from inside a chunk (inline)
 * and on the caller alone; forRange's ranges and forBlocks' blocks cover [0, n) once; a held
 * thread's chunks are taken by the others; a chunk's exception reaches the caller.
 */
class ParallelTest {

    @Test
    void everyChunkRunsExactlyOnce() {
        for (int chunks : new int[] {1, 2, 3, 5, 17, 100, 1000}) {
            for (int round = 0; round < 20; round++) {
                AtomicIntegerArray runs = new AtomicIntegerArray(chunks);
                Parallel.forChunks(chunks, runs::incrementAndGet);
                for (int c = 0; c < chunks; c++) assertEquals(1, runs.get(c), "chunk " + c + " of " + chunks + ", round " + round);
            }
        }
    }

    @Test
    void nestedAndOnCallerCallsRunEveryChunkOnce() {
        AtomicIntegerArray runs = new AtomicIntegerArray(7 * 5);
        Parallel.forChunks(7, outer -> Parallel.forChunks(5, inner -> runs.incrementAndGet(outer * 5 + inner)));
        for (int i = 0; i < 35; i++) assertEquals(1, runs.get(i), "nested chunk " + i);
        AtomicIntegerArray alone = new AtomicIntegerArray(9);
        Thread[] who = new Thread[9];
        Parallel.onCaller(() -> Parallel.forChunks(9, c -> {
            alone.incrementAndGet(c);
            who[c] = Thread.currentThread();
        }));
        for (int c = 0; c < 9; c++) {
            assertEquals(1, alone.get(c), "on the caller, chunk " + c);
            assertSame(Thread.currentThread(), who[c], "on the caller, chunk " + c + " ran on " + who[c]);
        }
    }

    /**
     * A nested call from the caller while the worker is held inside the outer job: the caller takes
     * the worker's home range of the nested job too, so nothing waits on the held worker (it is
     * released only once the nested job is done, and reports if that took more than 5 s).
     */
    @Test
    void theCallerTakesAHeldWorkersRange() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Parallel.threads() >= 2, "needs a pool");
        Thread caller = Thread.currentThread();
        java.util.concurrent.CountDownLatch nestedDone = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean workerWaitedTooLong = new java.util.concurrent.atomic.AtomicBoolean();
        AtomicIntegerArray runs = new AtomicIntegerArray(8);
        Parallel.forChunks(Parallel.threads(), c -> {
            if (Thread.currentThread() != caller) {
                try {
                    if (!nestedDone.await(5, java.util.concurrent.TimeUnit.SECONDS)) workerWaitedTooLong.set(true);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else if (c == 0) {
                Parallel.forChunks(8, runs::incrementAndGet);
                nestedDone.countDown();
            }
        });
        for (int c = 0; c < 8; c++) assertEquals(1, runs.get(c), "nested chunk " + c);
        org.junit.jupiter.api.Assertions.assertFalse(workerWaitedTooLong.get(), "the nested job waited on the held worker");
    }

    @Test
    void rangesCoverEachItemOnce() {
        for (int n : new int[] {1, 2, 3, 64, 1001}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Parallel.forRange(n, 1, (a, b) -> {
                for (int i = a; i < b; i++) seen.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "item " + i + " of " + n);
        }
    }

    /**
     * A chunk per item: every item runs once; and a thread held inside its first item has the rest of its
     * home range taken by the others (item 0 waits, up to 5 s, until another thread has run one of
     * items 1..3; without stealing it would wait the whole 5 s and the test fails).
     */
    @Test
    void theOthersTakeAHeldThreadsChunks() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Parallel.threads() >= 2, "needs a pool");
        int n = 4 * Parallel.threads();
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        java.util.concurrent.CountDownLatch taken = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean waitedTooLong = new java.util.concurrent.atomic.AtomicBoolean();
        Parallel.forChunks(n, i -> {
            runs.incrementAndGet(i);
            if (i == 0) {
                try {
                    if (!taken.await(5, java.util.concurrent.TimeUnit.SECONDS)) waitedTooLong.set(true);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else if (i < 4) {
                taken.countDown();   // items are claimed in order, so item 0's thread is still held: another thread runs this
            }
        });
        for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "item " + i + " of " + n);
        org.junit.jupiter.api.Assertions.assertFalse(waitedTooLong.get(), "no other thread took items 1..3 while item 0 was held");
    }

    /** forBlocks: every item once, in blocks of at most `block` cut from the start of each thread's range. */
    @Test
    void forBlocksCoversEachItemOnceInBlocksWithinTheRanges() {
        int threads = Parallel.threads();
        for (int n : new int[] {1, 2, 3, 7, 64, 1001}) {
            for (int block : new int[] {1, 3, 48, 5000}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(n);
                java.util.concurrent.ConcurrentLinkedQueue<int[]> blocks = new java.util.concurrent.ConcurrentLinkedQueue<>();
                Parallel.forBlocks(n, block, (a, b) -> {
                    blocks.add(new int[] {a, b});
                    for (int i = a; i < b; i++) seen.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "item " + i + " of " + n + ", blocks of " + block);
                int ranges = Math.min(threads, n);
                for (int[] ab : blocks) {
                    int r = 0;   // the range holding ab[0]
                    while (r + 1 < ranges && (long) n * (r + 1) / ranges <= ab[0]) r++;
                    int r0 = (int) ((long) n * r / ranges), r1 = (int) ((long) n * (r + 1) / ranges);
                    org.junit.jupiter.api.Assertions.assertTrue(ab[1] > ab[0] && ab[1] - ab[0] <= block && ab[1] <= r1
                            && (ab[0] - r0) % block == 0, "block [" + ab[0] + ", " + ab[1] + ") of n " + n + ", blocks of " + block);
                }
            }
        }
    }

    @Test
    void aChunksExceptionReachesTheCaller() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forChunks(8, c -> {
            if (c == 5) throw new IllegalStateException("chunk 5");
        }));
        assertEquals("chunk 5", e.getMessage());
        AtomicIntegerArray runs = new AtomicIntegerArray(4);   // the pool still works afterwards
        Parallel.forChunks(4, runs::incrementAndGet);
        for (int c = 0; c < 4; c++) assertEquals(1, runs.get(c));
    }

    /**
     * ParallelStats' account: a job whose chunk 0 sleeps 30 ms while the others are empty loses at
     * least 30 ms of thread-time (the other threads wait, whichever runs chunk 0) and not the
     * chunk's own run; a second job 10 ms later has that gap before it; both are under this
     * class's name; nothing is counted once stopped.
     */
    @Test
    void statsCountIdleThreadTimeAndTheGapBetweenJobs() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Parallel.threads() >= 2, "needs a pool");
        ParallelStats.start();
        long t0 = System.nanoTime();
        Parallel.forChunks(Parallel.threads(), c -> {
            if (c == 0) sleep(30);
        });
        long elapsed = System.nanoTime() - t0;
        sleep(10);
        t0 = System.nanoTime();
        Parallel.forRange(Parallel.threads(), 1, (a, b) -> { });
        elapsed += System.nanoTime() - t0;
        var rows = ParallelStats.stop();
        Parallel.forChunks(Parallel.threads(), c -> { });
        assertEquals(1, rows.size(), rows.toString());
        var row = rows.get(0);
        assertEquals("ParallelTest", row.submitter());
        assertEquals(2, row.jobs());
        // at least the others' 30 ms, at most the jobs' thread-time less chunk 0's run
        long most = Parallel.threads() * elapsed - 25_000_000L;
        org.junit.jupiter.api.Assertions.assertTrue(row.idleNanos() >= 25_000_000L && row.idleNanos() <= most,
                "idle " + row.idleNanos() + " ns, at most " + most);
        org.junit.jupiter.api.Assertions.assertTrue(row.lateNanos() >= 0 && row.lateNanos() <= row.idleNanos(),
                "late " + row.lateNanos() + " ns, idle " + row.idleNanos());   // a worker not yet there is idle
        org.junit.jupiter.api.Assertions.assertTrue(row.gapNanos() >= 9_000_000L, "gap " + row.gapNanos() + " ns");
        assertEquals(2, ParallelStats.stop().stream().mapToLong(ParallelStats.Row::jobs).sum(), "a job after stop was counted");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
