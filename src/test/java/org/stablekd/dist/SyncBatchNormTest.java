package org.stablekd.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertBitIdentical;
import static org.stablekd.testing.Close.assertClose;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.autograd.Node;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Sequential;
import org.stablekd.ops.Layout;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Reduce;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/**
 * Synchronized BatchNorm over two ranks (two threads of this JVM, {@link InProcessGroup}) equals
 * ordinary BatchNorm over the whole batch: outputs, running statistics, input gradients (each
 * rank's part of the whole batch's), and γ/β gradients (the sum of the ranks' shares), after two
 * training steps. The ranks hold 3 and 5 of 8 samples (unequal counts), and one channel has mean
 * 50 and spread 0.5 (the mean's float remainder matters there). Two threads computing at once are
 * sound here: scopes, grad mode and kernel scratch are per thread, the host allocator is
 * synchronized, and the CPU pool lets concurrent callers each finish their own job.
 */
class SyncBatchNormTest {
    static final int N = 8, C = 3, H = 5, W = 6, STEPS = 2;
    static final int[] SPLIT = {3, 5};

    /** One rank's (or the whole batch's) results of the last step, and the running statistics after all steps. */
    record Result(float[] y, float[] dx, float[] dgamma, float[] dbeta, float[] runMean, float[] runVar, int tracked) {}

    static Tensor input(int step) {
        Rng rng = new Rng(100 + step);
        double[] mean = {0.3, -2, 50}, std = {1, 3, 0.5};
        Tensor x = Tensor.empty(DType.F32, N, C, H, W);
        for (long e = 0; e < x.numel(); e++) {
            int ch = (int) (e / (H * W) % C);
            x.setFlat(e, mean[ch] + std[ch] * rng.nextGaussian());
        }
        return x;
    }

    /** The loss is Σ y·R, so the whole batch's loss is the sum of the ranks' losses. */
    static Tensor lossWeights(int step) {
        return Tensor.randn(new Rng(200 + step), DType.F32, 1, N, C, H, W);
    }

    static BatchNorm2d batchNorm() {
        BatchNorm2d bn = new BatchNorm2d(C);
        for (int ch = 0; ch < C; ch++) {
            bn.weight().value().setFlat(ch, 0.5 + 0.3 * ch);
            bn.bias().value().setFlat(ch, 0.1 * ch - 0.2);
            bn.runningMean().value().setFlat(ch, 0.1 * ch);
            bn.runningVar().value().setFlat(ch, 1 + 0.5 * ch);
        }
        return bn;
    }

    /** Samples [start, start+count) of every step's batch through bn, STEPS training steps. */
    static Result train(BatchNorm2d bn, int start, int count, boolean relu) {
        Result last = null;
        for (int step = 0; step < STEPS; step++) {
            try (Scope s = Scope.open()) {
                Tensor x;
                Tensor r;
                try (Restore ng = Autograd.noGrad()) {
                    x = Layout.narrow(input(step), 0, start, count);
                    r = Layout.narrow(lossWeights(step), 0, start, count);
                }
                x.requiresGrad(true);
                bn.weight().value().setGrad(null);
                bn.bias().value().setGrad(null);
                Tensor y = relu ? bn.forwardRelu(x) : bn.forward(x);
                Autograd.backward(Reduce.sum(Pointwise.mul(y, r)));
                last = new Result(y.toFloatArray(), x.grad().toFloatArray(), bn.weight().value().grad().toFloatArray(),
                        bn.bias().value().grad().toFloatArray(), null, null, 0);
            }
        }
        return new Result(last.y(), last.dx(), last.dgamma(), last.dbeta(), bn.runningMean().value().toFloatArray(),
                bn.runningVar().value().toFloatArray(), (int) bn.batchesTracked().value().getFlat(0));
    }

