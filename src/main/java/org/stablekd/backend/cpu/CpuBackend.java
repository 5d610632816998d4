package org.stablekd.backend.cpu;

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

/**
 * The fast host backend: Java Vector API kernels, multi-threaded through {@link Parallel}, F32.
 * Each kernel family lives in its own file ({@code Cpu<Family>}) and declares the ops it runs;
 * other dtypes fall back to the reference backend (see {@link Backends#select}).
 */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private final Set<Op> supported = EnumSet.noneOf(Op.class);
    private final ConvKernels conv = CpuConv.kernels();
    private final GemmKernels gemm = CpuGemm.kernels();
    private final NormKernels norm = CpuNorm.kernels();
    private final PointwiseKernels pointwise = CpuPointwise.kernels();
    private final CopyKernels copy = CpuCopy.kernels();
    private final PoolKernels pool = CpuPool.kernels();
    private final SoftmaxLossKernels softmaxLoss = CpuSoftmaxLoss.kernels();
    private final RegressionLossKernels regressionLoss = CpuRegressionLoss.kernels();
    private final DistillKernels distill = CpuDistill.kernels();
    private final ReduceKernels reduce = CpuReduce.kernels();
    private final OptimizerKernels optimizer = new CpuOptimizer();

    private CpuBackend() {
        supported.addAll(CpuConv.SUPPORTED);
        supported.addAll(CpuGemm.SUPPORTED);
        supported.addAll(CpuNorm.SUPPORTED);
        supported.addAll(CpuPointwise.SUPPORTED);
        supported.addAll(CpuCopy.SUPPORTED);
        supported.addAll(CpuPool.SUPPORTED);
        supported.addAll(CpuSoftmaxLoss.SUPPORTED);
        supported.addAll(CpuRegressionLoss.SUPPORTED);
        supported.addAll(CpuDistill.SUPPORTED);
        supported.addAll(CpuReduce.SUPPORTED);
        supported.addAll(CpuOptimizer.SUPPORTED);
    }

    @Override public String name() { return "cpu"; }
    @Override public Device device() { return Device.CPU; }

    @Override
    public boolean supports(Op op, DType dtype) {
        return dtype == DType.F32 && supported.contains(op);
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
