package org.stablekd.dist;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;
import org.stablekd.backend.Transfers;
import org.stablekd.nn.Buffer;
import org.stablekd.nn.Module;
import org.stablekd.ops.Memory;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * The pieces of data-parallel training besides the gradient all-reduce ({@link GradientReducer}):
 * making every rank start from rank 0's state, averaging BatchNorm running statistics, and the
 * debug check that parameters stayed identical. See NOTES.md, Note [Data parallelism].
 */
public final class DataParallel {
    private DataParallel() {}

    /**
     * @param overlap     all-reduce gradient buckets during backward on a communication thread
     * @param bucketBytes smallest gradient bucket
     * @param checkEvery  compare a checksum of the parameters across ranks every this many steps (0: never)
     * @param syncBatchNorm BatchNorm statistics over the global batch instead of each rank's part
     */
    public record Settings(boolean overlap, long bucketBytes, int checkEvery, boolean syncBatchNorm) {
        public static final Settings DEFAULT = new Settings(true, 1L << 20, 0, false);

        public Settings {
            if (bucketBytes < Float.BYTES) throw new IllegalArgumentException("the gradient bucket must hold at least one float, got " + bucketBytes + " bytes");
            if (checkEvery < 0) throw new IllegalArgumentException("the parameter check interval must be >= 0 steps, got " + checkEvery);
        }

        public long bucketFloats() {
            return bucketBytes / Float.BYTES;
        }
    }

    /**
     * Whether the gradient reducer all-reduces on its own thread during backward: asked for, the MPI
     * library allows a second thread, no synchronized BatchNorm (its collectives run on the training
     * thread and must not interleave), and host gradients (a device's need its context on the thread).
     */
    public static boolean communicationThread(Communicator comm, Settings dp, boolean hostGradients) {
        return dp.overlap() && !dp.syncBatchNorm() && hostGradients && !(comm instanceof Mpi m && !m.allowsCommunicationThread());
    }

    /** Copies rank 0's values of {@code tensors} (contiguous, host) into every rank's. */
    public static void broadcastFromLeader(Communicator comm, Collection<Tensor> tensors) {
        if (!comm.isDistributed()) return;
        for (Tensor t : tensors) comm.broadcast(t, 0);
    }

    /** Rank 0's numbers, on every rank (others pass anything of the same length). */
    public static double[] leaderValues(Communicator comm, double[] values) {
        if (!comm.isDistributed()) return values.clone();
        double[] mine = comm.isLeader() ? values.clone() : new double[values.length];
        return comm.allreduceSum(mine);   // x + 0 + 0 … is x, NaN and infinities included
    }

    /** Every buffer of {@code modules} (BatchNorm running statistics and batch counts), each once. */
    public static List<Tensor> buffers(Collection<Module> modules) {
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Tensor> out = new ArrayList<>();
        for (Module m : modules) {
            for (Buffer b : m.namedBuffers().values()) if (seen.add(b.value())) out.add(b.value());
        }
        return out;
    }

    /**
     * Replaces each rank's BatchNorm running statistics with their mean over the ranks, so the
     * evaluated and saved model is one model (per-rank statistics drift apart as each rank normalises
     * its own part of the batch). Running variances are averaged like the means: the mean of the
     * ranks' estimates of the same population variance.
     */
    public static void averageBuffers(Communicator comm, Collection<Module> modules) {
        if (!comm.isDistributed()) return;
        for (Tensor t : buffers(modules)) {
            if (t.dtype() != DType.F32) continue;   // batch counts are the same on every rank
            comm.allreduceSum(t);
            Memory.copy(Pointwise.scaleRaw(t, 1.0 / comm.size()), t);
        }
    }

    /** CRC-32C of a contiguous tensor's bytes (a device tensor is downloaded first). */
    public static long checksum(Tensor t) {
        t = Transfers.toHost(t);
        CRC32C crc = new CRC32C();
        crc.update(t.segment().asSlice(t.offset() * t.dtype().bytes, t.numel() * t.dtype().bytes).asByteBuffer());
        return crc.getValue();
    }

    /**
     * Fails on every rank at once when {@code values} differ between ranks: the maximum and the
     * minimum of the ranks' checksums are equal exactly when all are.
     */
    public static void checkIdentical(Communicator comm, Tensor values, long step) {
        if (!comm.isDistributed()) return;
        double c = checksum(values);
        double[] r = comm.allreduceMax(new double[] {c, -c});
        if (r[0] != -r[1]) {
            throw new DistributedException(String.format("the parameters differ between ranks after step %d (checksums range %08x..%08x; this rank %08x): "
                    + "a rank computed a different update — run with the same build, thread count and data on every rank", step, (long) -r[1], (long) r[0], (long) c));
        }
    }
}
