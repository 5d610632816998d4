package org.stablekd.backend.cuda;

import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.Op;
import org.stablekd.backend.PoolGeometry;
import org.stablekd.backend.PoolKernels;
import org.stablekd.tensor.Tensor;

/**
 * Pooling with our kernels (pool.cu): the backward of max pooling uses the argmax the forward
 * saved (cuDNN's would need x and y again), and the gather form keeps it deterministic.
 */
final class CudaPool implements PoolKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.MAX_POOL2D, Op.AVG_POOL2D, Op.GLOBAL_AVG_POOL);

    private final CudaRuntime rt;

    CudaPool(CudaRuntime rt) {
        this.rt = rt;
    }

    private static KernelArgs geometry(KernelArgs a, PoolGeometry g) {
        return a.i64((long) g.n() * g.c()).i32(g.h()).i32(g.w()).i32(g.p()).i32(g.q())
                .i32(g.kh()).i32(g.kw()).i32(g.sh()).i32(g.sw()).i32(g.ph()).i32(g.pw());
    }

    private static long outputs(PoolGeometry g) {
        return (long) g.n() * g.c() * g.p() * g.q();
    }

    private static long inputs(PoolGeometry g) {
        return (long) g.n() * g.c() * g.h() * g.w();
    }

    @Override
    public void maxForward(PoolGeometry g, Tensor x, Tensor y, Tensor argmax) {
        CudaRuntime.f32(x, "max_pool2d");
        rt.kernels().launchElementwise(Kernel.MAX_POOL_FORWARD_F32, outputs(g),
                geometry(KernelArgs.get().ptr(ptr(x)).ptr(ptr(y)).ptr(ptr(argmax)), g));
    }

    @Override
    public void maxBackward(PoolGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        rt.kernels().launchElementwise(Kernel.MAX_POOL_BACKWARD_F32, inputs(g),
                geometry(KernelArgs.get().ptr(ptr(dy)).ptr(ptr(argmax)).ptr(ptr(dx)), g));
    }

    @Override
    public void avgForward(PoolGeometry g, Tensor x, Tensor y) {
        CudaRuntime.f32(x, "avg_pool2d");
        rt.kernels().launchElementwise(Kernel.AVG_POOL_FORWARD_F32, outputs(g), geometry(KernelArgs.get().ptr(ptr(x)).ptr(ptr(y)), g));
    }

    @Override
    public void avgBackward(PoolGeometry g, Tensor dy, Tensor dx) {
        rt.kernels().launchElementwise(Kernel.AVG_POOL_BACKWARD_F32, inputs(g), geometry(KernelArgs.get().ptr(ptr(dy)).ptr(ptr(dx)), g));
    }

    @Override
    public void globalAvgForward(Tensor x, Tensor y) {
        CudaRuntime.f32(x, "global_avg_pool");
        long planes = (long) x.dim(0) * x.dim(1);
        int planesPerBlock = KernelModule.THREADS / 32;
        rt.kernels().launch(Kernel.GLOBAL_AVG_POOL_FORWARD_F32, (int) ((planes + planesPerBlock - 1) / planesPerBlock), KernelModule.THREADS,
                KernelArgs.get().ptr(ptr(x)).ptr(ptr(y)).i64(planes).i32(x.dim(2) * x.dim(3)));
    }

    @Override
    public void globalAvgBackward(Tensor dy, Tensor dx) {
        long planes = (long) dx.dim(0) * dx.dim(1);
        int hw = dx.dim(2) * dx.dim(3);
        rt.kernels().launchElementwise(Kernel.GLOBAL_AVG_POOL_BACKWARD_F32, planes * hw,
                KernelArgs.get().ptr(ptr(dy)).ptr(ptr(dx)).i64(planes).i32(hw));
    }
}
