package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;

/**
 * {@link Conv#conv2dRelu}, the inference frontend of a folded conv → BatchNorm → ReLU: without
 * gradients it is one fused kernel with exactly the bits of conv2d then relu (each output is the
 * same sum, then max(0, ·)); with inputs that need a gradient it records the two ops, so backward
 * still works.
 */
class ConvReluTest {
    /**
     * (n, c, h, k, kernel, stride, pad, groups): depthwise (packed, planes, split), 1×1 small and
     * planes, grid layers (ReLU in the copy out: batch 2, batch 1 split by tiles, stride 2, 1×1
     * stride 2), a Winograd layer (ReLU as a pass after it).
     */
    private static final int[][] LAYERS = {
            {1, 48, 2, 48, 3, 1, 1, 48}, {1, 24, 8, 24, 3, 1, 1, 24}, {2, 16, 16, 16, 3, 2, 1, 16},
            {1, 40, 2, 96, 1, 1, 0, 1}, {1, 24, 4, 36, 1, 1, 0, 1}, {2, 8, 9, 12, 3, 1, 1, 1},
            {1, 16, 32, 16, 3, 1, 1, 1}, {1, 16, 32, 32, 3, 2, 1, 1}, {1, 16, 32, 32, 1, 2, 0, 1}, {1, 32, 64, 32, 3, 1, 1, 1}};

    @Test
    void fusedMatchesConvThenReluBitForBit() {
        try (Scope s = Scope.open(); Restore ng = Autograd.noGrad()) {
            for (int[] l : LAYERS) {
                Rng rng = new Rng(l[1] * 31L + l[2]);
                Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, l[0], l[1], l[2], l[2]);
                Tensor w = Tensor.uniform(rng, DType.F32, -0.5, 0.5, l[3], l[1] / l[7], l[4], l[4]);
                Tensor b = Tensor.uniform(rng, DType.F32, -0.5, 0.5, l[3]);
                Tensor fused = Conv.conv2dRelu(x, w, b, l[5], l[6], l[7]);
                Tensor twoOps = Pointwise.relu(Conv.conv2d(x, w, b, l[5], l[6], l[7]));
                Close.assertBitIdentical(twoOps.toFloatArray(), fused.toFloatArray(), "conv2dRelu " + java.util.Arrays.toString(l));
            }
        }
    }

    @Test
    void withGradientsItRecordsTheTwoOps() {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(3);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, 6, 4, 4);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.5, 0.5, 6, 1, 3, 3).requiresGrad(true);
            Tensor y = Conv.conv2dRelu(x, w, null, 1, 1, 6);
            assertNotNull(y.gradFn(), "a conv2dRelu whose weight needs a gradient is recorded");
            Autograd.backward(Reduce.sum(y));
            assertNotNull(w.grad());
            try (Restore ng = Autograd.noGrad()) {
                assertNull(Conv.conv2dRelu(x, w, null, 1, 1, 6).gradFn());
            }
        }
    }
}
