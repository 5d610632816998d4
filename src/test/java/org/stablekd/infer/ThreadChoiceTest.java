package org.stablekd.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.WeightCache;
import org.stablekd.backend.cpu.Parallel;
import org.stablekd.models.Zoo;
import org.stablekd.nn.BatchNormFolding;
import org.stablekd.nn.Model;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;

/**
 * The Predictor's choice between the thread pool and the calling thread: it keeps whichever mode
 * a (fake) clock says is faster, probes again on schedule, and both modes give the same logits,
 * bit for bit, on the zoo models a predictor serves at batch 1 and 3.
 */
class ThreadChoiceTest {
    /** A call that reports whether its two chunks ran on two threads (the pool) or on the caller alone. */
    private static boolean ranOnPool() {
        Thread caller = Thread.currentThread();
        AtomicBoolean other = new AtomicBoolean();
        Parallel.forChunks(2, c -> {
            if (Thread.currentThread() != caller) other.set(true);
            if (c == 0) {   // give the other chunk time to be taken by a worker
                long until = System.nanoTime() + 2_000_000;
                while (System.nanoTime() < until) Thread.onSpinWait();
            }
        });
        return other.get();
    }

    /** Runs calls whose fake duration is poolCost on the pool and callerCost on the caller; returns the choice. */
    private static ThreadChoice choose(long poolCost, long callerCost, int calls) {
        AtomicLong now = new AtomicLong();
        ThreadChoice choice = new ThreadChoice(now::get);
        run(choice, now, poolCost, callerCost, calls);
        return choice;
    }

    private static void run(ThreadChoice choice, AtomicLong now, long poolCost, long callerCost, int calls) {
        for (int i = 0; i < calls; i++) choice.run(() -> now.addAndGet(ranOnPool() ? poolCost : callerCost));
    }

    @Test
    void keepsTheFasterModeAndProbesAgainOnSchedule() {
        Assumptions.assumeTrue(Parallel.threads() > 1, "the choice exists only with a thread pool");
        ThreadChoice slowPool = choose(200, 100, 2 * (ThreadChoice.PROBE + ThreadChoice.SETTLE));
        assertFalse(slowPool.probing(), "a probe ends after PROBE calls of each mode");
        assertTrue(slowPool.onCaller(), "the pool cost twice the caller: calls run on the caller");
        ThreadChoice fastPool = choose(60, 100, 2 * (ThreadChoice.PROBE + ThreadChoice.SETTLE));
        assertFalse(fastPool.onCaller(), "the pool was faster: calls run on it");
        ThreadChoice reprobe = choose(200, 100, 2 * (ThreadChoice.PROBE + ThreadChoice.SETTLE) + 499);
        assertFalse(reprobe.probing());
        reprobe.run(() -> {});
        assertTrue(reprobe.probing(), "the second probe starts 500 calls after the first decision");
    }

    @Test
    void aChosenModeThatSlowsDownIsProbedAtOnce() {
        Assumptions.assumeTrue(Parallel.threads() > 1, "the choice exists only with a thread pool");
        AtomicLong now = new AtomicLong();
        ThreadChoice choice = new ThreadChoice(now::get);
        run(choice, now, 60, 100, 2 * (ThreadChoice.PROBE + ThreadChoice.SETTLE));
        assertFalse(choice.onCaller(), "the pool was faster");
        run(choice, now, 60, 100, ThreadChoice.WATCH);
        assertFalse(choice.probing(), "no probe while the pool keeps its speed");
        run(choice, now, 200, 100, ThreadChoice.WATCH);   // the pool now takes twice the caller's time
        assertTrue(choice.probing(), "a window of calls 1.25× slower than the caller's last median starts a probe");
        run(choice, now, 200, 100, 2 * (ThreadChoice.PROBE + ThreadChoice.SETTLE));
        assertTrue(choice.onCaller(), "and the probe moves the calls to the caller");
    }

    @Test
    void bothModesGiveTheSameLogits() {
        for (String name : new String[] {"resnet20", "mobile_half", "resnet8x4"}) {
            Shape in = Shape.of(3, 32, 32);
            Model model = Zoo.create(name, 100, in, new Rng(21));
            assertTrue(BatchNormFolding.fold(model) > 0);
            for (int batch : new int[] {1, 3}) {
                Tensor x = Tensor.randn(new Rng(batch), org.stablekd.tensor.DType.F32, 1, batch, 3, 32, 32);
                float[][] out = new float[2][];
                WeightCache cache = new WeightCache();
                for (int mode = 0; mode < 2; mode++) {
                    final int m = mode;
                    Runnable call = () -> cache.run(() -> {
                        try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
                            out[m] = model.forward(x).toFloatArray();
                        }
                    });
                    if (mode == 0) call.run();
                    else Parallel.onCaller(call);
                }
                assertEquals(batch * 100, out[0].length);
                Close.assertBitIdentical(out[0], out[1], name + " batch " + batch + ": pool vs caller");
            }
        }
    }
}
