package org.stablekd.backend;

import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;

/**
 * A set of kernels for one device. Small on purpose: a name, the device, which ops it
 * {@link #supports} for which dtype, and the kernel families. The op frontend has already checked
 * shapes and allocated outputs; a family method only computes. Where a backend does not support
 * an op, the frontend falls back to the reference backend (host tensors only).
 *
 * <p>Family methods take tensors so a backend can read pointers and strides its own way; the
 * kernels underneath are static methods over raw buffers (see docs/design.md, Kernel rules).
 */
public interface Backend {
    String name();

    Device device();

    boolean supports(Op op, DType dtype);

    /** Waits until all queued work is done (a no-op on host backends). */
    default void sync() {}

    /** Copies between the host and this backend's device; host backends have none. */
    default Transfers transfers() {
        throw new UnsupportedOperationException(name() + " runs on host memory; it has no transfers");
    }

    ConvKernels conv();

    GemmKernels gemm();

    NormKernels norm();

    PointwiseKernels pointwise();

    CopyKernels copy();

    PoolKernels pool();

    SoftmaxLossKernels softmaxLoss();

    RegressionLossKernels regressionLoss();

    DistillKernels distill();

    ReduceKernels reduce();

    OptimizerKernels optimizer();
}
