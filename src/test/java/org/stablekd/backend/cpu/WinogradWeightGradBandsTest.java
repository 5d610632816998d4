package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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
 * The banded Winograd weight gradient ({@link WinogradWeightGradBands}) against the ref oracle:
 * dw within WinogradWeightGrad's documented bound |dw − dw_ref| ≤ 1e-5·Σ|dy||x| per weight, dbias
 * within F32_VS_REF; bands of tile rows and of several small images, the last partial band and
 * group, sizes that are not multiples of the tile (dy's overhang counts as zero) or of 16 pixels;
 * bits that do not depend on the thread count or on repetition; the rule and the dispatch.
 */
class WinogradWeightGradBandsTest {

    @ParameterizedTest(name = "n={0} {1}->{4} at {2}x{3}")
    @CsvSource({
            "64, 16, 32, 32, 16",     // resnet20's first stage: bands of tile rows, 16 groups
            "9, 32, 16, 16, 32",      // second stage: 2 images per band, a last group of one image
            "6, 64, 8, 8, 64",        // third stage: 8 images per band, one partial group
            "5, 16, 13, 11, 32",      // overhang in both directions, c = 16 (16 × 1 tiles) and k = 32
            "3, 48, 20, 36, 16",      // 9 tiles per row (bands of 3 rows, a last one of 2), c = 48 (8×2 + 16×1 tiles)
            "2, 32, 5, 6, 48",        // pixels not in whole vectors of 16
            "7, 16, 1, 1, 16",        // a 1×1 image: all padding but the centre
            "1, 64, 64, 64, 16",      // one image of many bands
            "100, 32, 8, 8, 16",      // past 64 images: groups of 8 (bands of 8 images), a last one of 4
            "64, 64, 8, 8, 64",       // resnet20's third stage: partials past the budget, 4 groups of 16 images
            "20, 32, 16, 16, 32"})    // past the budget: 4 groups of 6, 6, 6 and 2 images
    void matchesRefWithinTheBound(int n, int c, int h, int w, int k) {
        assumeTrue(GridGemm.VL == 16, "runs on AVX-512 only");
        ConvGeometry g = ConvGeometry.of(n, c, h, w, k, 3, 3, 1, 1, 1, 1, 1);
        ConvKernels ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(n * 31 + c * 7 + k + h);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, n, c, h, w);
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, n, k, h, w);
            Tensor dwRef = Tensor.empty(DType.F32, k, c, 3, 3), dbRef = Tensor.empty(DType.F32, k);
            ref.backwardWeight(g, x, dy, dwRef, dbRef);
            Tensor dw = Tensor.full(DType.F32, Double.NaN, k, c, 3, 3), db = Tensor.full(DType.F32, Double.NaN, k);
            WinogradWeightGradBands.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(),
                    db.segment(), db.offset());
            Tensor absSum = Tensor.empty(DType.F32, k, c, 3, 3);
            ref.backwardWeight(g, WinogradConvTest.abs(x), WinogradConvTest.abs(dy), absSum, null);
            WinogradWeightGradTest.assertWithinBound(dw.toFloatArray(), dwRef.toFloatArray(), absSum.toFloatArray(), "bands " + g);
            Close.assertClose(db, dbRef, Tolerance.F32_VS_REF, "dbias " + g);
        }
    }

    /**
     * Both gradients in one pass ({@link WinogradWeightGradBands#backward}): dx the bits of
     * WinogradChannelsLast.backwardInput, dw and dbias those of backwardWeight, for whole-image
     * bands, bands of tile rows, several images per band, overhang and c ≠ k; and on the caller
     * alone the same bits as on the pool; with a sum to add into dx, the bits of the add after it.
     */
    @ParameterizedTest(name = "n={0} {1}->{4} at {2}x{3}")
    @CsvSource({
            "64, 16, 32, 32, 16",     // resnet20's first stage: one image per band
            "9, 32, 16, 16, 32",      // 2 images per band, a last group of one image
            "5, 16, 13, 11, 32",      // overhang in both directions, c ≠ k
            "4, 32, 10, 10, 16",      // k < c
            "2, 16, 64, 64, 16"})     // bands of tile rows (4 bands per image)
    void fusedPassGivesTheBitsOfEachGradientAlone(int n, int c, int h, int w, int k) {
        assumeTrue(GridGemm.VL == 16, "runs on AVX-512 only");
        ConvGeometry g = ConvGeometry.of(n, c, h, w, k, 3, 3, 1, 1, 1, 1, 1);
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(n * 13 + c + k * 3 + h);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, n, c, h, w);
            Tensor wt = Tensor.uniform(rng, DType.F32, -0.2, 0.2, k, c, 3, 3);
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, n, k, h, w);
            Tensor dxAlone = Tensor.full(DType.F32, Double.NaN, n, c, h, w);
            Tensor dwAlone = Tensor.full(DType.F32, Double.NaN, k, c, 3, 3), dbAlone = Tensor.full(DType.F32, Double.NaN, k);
            WinogradChannelsLast.backwardInput(g, dy.segment(), dy.offset(), wt.segment(), wt.offset(), dxAlone.segment(), dxAlone.offset());
            WinogradWeightGradBands.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dwAlone.segment(), dwAlone.offset(),
                    dbAlone.segment(), dbAlone.offset());
            for (boolean onCaller : new boolean[] {false, true}) {
                Tensor dx = Tensor.full(DType.F32, Double.NaN, n, c, h, w);
                Tensor dw = Tensor.full(DType.F32, Double.NaN, k, c, 3, 3), db = Tensor.full(DType.F32, Double.NaN, k);
                Runnable both = () -> WinogradWeightGradBands.backward(g, x.segment(), x.offset(), dy.segment(), dy.offset(),
                        wt.segment(), wt.offset(), null, 0, dx.segment(), dx.offset(), dw.segment(), dw.offset(), db.segment(), db.offset());
                if (onCaller) Parallel.onCaller(both);
                else both.run();
                String where = g + (onCaller ? " on the caller" : " on the pool");
                Close.assertBitIdentical(dxAlone.toFloatArray(), dx.toFloatArray(), "dx " + where);
                Close.assertBitIdentical(dwAlone.toFloatArray(), dw.toFloatArray(), "dw " + where);
                Close.assertBitIdentical(dbAlone.toFloatArray(), db.toFloatArray(), "dbias " + where);
            }
            // with a sum to add into dx: the bits of CpuPointwise's add after the kernel
            Tensor plus = Tensor.uniform(rng, DType.F32, -1, 1, n, c, h, w), expect = Tensor.empty(DType.F32, n, c, h, w);
            CpuBackend.INSTANCE.pointwise().binary(org.stablekd.backend.Op.ADD, plus, dxAlone, expect);
            Tensor dx = Tensor.full(DType.F32, Double.NaN, n, c, h, w), dw = Tensor.full(DType.F32, Double.NaN, k, c, 3, 3);
            WinogradWeightGradBands.backward(g, x.segment(), x.offset(), dy.segment(), dy.offset(), wt.segment(), wt.offset(),
                    plus.segment(), plus.offset(), dx.segment(), dx.offset(), dw.segment(), dw.offset(), null, 0);
            Close.assertBitIdentical(expect.toFloatArray(), dx.toFloatArray(), "dx + sum " + g);
            Close.assertBitIdentical(dwAlone.toFloatArray(), dw.toFloatArray(), "dw beside dx + sum " + g);
        }
    }

    /** The fused pass's rule: both kernels' layers, with a group of images for every thread. */
    @Test
    void fusedPassRule() {
        assumeTrue(GridGemm.VL == 16, "runs on AVX-512 only");
        boolean was = WinogradConv.enable(true);
        try {
            assertTrue(WinogradWeightGradBands.fusesInputGradient(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)), "16 channels");
            assertTrue(WinogradWeightGradBands.fusesInputGradient(ConvGeometry.of(64, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1)), "32 channels");
            assertFalse(WinogradWeightGradBands.fusesInputGradient(ConvGeometry.of(64, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1)),
                    "64 channels: the input gradient runs on WinogradConv");
            assertTrue(WinogradWeightGradBands.fusesInputGradient(ConvGeometry.of(Parallel.threads(), 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1))
                    , "a group per thread");
            if (Parallel.threads() > 1) {
                assertFalse(WinogradWeightGradBands.fusesInputGradient(ConvGeometry.of(1, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)),
                        "one image: the input gradient alone splits it over the threads");
            }
            WinogradConv.enable(false);
            assertFalse(WinogradWeightGradBands.fusesInputGradient(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)),
                    "-Dstablekd.winograd=false");
        } finally {
            WinogradConv.enable(was);
        }
    }

    /** All groups on the calling thread, then on the pool, then again: the same bits each time. */
    @Test
    void bitsDoNotDependOnTheThreadsOrTheRun() {
        assumeTrue(GridGemm.VL == 16, "runs on AVX-512 only");
        ConvGeometry g = ConvGeometry.of(21, 32, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1);
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(5);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 21, 32, 16, 16);
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, 21, 16, 16, 16);
            Tensor one = Tensor.empty(DType.F32, 16, 32, 3, 3);
            Parallel.onCaller(() -> WinogradWeightGradBands.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(),
                    one.segment(), one.offset(), null, 0));
            for (int round = 0; round < 2; round++) {
                Tensor dw = Tensor.empty(DType.F32, 16, 32, 3, 3);
                WinogradWeightGradBands.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(), null, 0);
                Close.assertBitIdentical(one.toFloatArray(), dw.toFloatArray(), "pool against one thread, round " + round);
            }
        }
    }

    /** Groups from the batch size alone: one image each up to 15, then n / 8 up to 4, then at most 16 groups. */
    @Test
    void groupsDependOnTheBatchOnly() {
        int[][] expect = {{1, 1}, {4, 1}, {15, 1}, {16, 2}, {31, 3}, {32, 4}, {64, 4}, {65, 5}, {256, 16}};
        for (int[] e : expect) {
            org.junit.jupiter.api.Assertions.assertEquals(e[1], WinogradWeightGradBands.groupImages(e[0]), "images per group at n = " + e[0]);
        }
    }

    /** Large partial dU (small images, many channels) make fewer, larger groups: never fewer than 4. */
    @Test
    void partialsWithinTheirBudget() {
        int[][] expect = {   // n, c, h, k, groups
                {64, 16, 32, 16, 16},   // 16 partials of 39 KB: within the budget
                {64, 32, 16, 32, 4},    // 16 of 150 KB → 4
                {64, 64, 8, 64, 4},     // 8 of 590 KB → 4 (the fewest)
                {20, 32, 16, 32, 4},    // 10 of 150 KB → 4
                {6, 64, 8, 64, 1}};     // one group: nothing to make larger
        for (int[] e : expect) {
            ConvGeometry g = ConvGeometry.of(e[0], e[1], e[2], e[2], e[3], 3, 3, 1, 1, 1, 1, 1);
            org.junit.jupiter.api.Assertions.assertEquals(e[4], WinogradWeightGradBands.groups(g), "groups of " + g);
        }
    }

    /** The rule: WinogradChannelsLast's layers up to 64 channels; wider ones stay on WinogradWeightGrad. */
    @Test
    void selection() {
        boolean was = WinogradConv.enable(true);
        try {
            boolean avx512 = GridGemm.VL == 16;
            assertTrue(WinogradWeightGradBands.supports(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)) == avx512, "16 channels");
            assertTrue(WinogradWeightGradBands.supports(ConvGeometry.of(1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1)) == avx512, "64 channels, batch 1");
            assertFalse(WinogradWeightGradBands.supports(ConvGeometry.of(64, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1)), "128 channels");
            assertFalse(WinogradWeightGradBands.supports(ConvGeometry.of(64, 64, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1)), "128 out");
            assertFalse(WinogradWeightGradBands.supports(ConvGeometry.of(64, 16, 32, 32, 24, 3, 3, 1, 1, 1, 1, 1)), "k not whole vectors");
            assertFalse(WinogradWeightGradBands.supports(ConvGeometry.of(64, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1)), "stride 2");
            WinogradConv.enable(false);
            assertFalse(WinogradWeightGradBands.supports(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)), "-Dstablekd.winograd=false");
        } finally {
            WinogradConv.enable(was);
        }
    }

    /** Through the CPU backend: backwardWeight and backward (both gradients) reach it, same bits as the direct call. */
    @Test
    void dispatchedThroughTheBackend() {
        assumeTrue(GridGemm.VL == 16, "runs on AVX-512 only");
        ConvGeometry g = ConvGeometry.of(8, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1);
        boolean was = WinogradConv.enable(true);
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(11);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 8, 16, 32, 32);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.1, 0.1, 16, 16, 3, 3);
            Tensor dy = Tensor.uniform(rng, DType.F32, -0.05, 0.05, 8, 16, 32, 32);
            Tensor direct = Tensor.empty(DType.F32, 16, 16, 3, 3);
            WinogradWeightGradBands.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), direct.segment(), direct.offset(), null, 0);
            ConvKernels cpu = CpuBackend.INSTANCE.conv();
            Tensor dw = Tensor.full(DType.F32, Double.NaN, 16, 16, 3, 3), db = Tensor.full(DType.F32, Double.NaN, 16);
            cpu.backwardWeight(g, x, dy, dw, db);
            Close.assertBitIdentical(direct.toFloatArray(), dw.toFloatArray(), "backwardWeight");
            Tensor dbRef = Tensor.empty(DType.F32, 16), dwRef = Tensor.empty(DType.F32, 16, 16, 3, 3);
            Backends.ref().conv().backwardWeight(g, x, dy, dwRef, dbRef);
            Close.assertClose(db, dbRef, Tolerance.F32_VS_REF, "dbias");
            Tensor dx = Tensor.full(DType.F32, Double.NaN, 8, 16, 32, 32), dw2 = Tensor.full(DType.F32, Double.NaN, 16, 16, 3, 3);
            cpu.backward(g, x, dy, w, dx, dw2, null);
            Close.assertBitIdentical(direct.toFloatArray(), dw2.toFloatArray(), "backward (both gradients)");
            Tensor dxAlone = Tensor.full(DType.F32, Double.NaN, 8, 16, 32, 32);
            cpu.backwardInput(g, dy, w, dxAlone);
            Close.assertBitIdentical(dxAlone.toFloatArray(), dx.toFloatArray(), "backward's dx against backwardInput");
        } finally {
            WinogradConv.enable(was);
        }
    }
}
