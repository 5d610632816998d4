package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.opentest4j.AssertionFailedError;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * The Winograd weight gradient ({@link WinogradWeightGrad}) against the ref oracle: dw within
 * F32_VS_REF and within the documented bound |dw − dw_ref| ≤ {@link #BOUND}·Σ|dy||x| per weight,
 * dbias, sizes that are not multiples of the 4×4 tile (the overhang of dy must count as zero),
 * batches that span several segments, column counts that leave a 1-vector tail, the dispatch
 * through the CPU backend (alone and with the input gradient), and bits that do not depend on
 * the segmenting or on repetition.
 */
class WinogradWeightGradTest {
    /** The bound stated in WinogradWeightGrad's class comment and docs/design.md. */
    static final double BOUND = 1e-5;

    @ParameterizedTest(name = "n={0} {1}->{4} at {2}x{3}")
    @CsvSource({
            "64, 32, 16, 16, 32",     // resnet20's second stage: 2 vectors of c (two 1-vector tiles)
            "64, 64, 8, 8, 64",       // resnet20's third stage
            "16, 48, 13, 11, 32",     // overhang in both directions, one 3-vector tile
            "8, 64, 32, 32, 64",      // resnet8x4's first stage shape at a small batch
            "200, 128, 8, 8, 32",     // several segments of images
            "3, 256, 8, 8, 256",      // 256 channels (tiles below the rule: called directly)
            "64, 16, 32, 32, 16"})    // the longest sums: 4 096 tiles per weight (16 channels: called directly)
    void matchesRefWithinTheBound(int n, int c, int h, int w, int k) {
        assumeTrue(GridGemm.VL == 16, "runs on AVX-512 only");
        ConvGeometry g = ConvGeometry.of(n, c, h, w, k, 3, 3, 1, 1, 1, 1, 1);
        ConvKernels ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(n * 31 + c * 7 + k);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, n, c, h, w);
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, n, k, h, w);
            Tensor dwRef = Tensor.empty(DType.F32, k, c, 3, 3), dbRef = Tensor.empty(DType.F32, k);
            ref.backwardWeight(g, x, dy, dwRef, dbRef);
            Tensor dw = Tensor.full(DType.F32, Double.NaN, k, c, 3, 3), db = Tensor.full(DType.F32, Double.NaN, k);
            WinogradWeightGrad.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(),
                    db.segment(), db.offset());
            Tensor absSum = Tensor.empty(DType.F32, k, c, 3, 3);
            ref.backwardWeight(g, WinogradConvTest.abs(x), WinogradConvTest.abs(dy), absSum, null);
            assertWithinBound(dw.toFloatArray(), dwRef.toFloatArray(), absSum.toFloatArray(), g.toString());
            Close.assertClose(db, dbRef, Tolerance.F32_VS_REF, "dbias " + g);
        }
    }

    /** |a − e| ≤ BOUND · Σ|dy||x| for every weight, every value finite. */
    static void assertWithinBound(float[] actual, float[] expected, float[] absSum, String what) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(actual[i])) throw new AssertionFailedError(what + ": dw[" + i + "] is " + actual[i]);
            double err = Math.abs(actual[i] - expected[i]);
            if (absSum[i] > 0) worst = Math.max(worst, err / absSum[i]);   // weights that see only padding: both 0
            if (err > BOUND * absSum[i] + 1e-30) {
                throw new AssertionFailedError(String.format("%s: dw[%d] error %.3g is %.3g of Σ|dy||x| %.3g, above the bound %.0e",
                        what, i, err, err / absSum[i], absSum[i], BOUND));
            }
        }
        System.out.printf("WinogradWeightGrad %s: worst error %.3g of Σ|dy||x|%n", what, worst);
    }

    /** Through the CPU backend on a shape the rule gives to Winograd: the weight gradient alone and with the input gradient. */
    @Test
    void dispatchedThroughTheBackend() {
        assumeTrue(GridGemm.VL == 16, "runs on AVX-512 only");
        ConvGeometry g = ConvGeometry.of(32, 32, 16, 16, 48, 3, 3, 1, 1, 1, 1, 1);
        boolean was = WinogradConv.enable(true);
        try (Scope scope = Scope.open()) {
            assertTrue(WinogradWeightGrad.supports(g), "the rule must pick the Winograd weight gradient for " + g);
            Rng rng = new Rng(11);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 32, 32, 16, 16);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.1, 0.1, 48, 32, 3, 3);
            Tensor dy = Tensor.uniform(rng, DType.F32, -0.05, 0.05, 32, 48, 16, 16);
            ConvKernels cpu = CpuBackend.INSTANCE.conv(), ref = Backends.ref().conv();
            Tensor dwRef = Tensor.empty(DType.F32, 48, 32, 3, 3), dbRef = Tensor.empty(DType.F32, 48);
            ref.backwardWeight(g, x, dy, dwRef, dbRef);
            Tensor dw = Tensor.full(DType.F32, Double.NaN, 48, 32, 3, 3), db = Tensor.full(DType.F32, Double.NaN, 48);
            cpu.backwardWeight(g, x, dy, dw, db);
            Close.assertClose(dw, dwRef, Tolerance.F32_VS_REF, "backwardWeight");
            Close.assertClose(db, dbRef, Tolerance.F32_VS_REF, "backwardWeight dbias");
            Tensor dx = Tensor.full(DType.F32, Double.NaN, 32, 32, 16, 16), dw2 = Tensor.full(DType.F32, Double.NaN, 48, 32, 3, 3);
            cpu.backward(g, x, dy, w, dx, dw2, null);
            Close.assertBitIdentical(dw.toFloatArray(), dw2.toFloatArray(), "backward (both gradients) against backwardWeight");
        } finally {
            WinogradConv.enable(was);
        }
    }

    /** Same inputs, same bits, call after call (the segments continue one in-order sum per weight). */
    @Test
    void deterministic() {
        assumeTrue(GridGemm.VL == 16, "runs on AVX-512 only");
        ConvGeometry g = ConvGeometry.of(150, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1);
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(5);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 150, 64, 8, 8);
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, 150, 64, 8, 8);
            float[] first = null;
            for (int round = 0; round < 3; round++) {
                Tensor dw = Tensor.empty(DType.F32, 64, 64, 3, 3);
                WinogradWeightGrad.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(), null, 0);
                if (first == null) first = dw.toFloatArray();
                else Close.assertBitIdentical(first, dw.toFloatArray(), "round " + round);
            }
        }
    }

    /** The rule: the forward's layers, whole vectors of input channels, 8-row panels of output channels. */
    @Test
    void selection() {
        boolean was = WinogradConv.enable(true);
        try {
            assertFalse(WinogradWeightGrad.supports(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)), "16 channels");
            assertFalse(WinogradWeightGrad.supports(ConvGeometry.of(64, 33, 16, 16, 40, 3, 3, 1, 1, 1, 1, 1)), "c not whole vectors");
            assertFalse(WinogradWeightGrad.supports(ConvGeometry.of(64, 32, 16, 16, 36, 3, 3, 1, 1, 1, 1, 1)), "k not whole vectors");
            assertFalse(WinogradWeightGrad.supports(ConvGeometry.of(64, 32, 16, 16, 32, 3, 3, 2, 2, 1, 1, 1)), "stride 2");
            assertTrue(WinogradWeightGrad.supports(ConvGeometry.of(64, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1)) == (GridGemm.VL == 16),
                    "resnet20's second stage, on AVX-512 only");
            WinogradConv.enable(false);
            assertFalse(WinogradWeightGrad.supports(ConvGeometry.of(64, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1)), "-Dstablekd.winograd=false");
        } finally {
            WinogradConv.enable(was);
        }
    }
}
