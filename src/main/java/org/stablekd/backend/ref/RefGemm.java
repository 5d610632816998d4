package org.stablekd.backend.ref;

import org.stablekd.backend.GemmKernels;
import org.stablekd.tensor.Tensor;

/** Reference matrix product: c = alpha·op(a)·op(b) + beta·c, one double sum per element. */
final class RefGemm implements GemmKernels {

    @Override
    public void matmul(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        matmul(transA, transB, m, n, k, alpha, Buf.of(a), Buf.of(b), beta, Buf.of(c));
    }

    /** a is (m,k) row-major, or (k,m) if transA; b is (k,n), or (n,k) if transB; c is (m,n). */
    static void matmul(boolean transA, boolean transB, int m, int n, int k,
                       double alpha, Buf a, Buf b, double beta, Buf c) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int l = 0; l < k; l++) {
                    double av = transA ? a.get((long) l * m + i) : a.get((long) i * k + l);
                    double bv = transB ? b.get((long) j * k + l) : b.get((long) l * n + j);
                    acc += av * bv;
                }
                long ci = (long) i * n + j;
                c.set(ci, alpha * acc + (beta == 0 ? 0 : beta * c.get(ci)));
            }
    }
}
