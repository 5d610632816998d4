package org.stablekd.dist;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import org.stablekd.backend.Transfers;
import org.stablekd.ops.Memory;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * Open MPI's C API through FFM downcalls (no JNI, no MPI Java bindings). In Open MPI the
 * predefined handles are the addresses of exported structs: {@code MPI_COMM_WORLD} is
 * {@code &ompi_mpi_comm_world}, {@code MPI_FLOAT} is {@code &ompi_mpi_float}, {@code MPI_SUM} is
 * {@code &ompi_mpi_op_sum}; {@code MPI_IN_PLACE} is {@code (void*)1}. MPICH's integer handles
 * differ, so this binding is Open MPI's (Debian: openmpi-bin, libopenmpi-dev).
 *
 * <p>Device tensors (a GPU's, or the simulated device's) go through the host: a download, the
 * collective, an upload. Correct anywhere, but a copy each way per call: {@link Nccl} is the
 * GPU's fast path.
 *
 * <p>Initialised with {@code MPI_THREAD_MULTIPLE} where the library provides it, so the gradient
 * reducer's thread may run collectives while the main thread computes (never two collectives
 * at once: see {@link GradientReducer}).
 */
public final class Mpi implements Communicator {
    private static final String[] LIBRARIES = {"libmpi.so.40", "libmpi.so"};
    private static final int MPI_THREAD_SERIALIZED = 2, MPI_THREAD_MULTIPLE = 3;
    private static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);
    // MPI_Allreduce takes an int count: larger tensors go in pieces of this many elements
    private static final int MAX_CHUNK = 1 << 30;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment world, floatType, doubleType, byteType, sum, max;
    private final MethodHandle allreduce, bcast, barrier, abort, finalizeMpi;
    private final int rank, size, threadLevel;
    private final String version;
    private boolean closed;

    private Mpi(SymbolLookup lib) throws Throwable {
        Linker linker = Linker.nativeLinker();
        world = symbol(lib, "ompi_mpi_comm_world");
        floatType = symbol(lib, "ompi_mpi_float");
        doubleType = symbol(lib, "ompi_mpi_double");
        byteType = symbol(lib, "ompi_mpi_byte");
        sum = symbol(lib, "ompi_mpi_op_sum");
        max = symbol(lib, "ompi_mpi_op_max");
        MethodHandle initThread = linker.downcallHandle(symbol(lib, "MPI_Init_thread"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        MethodHandle commRank = linker.downcallHandle(symbol(lib, "MPI_Comm_rank"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle commSize = linker.downcallHandle(symbol(lib, "MPI_Comm_size"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle libVersion = linker.downcallHandle(symbol(lib, "MPI_Get_library_version"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype, MPI_Op, MPI_Comm)
        allreduce = linker.downcallHandle(symbol(lib, "MPI_Allreduce"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        // int MPI_Bcast(void *buffer, int count, MPI_Datatype, int root, MPI_Comm)
        bcast = linker.downcallHandle(symbol(lib, "MPI_Bcast"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        barrier = linker.downcallHandle(symbol(lib, "MPI_Barrier"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        abort = linker.downcallHandle(symbol(lib, "MPI_Abort"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        finalizeMpi = linker.downcallHandle(symbol(lib, "MPI_Finalize"), FunctionDescriptor.of(JAVA_INT));

        MemorySegment out = arena.allocate(JAVA_INT);
        check((int) initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL, MPI_THREAD_MULTIPLE, out), "MPI_Init_thread");
        threadLevel = out.get(JAVA_INT, 0);
        check((int) commRank.invokeExact(world, out), "MPI_Comm_rank");
        rank = out.get(JAVA_INT, 0);
        check((int) commSize.invokeExact(world, out), "MPI_Comm_size");
        size = out.get(JAVA_INT, 0);
        MemorySegment text = arena.allocate(512);
        check((int) libVersion.invokeExact(text, out), "MPI_Get_library_version");
        String v = text.getString(0).strip();
        int cut = v.indexOf(',');
        version = cut > 0 ? v.substring(0, cut) : v;
    }

    /** Loads libmpi and initialises MPI; fails with one sentence saying what is missing. */
    static Mpi start() {
        SymbolLookup lib = null;
        for (String name : LIBRARIES) {
            try {
                lib = SymbolLookup.libraryLookup(name, Arena.global());
                break;
            } catch (IllegalArgumentException notFound) {
                // try the next name
            }
        }
        if (lib == null) {
            throw new DistributedException("this process runs under mpirun but Open MPI's library (libmpi.so.40) cannot be loaded; "
                    + "install it with: apt-get install openmpi-bin libopenmpi-dev");
        }
        try {
            return new Mpi(lib);
        } catch (DistributedException e) {
            throw e;
        } catch (Throwable t) {
            throw new DistributedException("MPI failed to start: " + t, t);
        }
    }

    private static MemorySegment symbol(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new DistributedException("libmpi has no symbol " + name
                + ": stablekd binds Open MPI's C API (MPICH and others are not supported); install openmpi-bin and libopenmpi-dev"));
    }

    private static void check(int rc, String call) {
        if (rc != 0) throw new DistributedException(call + " failed with MPI error code " + rc);
    }

    @Override public int rank() { return rank; }
    @Override public int size() { return size; }
    @Override public String name() { return "mpi (" + version + ")"; }

    /** True when a second thread may run collectives while others compute (MPI_THREAD_SERIALIZED or better). */
    public boolean allowsCommunicationThread() {
        return threadLevel >= MPI_THREAD_SERIALIZED;
    }

    @Override
    public void allreduceSum(Tensor t) {
        if (!t.device().isHost()) {   // through the host: download, sum, upload (NCCL is the fast path for GPUs)
            Tensor h = Transfers.toHost(t);
            allreduceSum(h);
            Memory.copy(Transfers.of(t.device()).upload(h), t);
            return;
        }
        requireHostF32(t, "allreduceSum");
        long n = t.numel();
        MemorySegment seg = t.segment();
        for (long done = 0; done < n; done += MAX_CHUNK) {
            int count = (int) Math.min(MAX_CHUNK, n - done);
            MemorySegment piece = seg.asSlice((t.offset() + done) * Float.BYTES, (long) count * Float.BYTES);
            call(() -> (int) allreduce.invokeExact(IN_PLACE, piece, count, floatType, sum, world), "MPI_Allreduce");
        }
    }

    @Override
    public double[] allreduceSum(double[] values) {
        return reduceDoubles(values, sum);
    }

    @Override
    public double[] allreduceMax(double[] values) {
        return reduceDoubles(values, max);
    }

    private double[] reduceDoubles(double[] values, MemorySegment op) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocateFrom(JAVA_DOUBLE, values);
            call(() -> (int) allreduce.invokeExact(IN_PLACE, buf, values.length, doubleType, op, world), "MPI_Allreduce");
            return buf.toArray(JAVA_DOUBLE);
        }
    }

    @Override
    public void broadcast(Tensor t, int root) {
        if (!t.device().isHost()) {   // through the host, as allreduceSum
            Tensor h = Transfers.toHost(t);
            broadcast(h, root);
            Memory.copy(Transfers.of(t.device()).upload(h), t);
            return;
        }
        if (!t.isContiguous()) throw new IllegalArgumentException("broadcast needs a contiguous tensor, got " + t.shape() + " with strides " + java.util.Arrays.toString(t.strides()));
        long bytes = t.numel() * t.dtype().bytes;
        MemorySegment seg = t.segment();
        for (long done = 0; done < bytes; done += MAX_CHUNK) {
            int count = (int) Math.min(MAX_CHUNK, bytes - done);
            MemorySegment piece = seg.asSlice(t.offset() * t.dtype().bytes + done, count);
            call(() -> (int) bcast.invokeExact(piece, count, byteType, root, world), "MPI_Bcast");
        }
    }

    @Override
    public void barrier() {
        call(() -> (int) barrier.invokeExact(world), "MPI_Barrier");
    }

    @Override
    public void abort(int exitCode) {
        call(() -> (int) abort.invokeExact(world, exitCode), "MPI_Abort");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        call(() -> (int) finalizeMpi.invokeExact(), "MPI_Finalize");
        closed = true;
    }

    private static void requireHostF32(Tensor t, String what) {
        if (!t.device().isHost() || t.dtype() != DType.F32 || !t.isContiguous()) {
            throw new IllegalArgumentException(what + " over MPI needs a contiguous F32 host tensor, got " + t.dtype() + " " + t.shape() + " on " + t.device());
        }
    }

    private interface MpiCall {
        int run() throws Throwable;
    }

    private void call(MpiCall c, String what) {
        if (closed) throw new IllegalStateException(what + " after MPI_Finalize");
        int rc;
        try {
            rc = c.run();
        } catch (Throwable t) {
            throw new DistributedException(what + " failed: " + t, t);
        }
        check(rc, what);
    }
}
