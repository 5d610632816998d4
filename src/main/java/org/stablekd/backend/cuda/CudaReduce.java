package org.stablekd.backend.cuda;

import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.Op;
import org.stablekd.backend.ReduceKernels;
import org.stablekd.tensor.Tensor;

/**
 * Sums on the GPU (reduce.cu): a full sum is two launches — P blocks write double partials, one
 * block adds them — with P fixed by n alone, so the result is the same every run.
 */
final class CudaReduce implements ReduceKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.SUM, Op.MEAN, Op.TOPK_HITS);
    /** At most this many partials (one per block of the first pass). */
    static final int MAX_PARTIALS = 1024;
    /** Elements per thread the first pass aims for before adding blocks. */
    static final int ELEMENTS_PER_THREAD = 8;
    /** Threads of the single-block final pass. */
    static final int FINAL_THREADS = 1024;

    private final CudaRuntime rt;

    CudaReduce(CudaRuntime rt) {
        this.rt = rt;
    }

    /** Blocks of the first pass for n elements: depends on n only (determinism). */
    static int partialsFor(long n) {
        long perBlock = (long) KernelModule.THREADS * ELEMENTS_PER_THREAD;
        return (int) Math.max(1, Math.min((n + perBlock - 1) / perBlock, MAX_PARTIALS));
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        CudaRuntime.f32(x, "sum");
        sumScaled(Kernel.SUM_PARTIALS_F32, x, null, 1.0, out);
    }

    /** out[0] = scale·Σx, or scale·Σ(x−y)² when y != null. */
    void sumScaled(Kernel partials, Tensor x, Tensor y, double scale, Tensor out) {
        long n = x.numel();
        int p = partialsFor(n);
        try (CudaRuntime.Temp t = rt.temp((long) p * Double.BYTES)) {
            KernelArgs a = KernelArgs.get().ptr(ptr(x));
            if (y != null) a.ptr(ptr(y));
            a.i64(n).ptr(t.ptr());
            rt.kernels().launch(partials, p, KernelModule.THREADS, a);
            rt.kernels().launch(Kernel.SUM_FINAL_F32, 1, FINAL_THREADS, KernelArgs.get().ptr(t.ptr()).i32(p).f64(scale).ptr(ptr(out)));
        }
    }

    /** out[0] = scale·Σ rowValues (per-row losses). */
    void sumRowValues(long rowValues, int rows, double scale, Tensor out) {
        rt.kernels().launch(Kernel.SUM_ROWS_FINAL_F32, 1, FINAL_THREADS, KernelArgs.get().ptr(rowValues).i32(rows).f64(scale).ptr(ptr(out)));
    }

    /** out = {top-1, top-k hits}: one block of {@link #FINAL_THREADS} walks the rows and adds its counts in a fixed tree. */
    @Override
    public void topkHits(Tensor logits, Tensor labels, int k, Tensor out) {
        CudaRuntime.f32(logits, "topk_hits");
        int rows = logits.dim(0), cols = logits.dim(1);
        rt.kernels().launch(Kernel.TOPK_HITS_F32, 1, FINAL_THREADS,
                KernelArgs.get().ptr(ptr(logits)).ptr(ptr(labels)).i32(rows).i32(cols).i32(k).ptr(ptr(out)));
    }

    @Override
    public void sumRows(Tensor x, Tensor out) {
        CudaRuntime.f32(x, "sum_rows");
        int rows = x.dim(0), cols = x.dim(1);
        rt.kernels().launch(Kernel.SUM_ROWS_F32, (cols + KernelModule.THREADS - 1) / KernelModule.THREADS, KernelModule.THREADS,
                KernelArgs.get().ptr(ptr(x)).i32(rows).i32(cols).ptr(ptr(out)));
    }
}
