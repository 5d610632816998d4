package org.stablekd.dist;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.tensor.Tensor;

/**
 * Sums the gradient slab across ranks in buckets, overlapping the backward pass (see NOTES.md,
 * Note [Data parallelism]).
 *
 * <p>Buckets are contiguous ranges of the gradient slab, cut from its end (the backward pass
 * finishes the last layers' gradients first) into pieces of at least {@code bucketFloats}. As the
 * autograd {@link #listener()} reports a parameter's gradient final, its bucket's count drops; a
 * bucket at zero is handed to one communication thread, which all-reduces buckets in the order
 * they were handed over. That order is the same on every rank (same model, same graph, same
 * backward order), so the ranks' collectives match. {@link #finish()} hands over the buckets no
 * gradient reached (frozen modules), in slab order, and waits for all of them.
 *
 * <p>Each rank scales its loss by its share of the global batch before backward, so the sum is
 * the gradient of the global batch's mean loss.
 */
public final class GradientReducer implements AutoCloseable {
    /** One range of the gradient slab. */
    private record Bucket(int index, long offset, long floats, int parameters) {}

    private final Communicator comm;
    private final Tensor grads;
    private final List<Bucket> buckets = new ArrayList<>();
    private final Map<Tensor, Bucket> bucketOf = new IdentityHashMap<>();
    private final int[] pending;
    private final boolean[] submitted;
    private final List<Future<?>> inFlight = new ArrayList<>();
    private final ExecutorService thread;   // null: reduce synchronously in finish()
    private double waitSeconds;
    private long steps;
    private long handedOverEarly;   // buckets handed to the thread before finish(), over all steps

    /**
     * @param bucketFloats the smallest bucket, in floats (the last one cut may be smaller)
     * @param overlap      all-reduce on a background thread during backward; else all in {@link #finish()}
     */
    public GradientReducer(Communicator comm, ParameterSlab slab, long bucketFloats, boolean overlap) {
        if (bucketFloats < 1) throw new IllegalArgumentException("bucket size must be at least one float, got " + bucketFloats);
        this.comm = comm;
        this.grads = slab.grads();
        List<ParameterSlab.Entry> entries = slab.entries();
        long slabEnd = grads.numel();
        long end = slabEnd;
        int count = 0;
        List<ParameterSlab.Entry> members = new ArrayList<>();
        for (int i = entries.size() - 1; i >= 0; i--) {
            ParameterSlab.Entry e = entries.get(i);
            members.add(e);
            count++;
            long start = i == 0 ? 0 : e.offset();
            if (end - start >= bucketFloats || i == 0) {
                Bucket b = new Bucket(buckets.size(), start, end - start, count);
                buckets.add(b);
                for (ParameterSlab.Entry m : members) bucketOf.put(m.parameter().value(), b);
                members.clear();
                count = 0;
                end = start;
            }
        }
        pending = new int[buckets.size()];
        submitted = new boolean[buckets.size()];
        thread = overlap && comm.isDistributed() ? Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "stablekd-allreduce");
            t.setDaemon(true);
            return t;
        }) : null;
        reset();
    }

    /** Buckets, from the end of the slab to its start. */
    public int buckets() {
        return buckets.size();
    }

    /** Bytes each rank contributes to the all-reduce per step (the whole gradient slab). */
    public long bytesPerStep() {
        return grads.numel() * Float.BYTES;
    }

    /** Seconds the main thread spent waiting for all-reduces in {@link #finish()}, over all steps. */
    public double waitSeconds() {
        return waitSeconds;
    }

    public long steps() {
        return steps;
    }

    /** Buckets handed to the communication thread while backward still ran, over all steps (the overlap). */
    public long bucketsHandedOverDuringBackward() {
        return handedOverEarly;
    }

    /** Pass to {@link Autograd#backward(Tensor, Tensor, Autograd.LeafListener)}. */
    public Autograd.LeafListener listener() {
        return leaf -> {
            Bucket b = bucketOf.get(leaf);
            // without the thread, everything waits for finish(): a blocking reduce here would stall backward
            if (b != null && --pending[b.index()] == 0 && thread != null) {
                submit(b);
                handedOverEarly++;
            }
        };
    }

    /** Hands over the buckets not yet reduced and waits until every bucket of this step is summed. */
    public void finish() {
        long t0 = System.nanoTime();
        for (Bucket b : buckets) if (!submitted[b.index()]) submit(b);
        try {
            for (Future<?> f : inFlight) f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new DistributedException("gradient all-reduce failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DistributedException("interrupted while waiting for the gradient all-reduce", e);
        } finally {
            waitSeconds += (System.nanoTime() - t0) / 1e9;
            steps++;
            reset();
        }
    }

    private void submit(Bucket b) {
        submitted[b.index()] = true;
        Tensor range = grads.narrowView(0, Math.toIntExact(b.offset()), Math.toIntExact(b.floats()));
        if (thread == null) comm.allreduceSum(range);
        else inFlight.add(thread.submit(() -> comm.allreduceSum(range)));
    }

    private void reset() {
        inFlight.clear();
        for (Bucket b : buckets) {
            pending[b.index()] = b.parameters();
            submitted[b.index()] = false;
        }
    }

    @Override
    public void close() {
        if (thread != null) thread.shutdownNow();
    }
}
