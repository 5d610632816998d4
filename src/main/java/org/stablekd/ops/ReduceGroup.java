package org.stablekd.ops;

import org.stablekd.tensor.Tensor;

/**
 * The ranks an op reduces over (synchronized BatchNorm, {@link Norm#syncBatchNorm}): this
 * process's rank, their number and an in-place elementwise sum. The op layer's view of a
 * {@code dist.Communicator} (which adapts to it in {@code dist.SyncBatchNorm}), so that
 * {@code ops} does not depend on {@code dist}.
 *
 * <p>Every rank must call {@link #allreduceSum} in the same order with tensors of the same shape,
 * and every rank must receive the same bits.
 */
public interface ReduceGroup {
    int rank();

    int size();

    /** Sums a contiguous tensor (x's dtype and device) elementwise across the ranks, in place. */
    void allreduceSum(Tensor t);

    /** One rank alone: the sum is the tensor itself. */
    ReduceGroup SINGLE = new ReduceGroup() {
        @Override public int rank() { return 0; }
        @Override public int size() { return 1; }
        @Override public void allreduceSum(Tensor t) {}
        @Override public String toString() { return "single"; }
    };
}
