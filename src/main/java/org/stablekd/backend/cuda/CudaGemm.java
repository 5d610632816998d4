package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasSgemm_v2;
import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Set;
import org.bytedeco.javacpp.FloatPointer;
import org.stablekd.backend.GemmKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * Row-major matrix products through cuBLAS (column-major). A row-major (r, c) matrix is the
 * column-major (c, r) matrix of the same bytes, so C = op(A)·op(B) row-major is computed as
 * Cᵀ = op(B)ᵀ·op(A)ᵀ column-major: cublasSgemm(opB, opA, n, m, k, B, A, C) with leading
 * dimensions the row lengths as stored. TF32 only with -Dstablekd.cuda.tf32=true (CudaContext).
 */
final class CudaGemm implements GemmKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.LINEAR);

    private final CudaRuntime rt;

    CudaGemm(CudaRuntime rt) {
        this.rt = rt;
    }

    @Override
    public void matmul(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        CudaRuntime.f32(a, "matmul");
        CudaRuntime.f32(b, "matmul");
        CudaRuntime.f32(c, "matmul");
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        if (m == 0 || n == 0) return;
        // host scalars (cuBLAS's default pointer mode), each its own allocation (see HostScalars)
        HostScalars s = HostScalars.get();
        FloatPointer alphaP = s.alpha(alpha), betaP = s.beta(beta);
        int ldb = Math.max(1, transB ? k : n), lda = Math.max(1, transA ? m : k);
        rt.ctx().makeCurrent();
        Check.cublas(cublasSgemm_v2(rt.ctx().cublasHandle, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                n, m, k, alphaP, new FloatPointer(new RawPointer(ptr(b))), ldb, new FloatPointer(new RawPointer(ptr(a))), lda,
                betaP, new FloatPointer(new RawPointer(ptr(c))), n), "cublasSgemm(" + m + "x" + k + " · " + k + "x" + n + ")");
    }
}
