package org.stablekd.dist;

import java.util.function.Supplier;
import org.stablekd.backend.Backends;
import org.stablekd.backend.cuda.NcclComm;
import org.stablekd.backend.cuda.NcclProbe;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * NCCL for CUDA tensors behind {@link Communicator}, bootstrapped from a host communicator (MPI)
 * as nccl-tests and Horovod do: rank 0 calls ncclGetUniqueId, the host communicator broadcasts its
 * 128 bytes, and every rank calls ncclCommInitRank. Tensor collectives ({@link #allreduceSum(Tensor)},
 * {@link #broadcast}) take contiguous CUDA tensors and are queued on the CUDA backend's stream
 * (later ops see the result; a host read waits for it); host tensors are refused (use the host
 * communicator). The double[] collectives, {@link #barrier()} and {@link #abort} go through the
 * host communicator, which stays open after {@link #close()} (it belongs to {@link World}).
 *
 * <p>The CUDA backend drives GPU 0 of the process: with several ranks on one machine, give each
 * its own GPU with {@code CUDA_VISIBLE_DEVICES} (e.g. from {@code OMPI_COMM_WORLD_LOCAL_RANK}).
 * Not yet run on a GPU: see benchmarks/results/gpu.md.
 */
public final class Nccl implements Communicator {
    /** What NCCL does for this communicator (the real one is {@link NcclComm}; tests give a fake). */
    interface DeviceComm {
        void allreduceSum(Tensor t);

        void broadcast(Tensor t, int root);

        void abort();

        void close();

        String version();
    }

    private final Communicator host;
    private final DeviceComm device;

    Nccl(Communicator host, DeviceComm device) {
        this.host = host;
        this.device = device;
    }

    /**
     * Every rank of {@code host} calls this together: NCCL over the same ranks. Fails with one
     * sentence (a {@link DistributedException}) where the CUDA backend or libnccl.so.2 is missing.
     */
    public static Nccl start(Communicator host) {
        String reason = unavailableReason();
        if (host.isDistributed()) {
            // every rank learns whether any cannot start, so none waits for a peer that gave up
            double[] any = host.allreduceMax(new double[] {reason == null ? 0 : 1});
            if (reason == null && any[0] > 0) reason = "NCCL cannot start on another rank of this job (that rank says why)";
        }
        if (reason != null) throw new DistributedException(reason);
        try {
            byte[] id = shareUniqueId(host, NcclComm::uniqueId);
            NcclComm comm = NcclComm.init(id, host.rank(), host.size());
            String version = NcclComm.version();
            return new Nccl(host, new DeviceComm() {
                @Override public void allreduceSum(Tensor t) { comm.allreduceSum(t); }
                @Override public void broadcast(Tensor t, int root) { comm.broadcast(t, root); }
                @Override public void abort() { comm.abort(); }
                @Override public void close() { comm.close(); }
                @Override public String version() { return version; }
            });
        } catch (LinkageError e) {
            throw new DistributedException("NCCL's JavaCPP bridge (libjninccl.so) did not load: " + firstLine(e.getMessage()), e);
        }
    }

    /** Null when NCCL can start here, else why not in one sentence (no JavaCPP class is touched). */
    public static String unavailableReason() {
        Backends.Availability cuda = Backends.cuda();
        if (!cuda.available()) return "NCCL needs the CUDA backend, which cannot run here: " + cuda.reason();
        return NcclProbe.unavailableReason();
    }

    /**
     * Rank 0's unique id on every rank: {@code make} runs on rank 0 only, its bytes travel through
     * {@code host.broadcast} packed four to an I32 (little-endian) after a status word, and are
     * unpacked the same way. Where {@code make} fails on rank 0 the status says so, so every
     * other rank fails too instead of waiting in ncclCommInitRank.
     */
    static byte[] shareUniqueId(Communicator host, Supplier<byte[]> make) {
        int n = NcclComm.UNIQUE_ID_BYTES;
        Tensor packed = Tensor.zeros(DType.I32, 1 + n / 4);   // [status (0 ok, 1 failed), id as ints]
        RuntimeException failure = null;
        if (host.rank() == 0) {
            try {
                byte[] id = make.get();
                if (id.length != n) throw new IllegalArgumentException("an NCCL unique id has " + n + " bytes, got " + id.length);
                for (int i = 0; i < n / 4; i++) {
                    int v = (id[4 * i] & 0xff) | (id[4 * i + 1] & 0xff) << 8 | (id[4 * i + 2] & 0xff) << 16 | (id[4 * i + 3] & 0xff) << 24;
                    packed.setFlat(1 + i, v);
                }
            } catch (RuntimeException e) {
                failure = e;
                packed.setFlat(0, 1);
            }
        }
        host.broadcast(packed, 0);
        if (failure != null) throw failure;
        if (packed.getFlat(0) != 0) throw new DistributedException("rank 0 could not create NCCL's unique id (rank 0 says why)");
        byte[] out = new byte[n];
        for (int i = 0; i < n / 4; i++) {
            int v = (int) packed.getFlat(1 + i);
            for (int b = 0; b < 4; b++) out[4 * i + b] = (byte) (v >>> (8 * b));
        }
        return out;
    }

    @Override public int rank() { return host.rank(); }
    @Override public int size() { return host.size(); }
    @Override public String name() { return "nccl " + device.version() + " (bootstrapped over " + host.name() + ")"; }

    /** Sums a contiguous F32 CUDA tensor across the ranks in place (queued on the CUDA stream). */
    @Override
    public void allreduceSum(Tensor t) {
        requireCuda(t, "allreduceSum");
        if (t.dtype() != DType.F32) throw new IllegalArgumentException("allreduceSum over NCCL: F32 only, got " + t.dtype());
        device.allreduceSum(t);
    }

    @Override
    public double[] allreduceSum(double[] values) {
        return host.allreduceSum(values);
    }

    @Override
    public double[] allreduceMax(double[] values) {
        return host.allreduceMax(values);
    }

    /** Root's bytes of a contiguous CUDA tensor into every rank's (queued on the CUDA stream). */
    @Override
    public void broadcast(Tensor t, int root) {
        requireCuda(t, "broadcast");
        if (root < 0 || root >= size()) throw new IllegalArgumentException("broadcast from rank " + root + " in a group of " + size());
        device.broadcast(t, root);
    }

    /** The host communicator's barrier (it does not wait for queued GPU work). */
    @Override
    public void barrier() {
        host.barrier();
    }

    @Override
    public void abort(int exitCode) {
        try {
            device.abort();
        } finally {
            host.abort(exitCode);
        }
    }

    /** Destroys the NCCL communicator; the host communicator stays open. */
    @Override
    public void close() {
        device.close();
    }

    private static void requireCuda(Tensor t, String what) {
        if (t.device().isHost() || !t.isContiguous()) {
            throw new IllegalArgumentException(what + " over NCCL needs a contiguous CUDA tensor, got " + t.dtype() + " " + t.shape()
                    + " on " + t.device() + (t.device().isHost() ? " (host tensors go through the host communicator, e.g. MPI)" : ""));
        }
    }

    private static String firstLine(String m) {
        if (m == null) return "(no message)";
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
