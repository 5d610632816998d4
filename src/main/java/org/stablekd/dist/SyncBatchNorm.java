package org.stablekd.dist;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Module;
import org.stablekd.ops.ReduceGroup;
import org.stablekd.tensor.Tensor;

/**
 * Synchronized BatchNorm across ranks (issue 14's option; per-rank statistics stay the default):
 * {@link #enable} makes every {@link BatchNorm2d} of a module, in training mode, normalize over the
 * union of all ranks' local batches ({@code ops.Norm.syncBatchNorm}; see docs/design.md,
 * Data-parallel BatchNorm). Evaluation is unchanged (running statistics). With one rank the layers
 * keep the ordinary op, so results are bit-identical to not enabling it.
 *
 * <p>Each training forward of a synchronized layer is one all-reduce of ranks × (1 + 3c) floats,
 * and its backward one of 2c floats, on the calling thread. They are collectives of the same
 * communicator the gradient reducer uses: while a backward runs they must not overlap with the
 * reducer's bucket all-reduces on another thread (MPI requires the same order of collectives on
 * every rank), so with sync BN run the reducer without overlap or give it its own communicator.
 */
public final class SyncBatchNorm {
    private SyncBatchNorm() {}

    /** Synchronizes every BatchNorm2d under {@code model} over {@code comm}; returns how many. */
    public static int enable(Module model, Communicator comm) {
        ReduceGroup group = group(comm);
        List<BatchNorm2d> bns = batchNorms(model);
        for (BatchNorm2d bn : bns) bn.setSyncGroup(group);
        return bns.size();
    }

    /** Back to per-rank statistics for every BatchNorm2d under {@code model}; returns how many. */
    public static int disable(Module model) {
        List<BatchNorm2d> bns = batchNorms(model);
        for (BatchNorm2d bn : bns) bn.setSyncGroup(null);
        return bns.size();
    }

    /** The op layer's view of a communicator: its rank, size and in-place tensor sum. */
    public static ReduceGroup group(Communicator comm) {
        return new ReduceGroup() {
            @Override public int rank() { return comm.rank(); }
            @Override public int size() { return comm.size(); }
            @Override public void allreduceSum(Tensor t) { comm.allreduceSum(t); }
            @Override public String toString() { return comm.name(); }
        };
    }

    private static List<BatchNorm2d> batchNorms(Module m) {
        List<BatchNorm2d> out = new ArrayList<>();
        collect(m, out);
        return out;
    }

    private static void collect(Module m, List<BatchNorm2d> out) {
        if (m instanceof BatchNorm2d bn) out.add(bn);
        for (Module child : m.children().values()) collect(child, out);
    }
}
