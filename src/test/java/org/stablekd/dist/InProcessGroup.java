package org.stablekd.dist;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * N ranks as N threads of one JVM, for tests: {@link #member(int)} is rank r's
 * {@link Communicator}. A collective publishes each rank's contribution in its slot, waits at a
 * barrier, and every rank then computes the result itself from all slots, ranks in order (so every
 * rank gets the same bits, and the order is that of a sequential loop over ranks), then waits at a
 * second barrier before the slots may be reused. Sums of F32 tensors are float additions, of F64
 * tensors double additions, like a library's reduction in the tensor's type. A rank that does not
 * arrive within {@link #TIMEOUT_SECONDS} breaks the barrier, and every waiting rank fails with a
 * {@link DistributedException} (a test never hangs on a missing collective).
 */
public final class InProcessGroup {
    static final long TIMEOUT_SECONDS = 60;

    private final int size;
    private final CyclicBarrier barrier;
    private final double[][] slots;
    private volatile int abortedBy = -1;

    public InProcessGroup(int size) {
        if (size < 1) throw new IllegalArgumentException("a group needs at least one rank, got " + size);
        this.size = size;
        this.barrier = new CyclicBarrier(size);
        this.slots = new double[size][];
    }

    public int size() {
        return size;
    }

    /** Rank r's communicator (call its collectives from rank r's thread only). */
    public Communicator member(int r) {
        if (r < 0 || r >= size) throw new IllegalArgumentException("rank " + r + " of a group of " + size);
        return new Member(r);
    }

    private void await(int rank, String what) {
        if (abortedBy >= 0) throw new DistributedException("rank " + rank + ": rank " + abortedBy + " aborted the group before " + what);
        try {
            barrier.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DistributedException("rank " + rank + " was interrupted in " + what, e);
        } catch (BrokenBarrierException | TimeoutException e) {
            if (abortedBy >= 0) throw new DistributedException("rank " + rank + ": rank " + abortedBy + " aborted the group during " + what, e);
            throw new DistributedException("rank " + rank + ": another rank did not join " + what + " within " + TIMEOUT_SECONDS + " s", e);
        }
    }

    /** Every rank's values, after all published theirs; the caller must {@link #await} again before the next collective. */
    private double[][] exchange(int rank, double[] mine, String what) {
        slots[rank] = mine;
        await(rank, what);
        return slots;
    }

    private final class Member implements Communicator {
        private final int rank;

        Member(int rank) {
            this.rank = rank;
        }

        @Override public int rank() { return rank; }
        @Override public int size() { return size; }
        @Override public String name() { return "in-process (" + size + " threads)"; }

        @Override
        public void allreduceSum(Tensor t) {
            requireHost(t, "allreduceSum");
            boolean f32 = t.dtype() == DType.F32;
            if (!f32 && t.dtype() != DType.F64) throw new IllegalArgumentException("allreduceSum of " + t.dtype() + ": F32 or F64 only");
            double[][] all = exchange(rank, t.toDoubleArray(), "allreduceSum");
            int n = all[0].length;
            for (double[] s : all) if (s.length != n) throw new DistributedException("allreduceSum with different lengths across ranks");
            double[] out = new double[n];
            for (int i = 0; i < n; i++) {
                if (f32) {
                    float acc = (float) all[0][i];
                    for (int r = 1; r < size; r++) acc += (float) all[r][i];
                    out[i] = acc;
                } else {
                    double acc = all[0][i];
                    for (int r = 1; r < size; r++) acc += all[r][i];
                    out[i] = acc;
                }
            }
            await(rank, "allreduceSum");
            for (int i = 0; i < n; i++) t.setFlat(i, out[i]);
        }

        @Override
        public double[] allreduceSum(double[] values) {
            double[][] all = exchange(rank, values.clone(), "allreduceSum");
            double[] out = all[0].clone();
            for (int r = 1; r < size; r++) for (int i = 0; i < out.length; i++) out[i] += all[r][i];
            await(rank, "allreduceSum");
            return out;
        }

        @Override
        public double[] allreduceMax(double[] values) {
            double[][] all = exchange(rank, values.clone(), "allreduceMax");
            double[] out = all[0].clone();
            for (int r = 1; r < size; r++) for (int i = 0; i < out.length; i++) out[i] = Math.max(out[i], all[r][i]);
            await(rank, "allreduceMax");
            return out;
        }

        @Override
        public void broadcast(Tensor t, int root) {
            requireHost(t, "broadcast");
            double[][] all = exchange(rank, t.toDoubleArray(), "broadcast");
            double[] from = all[root];
            await(rank, "broadcast");
            if (rank != root) for (int i = 0; i < from.length; i++) t.setFlat(i, from[i]);
        }

        @Override
        public void barrier() {
            await(rank, "barrier");
        }

        @Override
        public void abort(int exitCode) {
            abortedBy = rank;
            barrier.reset();   // every waiting rank fails with BrokenBarrierException; later collectives fail at once
            throw new DistributedException("rank " + rank + " aborted the group with code " + exitCode);
        }

        @Override
        public void close() {}

        private void requireHost(Tensor t, String what) {
            if (!t.device().isHost() || !t.isContiguous()) {
                throw new IllegalArgumentException(what + " needs a contiguous host tensor, got " + t.shape() + " on " + t.device());
            }
        }
    }
}
