package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/** Dense matrix products over contiguous row-major 2-D tensors. */
public interface GemmKernels {
    /**
     * c (m,n) = alpha · op(a) · op(b) + beta · c, where op(a) is a (m,k) or, if transA, aᵀ of a (k,m);
     * op(b) is b (k,n) or, if transB, bᵀ of b (n,k). beta = 0 ignores c's old content (even NaN).
     */
    void matmul(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c);
}
