package org.stablekd.backend.cuda;

import java.util.EnumSet;
import java.util.Set;
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
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.DeviceAllocator;

/**
 * The CUDA backend for GPU 0: cuDNN convolutions, cuBLAS matrix products, and our own kernels
 * (src/main/cuda) for everything else. F32 compute; the layout ops (strided copies) move any
 * dtype. Tensors get here by being on {@code cuda:0} ({@link CudaTensors#toDevice}); the op
 * frontends dispatch on the tensor's device (see {@link Backends#select}).
 *
 * <p>{@link #tryLoad()} is the only entry point: Backends calls it by reflection the first time a
 * CUDA backend is asked for, so JavaCPP is never loaded on the CPU path. It returns the backend or
 * one sentence saying why there is none, and never throws.
 *
 * <p>Not verified on a GPU yet: see benchmarks/results/gpu.md for what a GPU session must run.
 */
public final class CudaBackend implements Backend {
    private static volatile CudaBackend instance;

    final CudaRuntime rt;
    private final Set<Op> supported = EnumSet.noneOf(Op.class);
    private final CudnnConv conv;
    private final GemmKernels gemm;
    private final NormKernels norm;
    private final PointwiseKernels pointwise;
    private final CopyKernels copy;
    private final PoolKernels pool;
    private final SoftmaxLossKernels softmaxLoss;
    private final RegressionLossKernels regressionLoss;
    private final DistillKernels distill;
    private final CudaReduce reduce;
    private final OptimizerKernels optimizer;

    private CudaBackend(CudaContext ctx) {
        CudaAllocator allocator = new CudaAllocator(ctx);
        this.rt = new CudaRuntime(ctx, new KernelModule(ctx), allocator);
        this.conv = new CudnnConv(rt);
        this.gemm = new CudaGemm(rt);
        this.norm = new CudaNorm(rt);
        this.pointwise = new CudaPointwise(rt);
        this.copy = new CudaCopy(rt);
        this.pool = new CudaPool(rt);
        this.reduce = new CudaReduce(rt);
        this.softmaxLoss = new CudaSoftmaxLoss(rt, reduce);
        this.regressionLoss = new CudaRegressionLoss(rt, reduce);
        this.distill = new CudaDistill(rt, reduce);
        this.optimizer = new CudaOptimizer(rt);
        supported.addAll(CudnnConv.SUPPORTED);
        supported.addAll(CudaGemm.SUPPORTED);
        supported.addAll(CudaNorm.SUPPORTED);
        supported.addAll(CudaPointwise.SUPPORTED);
        supported.addAll(CudaCopy.SUPPORTED);
        supported.addAll(CudaPool.SUPPORTED);
        supported.addAll(CudaSoftmaxLoss.SUPPORTED);
        supported.addAll(CudaRegressionLoss.SUPPORTED);
        supported.addAll(CudaDistill.SUPPORTED);
        supported.addAll(CudaReduce.SUPPORTED);
        supported.addAll(CudaOptimizer.SUPPORTED);
        DeviceAllocator.Registry.register(Device.Kind.CUDA, allocator);
    }

    /**
     * The backend for GPU 0, or the reason it cannot run here in one sentence (e.g. "no CUDA
     * driver (libcuda.so.1 not found)", "no GPU visible", "cuDNN 9 not found on LD_LIBRARY_PATH").
     * Loads once; later calls return the same answer.
     */
    public static synchronized Backends.Availability tryLoad() {
        if (instance != null) return Backends.Availability.of(instance);
        String reason = CudaProbe.unavailableReason();
        if (reason != null) return Backends.Availability.unavailable(reason);
        try {
            instance = new CudaBackend(new CudaContext(0));
            return Backends.Availability.of(instance);
        } catch (CudaException e) {
            return Backends.Availability.unavailable(CudaProbe.firstLine(e.getMessage()));
        } catch (LinkageError e) {
            // UnsatisfiedLinkError, NoClassDefFoundError, ExceptionInInitializerError: one line, the missing library if named
            return Backends.Availability.unavailable(CudaProbe.linkageReason(e));
        } catch (RuntimeException e) {
            return Backends.Availability.unavailable("the CUDA backend failed to start: " + CudaProbe.firstLine(String.valueOf(e.getMessage())));
        }
    }

    /** The loaded backend; fails with the reason when there is none. */
    static CudaBackend require() {
        Backends.Availability a = Backends.cuda();
        if (!a.available()) throw new IllegalStateException("the CUDA backend is unavailable: " + a.reason());
        return (CudaBackend) a.backend();
    }

    /** e.g. "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.2 GiB), kernels from fatbin". */
    public String describe() {
        return rt.ctx().describe() + ", kernels from " + rt.kernels().origin;
    }

    /** Frees the device blocks the caching allocator holds but nobody uses, and the cuDNN plans (descriptors, workspace). */
    public void emptyCache() {
        conv.clear();
        rt.allocator().emptyCache();
    }

    /** Bytes cuMemAlloc'ed, bytes in use, and how many cuMemAlloc calls there were. */
    public String memoryStats() {
        CudaAllocator.Stats s = rt.allocator().stats();
        return String.format("reserved %,d B, in use %,d B, %d fresh blocks, %d requests", s.reservedBytes(), s.inUseBytes(), s.freshBlocks(), s.requests());
    }

    long freshBlocks() {
        return rt.allocator().stats().freshBlocks();
    }

    @Override public String name() { return "cuda"; }
    @Override public Device device() { return rt.ctx().device; }

    @Override
    public boolean supports(Op op, DType dtype) {
        if (!supported.contains(op)) return false;
        return switch (op) {
            case RESHAPE, CONCAT, NARROW, CHANNEL_SHUFFLE, COPY -> dtype.bytes == 2 || dtype.bytes == 4 || dtype.bytes == 8;
            default -> dtype == DType.F32;
        };
    }

    @Override
    public void sync() {
        rt.ctx().sync();
    }

    @Override
    public org.stablekd.backend.Transfers transfers() {
        return new org.stablekd.backend.Transfers() {
            @Override public org.stablekd.tensor.Tensor upload(org.stablekd.tensor.Tensor host) { return CudaTensors.toDevice(host, device()); }
            @Override public org.stablekd.tensor.Tensor download(org.stablekd.tensor.Tensor dev) { return CudaTensors.toHost(dev); }
            @Override public org.stablekd.backend.BatchUploader uploader() { return new PinnedUploader(); }
        };
    }

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
