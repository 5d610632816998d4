package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.WeightCache;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;

/**
 * {@link Conv#conv2dAddRelu}, the inference end of a residual block (a folded conv → BatchNorm,
 * plus the shortcut, then ReLU): without gradients one kernel with exactly the bits of conv2d then
 * ADD_RELU, on the channels-last Winograd path (the add in its copy out) and on the others (a pass
 * after the forward); with inputs that need a gradient it records the two ops.
 */
class ConvAddReluTest {
    /**
     * (n, c, h, w, k): channels-last Winograd at batch 1 and 2 (bands of tile rows, sizes that are
     * not whole tiles or vectors), then layers it does not take: 24 channels, a wide layer at batch 8.
     */
    private static final int[][] LAYERS = {
            {1, 16, 32, 32, 16}, {2, 32, 16, 16, 32}, {1, 16, 11, 13, 16}, {3, 32, 5, 7, 16},
            {1, 24, 8, 8, 24}, {8, 64, 8, 8, 64}};

    @Test
    void fusedMatchesConvThenAddReluBitForBit() {
        try (Scope s = Scope.open(); Restore ng = Autograd.noGrad()) {
            for (int[] l : LAYERS) check(l, "");
        }
    }

    /** Under an inference WeightCache, where wide layers at batch 1 (64→64 at 8×8, 128 → 128 at 16×16) run channels-last too. */
    @Test
    void fusedMatchesUnderAWeightCache() {
        try (Scope s = Scope.open(); Restore ng = Autograd.noGrad()) {
            WeightCache cache = new WeightCache();
            for (int[] l : new int[][] {{1, 64, 8, 8, 64}, {1, 128, 16, 16, 128}, {1, 16, 32, 32, 16}}) {
                for (int round = 0; round < 2; round++) cache.run(() -> check(l, "cached "));
            }
        }
    }

    private static void check(int[] l, String what) {
        Rng rng = new Rng(l[1] * 31L + l[2] * 7L + l[4]);
        Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, l[0], l[1], l[2], l[3]);
        Tensor w = Tensor.uniform(rng, DType.F32, -0.2, 0.2, l[4], l[1], 3, 3);
        Tensor b = Tensor.uniform(rng, DType.F32, -0.5, 0.5, l[4]);
        Tensor r = Tensor.uniform(rng, DType.F32, -1, 1, l[0], l[4], l[2], l[3]);
        Tensor fused = Conv.conv2dAddRelu(x, w, b, r, 1, 1, 1);
        Tensor twoOps = Pointwise.addRelu(Conv.conv2d(x, w, b, 1, 1, 1), r);
        Close.assertBitIdentical(twoOps.toFloatArray(), fused.toFloatArray(), what + "conv2dAddRelu " + java.util.Arrays.toString(l));
    }

    @Test
    void withGradientsItRecordsTheTwoOps() {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(3);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, 16, 8, 8);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.5, 0.5, 16, 16, 3, 3).requiresGrad(true);
            Tensor r = Tensor.uniform(rng, DType.F32, -1, 1, 1, 16, 8, 8).requiresGrad(true);
            Tensor y = Conv.conv2dAddRelu(x, w, null, r, 1, 1, 1);
            assertNotNull(y.gradFn(), "a conv2dAddRelu whose inputs need gradients is recorded");
            Autograd.backward(Reduce.sum(y));
            assertNotNull(w.grad());
            assertNotNull(r.grad());
            try (Restore ng = Autograd.noGrad()) {
                assertNull(Conv.conv2dAddRelu(x, w, null, r, 1, 1, 1).gradFn());
            }
        }
    }
}
