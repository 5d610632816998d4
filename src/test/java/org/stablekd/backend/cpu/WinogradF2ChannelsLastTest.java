package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

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
 * Winograd F(2×2, 3×3) with the channels along the vectors ({@link WinogradF2ChannelsLast}): against
 * the ref oracle with WinogradConv's documented bound for resnet8x4's last layer, odd sizes (tiles
 * past the image, a last register tile of 1 to 5 tiles), two images, with and without bias; the
 * fused ReLU and the fused add-and-ReLU as max(0, ·) of its bits; the same bits for any cut of k
 * into parts, call after call under one cache, on 1 and 2 threads; the CPU backend's dispatch;
 * and the selection rule.
 */
class WinogradF2ChannelsLastTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                new WinogradConvTest.Case("resnet8x4 layer3 conv2, 256->256 at 8x8 (16 tiles: 6 + 6 + 4)", 1, 256, 8, 8, 256, true),
                new WinogradConvTest.Case("128->128 at 8x8", 1, 128, 8, 8, 128, true),
                new WinogradConvTest.Case("7x5, 64->256 (tiles past the image: 4x3, a last register tile of 6)", 1, 64, 7, 5, 256, false),
                new WinogradConvTest.Case("3x3, 128->192 (4 tiles, 3 blocks of k)", 1, 128, 3, 3, 192, true),
                new WinogradConvTest.Case("1x1 image, 256->128 (one tile)", 1, 256, 1, 1, 128, true),
                new WinogradConvTest.Case("batch 2, 4x4, 128->128", 2, 128, 4, 4, 128, false),
                new WinogradConvTest.Case("6x10, 32->512 (15 tiles: a last register tile of 3)", 1, 32, 6, 10, 512, true))
                .map(Arguments::of);
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
            float[] first = forward(cache, g, x, w, bias, null, false, 1, false);
            Close.assertClose(Tensor.of(first, g.n(), g.k(), g.h(), g.w()), yRef, Tolerance.F32_VS_REF, tc.toString());
            WinogradConvTest.assertWithinBound(first, yRef.toFloatArray(), absSum.toFloatArray(), bias, g, tc.toString());

            for (int parts = 1; parts <= Math.min(3, g.k() / WinogradF2ChannelsLast.KB); parts++) {
                for (boolean oneThread : new boolean[] {false, true}) {
                    Close.assertBitIdentical(first, forward(cache, g, x, w, bias, null, false, parts, oneThread),
                            parts + " parts of k, " + (oneThread ? "one thread " : "the pool ") + tc);
                }
            }
            float[] relu = forward(cache, g, x, w, bias, null, true, 2, false), want = first.clone();
            for (int i = 0; i < want.length; i++) want[i] = Math.max(want[i], 0f);
            Close.assertBitIdentical(want, relu, "fused ReLU " + tc);
            Tensor res = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.k(), g.h(), g.w());
            float[] rv = res.toFloatArray();
            for (int i = 0; i < want.length; i++) want[i] = Math.max(first[i] + rv[i], 0f);   // CpuPointwise.addRelu's arithmetic
            Close.assertBitIdentical(want, forward(cache, g, x, w, bias, res, false, 2, false), "fused add and ReLU " + tc);
            assertEquals(1, cache.size(), "one transform of the weights per layer, made once");
        }
    }

    /** One call under cache, into a NaN-filled output: k in parts, on the caller alone or the pool; res != null: max(· + res, 0). */
    private static float[] forward(WeightCache cache, ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor res, boolean relu,
                                   int parts, boolean oneThread) {
        Tensor y = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.h(), g.w());
        Runnable call = () -> cache.run(() -> WinogradF2ChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(),
                bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(), res == null ? null : res.segment(),
                res == null ? 0 : res.offset(), y.segment(), y.offset(), relu, parts));
        if (oneThread) Parallel.onCaller(call);
        else call.run();
        return y.toFloatArray();
    }

    /** Through CpuBackend under a cache: its bits, forward with ReLU and with the add; without a cache another path within the oracle's tolerance. */
    @Test
    void dispatchedUnderACacheOnly() {
        Assumptions.assumeTrue(GridGemm.VL == 16);
        ConvGeometry g = ConvGeometry.of(1, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1);
        ConvKernels cpu = CpuBackend.INSTANCE.conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(9);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, 128, 8, 8);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.03, 0.03, 128, 128, 3, 3);
            Tensor bias = Tensor.uniform(rng, DType.F32, -1, 1, 128);
            Tensor r = Tensor.uniform(rng, DType.F32, -1, 1, 1, 128, 8, 8);
            Tensor direct = Tensor.empty(DType.F32, 1, 128, 8, 8), directAdd = Tensor.empty(DType.F32, 1, 128, 8, 8);
            Tensor viaBackend = Tensor.empty(DType.F32, 1, 128, 8, 8), viaBackendAdd = Tensor.empty(DType.F32, 1, 128, 8, 8);
            Tensor other = Tensor.empty(DType.F32, 1, 128, 8, 8);
            new WeightCache().run(() -> {
                WinogradF2ChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias.segment(), bias.offset(),
                        direct.segment(), direct.offset(), true);
                WinogradF2ChannelsLast.forwardAddRelu(g, x.segment(), x.offset(), w.segment(), w.offset(), bias.segment(), bias.offset(),
                        r.segment(), r.offset(), directAdd.segment(), directAdd.offset());
                cpu.forwardRelu(g, x, w, bias, viaBackend);
                cpu.forwardAddRelu(g, x, w, bias, r, viaBackendAdd);
                assertFalse(cpu.chainsResidualBlocks(g), "no chain where the blocks one by one run here (other bits)");
            });
            cpu.forwardRelu(g, x, w, bias, other);
            Close.assertBitIdentical(direct.toFloatArray(), viaBackend.toFloatArray(), "dispatched forward with ReLU");
            Close.assertBitIdentical(directAdd.toFloatArray(), viaBackendAdd.toFloatArray(), "dispatched forward with add and ReLU");
            Close.assertClose(other, direct, Tolerance.F32_VS_REF, "another path without a cache");
        }
    }

    /** Shape and cache only: never without a WeightCache (training), never past 4 F(4×4) tiles, for narrow layers or k off 64. */
    @Test
    void selection() {
        ConvGeometry last = ConvGeometry.of(1, 256, 8, 8, 256, 3, 3, 1, 1, 1, 1, 1);
        assertFalse(WinogradF2ChannelsLast.supports(last, true), "no WeightCache: training and plain calls stay as they were");
        new WeightCache().run(() -> {
            boolean wide = GridGemm.VL == 16;
            assertEquals(wide, WinogradF2ChannelsLast.supports(last, true), "resnet8x4's 256->256 at 8x8");
            assertEquals(wide, WinogradF2ChannelsLast.supports(ConvGeometry.of(1, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1), true), "128->128 at 8x8");
            assertFalse(WinogradF2ChannelsLast.supports(last, false), "weights it cannot cache (heap)");
            assertFalse(WinogradF2ChannelsLast.supports(ConvGeometry.of(1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1), true), "64->64: U stays in L2");
            assertFalse(WinogradF2ChannelsLast.supports(ConvGeometry.of(1, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, 1), true), "16x16: 16 F(4x4) tiles");
            assertFalse(WinogradF2ChannelsLast.supports(ConvGeometry.of(2, 256, 8, 8, 256, 3, 3, 1, 1, 1, 1, 1), true), "batch 2: 8 tiles");
            assertFalse(WinogradF2ChannelsLast.supports(ConvGeometry.of(1, 256, 8, 8, 240, 3, 3, 1, 1, 1, 1, 1), true), "k = 240");
            assertFalse(WinogradF2ChannelsLast.supports(ConvGeometry.of(1, 256, 8, 8, 256, 3, 3, 2, 2, 1, 1, 1), true), "stride 2");
            boolean was = WinogradF2ChannelsLast.enable(false);
            try {
                assertFalse(WinogradF2ChannelsLast.supports(last, true), "-Dstablekd.winogradF2=false switches it off");
            } finally {
                WinogradF2ChannelsLast.enable(was);
            }
        });
    }
}
