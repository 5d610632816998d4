package org.stablekd.backend.cuda;

import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.NormKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * Batch normalization with our kernels (batchnorm.cu): per-channel statistics and backward sums
 * in one block per channel (double accumulation, fixed order), apply and dx as elementwise passes.
 * Ours rather than cuDNN's because eval-mode backward and any eps are needed too; cuDNN's
 * batch norm is the alternative to measure on the GPU (see benchmarks/results/gpu.md).
 *
 * <p>Fuses the ReLU after it: the apply pass writes max(y, 0) (elementwise.cu's bn_apply_relu,
 * bn_eval_relu) and the backward kernels mask dy with that output, so the saved affine is unused.
 */
final class CudaNorm implements NormKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.BATCH_NORM);
    static final int CHANNEL_THREADS = 256;

    private final CudaRuntime rt;

    CudaNorm(CudaRuntime rt) {
        this.rt = rt;
    }

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                               double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        train(Kernel.BATCHNORM_APPLY_F32, "batch_norm", x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y) {
        eval(Kernel.BATCHNORM_EVAL_F32, "batch_norm", x, gamma, beta, runMean, runVar, eps, y);
    }

    /** Batch statistics (one block per channel, running statistics updated), then {@code apply} elementwise. */
    private void train(Kernel apply, String what, Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                       double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        CudaRuntime.f32(x, what);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        rt.kernels().launch(Kernel.BATCHNORM_STATS_F32, c, CHANNEL_THREADS, KernelArgs.get().ptr(ptr(x)).i32(n).i32(c).i32(hw)
                .f32(momentum).f32(eps).ptr(ptr(saveMean)).ptr(ptr(saveInvStd)).ptr(ptr(runMean)).ptr(ptr(runVar)));
        long total = x.numel();
        rt.kernels().launchElementwise(apply, total, KernelArgs.get().ptr(ptr(x)).ptr(ptr(saveMean))
                .ptr(ptr(saveInvStd)).ptr(ptr(gamma)).ptr(ptr(beta)).ptr(ptr(y)).i32(c).i32(hw).i64(total));
    }

    /** Running statistics, applied elementwise by {@code apply}. */
    private void eval(Kernel apply, String what, Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y) {
        CudaRuntime.f32(x, what);
        int c = x.dim(1), hw = x.dim(2) * x.dim(3);
        long total = x.numel();
        rt.kernels().launchElementwise(apply, total, KernelArgs.get().ptr(ptr(x)).ptr(ptr(runMean))
                .ptr(ptr(runVar)).ptr(ptr(gamma)).ptr(ptr(beta)).ptr(ptr(y)).i32(c).i32(hw).i64(total).f32(eps));
    }

    @Override
    public boolean fusesRelu() {
        return true;
    }

    @Override
    public void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   double momentum, double eps, Tensor y, Tensor saveMean, Tensor saveInvStd, Tensor saveAffine) {
        train(Kernel.BN_APPLY_RELU_F32, "batch_norm+relu", x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
    }

    @Override
    public void batchNormEvalRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps, Tensor y,
                                  Tensor saveAffine) {
        eval(Kernel.BN_EVAL_RELU_F32, "batch_norm+relu", x, gamma, beta, runMean, runVar, eps, y);
    }

    @Override
    public void batchNormReluBackward(Tensor x, Tensor y, Tensor affine, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd,
                                      boolean training, Tensor dx, Tensor dgamma, Tensor dbeta) {
        backward(x, dy, y, gamma, mean, invStd, training, dx, dgamma, dbeta);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        backward(x, dy, null, gamma, mean, invStd, training, dx, dgamma, dbeta);
    }

    /** The backward; with {@code reluOut} != null, of BN followed by ReLU (dy masked by reluOut > 0). */
    private void backward(Tensor x, Tensor dy, Tensor reluOut, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        boolean needSums = dgamma != null || dbeta != null || (dx != null && training);
        if (!needSums && dx == null) return;
        long chBytes = (long) c * Float.BYTES;
        try (CudaRuntime.Temp sumDy = rt.temp(chBytes); CudaRuntime.Temp sumDyXhat = rt.temp(chBytes)) {
            long pSumDy = dbeta != null ? ptr(dbeta) : sumDy.ptr();
            long pSumDyXhat = dgamma != null ? ptr(dgamma) : sumDyXhat.ptr();
            if (needSums) {
                rt.kernels().launch(Kernel.BATCHNORM_BACKWARD_REDUCE_F32, c, CHANNEL_THREADS, KernelArgs.get().ptr(ptr(x)).ptr(ptr(dy))
                        .ptr(ptr(reluOut)).ptr(ptr(mean)).ptr(ptr(invStd)).ptr(pSumDy).ptr(pSumDyXhat).i32(n).i32(c).i32(hw));
            }
            if (dx != null) {
                long total = x.numel();
                rt.kernels().launchElementwise(Kernel.BATCHNORM_BACKWARD_DX_F32, total, KernelArgs.get().ptr(ptr(x)).ptr(ptr(dy))
                        .ptr(ptr(reluOut)).ptr(ptr(mean)).ptr(ptr(invStd)).ptr(ptr(gamma)).ptr(pSumDy).ptr(pSumDyXhat).ptr(ptr(dx))
                        .i32(c).i32(hw).i64(total).f32(1.0 / ((long) n * hw)).i32(training ? 1 : 0));
            }
        }
    }
}