    /** Each rank on its own thread, its own BatchNorm2d synchronized over the group. */
    static List<Result> trainRanks(Backend backend, boolean relu) throws Exception {
        InProcessGroup group = new InProcessGroup(SPLIT.length);
        ExecutorService pool = Executors.newFixedThreadPool(SPLIT.length);
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (int r = 0, start = 0; r < SPLIT.length; start += SPLIT[r], r++) {
                int rank = r, from = start;
                futures.add(pool.submit(() -> {
                    try (Restore b = Backends.use(backend)) {
                        BatchNorm2d bn = batchNorm();
                        assertEquals(1, SyncBatchNorm.enable(bn, group.member(rank)));
                        return train(bn, from, SPLIT[rank], relu);
                    }
                }));
            }
            List<Result> out = new ArrayList<>();
            for (Future<Result> f : futures) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static float[] concat(float[] a, float[] b) {
        float[] out = new float[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static float[] add(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] + b[i];
        return out;
    }

    @ParameterizedTest(name = "{0}, relu {1}")
    @CsvSource({"cpu, false", "cpu, true", "ref, false", "ref, true"})
    void twoRanksEqualTheWholeBatch(String backendName, boolean relu) throws Exception {
        Backend backend = backendName.equals("cpu") ? Backends.cpu() : Backends.ref();
        Result whole;
        try (Restore b = Backends.use(backend)) {
            whole = train(batchNorm(), 0, N, relu);
        }
        List<Result> ranks = trainRanks(backend, relu);
        Result r0 = ranks.get(0), r1 = ranks.get(1);
        Tolerance tol = Tolerance.SYNC_BN_VS_WHOLE_BATCH;
        String what = backendName + (relu ? " bn+relu" : " bn") + ": ";
        assertClose(concat(r0.y(), r1.y()), whole.y(), tol, what + "output (rank 0's samples, then rank 1's)");
        assertClose(concat(r0.dx(), r1.dx()), whole.dx(), tol, what + "input gradient");
        assertClose(add(r0.dgamma(), r1.dgamma()), whole.dgamma(), tol, what + "weight gradient (sum of the ranks' shares)");
        assertClose(add(r0.dbeta(), r1.dbeta()), whole.dbeta(), tol, what + "bias gradient (sum of the ranks' shares)");
        for (Result r : ranks) {
            assertClose(r.runMean(), whole.runMean(), tol, what + "running mean");
            assertClose(r.runVar(), whole.runVar(), tol, what + "running variance (unbiased over the global count)");
            assertEquals(STEPS, r.tracked());
        }
        // every rank computed its statistics from the same gathered bits
        assertBitIdentical(r0.runMean(), r1.runMean(), what + "running mean, rank 0 against rank 1");
        assertBitIdentical(r0.runVar(), r1.runVar(), what + "running variance, rank 0 against rank 1");
        // the rank's share of the γ gradient is not the whole: sync must not return the global sum
        assertTrue(Math.abs(r0.dbeta()[0] - whole.dbeta()[0]) > 1e-3, what + "rank 0's bias gradient is its share, not the sum");
    }

    @Test
    void perRankStatisticsDifferFromTheWholeBatch() throws Exception {
        // the control: without enable() each rank normalizes its own samples, and the comparison above fails
        Result whole = train(batchNorm(), 0, N, false);
        Result alone = train(batchNorm(), 0, SPLIT[0], false);
        float[] head = java.util.Arrays.copyOf(whole.y(), alone.y().length);
        assertThrows(AssertionError.class, () -> assertClose(alone.y(), head, Tolerance.SYNC_BN_VS_WHOLE_BATCH, "per-rank output"));
    }

    @Test
    void oneRankIsOrdinaryBatchNormBitForBit() {
        Result plain = train(batchNorm(), 0, N, true);
        BatchNorm2d bn = batchNorm();
        SyncBatchNorm.enable(bn, Local.INSTANCE);
        Result local = train(bn, 0, N, true);
        assertBitIdentical(plain.y(), local.y(), "output");
        assertBitIdentical(plain.dx(), local.dx(), "input gradient");
        assertBitIdentical(plain.dgamma(), local.dgamma(), "weight gradient");
        assertBitIdentical(plain.dbeta(), local.dbeta(), "bias gradient");
        assertBitIdentical(plain.runMean(), local.runMean(), "running mean");
        assertBitIdentical(plain.runVar(), local.runVar(), "running variance");
    }

    @Test
    void enableReachesNestedLayersAndEvalIsUnchanged() throws Exception {
        Sequential model = new Sequential(new BatchNorm2d(2), new Sequential(new BatchNorm2d(2)));
        InProcessGroup group = new InProcessGroup(2);
        assertEquals(2, SyncBatchNorm.enable(model, group.member(0)));
        for (var m : model.children().values()) {
            BatchNorm2d bn = m instanceof BatchNorm2d b ? b : (BatchNorm2d) m.children().values().iterator().next();
            assertNotSame(null, bn.syncGroup());
            assertEquals(2, bn.syncGroup().size());
        }
        // eval mode never communicates (one thread alone would wait forever at the group's barrier)
        model.eval();
        try (Scope s = Scope.open()) {
            Tensor y = model.forward(Tensor.randn(new Rng(1), DType.F32, 1, 2, 2, 3, 3));
            Node node = (Node) y.gradFn();
            assertTrue(node == null || node.op() == Op.BATCH_NORM);
        }
        assertEquals(2, SyncBatchNorm.disable(model));
        BatchNorm2d first = (BatchNorm2d) model.children().values().iterator().next();
        assertSame(null, first.syncGroup());
    }

    @Test
    void aRankThatSkipsTheCollectiveFailsTheOthersInsteadOfHanging() {
        BatchNorm2d bn = batchNorm();
        // the other rank aborts: the waiting rank's barrier breaks
        InProcessGroup group = new InProcessGroup(2);
        Thread aborter = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            try {
                group.member(1).abort(3);
            } catch (DistributedException expected) {
                // abort throws on the aborting rank
            }
        });
        SyncBatchNorm.enable(bn, group.member(0));
        aborter.start();
        try (Scope s = Scope.open()) {
            Tensor x = input(0);
            assertThrows(DistributedException.class, () -> bn.forward(x));
        }
    }
}
