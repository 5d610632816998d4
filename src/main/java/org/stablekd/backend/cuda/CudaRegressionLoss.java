package org.stablekd.backend.cuda;

import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.Op;
import org.stablekd.backend.RegressionLossKernels;
import org.stablekd.tensor.Tensor;

/** Mean squared error on the GPU: a reduce.cu sum of squared differences and elementwise.cu's mse_backward. */
final class CudaRegressionLoss implements RegressionLossKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.MSE_LOSS);

    private final CudaRuntime rt;
    private final CudaReduce reduce;

    CudaRegressionLoss(CudaRuntime rt, CudaReduce reduce) {
        this.rt = rt;
        this.reduce = reduce;
    }

    @Override
    public void mse(Tensor a, Tensor b, Tensor loss) {
        CudaRuntime.f32(a, "mse_loss");
        CudaRuntime.f32(b, "mse_loss");
        reduce.sumScaled(Kernel.SUM_SQ_DIFF_PARTIALS_F32, a, b, 1.0 / a.numel(), loss);
    }

    @Override
    public void mseBackward(Tensor a, Tensor b, Tensor g, Tensor da, Tensor db) {
        if (da == null && db == null) return;
        long n = a.numel();
        rt.kernels().launchElementwise(Kernel.MSE_BACKWARD_F32, n,
                KernelArgs.get().ptr(ptr(a)).ptr(ptr(b)).ptr(ptr(g)).f32(2.0 / n).ptr(ptr(da)).ptr(ptr(db)).i64(n));
    }
}
