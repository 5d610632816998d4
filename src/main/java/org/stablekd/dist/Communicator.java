package org.stablekd.dist;

import org.stablekd.tensor.Tensor;

/**
 * A fixed group of processes (ranks 0..size-1) that train one model together: MPI for host
 * tensors ({@link Mpi}), NCCL for CUDA tensors, and {@link Local} (one rank, every call a no-op)
 * when nothing is distributed. See NOTES.md, Note [Data parallelism].
 *
 * <p>Collectives are called by every rank in the same order; a rank that skips one hangs the
 * others. Sums are elementwise and every rank receives the same bits (IEEE addition is
 * commutative, and the libraries reduce each element in one place, then share the result).
 */
public interface Communicator extends AutoCloseable {
    /** This process's rank, 0..size-1. */
    int rank();

    /** Ranks in the group. */
    int size();

    /** A short name for logs ("local", "mpi (Open MPI 4.1.4)", …). */
    String name();

    default boolean isDistributed() {
        return size() > 1;
    }

    /** Rank 0 prints progress and writes files; the others only compute. */
    default boolean isLeader() {
        return rank() == 0;
    }

    /** Sums a contiguous F32 tensor elementwise across the ranks, in place. */
    void allreduceSum(Tensor t);

    /** Elementwise sums of a few doubles (metrics, counts), returned as a new array. */
    double[] allreduceSum(double[] values);

    /** Elementwise maxima of a few doubles, returned as a new array. */
    double[] allreduceMax(double[] values);

    /** Copies {@code root}'s bytes of a contiguous tensor into every other rank's. */
    void broadcast(Tensor t, int root);

    /** Waits until every rank has called it. */
    void barrier();

    /**
     * Ends every rank of the job now (a rank that found an error others cannot see); returns only
     * when there is nothing to abort (one rank).
     */
    void abort(int exitCode);

    /** Leaves the group (MPI_Finalize); later collectives are errors. */
    @Override
    void close();
}
