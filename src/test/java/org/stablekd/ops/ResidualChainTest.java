package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * {@link Conv#residualChain}, a run of identity residual blocks at inference: the bits of
 * conv2dRelu then conv2dAddRelu block by block, whether the backend chains the layers (16 and 32
 * channels, 64 at batch 64, wider under a WeightCache) or not (24 channels, 64 at batch 2); with
 * inputs that need a gradient it records the ops one by one; bad shapes get one clear sentence.
 */
class ResidualChainTest {
    /** (n, c, h, w, blocks). */
    private static final int[][] RUNS = {{2, 16, 32, 32, 3}, {1, 32, 11, 13, 2}, {64, 64, 8, 8, 2}, {2, 64, 8, 8, 2}, {1, 24, 8, 8, 2}};

    @Test
    void chainMatchesTheBlocksOneByOneBitForBit() {
        try (Scope s = Scope.open(); Restore ng = Autograd.noGrad()) {
            for (int[] run : RUNS) check(run, "");
        }
    }

    @Test
    void chainMatchesUnderAWeightCache() {
        try (Scope s = Scope.open(); Restore ng = Autograd.noGrad()) {
            WeightCache cache = new WeightCache();
            for (int[] run : new int[][] {{1, 64, 8, 8, 2}, {1, 16, 32, 32, 2}}) {
                for (int round = 0; round < 2; round++) cache.run(() -> check(run, "cached "));
            }
        }
    }

    private static Tensor[][] weights(int[] run, Rng rng) {
        int c = run[1], blocks = run[4];
        double scale = 1 / Math.sqrt(9.0 * c);
        Tensor[][] wb = new Tensor[4][blocks];
        for (int i = 0; i < blocks; i++) {
            wb[0][i] = Tensor.uniform(rng, DType.F32, -scale, scale, c, c, 3, 3);
            wb[1][i] = Tensor.uniform(rng, DType.F32, -0.5, 0.5, c);
            wb[2][i] = Tensor.uniform(rng, DType.F32, -scale, scale, c, c, 3, 3);
            wb[3][i] = Tensor.uniform(rng, DType.F32, -0.5, 0.5, c);
        }
        return wb;
    }

    private static void check(int[] run, String what) {
        Rng rng = new Rng(run[0] * 131L + run[1] * 31L + run[2]);
        Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, run[0], run[1], run[2], run[3]);
        Tensor[][] wb = weights(run, rng);
        Tensor oneByOne = x;
        for (int i = 0; i < run[4]; i++) {
            oneByOne = Conv.conv2dAddRelu(Conv.conv2dRelu(oneByOne, wb[0][i], wb[1][i], 1, 1, 1), wb[2][i], wb[3][i], oneByOne, 1, 1, 1);
        }
        Tensor chained = Conv.residualChain(x, wb[0], wb[1], wb[2], wb[3]);
        Close.assertBitIdentical(oneByOne.toFloatArray(), chained.toFloatArray(), what + "residualChain " + java.util.Arrays.toString(run));
    }

    @Test
    void withGradientsItRecordsTheBlocksOneByOne() {
        try (Scope s = Scope.open()) {
            int[] run = {1, 16, 8, 8, 2};
            Tensor[][] wb = weights(run, new Rng(5));
            Tensor x = Tensor.uniform(new Rng(6), DType.F32, -1, 1, 1, 16, 8, 8);
            wb[0][1].requiresGrad(true);
            Tensor y = Conv.residualChain(x, wb[0], wb[1], wb[2], wb[3]);
            assertNotNull(y.gradFn(), "a chain whose weights need gradients is recorded");
            Autograd.backward(Reduce.sum(y));
            assertNotNull(wb[0][1].grad());
            try (Restore ng = Autograd.noGrad()) {
                assertNull(Conv.residualChain(x, wb[0], wb[1], wb[2], wb[3]).gradFn());
            }
        }
    }

    @Test
    void badShapesGetOneSentence() {
        try (Scope s = Scope.open(); Restore ng = Autograd.noGrad()) {
            Tensor[][] wb = weights(new int[] {1, 16, 8, 8, 2}, new Rng(7));
            Tensor x = Tensor.uniform(new Rng(8), DType.F32, -1, 1, 1, 16, 8, 8);
            var lengths = assertThrows(IllegalArgumentException.class,
                    () -> Conv.residualChain(x, wb[0], new Tensor[] {wb[1][0]}, wb[2], wb[3]));
            assertTrue(lengths.getMessage().contains("as many weights and biases"), lengths.getMessage());
            Tensor[] widening = {Tensor.zeros(DType.F32, 32, 16, 3, 3), wb[0][1]};
            Tensor[] wideBias = {Tensor.zeros(DType.F32, 32), wb[1][1]};
            var channels = assertThrows(IllegalArgumentException.class, () -> Conv.residualChain(x, widening, wideBias, wb[2], wb[3]));
            assertTrue(channels.getMessage().contains("changes the channel count"), channels.getMessage());
            Tensor[] oneByOne = {Tensor.zeros(DType.F32, 16, 16, 1, 1), wb[0][1]};
            var kernel = assertThrows(IllegalArgumentException.class, () -> Conv.residualChain(x, oneByOne, wb[1], wb[2], wb[3]));
            assertTrue(kernel.getMessage().contains("3x3"), kernel.getMessage());
            assertSame(x, Conv.residualChain(x, new Tensor[0], new Tensor[0], new Tensor[0], new Tensor[0]), "no blocks: x itself");
        }
    }
}
