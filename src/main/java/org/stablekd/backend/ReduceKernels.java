package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/** Reductions over contiguous tensors. */
public interface ReduceKernels {
    /** out (one element) = Σ x. */
    void sum(Tensor x, Tensor out);

    /** out (cols) = Σ over rows of x (rows, cols): linear-layer bias gradients. */
    void sumRows(Tensor x, Tensor out);
}
