package org.stablekd.backend.cpu;

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
 * The few-tiles Winograd forward ({@link WinogradFewTiles}: batch-1 inference, output channels
 * along the vectors) against the ref oracle under a WeightCache, with WinogradConv's error bound:
 * resnet8x4's layers at batch 1 (64, 128, 256 channels at 32, 16, 8), sizes that are not multiples
 * of the 4×4 tile, channel counts that are not multiples of the 64-channel register tile, small
 * batches; the bits of WinogradConv's forward (the same sums, turned around); then same bits call after call, through the CPU backend's dispatch (with and without the
 * fused ReLU), and the selection rule (never without a cache: training is unchanged).
 */
class WinogradFewTilesTest {
    static Stream<Arguments> cases() {
        List<WinogradConvTest.Case> cs = new ArrayList<>();
        cs.add(new WinogradConvTest.Case("resnet8x4 layer1, 64 tiles", 1, 64, 32, 32, 64, true));
        cs.add(new WinogradConvTest.Case("resnet8x4 layer2, 16 tiles", 1, 128, 16, 16, 128, true));
        cs.add(new WinogradConvTest.Case("resnet8x4 layer3, 4 tiles", 1, 256, 8, 8, 256, false));
        cs.add(new WinogradConvTest.Case("resnet8x4 stem block, 32->64", 1, 32, 32, 32, 64, true));
        cs.add(new WinogradConvTest.Case("11x13 (tile overhang), 33->40", 1, 33, 11, 13, 40, true));
        cs.add(new WinogradConvTest.Case("7x7, 40->100 (k not a multiple of 64 or 16)", 1, 40, 7, 7, 100, true));
        cs.add(new WinogradConvTest.Case("batch 3, 5x6, 48->37", 3, 48, 5, 6, 37, false));
        cs.add(new WinogradConvTest.Case("batch 2, 16x16, 32->32 (tile groups cut images, a last group of 2)", 2, 32, 16, 16, 32, true));
        cs.add(new WinogradConvTest.Case("20x4, 40->64 (5 tiles: a last group of 5 on the 6-tile kernel)", 1, 40, 20, 4, 64, true));
        cs.add(new WinogradConvTest.Case("1x1 image, 512->70 (the deepest sum)", 1, 512, 1, 1, 70, true));
        cs.add(new WinogradConvTest.Case("batch 3, 36x36, 32->33 (243 tiles, the most)", 3, 32, 36, 36, 33, false));
        cs.add(new WinogradConvTest.Case("resnet20 stage 3 at batch 1, 64->64 at 8x8 (one block of 4 tiles)", 1, 64, 8, 8, 64, true));
        return cs.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesRefWithinTheBoundAndRepeatsItsBits(WinogradConvTest.Case tc) {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only");
        ConvGeometry g = tc.g();
        ConvKernels ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode());
            Tensor[] in = tc.inputs(rng);
            Tensor x = in[0], w = in[1], bias = in[2];
            Tensor yRef = Tensor.empty(DType.F32, g.n(), g.k(), g.h(), g.w());
            ref.forward(g, x, w, bias, yRef);
            Tensor absSum = Tensor.empty(DType.F32, g.n(), g.k(), g.h(), g.w());
            ref.forward(g, WinogradConvTest.abs(x), WinogradConvTest.abs(w), null, absSum);
            WeightCache cache = new WeightCache();
            float[] first = null;
            for (int round = 0; round < 3; round++) {   // round 0 builds the cached weights, 1 and 2 reuse them
                Tensor y = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.h(), g.w());
                cache.run(() -> WinogradFewTiles.forward(g, x.segment(), x.offset(), w.segment(), w.offset(),
                        bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(), y.segment(), y.offset()));
                if (first == null) {
                    first = y.toFloatArray();
                    Close.assertClose(y, yRef, Tolerance.F32_VS_REF, "forward " + tc);
                    WinogradConvTest.assertWithinBound(first, yRef.toFloatArray(), absSum.toFloatArray(), bias, g, "forward " + tc);
                    Tensor tilesAlongVectors = Tensor.empty(DType.F32, g.n(), g.k(), g.h(), g.w());
                    WinogradConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias == null ? null : bias.segment(),
                            bias == null ? 0 : bias.offset(), tilesAlongVectors.segment(), tilesAlongVectors.offset());
                    Close.assertBitIdentical(tilesAlongVectors.toFloatArray(), first, "the same sums as WinogradConv " + tc);
                } else {
                    Close.assertBitIdentical(first, y.toFloatArray(), "round " + round + " " + tc);
                }
            }
        }
    }

    /**
     * Through CpuBackend under a cache: the same bits as the kernel called directly, and the fused
     * ReLU on top (k = 40: channel counts in whole vectors of 16 go to WinogradChannelsLast instead).
     */
    @Test
    void dispatchedUnderACache() {
        Assumptions.assumeTrue(GridGemm.VL == 16 && WinogradConv.enabled());
        ConvGeometry g = ConvGeometry.of(1, 48, 16, 16, 40, 3, 3, 1, 1, 1, 1, 1);
        ConvKernels cpu = CpuBackend.INSTANCE.conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(11);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, 48, 16, 16);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.05, 0.05, 40, 48, 3, 3);
            Tensor bias = Tensor.uniform(rng, DType.F32, -1, 1, 40);
            Tensor direct = Tensor.empty(DType.F32, 1, 40, 16, 16), viaBackend = Tensor.empty(DType.F32, 1, 40, 16, 16);
            Tensor relu = Tensor.empty(DType.F32, 1, 40, 16, 16);
            WeightCache cache = new WeightCache();
            cache.run(() -> {
                assertTrue(WinogradFewTiles.supports(g), "the rule must pick the few-tiles path for " + g);
                assertFalse(WinogradChannelsLast.supports(g, true), "k = 40 is not whole vectors: not WinogradChannelsLast's");
                WinogradFewTiles.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias.segment(), bias.offset(),
                        direct.segment(), direct.offset());
                cpu.forward(g, x, w, bias, viaBackend);
                cpu.forwardRelu(g, x, w, bias, relu);
            });
            Close.assertBitIdentical(direct.toFloatArray(), viaBackend.toFloatArray(), "dispatched");
            float[] d = direct.toFloatArray(), r = relu.toFloatArray();
            for (int i = 0; i < d.length; i++) d[i] = Math.max(d[i], 0f);
            Close.assertBitIdentical(d, r, "fused ReLU");
        }
    }

    /** Shape and cache only: never without a WeightCache (training), never at WinogradConv's batch sizes. */
    @Test
    void selection() {
        ConvGeometry layer3 = ConvGeometry.of(1, 256, 8, 8, 256, 3, 3, 1, 1, 1, 1, 1);
        assertFalse(WinogradFewTiles.supports(layer3), "no WeightCache: training and plain calls stay as they were");
        WeightCache cache = new WeightCache();
        cache.run(() -> {
            boolean wide = GridGemm.VL == 16 && WinogradConv.enabled();
            assertTrue(WinogradFewTiles.supports(layer3) == wide, "resnet8x4's 256->256 at 8x8, batch 1");
            assertTrue(WinogradFewTiles.supports(ConvGeometry.of(1, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1)) == wide, "64 tiles");
            assertTrue(WinogradFewTiles.supports(ConvGeometry.of(3, 32, 36, 36, 33, 3, 3, 1, 1, 1, 1, 1)) == wide, "243 tiles");
            assertFalse(WinogradFewTiles.supports(ConvGeometry.of(4, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1)), "256 tiles: WinogradConv's");
            assertFalse(WinogradFewTiles.supports(ConvGeometry.of(1, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)), "16 channels");
            assertFalse(WinogradFewTiles.supports(ConvGeometry.of(1, 64, 32, 32, 128, 3, 3, 2, 2, 1, 1, 1)), "stride 2");
            boolean was = WinogradConv.enable(false);
            try {
                assertFalse(WinogradFewTiles.supports(layer3), "-Dstablekd.winograd=false switches it off too");
            } finally {
                WinogradConv.enable(was);
            }
        });
    }
}
