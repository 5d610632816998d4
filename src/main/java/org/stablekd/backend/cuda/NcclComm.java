package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.nccl.ncclCommAbort;
import static org.bytedeco.cuda.global.nccl.ncclCommDestroy;
import static org.bytedeco.cuda.global.nccl.ncclCommInitRank;
import static org.bytedeco.cuda.global.nccl.ncclFloat32;
import static org.bytedeco.cuda.global.nccl.ncclGetErrorString;
import static org.bytedeco.cuda.global.nccl.ncclGetUniqueId;
import static org.bytedeco.cuda.global.nccl.ncclGetVersion;
import static org.bytedeco.cuda.global.nccl.ncclSuccess;
import static org.bytedeco.cuda.global.nccl.ncclSum;
import static org.bytedeco.cuda.global.nccl.ncclUint8;

import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.BytePointer;
import org.stablekd.tensor.Tensor;

/**
 * One NCCL communicator on the CUDA backend's GPU, through JavaCPP's NCCL bridge. Collectives
 * are queued on the backend's compute stream, after every kernel queued before them and before
 * every kernel queued after (stream order, as the caching allocator relies on; see
 * {@link CudaContext}): a later op reads the sum without a host wait, and a host read
 * ({@link CudaTensors#toHost}) waits for it. Every rank must issue its collectives in the same
 * order. Status codes become a {@link CudaException} naming the call and NCCL's error string.
 *
 * <p>Call {@link NcclProbe#unavailableReason()} first: loading this class's bridge without
 * libnccl.so.2 is a LinkageError.
 */
public final class NcclComm implements AutoCloseable {
    /** sizeof(ncclUniqueId): NCCL_UNIQUE_ID_BYTES. */
    public static final int UNIQUE_ID_BYTES = 128;

    private final CudaContext ctx;
    private final ncclComm comm;
    private final int rank, size;
    private boolean closed;

    private NcclComm(CudaContext ctx, ncclComm comm, int rank, int size) {
        this.ctx = ctx;
        this.comm = comm;
        this.rank = rank;
        this.size = size;
    }

    /** ncclGetUniqueId (rank 0 only): the bytes every rank passes to {@link #init}. */
    public static byte[] uniqueId() {
        CudaBackend.require().rt.ctx().makeCurrent();
        try (ncclUniqueId id = new ncclUniqueId()) {
            check(ncclGetUniqueId(id), "ncclGetUniqueId");
            byte[] out = new byte[UNIQUE_ID_BYTES];
            for (int i = 0; i < UNIQUE_ID_BYTES; i++) out[i] = id.internal(i);
            return out;
        }
    }

    /** ncclCommInitRank on the backend's GPU: blocks until all {@code size} ranks joined with the same id. */
    public static NcclComm init(byte[] uniqueId, int rank, int size) {
        if (uniqueId.length != UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("an NCCL unique id has " + UNIQUE_ID_BYTES + " bytes, got " + uniqueId.length);
        }
        CudaContext ctx = CudaBackend.require().rt.ctx();
        ctx.makeCurrent();
        ncclComm comm = new ncclComm();   // @ByPtrPtr: the bridge writes the new communicator's address into it
        try (ncclUniqueId id = new ncclUniqueId()) {
            for (int i = 0; i < UNIQUE_ID_BYTES; i++) id.internal(i, uniqueId[i]);
            check(ncclCommInitRank(comm, size, id, rank), "ncclCommInitRank(rank " + rank + " of " + size + ")");
        }
        return new NcclComm(ctx, comm, rank, size);
    }

    /** NCCL's version, e.g. "2.27.3" (ncclGetVersion: major·10000 + minor·100 + patch since 2.9). */
    public static String version() {
        int[] v = new int[1];
        check(ncclGetVersion(v), "ncclGetVersion");
        return v[0] / 10000 + "." + v[0] / 100 % 100 + "." + v[0] % 100;
    }

    public int rank() { return rank; }
    public int size() { return size; }

    /** In-place elementwise sum of a contiguous F32 CUDA tensor over the ranks, queued on the stream. */
    public void allreduceSum(Tensor t) {
        CudaRuntime.f32(t, "ncclAllReduce");
        RawPointer p = new RawPointer(CudaRuntime.ptr(t));
        live();
        check(nccl.ncclAllReduce(p, p, t.numel(), ncclFloat32, ncclSum, comm, ctx.stream), "ncclAllReduce(" + t.numel() + " floats)");
    }

    /** Root's bytes of a contiguous CUDA tensor (any dtype) into every rank's, in place, queued on the stream. */
    public void broadcast(Tensor t, int root) {
        if (!t.isContiguous()) throw new IllegalArgumentException("ncclBroadcast: expects a contiguous tensor, got " + t.shape());
        RawPointer p = new RawPointer(CudaRuntime.ptr(t));
        long bytes = t.numel() * t.dtype().bytes;
        live();
        check(nccl.ncclBroadcast(p, p, bytes, ncclUint8, root, comm, ctx.stream), "ncclBroadcast(" + bytes + " bytes from rank " + root + ")");
    }

    /** Waits for every queued collective (and kernel) on the stream. */
    public void sync() {
        ctx.sync();
    }

    /** ncclCommAbort: ends pending collectives without waiting for other ranks. */
    public synchronized void abort() {
        if (closed) return;
        closed = true;
        ctx.makeCurrent();
        check(ncclCommAbort(comm), "ncclCommAbort");
    }

    /** ncclCommDestroy after the stream's work is done. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ctx.sync();
        check(ncclCommDestroy(comm), "ncclCommDestroy");
    }

    private void live() {
        if (closed) throw new IllegalStateException("NCCL collective after the communicator was closed");
        ctx.makeCurrent();
    }

    private static void check(int status, String call) {
        if (status != ncclSuccess) {
            BytePointer text = ncclGetErrorString(status);
            throw new CudaException(call + " failed: " + (text == null || text.isNull() ? "NCCL error " + status : text.getString()));
        }
    }
}
