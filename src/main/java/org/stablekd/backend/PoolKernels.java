package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/** 2-D pooling on contiguous NCHW tensors; outputs overwritten. */
public interface PoolKernels {
    /** y (n,c,p,q) = window max; argmax (n,c,p,q, I32) = the winning index h·w+w within its plane. */
    void maxForward(PoolGeometry g, Tensor x, Tensor y, Tensor argmax);

    /** dx (n,c,h,w): each dy routed to its argmax (overlapping windows add). */
    void maxBackward(PoolGeometry g, Tensor dy, Tensor argmax, Tensor dx);

    /** y = window sum / {@link PoolGeometry#avgDivisor}. */
    void avgForward(PoolGeometry g, Tensor x, Tensor y);

    void avgBackward(PoolGeometry g, Tensor dy, Tensor dx);

    /** y (n,c) = mean over h·w of x (n,c,h,w). */
    void globalAvgForward(Tensor x, Tensor y);

    /** dx (n,c,h,w) = dy (n,c) / (h·w). */
    void globalAvgBackward(Tensor dy, Tensor dx);
}
