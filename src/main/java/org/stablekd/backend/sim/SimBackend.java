package org.stablekd.backend.sim;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.CopyKernels;
import org.stablekd.backend.DistillKernels;
import org.stablekd.backend.GemmKernels;
import org.stablekd.backend.NormKernels;
import org.stablekd.backend.Op;
import org.stablekd.backend.OptimizerKernels;
import org.stablekd.backend.PointwiseKernels;
import org.stablekd.backend.PoolKernels;
import org.stablekd.backend.ReduceKernels;
import org.stablekd.backend.RegressionLossKernels;
import org.stablekd.backend.SoftmaxLossKernels;
import org.stablekd.backend.Transfers;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.DeviceAllocator;
import org.stablekd.tensor.HostAllocator;
import org.stablekd.tensor.KernelAccess;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Storage;

/**
 * The backend of {@link Device#SIM}, a simulated accelerator for testing placement without a GPU:
 * its tensors live in host memory that only its kernels may read ({@link KernelAccess}), its
 * kernels are the {@code cpu} backend's (the {@code ref} one's for the layout ops of non-float
 * dtypes), and data crosses only through {@link SimTransfers}, which counts every copy. It
 * accepts what the CUDA backend accepts (F32 compute, layout ops and copies of any dtype), so a
 * step that runs here without a stray transfer makes the same transfers on a GPU. NOTES.md,
 * Note [Device placement].
 */
public final class SimBackend implements Backend {
    private static final SimBackend OVER_CPU = new SimBackend(Backends.cpu());
    private static final SimBackend OVER_REF = new SimBackend(Backends.ref());
    private static final SimTransfers TRANSFERS = new SimTransfers();

    static {
        DeviceAllocator.Registry.register(Device.Kind.SIM, SimBackend::allocate);
    }

    private final Backend inner;
    private final ConvKernels conv;
    private final GemmKernels gemm;
    private final NormKernels norm;
    private final PointwiseKernels pointwise;
    private final CopyKernels copy;
    private final PoolKernels pool;
    private final SoftmaxLossKernels softmaxLoss;
    private final RegressionLossKernels regressionLoss;
    private final DistillKernels distill;
    private final ReduceKernels reduce;
    private final OptimizerKernels optimizer;

    private SimBackend(Backend inner) {
        this.inner = inner;
        this.conv = gated(ConvKernels.class, inner.conv());
        this.gemm = gated(GemmKernels.class, inner.gemm());
        this.norm = gated(NormKernels.class, inner.norm());
        this.pointwise = gated(PointwiseKernels.class, inner.pointwise());
        this.copy = gated(CopyKernels.class, inner.copy());
        this.pool = gated(PoolKernels.class, inner.pool());
        this.softmaxLoss = gated(SoftmaxLossKernels.class, inner.softmaxLoss());
        this.regressionLoss = gated(RegressionLossKernels.class, inner.regressionLoss());
        this.distill = gated(DistillKernels.class, inner.distill());
        this.reduce = gated(ReduceKernels.class, inner.reduce());
        this.optimizer = gated(OptimizerKernels.class, inner.optimizer());
    }

    /** Ops the CUDA backend has no kernels for (SimMatchesCudaTest keeps this list true). */
    static final java.util.Set<Op> NOT_ON_CUDA = java.util.EnumSet.of(Op.SYNC_BATCH_NORM);

    /** The backend for {@code op} on dtype {@code dtype}, or null where a GPU would not run it either. */
    public static Backend select(Op op, DType dtype) {
        if (NOT_ON_CUDA.contains(op)) return null;
        boolean layout = switch (op) {
            case RESHAPE, CONCAT, NARROW, CHANNEL_SHUFFLE, COPY -> true;
            default -> false;
        };
        if (!layout && dtype != DType.F32) return null;
        if (OVER_CPU.inner.supports(op, dtype)) return OVER_CPU;
        return OVER_REF.inner.supports(op, dtype) ? OVER_REF : null;
    }

    /** Whether the simulated device runs {@code op} on F32 (what SimMatchesCudaTest compares with CUDA's op sets). */
    public static boolean runsF32(Op op) {
        return select(op, DType.F32) != null;
    }

    /** The transfer counters (process-wide). */
    public static SimTransfers.Counts counts() {
        return TRANSFERS.counts();
    }

    /** Host memory owned by a SIM storage; like host storage it belongs to the current scope. */
    private static Storage allocate(Device device, long bytes) {
        Storage host;
        try (Restore r = Scope.suspend()) {
            host = HostAllocator.get().allocate(bytes);
        }
        return Storage.hostBacked(device, host);
    }

    /** {@code family}'s methods on {@code target}, each run with the SIM gate open. */
    @SuppressWarnings("unchecked")
    private static <T> T gated(Class<T> family, T target) {
        return (T) Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family}, (proxy, m, args) -> {
            if (m.getDeclaringClass() == Object.class) return m.invoke(target, args);
            try (Restore g = KernelAccess.enter()) {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @Override public String name() { return "sim(" + inner.name() + ")"; }
    @Override public Device device() { return Device.SIM; }
    @Override public boolean supports(Op op, DType dtype) { return select(op, dtype) == this; }
    @Override public Transfers transfers() { return TRANSFERS; }
    @Override public ConvKernels conv() { return conv; }
    @Override public GemmKernels gemm() { return gemm; }
    @Override public NormKernels norm() { return norm; }
    @Override public PointwiseKernels pointwise() { return pointwise; }
    @Override public CopyKernels copy() { return copy; }
    @Override public PoolKernels pool() { return pool; }
    @Override public SoftmaxLossKernels softmaxLoss() { return softmaxLoss; }
    @Override public RegressionLossKernels regressionLoss() { return regressionLoss; }
    @Override public DistillKernels distill() { return distill; }
    @Override public ReduceKernels reduce() { return reduce; }
    @Override public OptimizerKernels optimizer() { return optimizer; }
}
