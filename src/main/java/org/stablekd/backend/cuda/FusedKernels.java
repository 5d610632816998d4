package org.stablekd.backend.cuda;

import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Fused GPU kernels that no single op of the registry covers yet; a training loop on the GPU calls
 * them directly (not recorded by autograd). Each is tested against the composition of the ops it
 * replaces ({@code CudaOpsGpuTest}, tagged gpu).
 */
public final class FusedKernels {
    private FusedKernels() {}

    /**
     * The logit loss of a KD training step in one pass over the logits (kd_loss.cu's
     * kd_ce_fused_f32): loss = ceWeight·CE(student, labels) + kdWeight·τ²·KL(softmax(t/τ) ‖
     * softmax(s/τ)), both averaged over the batch, and dStudent = d loss / d student. The teacher
     * gets no gradient.
     *
     * @param student (n, classes) F32 on the GPU
     * @param teacher (n, classes) F32 on the GPU
     * @param labels  (n) I32 on the GPU
     * @param loss    one element, written
     * @param dStudent (n, classes), written
     */
    public static void kdCrossEntropyLossAndGrad(Tensor student, Tensor teacher, Tensor labels, double tau, double kdWeight,
                                                 double ceWeight, Tensor loss, Tensor dStudent) {
        CudaBackend b = CudaBackend.require();
        CudaRuntime.f32(student, "kd_ce_fused");
        CudaRuntime.f32(teacher, "kd_ce_fused");
        CudaRuntime.f32(dStudent, "kd_ce_fused");
        if (!student.shape().equals(teacher.shape()) || !dStudent.shape().equals(student.shape()) || student.rank() != 2
                || labels.numel() != student.dim(0) || loss.numel() != 1) {
            throw new IllegalArgumentException("kd_ce_fused: student " + student.shape() + ", teacher " + teacher.shape() + ", labels "
                    + labels.shape() + ", dStudent " + dStudent.shape() + ", loss " + loss.shape());
        }
        int n = student.dim(0);
        CudaRuntime rt = b.rt;
        try (CudaRuntime.Temp rowLoss = rt.temp((long) n * Float.BYTES)) {
            rt.kernels().launch(Kernel.KD_CE_FUSED_F32, n, KernelModule.ROW_THREADS, KernelArgs.get()
                    .ptr(ptr(student)).ptr(ptr(teacher)).ptr(ptr(labels)).ptr(rowLoss.ptr()).ptr(ptr(dStudent))
                    .i32(student.dim(1)).f32(tau).f32(kdWeight).f32(ceWeight).f32(1.0 / n));
            ((CudaReduce) b.reduce()).sumRowValues(rowLoss.ptr(), n, 1.0 / n, loss);
        }
    }

    /**
     * y = relu((x − mean)·invStd·gamma + beta) per channel of x (n, c, h, w) in one pass
     * (elementwise.cu's bn_apply_relu_f32); its backward is {@link #batchNormReluBackward}.
     */
    public static void batchNormApplyRelu(Tensor x, Tensor mean, Tensor invStd, Tensor gamma, Tensor beta, Tensor y) {
        CudaBackend b = CudaBackend.require();
        CudaRuntime.f32(x, "bn_apply_relu");
        long total = x.numel();
        b.rt.kernels().launchElementwise(Kernel.BN_APPLY_RELU_F32, total, KernelArgs.get().ptr(ptr(x)).ptr(ptr(mean)).ptr(ptr(invStd))
                .ptr(ptr(gamma)).ptr(ptr(beta)).ptr(ptr(y)).i32(x.dim(1)).i32(x.dim(2) * x.dim(3)).i64(total));
    }

    /**
     * The backward of BN followed by ReLU given the ReLU's output y: dy is masked by y > 0 inside
     * batchnorm.cu's backward kernels (no masked copy of dy). Any of dx, dgamma, dbeta may be null.
     */
    public static void batchNormReluBackward(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, boolean training,
                                             Tensor dx, Tensor dgamma, Tensor dbeta) {
        CudaBackend b = CudaBackend.require();
        ((CudaNorm) b.norm()).backward(x, dy, y, gamma, mean, invStd, training, dx, dgamma, dbeta);
    }

    /** A one-element GPU tensor, for the loss of {@link #kdCrossEntropyLossAndGrad}. */
    public static Tensor scalarOnDevice() {
        return Tensor.empty(org.stablekd.tensor.DType.F32, Shape.scalar(), CudaBackend.require().device());
    }
}
