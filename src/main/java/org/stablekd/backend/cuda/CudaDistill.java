package org.stablekd.backend.cuda;

import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.DistillKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/** DKD (dkd_loss.cu) and attention maps (attention.cu) on the GPU. */
final class CudaDistill implements DistillKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.DKD_LOSS, Op.ATTENTION_MAP);

    private final CudaRuntime rt;
    private final CudaReduce reduce;

    CudaDistill(CudaRuntime rt, CudaReduce reduce) {
        this.rt = rt;
        this.reduce = reduce;
    }

    @Override
    public void dkdLoss(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau, Tensor loss) {
        CudaRuntime.f32(student, "dkd_loss");
        CudaRuntime.f32(teacher, "dkd_loss");
        int n = student.dim(0);
        try (CudaRuntime.Temp rowLoss = rt.temp((long) n * Float.BYTES)) {
            rt.kernels().launch(Kernel.DKD_LOSS_ROWS_F32, n, KernelModule.ROW_THREADS, KernelArgs.get()
                    .ptr(ptr(student)).ptr(ptr(teacher)).ptr(ptr(labels)).ptr(rowLoss.ptr())
                    .i32(student.dim(1)).f32(1 / tau).f32(alpha).f32(beta));
            reduce.sumRowValues(rowLoss.ptr(), n, tau * tau / n, loss);
        }
    }

    @Override
    public void dkdLossBackward(Tensor student, Tensor teacher, Tensor labels, double alpha, double beta, double tau,
                                Tensor g, Tensor dStudent) {
        if (dStudent == null) return;
        int n = student.dim(0);
        rt.kernels().launch(Kernel.DKD_LOSS_BACKWARD_F32, n, KernelModule.ROW_THREADS, KernelArgs.get()
                .ptr(ptr(student)).ptr(ptr(teacher)).ptr(ptr(labels)).ptr(ptr(g)).ptr(ptr(dStudent))
                .i32(student.dim(1)).f32(1 / tau).f32(alpha).f32(beta).f32(tau / n));
    }

    @Override
    public void attentionMap(Tensor f, double eps, Tensor q, Tensor a) {
        CudaRuntime.f32(f, "attention_map");
        int n = f.dim(0), c = f.dim(1), p = f.dim(2) * f.dim(3);
        rt.kernels().launch(Kernel.ATTENTION_MAP_FORWARD_F32, n, KernelModule.THREADS,
                KernelArgs.get().ptr(ptr(f)).ptr(ptr(q)).ptr(ptr(a)).i32(c).i32(p).f32(eps));
    }

    @Override
    public void attentionMapBackward(Tensor f, Tensor q, Tensor da, double eps, Tensor df) {
        int n = f.dim(0), c = f.dim(1), p = f.dim(2) * f.dim(3);
        try (CudaRuntime.Temp dq = rt.temp((long) n * p * Float.BYTES)) {
            rt.kernels().launch(Kernel.ATTENTION_MAP_DQ_F32, n, KernelModule.THREADS,
                    KernelArgs.get().ptr(ptr(q)).ptr(ptr(da)).ptr(dq.ptr()).i32(p).f32(eps));
            long total = f.numel();
            rt.kernels().launchElementwise(Kernel.ATTENTION_MAP_BACKWARD_F32, total,
                    KernelArgs.get().ptr(ptr(f)).ptr(dq.ptr()).ptr(ptr(df)).i32(c).i32(p).i64(total));
        }
    }
}
