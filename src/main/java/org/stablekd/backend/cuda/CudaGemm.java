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

    /**
     * The cublasSgemm arguments for row-major C (m×n) = alpha·op(A)·op(B) + beta·C with op(A) m×k
     * and op(B) k×n, all contiguous: the column-major call Cᵀ = op(B)ᵀ·op(A)ᵀ. transFirst/lda
     * belong to cuBLAS's first operand (our B), transSecond/ldb to its second (our A).
     */
    record Call(boolean transFirst, boolean transSecond, int m, int n, int k, int lda, int ldb, int ldc) {
        static Call of(boolean transA, boolean transB, int m, int n, int k) {
            return new Call(transB, transA, n, m, k, Math.max(1, transB ? k : n), Math.max(1, transA ? m : k), Math.max(1, n));
        }
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
        Call call = Call.of(transA, transB, m, n, k);
        rt.ctx().makeCurrent();
        Check.cublas(cublasSgemm_v2(rt.ctx().cublasHandle, call.transFirst() ? CUBLAS_OP_T : CUBLAS_OP_N, call.transSecond() ? CUBLAS_OP_T : CUBLAS_OP_N,
                call.m(), call.n(), call.k(), alphaP, new FloatPointer(new RawPointer(ptr(b))), call.lda(), new FloatPointer(new RawPointer(ptr(a))),
                call.ldb(), betaP, new FloatPointer(new RawPointer(ptr(c))), call.ldc()), "cublasSgemm(" + m + "x" + k + " · " + k + "x" + n + ")");
    }
}
