package org.stablekd.backend.ref;

import org.stablekd.backend.Backend;
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
 * The scalar oracle: plain loops, double accumulation, F32 and F64. Never optimized; every other
 * backend is tested against it.
 */
public final class RefBackend implements Backend {
    public static final RefBackend INSTANCE = new RefBackend();

    private final ConvKernels conv = new RefConv();
    private final GemmKernels gemm = new RefGemm();
    private final NormKernels norm = new RefNorm();
    private final PointwiseKernels pointwise = new RefPointwise();
    private final CopyKernels copy = new RefCopy();
    private final PoolKernels pool = new RefPool();
    private final SoftmaxLossKernels softmaxLoss = new RefSoftmaxLoss();
    private final RegressionLossKernels regressionLoss = new RefRegressionLoss();
    private final DistillKernels distill = new RefDistill();
    private final ReduceKernels reduce = new RefReduce();
    private final OptimizerKernels optimizer = new RefOptimizer();

    private RefBackend() {}

    @Override public String name() { return "ref"; }
    @Override public Device device() { return Device.CPU; }

    @Override
    public boolean supports(Op op, DType dtype) {
        return switch (op) {
            // layout ops and copies only move bytes: every dtype
            case RESHAPE, CONCAT, NARROW, CHANNEL_SHUFFLE, COPY -> true;
            default -> dtype == DType.F32 || dtype == DType.F64;
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
