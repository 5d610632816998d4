package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoDAsync;
import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.CopyKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * The one strided copy behind every layout op, on the GPU: a dense copy is cuMemcpyDtoDAsync,
 * anything else copy.cu's kernel for the element width (2, 4 or 8 bytes: every dtype).
 * Both tensors must be on this GPU; host↔device copies are {@link CudaTensors}' job.
 */
final class CudaCopy implements CopyKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.RESHAPE, Op.CONCAT, Op.NARROW, Op.CHANNEL_SHUFFLE, Op.COPY);

    private final CudaRuntime rt;

    CudaCopy(CudaRuntime rt) {
        this.rt = rt;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (!src.shape().equals(dst.shape()) || src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException("copy: " + src.dtype() + " " + src.shape() + " into " + dst.dtype() + " " + dst.shape());
        }
        if (!src.device().equals(dst.device())) {
            throw new IllegalArgumentException("copy from " + src.device() + " to " + dst.device() + ": use CudaTensors for host↔device copies");
        }
        CopyLayout l = CopyLayout.of(src.shape().dims(), src.strides(), dst.strides());
        long n = l.numel();
        if (n == 0) return;
        int bytes = src.dtype().bytes;
        if (l.dense()) {
            rt.ctx().makeCurrent();
            Check.cu(cuMemcpyDtoDAsync(ptr(dst), ptr(src), n * bytes, rt.ctx().stream), "cuMemcpyDtoDAsync");
            return;
        }
        if (l.rank() > KernelArgs.LAYOUT_RANK) {
            throw new IllegalArgumentException("copy: a view of rank " + l.rank() + " after merging dims (shape " + src.shape()
                    + "); copy.cu handles up to " + KernelArgs.LAYOUT_RANK);
        }
        Kernel k = switch (bytes) {
            case 2 -> Kernel.COPY_STRIDED_B2;
            case 4 -> Kernel.COPY_STRIDED_B4;
            case 8 -> Kernel.COPY_STRIDED_B8;
            default -> throw new IllegalArgumentException("copy: no kernel for " + bytes + "-byte elements");
        };
        rt.kernels().launchElementwise(k, n, KernelArgs.get().ptr(ptr(src)).ptr(ptr(dst))
                .layout(l.sizes(), l.srcStrides(), l.dstStrides(), l.rank()).i64(n));
    }
}
