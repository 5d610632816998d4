package org.stablekd.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.ModuleGroup;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Losses;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.TestData;

/** Buckets, their order, and overlap with backward, against a communicator that records its calls. */
class GradientReducerTest {

    /** Two identical "ranks": a sum doubles every element (exactly); records each call's range, thread and timing. */
    static final class Recording implements Communicator {
        record Call(long offset, long floats, String thread, boolean duringBackward) {}
        final List<Call> calls = new ArrayList<>();
        volatile boolean backwardDone;
        final Tensor slab;

        Recording(Tensor slab) {
            this.slab = slab;
        }

        @Override public int rank() { return 0; }
        @Override public int size() { return 2; }
        @Override public String name() { return "recording"; }
        @Override public synchronized void allreduceSum(Tensor t) {
            calls.add(new Call(t.offset() - slab.offset(), t.numel(), Thread.currentThread().getName(), !backwardDone));
            for (long i = 0; i < t.numel(); i++) t.setFlat(i, 2 * t.getFlat(i));
        }
        @Override public double[] allreduceSum(double[] v) { return v.clone(); }
        @Override public double[] allreduceMax(double[] v) { return v.clone(); }
        @Override public void broadcast(Tensor t, int root) {}
        @Override public void barrier() {}
        @Override public void abort(int code) {}
        @Override public void close() {}
    }

    /** One step of DistRun's net; returns a copy of the gradient slab after the reducer finished. */
    static float[] step(boolean overlap, long bucketFloats, List<Recording.Call> calls) {
        return step(overlap, bucketFloats, calls, new long[1]);
    }

    /** As above; {@code early[0]} gets the buckets handed over during backward. */
    static float[] step(boolean overlap, long bucketFloats, List<Recording.Call> calls, long[] early) {
        DistRun.Net net = new DistRun.Net(true, 5);
        ParameterSlab slab = ParameterSlab.pack(new ModuleGroup(Map.of("model", net)));
        Recording comm = new Recording(slab.grads());
        try (GradientReducer reducer = new GradientReducer(comm, slab, bucketFloats, overlap); Scope s = Scope.open()) {
            Tensor x = Tensor.randn(new Rng(3), DType.F32, 1, 6, 1, 8, 8);
            Tensor loss = Losses.crossEntropy(net.forward(x), TestData.labels(4, 6, 3));
            Tensor one = Tensor.emptyLike(loss);
            one.fill(1);
            Autograd.backward(loss, one, reducer.listener());
            comm.backwardDone = true;
            reducer.finish();
            early[0] = reducer.bucketsHandedOverDuringBackward();
            if (calls != null) calls.addAll(comm.calls);
            return slab.grads().toFloatArray();
        }
    }

    @Test
    void everyGradientIsReducedOnceInBucketsFromTheEndOfTheSlab() {
        List<Recording.Call> calls = new ArrayList<>();
        long[] early = new long[1];
        float[] reduced = step(true, 16, calls, early);
        // the buckets tile the slab: contiguous, disjoint, complete; the first one ends where the slab ends
        List<Recording.Call> byOffset = new ArrayList<>(calls);
        byOffset.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        long at = 0;
        for (Recording.Call c : byOffset) {
            assertEquals(at, c.offset(), "buckets are contiguous and disjoint");
            at += c.floats();
        }
        assertEquals(reduced.length, at, "the buckets cover the whole gradient slab");
        // backward reaches the head first and the first convolution last
        assertTrue(calls.get(0).offset() >= reduced.length - 48, "the first bucket reduced is one of fc's: " + calls);
        assertEquals(0, calls.getLast().offset(), "the first convolution's bucket comes last: " + calls);
        assertTrue(calls.size() >= 4, "16-float buckets over " + reduced.length + " floats: " + calls.size());
        // overlap: every bucket went to the communication thread from inside backward, as its last gradient
        // became final (every parameter of this net gets one); when the thread ran them depends on timing
        assertTrue(calls.stream().allMatch(c -> c.thread().equals("stablekd-allreduce")), calls.toString());
        assertEquals(calls.size(), early[0], "buckets handed over during backward");

        // without overlap: the same sums, all after backward, on the caller's thread
        List<Recording.Call> sync = new ArrayList<>();
        float[] after = step(false, 16, sync);
        assertTrue(sync.stream().noneMatch(Recording.Call::duringBackward), sync.toString());
        assertTrue(sync.stream().noneMatch(c -> c.thread().equals("stablekd-allreduce")), sync.toString());
        float[] plain = step(false, Long.MAX_VALUE, null);   // one bucket
        assertEquals(plain.length, after.length);
        boolean nonzero = false;
        for (int i = 0; i < plain.length; i++) {
            assertTrue(Float.isFinite(plain[i]), "gradient " + i + " is not finite");
            assertEquals(Float.floatToRawIntBits(plain[i]), Float.floatToRawIntBits(reduced[i]), "element " + i);
            assertEquals(Float.floatToRawIntBits(plain[i]), Float.floatToRawIntBits(after[i]), "element " + i);
            nonzero |= plain[i] != 0;
        }
        assertTrue(nonzero, "the step produced gradients");
    }
}
