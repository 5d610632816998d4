package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.autograd.Node;
import org.stablekd.backend.Op;
import org.stablekd.backend.ResidualBlockTraining;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * {@link Conv#residualChainTrain}, identity residual blocks in training: against the ops it stands
 * for run one by one (conv2d, batchNormRelu, conv2d, batchNormAddRelu), values, every gradient and
 * the running statistics; one RESIDUAL_CHAIN node where the CPU chains the layers (16 and 32
 * channels), the ops where it does not (48); the same bits twice; bad shapes get one sentence.
 * (The registry's cases also check it against ref and, on ref, by finite differences.)
 */
class ResidualChainTrainTest {
    /**
     * (n, c, h, w, blocks): both gradient passes fused (16 at 32×32, 32 at batch 8), separate (32 at
     * batch 2, 16 at 8×8), tails, 48 channels op by op. Small enough that no BatchNorm output lies
     * within rounding of its ReLU's kink: where one does, the two paths' different sums may put it
     * on either side and that value's gradient legitimately differs (3 and 4 blocks at 4×16×32×32
     * did so for some seeds, as did ops against ref).
     */
    private static final int[][] RUNS = {{2, 16, 32, 32, 2}, {8, 32, 16, 16, 2}, {2, 32, 16, 16, 2}, {4, 16, 8, 8, 3}, {1, 16, 9, 11, 1},
        {3, 48, 6, 6, 2}};
    /**
     * Chain against ops: only the order of the BatchNorm sums differs, float rounding that the
     * normalizations compound over the blocks (3 blocks at 16×32×32: up to 3.9e-5 on y); the
     * tolerance of the ops against ref.
     */
    private static final Tolerance CHAIN_VS_OPS = Tolerance.F32_VS_REF;

    /** One block's weights, γ, β and running statistics, drawn once, copied for each path. */
    private record Params(Tensor[] values) {
        // w1, γ1, β1, w2, γ2, β2, mean1, var1, mean2, var2
        static Params draw(int c, Rng rng) {
            double scale = 1 / Math.sqrt(9.0 * c);
            return new Params(new Tensor[] {
                Tensor.uniform(rng, DType.F32, -scale, scale, c, c, 3, 3), Tensor.uniform(rng, DType.F32, 0.5, 1.5, c),
                Tensor.uniform(rng, DType.F32, -0.5, 0.5, c), Tensor.uniform(rng, DType.F32, -scale, scale, c, c, 3, 3),
                Tensor.uniform(rng, DType.F32, 0.5, 1.5, c), Tensor.uniform(rng, DType.F32, -0.5, 0.5, c),
                Tensor.uniform(rng, DType.F32, -0.1, 0.1, c), Tensor.uniform(rng, DType.F32, 0.9, 1.1, c),
                Tensor.uniform(rng, DType.F32, -0.1, 0.1, c), Tensor.uniform(rng, DType.F32, 0.9, 1.1, c)});
        }

        Params copy(boolean grads) {
            Tensor[] t = new Tensor[values.length];
            for (int i = 0; i < t.length; i++) {
                t[i] = Tensor.of(values[i].toFloatArray(), values[i].shape().dims());
                if (grads && i < 6) t[i].requiresGrad(true);
            }
            return new Params(t);
        }

        ResidualBlockTraining block() {
            Tensor[] v = values;
            return new ResidualBlockTraining(v[0], v[1], v[2], v[6], v[7], 0.1, v[3], v[4], v[5], v[8], v[9], 0.1);
        }
    }

    @Test
    void chainMatchesTheOpsOneByOne() {
        for (int[] run : RUNS) {
            for (boolean xGrad : new boolean[] {true, false}) {
                try (Scope s = Scope.open()) {
                    check(run, xGrad);
                }
            }
        }
    }

    private static void check(int[] run, boolean xGrad) {
        int n = run[0], c = run[1], h = run[2], w = run[3], blocks = run[4];
        String what = "n=" + n + " c=" + c + " " + h + "x" + w + " blocks=" + blocks + (xGrad ? "" : " (x without gradient)");
        Rng rng = new Rng(n * 131L + c * 31L + h);
        Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, n, c, h, w);
        Tensor weights = Tensor.uniform(rng, DType.F32, -1, 1, n, c, h, w);   // loss = Σ y ∘ weights
        Params[] drawn = new Params[blocks];
        for (int i = 0; i < blocks; i++) drawn[i] = Params.draw(c, rng);

        Params[] chained = new Params[blocks], byOps = new Params[blocks];
        ResidualBlockTraining[] args = new ResidualBlockTraining[blocks];
        for (int i = 0; i < blocks; i++) {
            chained[i] = drawn[i].copy(true);
            byOps[i] = drawn[i].copy(true);
            args[i] = chained[i].block();
        }
        Tensor xa = Tensor.of(x.toFloatArray(), n, c, h, w).requiresGrad(xGrad);
        Tensor xb = Tensor.of(x.toFloatArray(), n, c, h, w).requiresGrad(xGrad);

        Tensor ya = Conv.residualChainTrain(xa, args, 1e-5);
        Tensor yb = xb;
        for (Params p : byOps) {
            Tensor[] v = p.values();
            Tensor t = Norm.batchNormRelu(Conv.conv2d(yb, v[0], null, 1, 1, 1), v[1], v[2], v[6], v[7], true, 0.1, 1e-5);
            yb = Norm.batchNormAddRelu(Conv.conv2d(t, v[3], null, 1, 1, 1), v[4], v[5], v[8], v[9], true, 0.1, 1e-5, yb);
        }
        boolean chains = c % 16 == 0 && c <= 32 && org.stablekd.backend.Backends.cpu().conv().chainsResidualBlocksInTraining(
                org.stablekd.backend.ConvGeometry.of(n, c, h, w, c, 3, 3, 1, 1, 1, 1, 1));
        assertEquals(chains ? Op.RESIDUAL_CHAIN : Op.BATCH_NORM, ((Node) ya.gradFn()).op(), what + ": recorded op");
        Close.assertClose(ya, yb, CHAIN_VS_OPS, what + ": y");

        Autograd.backward(Reduce.sum(Pointwise.mul(ya, weights)));
        Autograd.backward(Reduce.sum(Pointwise.mul(yb, weights)));
        if (xGrad) Close.assertClose(xa.grad(), xb.grad(), CHAIN_VS_OPS, what + ": dx");
        else assertNull(xa.grad(), what + ": x needs no gradient");
        String[] names = {"dw1", "dgamma1", "dbeta1", "dw2", "dgamma2", "dbeta2", "running mean 1", "running var 1", "running mean 2", "running var 2"};
        for (int i = 0; i < blocks; i++) {
            for (int j = 0; j < 10; j++) {
                Tensor a = j < 6 ? chained[i].values()[j].grad() : chained[i].values()[j];
                Tensor b = j < 6 ? byOps[i].values()[j].grad() : byOps[i].values()[j];
                if (j < 6) assertCloseToScale(a, b, what + ": block " + i + " " + names[j]);
                else Close.assertClose(a, b, CHAIN_VS_OPS, what + ": block " + i + " " + names[j]);
            }
        }
    }

    /**
     * Parameter gradients are sums over the batch with much cancellation (|dw| up to ~600, the
     * paths 1e-3 apart, as far as the ops are from ref): every value within 2e-5 of the largest.
     * Fails on NaN.
     */
    private static void assertCloseToScale(Tensor actual, Tensor expected, String what) {
        float[] a = actual.toFloatArray(), b = expected.toFloatArray();
        double scale = 0, worst = 0;
        for (float v : b) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - b[i]);
            assertTrue(!Double.isNaN(d), what + ": NaN at " + i);
            worst = Math.max(worst, d);
        }
        assertTrue(worst <= 2e-5 * scale + 1e-6, what + ": max diff " + worst + " against largest |value| " + scale);
    }

    @Test
    void sameBitsTwice() {
        try (Scope s = Scope.open()) {
            float[][] first = null;
            for (int round = 0; round < 2; round++) {
                Rng rng = new Rng(5);
                Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 4, 16, 12, 12).requiresGrad(true);
                Params p = Params.draw(16, rng).copy(true);
                Tensor y = Conv.residualChainTrain(x, new ResidualBlockTraining[] {p.block(), p.block()}, 1e-5);
                Autograd.backward(Reduce.sum(y));
                float[][] now = {y.toFloatArray(), x.grad().toFloatArray(), p.values()[0].grad().toFloatArray(),
                    p.values()[4].grad().toFloatArray(), p.values()[6].toFloatArray()};
                if (first == null) first = now;
                else for (int i = 0; i < now.length; i++) Close.assertBitIdentical(first[i], now[i], "output " + i + " of two runs");
            }
        }
    }

    @Test
    void badShapesGetOneSentence() {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(3);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 2, 16, 8, 8);
            Params p = Params.draw(16, rng);
            Tensor[] v = p.values();
            ResidualBlockTraining widening = new ResidualBlockTraining(Tensor.zeros(DType.F32, 32, 16, 3, 3), v[1], v[2], v[6], v[7], 0.1,
                    v[3], v[4], v[5], v[8], v[9], 0.1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Conv.residualChainTrain(x, new ResidualBlockTraining[] {widening}, 1e-5));
            assertTrue(e.getMessage().contains("keep the 16 channels"), e.getMessage());
            ResidualBlockTraining shortGamma = new ResidualBlockTraining(v[0], Tensor.zeros(DType.F32, 8), v[2], v[6], v[7], 0.1,
                    v[3], v[4], v[5], v[8], v[9], 0.1);
            e = assertThrows(IllegalArgumentException.class, () -> Conv.residualChainTrain(x, new ResidualBlockTraining[] {shortGamma}, 1e-5));
            assertTrue(e.getMessage().contains("gamma 1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Conv.residualChainTrain(x, new ResidualBlockTraining[0], 1e-5));
            assertTrue(e.getMessage().contains("at least one block"), e.getMessage());
        }
    }
}
