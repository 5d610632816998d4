package org.stablekd.autograd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.Op;
import org.stablekd.backend.PointwiseKernels;
import org.stablekd.ops.Conv;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;

/**
 * The gradient sum at a residual branch folded into the convolution's input gradient
 * (Derivatives' pending sums, ConvKernels.backwardAdding): for z = conv(a, w) + a with a =
 * relu(x), a's gradient is dz + conv's dx. Where the CPU backend adds it in the same pass, the
 * gradients must be the bits of the kernels one by one (backward, then the add, then the ReLU's
 * gradient), and where it does not (stride 2), the same.
 */
class ResidualGradientSumTest {

    @Test
    void foldedSumGivesTheBitsOfTheAddAfterTheKernel() {
        assumeTrue(cpuConv().addsToInputGradient(geometry(16)), "the CPU backend folds this layer's sum (AVX-512)");
        checkAgainstKernelsOneByOne(16);
    }

    @Test
    void unfoldedSumStillAddsEverything() {
        assertFalse(cpuConv().addsToInputGradient(geometry(8)), "8 channels are not folded");
        checkAgainstKernelsOneByOne(8);
    }

    /** The backend can only fold where asked for both gradients, with a contiguous sum of x's shape. */
    @Test
    void foldNeedsBothGradientsAndASumLikeX() {
        ConvGeometry g = geometry(16);
        assumeTrue(cpuConv().addsToInputGradient(g), "the CPU backend folds this layer's sum (AVX-512)");
        try (Scope scope = Scope.open()) {
            Tensor dy = Tensor.empty(DType.F32, 4, 16, 32, 32), plus = Tensor.empty(DType.F32, 4, 16, 32, 32);
            assertTrue(Conv.addsToInputGradient(g, dy, plus, true, true), "both gradients");
            assertFalse(Conv.addsToInputGradient(g, dy, plus, false, true), "no input gradient");
            assertFalse(Conv.addsToInputGradient(g, dy, plus, true, false), "no weight gradient");
            assertFalse(Conv.addsToInputGradient(g, dy, null, true, true), "nothing pending");
            assertFalse(Conv.addsToInputGradient(g, dy, Tensor.empty(DType.F32, 4, 16, 32, 64).narrowView(3, 0, 32), true, true),
                    "a strided view");
        }
    }

    private static ConvKernels cpuConv() {
        return Backends.select(Op.CONV2D, DType.F32, Device.CPU).conv();
    }

    private static ConvGeometry geometry(int channels) {
        return ConvGeometry.of(4, channels, 32, 32, channels, 3, 3, 1, 1, 1, 1, 1);
    }

    private static void checkAgainstKernelsOneByOne(int channels) {
        ConvGeometry g = geometry(channels);
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(17 + channels);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 4, channels, 32, 32).requiresGrad(true);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.2, 0.2, channels, channels, 3, 3).requiresGrad(true);
            Tensor dz = Tensor.uniform(rng, DType.F32, -1, 1, 4, channels, 32, 32);
            Tensor a = Pointwise.relu(x);
            Autograd.backward(Pointwise.add(Conv.conv2d(a, w, null, 1, 1, 1), a), dz);

            // the same by the kernels one by one: both conv gradients, a's sum dz + dx, the ReLU's gradient
            PointwiseKernels pw = Backends.select(Op.ADD, DType.F32, Device.CPU).pointwise();
            Tensor av = a.detach();
            Tensor dxConv = Tensor.empty(DType.F32, 4, channels, 32, 32), dw = Tensor.empty(DType.F32, channels, channels, 3, 3);
            cpuConv().backward(g, av, dz, w.detach(), dxConv, dw, null);
            Close.assertBitIdentical(dw.toFloatArray(), w.grad().toFloatArray(), "dw");
            Tensor sum = Tensor.empty(DType.F32, 4, channels, 32, 32), dx = Tensor.empty(DType.F32, 4, channels, 32, 32);
            pw.binary(Op.ADD, dz, dxConv, sum);
            pw.activationBackward(Op.RELU, av, sum, dx);
            Close.assertBitIdentical(dx.toFloatArray(), x.grad().toFloatArray(), "dx through a's gradient sum");
        }
    }
}
