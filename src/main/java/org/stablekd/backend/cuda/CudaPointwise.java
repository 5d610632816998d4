package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.cuMemsetD32Async;
import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.Op;
import org.stablekd.backend.PointwiseKernels;
import org.stablekd.tensor.Tensor;

/** Elementwise ops on the GPU: elementwise.cu, one launch each; fills through cuMemsetD32. */
final class CudaPointwise implements PointwiseKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.RELU, Op.RELU6, Op.ADD, Op.SUB, Op.MUL, Op.SCALE, Op.ADD_SCALAR, Op.ADD_RELU, Op.FILL);

    private final CudaRuntime rt;

    CudaPointwise(CudaRuntime rt) {
        this.rt = rt;
    }

    @Override
    public void unary(Op op, Tensor x, double c, Tensor y) {
        CudaRuntime.f32(x, op.name().toLowerCase());
        long n = x.numel();
        KernelArgs a = KernelArgs.get().ptr(ptr(x)).ptr(ptr(y)).i64(n);
        Kernel k = switch (op) {
            case RELU -> Kernel.RELU_FORWARD_F32;
            case RELU6 -> Kernel.RELU6_FORWARD_F32;
            case SCALE -> { a.f32(c); yield Kernel.SCALE_F32; }
            case ADD_SCALAR -> { a.f32(c); yield Kernel.ADD_SCALAR_F32; }
            default -> throw new IllegalArgumentException(op + " is not a unary pointwise op");
        };
        rt.kernels().launchElementwise(k, n, a);
    }

    @Override
    public void binary(Op op, Tensor a, Tensor b, Tensor y) {
        CudaRuntime.f32(a, op.name().toLowerCase());
        CudaRuntime.f32(b, op.name().toLowerCase());
        Kernel k = switch (op) {
            case ADD -> Kernel.ADD_F32;
            case SUB -> Kernel.SUB_F32;
            case MUL -> Kernel.MUL_F32;
            case ADD_RELU -> Kernel.ADD_RELU_F32;
            default -> throw new IllegalArgumentException(op + " is not a binary pointwise op");
        };
        long n = a.numel();
        rt.kernels().launchElementwise(k, n, KernelArgs.get().ptr(ptr(a)).ptr(ptr(b)).ptr(ptr(y)).i64(n));
    }

    @Override
    public void activationBackward(Op op, Tensor ref, Tensor dy, Tensor dx) {
        Kernel k = switch (op) {
            case RELU, ADD_RELU -> Kernel.RELU_BACKWARD_F32;
            case RELU6 -> Kernel.RELU6_BACKWARD_F32;
            default -> throw new IllegalArgumentException(op + " is not an activation");
        };
        long n = ref.numel();
        rt.kernels().launchElementwise(k, n, KernelArgs.get().ptr(ptr(ref)).ptr(ptr(dy)).ptr(ptr(dx)).i64(n));
    }

    @Override
    public void axpy(Tensor a, double c, Tensor b, Tensor y) {
        long n = a.numel();
        rt.kernels().launchElementwise(Kernel.AXPY_F32, n, KernelArgs.get().ptr(ptr(a)).f32(c).ptr(ptr(b)).ptr(ptr(y)).i64(n));
    }

    @Override
    public void fillFromScalar(Tensor g, double scale, Tensor y) {
        long n = y.numel();
        rt.kernels().launchElementwise(Kernel.FILL_FROM_SCALAR_F32, n, KernelArgs.get().ptr(ptr(g)).f32(scale).ptr(ptr(y)).i64(n));
    }

    /** 32-bit words set with cuMemsetD32 (F32 bits or an I32 value); y must be contiguous. */
    @Override
    public void fill(Tensor y, double v) {
        if (!y.isContiguous()) throw new IllegalArgumentException("fill on the GPU needs a contiguous tensor, got shape " + y.shape());
        int word = switch (y.dtype()) {
            case F32 -> Float.floatToRawIntBits((float) v);
            case I32 -> (int) v;
            default -> throw new IllegalArgumentException("fill on the GPU supports F32 and I32, not " + y.dtype());
        };
        if (y.numel() == 0) return;
        rt.ctx().makeCurrent();
        Check.cu(cuMemsetD32Async(ptr(y), word, y.numel(), rt.ctx().stream), "cuMemsetD32Async");
    }

}
