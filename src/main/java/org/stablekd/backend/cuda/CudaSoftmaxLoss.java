package org.stablekd.backend.cuda;

import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.Op;
import org.stablekd.backend.SoftmaxLossKernels;
import org.stablekd.tensor.Tensor;

/**
 * Softmax, cross-entropy, KD and KD+CE on the GPU: softmax.cu and kd_loss.cu run one block per row
 * and write per-row losses that reduce.cu adds in a fixed order. KD+CE is kd_loss.cu's fused
 * kernel, asked for the row losses in the forward and for dStudent in the backward.
 */
final class CudaSoftmaxLoss implements SoftmaxLossKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.SOFTMAX, Op.LOG_SOFTMAX, Op.CROSS_ENTROPY, Op.KD_LOSS, Op.KD_CE_LOSS);

    private final CudaRuntime rt;
    private final CudaReduce reduce;

    CudaSoftmaxLoss(CudaRuntime rt, CudaReduce reduce) {
        this.rt = rt;
        this.reduce = reduce;
    }

    @Override
    public boolean fusesKdCe() {
        return true;
    }

    private void rows(Kernel k, int rows, KernelArgs a) {
        rt.kernels().launch(k, rows, KernelModule.ROW_THREADS, a);
    }

    @Override
    public void softmax(Tensor x, double temperature, boolean log, Tensor y) {
        CudaRuntime.f32(x, "softmax");
        rows(Kernel.SOFTMAX_FORWARD_F32, x.dim(0), KernelArgs.get().ptr(ptr(x)).ptr(ptr(y)).i32(x.dim(1)).f32(1 / temperature).i32(log ? 1 : 0));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, double temperature, boolean log, Tensor dx) {
        rows(Kernel.SOFTMAX_BACKWARD_F32, y.dim(0),
                KernelArgs.get().ptr(ptr(y)).ptr(ptr(dy)).ptr(ptr(dx)).i32(y.dim(1)).f32(1 / temperature).i32(log ? 1 : 0));
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor labels, double smoothing, Tensor loss) {
        CudaRuntime.f32(logits, "cross_entropy");
        int n = logits.dim(0);
        try (CudaRuntime.Temp rowLoss = rt.temp((long) n * Float.BYTES)) {
            rows(Kernel.CROSS_ENTROPY_ROWS_F32, n, KernelArgs.get().ptr(ptr(logits)).ptr(ptr(labels)).ptr(rowLoss.ptr())
                    .i32(logits.dim(1)).f32(smoothing));
            reduce.sumRowValues(rowLoss.ptr(), n, 1.0 / n, loss);
        }
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor labels, double smoothing, Tensor g, Tensor dlogits) {
        int n = logits.dim(0);
        rows(Kernel.CROSS_ENTROPY_BACKWARD_F32, n, KernelArgs.get().ptr(ptr(logits)).ptr(ptr(labels)).ptr(ptr(g)).ptr(ptr(dlogits))
                .i32(logits.dim(1)).f32(smoothing).f32(1.0 / n));
    }

    @Override
    public void kdLoss(Tensor student, Tensor teacher, double tau, Tensor loss) {
        CudaRuntime.f32(student, "kd_loss");
        CudaRuntime.f32(teacher, "kd_loss");
        int n = student.dim(0);
        try (CudaRuntime.Temp rowKl = rt.temp((long) n * Float.BYTES)) {
            rows(Kernel.KD_LOSS_ROWS_F32, n, KernelArgs.get().ptr(ptr(student)).ptr(ptr(teacher)).ptr(rowKl.ptr()).i32(student.dim(1)).f32(1 / tau));
            reduce.sumRowValues(rowKl.ptr(), n, tau * tau / n, loss);
        }
    }

    @Override
    public void kdLossBackward(Tensor student, Tensor teacher, double tau, Tensor g, Tensor dStudent, Tensor dTeacher) {
        if (dStudent == null && dTeacher == null) return;
        int n = student.dim(0);
        rows(Kernel.KD_LOSS_BACKWARD_F32, n, KernelArgs.get().ptr(ptr(student)).ptr(ptr(teacher)).ptr(ptr(g))
                .ptr(ptr(dStudent)).ptr(ptr(dTeacher)).i32(student.dim(1)).f32(1 / tau).f32(tau / n));
    }

    @Override
    public void kdCrossEntropy(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight, Tensor loss) {
        CudaRuntime.f32(student, "kd_ce_loss");
        CudaRuntime.f32(teacher, "kd_ce_loss");
        int n = student.dim(0);
        try (CudaRuntime.Temp rowLoss = rt.temp((long) n * Float.BYTES)) {
            kdCe(student, teacher, labels, tau, ceWeight, kdWeight, null, rowLoss.ptr(), null);
            reduce.sumRowValues(rowLoss.ptr(), n, 1.0 / n, loss);
        }
    }

    @Override
    public void kdCrossEntropyBackward(Tensor student, Tensor teacher, Tensor labels, double tau, double ceWeight, double kdWeight,
                                       Tensor g, Tensor dStudent) {
        kdCe(student, teacher, labels, tau, ceWeight, kdWeight, g, 0, dStudent);
    }

    // kd_ce_fused_f32 with the row losses (a device pointer, or 0) and/or dStudent (or null)
    private void kdCe(Tensor s, Tensor t, Tensor labels, double tau, double ceWeight, double kdWeight, Tensor g, long rowLoss, Tensor ds) {
        int n = s.dim(0);
        rows(Kernel.KD_CE_FUSED_F32, n, KernelArgs.get().ptr(ptr(s)).ptr(ptr(t)).ptr(ptr(labels)).ptr(ptr(g)).ptr(rowLoss).ptr(ptr(ds))
                .i32(s.dim(1)).f32(tau).f32(kdWeight).f32(ceWeight).f32(1.0 / n));
    }
}
