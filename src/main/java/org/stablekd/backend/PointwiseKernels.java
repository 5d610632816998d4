package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/** Elementwise kernels over contiguous tensors of equal element count. Outputs may alias inputs. */
public interface PointwiseKernels {
    /** y = f(x) for op in RELU, RELU6, SCALE (x·c), ADD_SCALAR (x+c). */
    void unary(Op op, Tensor x, double c, Tensor y);

    /** y = a ∘ b for op in ADD, SUB, MUL, ADD_RELU (relu(a+b)). */
    void binary(Op op, Tensor a, Tensor b, Tensor y);

    /**
     * dx = dy where the activation passed the value through, else 0. RELU and ADD_RELU test the
     * forward output {@code ref} > 0; RELU6 tests the forward input 0 < ref < 6.
     */
    void activationBackward(Op op, Tensor ref, Tensor dy, Tensor dx);

    /** y = a + c·b (gradient accumulation, SGD-style updates). */
    void axpy(Tensor a, double c, Tensor b, Tensor y);

    /** Every element of y = scale · g, where g is a one-element tensor (backward of sum/mean). */
    void fillFromScalar(Tensor g, double scale, Tensor y);

    /** Every element of y = v. */
    void fill(Tensor y, double v);
}
