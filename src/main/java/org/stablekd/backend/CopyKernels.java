package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/**
 * One strided copy serves every layout op: contiguous copies, concat (copy into narrowed views of
 * the output), narrow, channel shuffle (a permuted view) and their backwards.
 */
public interface CopyKernels {
    /** dst[i] = src[i] for every index; both may be any strided view of equal shape and dtype. */
    void copy(Tensor src, Tensor dst);
}
