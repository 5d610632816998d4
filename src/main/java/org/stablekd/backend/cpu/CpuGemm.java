package org.stablekd.backend.cpu;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.GemmKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/** Dense products on the CPU: the linear layer and its gradients run through {@link Sgemm}. */
final class CpuGemm implements GemmKernels {
    /** The ops this family runs fast for F32. */
    static final Set<Op> SUPPORTED = EnumSet.of(Op.LINEAR);

    private CpuGemm() {}

    static GemmKernels kernels() {
        return new CpuGemm();
    }

    /** a, b, c contiguous row-major: a (m,k) or (k,m) if transA, b (k,n) or (n,k) if transB, c (m,n). */
    @Override
    public void matmul(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        int lda = transA ? m : k, ldb = transB ? k : n;
        Sgemm.gemm(transA, transB, m, n, k, (float) alpha,
                a.segment(), a.offset(), lda, b.segment(), b.offset(), ldb,
                (float) beta, c.segment(), c.offset(), n);
    }
}
