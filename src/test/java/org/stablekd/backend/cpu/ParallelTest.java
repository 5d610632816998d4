package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The pool's contract: every chunk runs exactly once whatever the chunk count against the thread
 * count (home ranges, then what the others left), from the caller, from inside a chunk (inline)
 * and on the caller alone; forRange's ranges cover [0, n) once; a chunk's exception reaches the caller.
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
}
