package org.stablekd.backend.cuda;

import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.Op;
import org.stablekd.backend.OptimizerKernels;
import org.stablekd.tensor.Tensor;

/** SGD over the whole parameter slab in one launch (sgd.cu). */
final class CudaOptimizer implements OptimizerKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.SGD_STEP);

    private final CudaRuntime rt;

    CudaOptimizer(CudaRuntime rt) {
        this.rt = rt;
    }

    @Override
    public void sgd(Tensor params, Tensor grads, Tensor momentumBuf, double lr, double momentum, double weightDecay, boolean nesterov) {
        CudaRuntime.f32(params, "sgd_step");
        long n = params.numel();
        rt.kernels().launchElementwise(Kernel.SGD_STEP_F32, n, KernelArgs.get().ptr(ptr(params)).ptr(ptr(grads)).ptr(ptr(momentumBuf))
                .i64(n).f32(lr).f32(momentum).f32(weightDecay).i32(nesterov ? 1 : 0));
    }
}
