package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.WeightCache;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * The channels-last Winograd ({@link WinogradChannelsLast}) against the ref oracle with
 * WinogradConv's documented bound, forward and input gradient: resnet20's, wrn_16_2's and
 * resnet8x4's shapes, sizes that are not multiples of the 4×4 tile, batches whose tiles do not fill
 * a register tile, k not a multiple of the 64-channel register tile; then the bits: the same for
 * any cut of an image into bands (the thread split), with and without a WeightCache, the fused ReLU,
 * WinogradConv's and WinogradFewTiles' bits from 32 channels up; the CPU backend's dispatch and
 * the selection rule (the 16×16 transposes: {@link Transpose16Test}).
 */
class WinogradChannelsLastTest {
    static Stream<Arguments> cases() {
        List<WinogradConvTest.Case> cs = new ArrayList<>();
        cs.add(new WinogradConvTest.Case("resnet20 stage 1 at batch 1, 16->16 at 32x32", 1, 16, 32, 32, 16, true));
        cs.add(new WinogradConvTest.Case("resnet20 stage 2 at batch 1, 32->32 at 16x16", 1, 32, 16, 16, 32, true));
        cs.add(new WinogradConvTest.Case("batch 2, 16->16 at 32x32", 2, 16, 32, 32, 16, false));
        cs.add(new WinogradConvTest.Case("wrn_16_2's widening layer, 16->32 at 32x32", 2, 16, 32, 32, 32, true));
        cs.add(new WinogradConvTest.Case("32->16 at 8x8 (4 tiles: half a register tile)", 1, 32, 8, 8, 16, true));
        cs.add(new WinogradConvTest.Case("batch 3, 11x13 (tile overhang, a remainder column past 16), 16->16", 3, 16, 11, 13, 16, true));
        cs.add(new WinogradConvTest.Case("batch 2, 5x6, 32->32", 2, 32, 5, 6, 32, false));
        cs.add(new WinogradConvTest.Case("1x1 image, 16->32", 1, 16, 1, 1, 32, true));
        cs.add(new WinogradConvTest.Case("batch 5, 20x36 (w past two vectors, uneven bands), 32->16", 5, 32, 20, 36, 16, true));
        cs.add(new WinogradConvTest.Case("resnet20 stage 3 at batch 1, 64->64 at 8x8 (4 tiles on the 6-tile register tile)", 1, 64, 8, 8, 64, true));
        cs.add(new WinogradConvTest.Case("resnet8x4 layer2 at batch 1, 128->128 at 16x16", 1, 128, 16, 16, 128, true));
        cs.add(new WinogradConvTest.Case("11x13, 48->192 (k = 3 register tiles of 64, 12 tiles)", 1, 48, 11, 13, 192, false));
        cs.add(new WinogradConvTest.Case("batch 2, 7x9, 64->80 (k not a multiple of 64)", 2, 64, 7, 9, 80, true));
        cs.add(new WinogradConvTest.Case("5x12 (rows x w not a multiple of 16: a last group of pixels), 32->48", 1, 32, 5, 12, 48, true));
        return cs.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesRefWithinTheBound(WinogradConvTest.Case tc) {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only (it shares WinogradConv's transforms)");
        ConvGeometry g = tc.g();
        ConvKernels ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode());
            Tensor[] in = tc.inputs(rng);
            Tensor x = in[0], w = in[1], bias = in[2];
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.k(), g.h(), g.w());

            Tensor yRef = Tensor.empty(DType.F32, g.n(), g.k(), g.h(), g.w());
            ref.forward(g, x, w, bias, yRef);
            Tensor y = forward(g, x, w, bias, false, -1, -1);
            Close.assertClose(y, yRef, Tolerance.F32_VS_REF, "forward " + tc);
            Tensor absSum = Tensor.empty(DType.F32, g.n(), g.k(), g.h(), g.w());
            ref.forward(g, WinogradConvTest.abs(x), WinogradConvTest.abs(w), null, absSum);
            WinogradConvTest.assertWithinBound(y.toFloatArray(), yRef.toFloatArray(), absSum.toFloatArray(), bias, g, "forward " + tc);

            Tensor dxRef = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w());
            Tensor dx = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
            ref.backwardInput(g, dy, w, dxRef);
            WinogradChannelsLast.backwardInput(g, dy.segment(), dy.offset(), w.segment(), w.offset(), dx.segment(), dx.offset());
            Close.assertClose(dx, dxRef, Tolerance.F32_VS_REF, "input gradient " + tc);
            Tensor dxAbsSum = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w());
            ref.backwardInput(g, WinogradConvTest.abs(dy), WinogradConvTest.abs(w), dxAbsSum);
            WinogradConvTest.assertWithinBound(dx.toFloatArray(), dxRef.toFloatArray(), dxAbsSum.toFloatArray(), null, g, "input gradient " + tc);
        }
    }

    /**
     * Bands and parts of k (the thread split) change nothing: every cut of the images into 1 to 8
     * bands, of k into 2 or 3 parts (with and without bands), and a WeightCache give the first call's bits; the fused ReLU is max(0, ·) of them; at 32 channels
     * in and out the bits are WinogradConv's (the same sums, in the same order, turned around).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bitsDoNotDependOnBandsOrCache(WinogradConvTest.Case tc) {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only (it shares WinogradConv's transforms)");
        ConvGeometry g = tc.g();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode() + 1);
            Tensor[] in = tc.inputs(rng);
            Tensor x = in[0], w = in[1], bias = in[2];
            float[] first = forward(g, x, w, bias, false, 1, 1).toFloatArray();
            int tileRows = Sgemm.ceilDiv(g.h(), WinogradConv.TILE);
            for (int bands = 2; bands <= Math.min(8, tileRows); bands++) {
                Close.assertBitIdentical(first, forward(g, x, w, bias, false, bands, 1).toFloatArray(), bands + " bands " + tc);
            }
            for (int parts = 2; parts <= Math.min(3, g.k() / 16); parts++) {   // k cut into parts of whole vectors
                Close.assertBitIdentical(first, forward(g, x, w, bias, false, 1, parts).toFloatArray(), parts + " parts of k " + tc);
                Close.assertBitIdentical(first, forward(g, x, w, bias, false, Math.min(2, tileRows), parts).toFloatArray(),
                        parts + " parts of k and bands " + tc);
            }
            WeightCache cache = new WeightCache();
            for (int round = 0; round < 2; round++) {   // round 0 builds the cached weights, round 1 reuses them
                Tensor cached = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.h(), g.w());
                cache.run(() -> WinogradChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(),
                        bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(), cached.segment(), cached.offset(), false));
                Close.assertBitIdentical(first, cached.toFloatArray(), "under a WeightCache, round " + round + " " + tc);
            }
            float[] relu = forward(g, x, w, bias, true, -1, -1).toFloatArray(), want = first.clone();
            for (int i = 0; i < want.length; i++) want[i] = Math.max(want[i], 0f);
            Close.assertBitIdentical(want, relu, "fused ReLU " + tc);
            Tensor res = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.k(), g.h(), g.w());
            float[] rv = res.toFloatArray(), wantAdd = first.clone();
            for (int i = 0; i < wantAdd.length; i++) wantAdd[i] = Math.max(first[i] + rv[i], 0f);
            for (int bands : new int[] {1, Math.min(2, tileRows)}) {
                for (int parts : new int[] {1, Math.max(1, Math.min(2, g.k() / 16))}) {
                    Tensor yr = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.h(), g.w());
                    WinogradChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias == null ? null : bias.segment(),
                            bias == null ? 0 : bias.offset(), res.segment(), res.offset(), yr.segment(), yr.offset(), false, bands, parts);
                    Close.assertBitIdentical(wantAdd, yr.toFloatArray(), "fused add and ReLU, " + bands + " bands, " + parts + " parts " + tc);
                }
            }
            if (g.c() >= 32 && g.k() >= 32) {   // WinogradConv's rule covers these channel counts; its blocks change no sum
                Tensor tilesAlongVectors = Tensor.empty(DType.F32, g.n(), g.k(), g.h(), g.w());
                WinogradConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias == null ? null : bias.segment(),
                        bias == null ? 0 : bias.offset(), tilesAlongVectors.segment(), tilesAlongVectors.offset());
                Close.assertBitIdentical(tilesAlongVectors.toFloatArray(), first, "WinogradConv's bits " + tc);
                Tensor fewTiles = Tensor.empty(DType.F32, g.n(), g.k(), g.h(), g.w());
                new WeightCache().run(() -> WinogradFewTiles.forward(g, x.segment(), x.offset(), w.segment(), w.offset(),
                        bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(), fewTiles.segment(), fewTiles.offset()));
                Close.assertBitIdentical(fewTiles.toFloatArray(), first, "WinogradFewTiles' bits " + tc);
            }
        }
    }

    /** forward with bands per image and parts of k (−1: the thread rule's), into a NaN-filled output. */
    private static Tensor forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, boolean relu, int bands, int parts) {
        Tensor y = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.h(), g.w());
        if (bands < 0) {
            WinogradChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias == null ? null : bias.segment(),
                    bias == null ? 0 : bias.offset(), y.segment(), y.offset(), relu);
        } else {
            WinogradChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias == null ? null : bias.segment(),
                    bias == null ? 0 : bias.offset(), y.segment(), y.offset(), relu, bands, parts);
        }
        return y;
    }

    /** Through CpuBackend: forward, fused ReLU, fused add and ReLU, input gradient and both gradients reach it, with its bits. */
    @Test
    void dispatched() {
        Assumptions.assumeTrue(WinogradChannelsLast.supports(ConvGeometry.of(2, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1), false),
                "runs on 16-float vectors with -Dstablekd.winograd on");
        ConvGeometry g = ConvGeometry.of(2, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1);
        ConvKernels cpu = CpuBackend.INSTANCE.conv(), ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(5);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 2, 16, 32, 32);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.08, 0.08, 16, 16, 3, 3);
            Tensor bias = Tensor.uniform(rng, DType.F32, -1, 1, 16);
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, 2, 16, 32, 32);
            float[] direct = forward(g, x, w, bias, false, -1, -1).toFloatArray();
            Tensor y = Tensor.empty(DType.F32, 2, 16, 32, 32), relu = Tensor.empty(DType.F32, 2, 16, 32, 32);
            cpu.forward(g, x, w, bias, y);
            cpu.forwardRelu(g, x, w, bias, relu);
            Close.assertBitIdentical(direct, y.toFloatArray(), "forward");
            Close.assertBitIdentical(forward(g, x, w, bias, true, -1, -1).toFloatArray(), relu.toFloatArray(), "forwardRelu");
            Tensor addRelu = Tensor.empty(DType.F32, 2, 16, 32, 32), direct2 = Tensor.full(DType.F32, Double.NaN, 2, 16, 32, 32);
            cpu.forwardAddRelu(g, x, w, bias, dy, addRelu);
            WinogradChannelsLast.forwardAddRelu(g, x.segment(), x.offset(), w.segment(), w.offset(), bias.segment(), bias.offset(),
                    dy.segment(), dy.offset(), direct2.segment(), direct2.offset());
            Close.assertBitIdentical(direct2.toFloatArray(), addRelu.toFloatArray(), "forwardAddRelu");
            Tensor dxDirect = Tensor.empty(DType.F32, 2, 16, 32, 32), dx = Tensor.empty(DType.F32, 2, 16, 32, 32);
            WinogradChannelsLast.backwardInput(g, dy.segment(), dy.offset(), w.segment(), w.offset(), dxDirect.segment(), dxDirect.offset());
            cpu.backwardInput(g, dy, w, dx);
            Close.assertBitIdentical(dxDirect.toFloatArray(), dx.toFloatArray(), "backwardInput");
            Tensor dx2 = Tensor.empty(DType.F32, 2, 16, 32, 32), dw2 = Tensor.empty(DType.F32, 16, 16, 3, 3), db2 = Tensor.empty(DType.F32, 16);
            cpu.backward(g, x, dy, w, dx2, dw2, db2);
            Close.assertBitIdentical(dxDirect.toFloatArray(), dx2.toFloatArray(), "backward's dx");
            Tensor dwRef = Tensor.empty(DType.F32, 16, 16, 3, 3), dbRef = Tensor.empty(DType.F32, 16);
            ref.backwardWeight(g, x, dy, dwRef, dbRef);
            Close.assertClose(dw2, dwRef, Tolerance.F32_VS_REF, "backward's dw");
            Close.assertClose(db2, dbRef, Tolerance.F32_VS_REF, "backward's dbias");
        }
    }

    /**
     * Shape and cache only: 3×3 stride-1 pad-1 one-group layers, channels in whole vectors of 16,
     * on 16-float vectors; 16 or 32 channels at every batch size (and their input gradient); wider
     * ones only under a WeightCache, with native weights, below WinogradConv's 256 tiles.
     */
    @Test
    void selection() {
        boolean on = GridGemm.VL == 16 && WinogradConv.enabled();
        ConvGeometry stage3 = ConvGeometry.of(1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1);
        assertEquals(on, WinogradChannelsLast.supports(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1), false), "resnet20 stage 1, training");
        assertEquals(on, WinogradChannelsLast.supportsInputGradient(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)), "its input gradient");
        assertEquals(on, WinogradChannelsLast.supports(ConvGeometry.of(1, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1), false), "resnet20 stage 2, batch 1");
        assertEquals(on, WinogradChannelsLast.supports(ConvGeometry.of(64, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1), false), "wrn_16_2's widening layer");
        assertFalse(WinogradChannelsLast.supports(stage3, true), "64 channels, no WeightCache (training): WinogradConv's");
        assertFalse(WinogradChannelsLast.supportsInputGradient(stage3), "64 channels' input gradient: WinogradConv's");
        new WeightCache().run(() -> {
            assertEquals(on, WinogradChannelsLast.supports(stage3, true), "64 channels at batch 1 under a cache");
            assertFalse(WinogradChannelsLast.supports(stage3, false), "weights it cannot cache");
            assertEquals(on, WinogradChannelsLast.supports(ConvGeometry.of(3, 256, 36, 36, 32, 3, 3, 1, 1, 1, 1, 1), true), "243 tiles");
            assertFalse(WinogradChannelsLast.supports(ConvGeometry.of(4, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1), true), "256 tiles: WinogradConv's");
            assertEquals(on, WinogradChannelsLast.supports(ConvGeometry.of(64, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1), true), "narrow: every batch");
        });
        assertFalse(WinogradChannelsLast.supports(ConvGeometry.of(1, 24, 16, 16, 24, 3, 3, 1, 1, 1, 1, 1), false), "not whole vectors");
        assertFalse(WinogradChannelsLast.supports(ConvGeometry.of(1, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1), false), "the stem");
        assertFalse(WinogradChannelsLast.supports(ConvGeometry.of(1, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1), false), "stride 2");
        assertFalse(WinogradChannelsLast.supports(ConvGeometry.of(1, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 2), false), "groups");
        boolean was = WinogradConv.enable(false);
        try {
            assertFalse(WinogradChannelsLast.supports(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1), true), "-Dstablekd.winograd=false");
        } finally {
            WinogradConv.enable(was);
        }
    }
}
