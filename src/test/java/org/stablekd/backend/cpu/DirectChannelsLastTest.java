package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The direct convolution with channels along the vectors ({@link DirectChannelsLast}): at batch 1
 * against the ref oracle under a WeightCache for resnet8x4's strided layers and shapes that hit a
 * last pixel group short of six, odd sizes, one and two images, with and without bias and ReLU; the
 * same bits call after call and on 1 and 2 threads; the CPU backend's dispatch; and the selection
 * rule. The batch path (training, no cache): against the oracle, the same bits on the pool and on
 * the caller alone, through the backend, and image by image the bits of the batch-1 path.
 */
class DirectChannelsLastTest {
    record Case(String name, int n, int c, int h, int w, int k, int r, boolean bias, boolean relu) {
        ConvGeometry g() { return ConvGeometry.of(n, c, h, w, k, r, r, 2, 2, (r - 1) / 2, (r - 1) / 2, 1); }
        @Override public String toString() { return name + " " + g(); }
    }

    record Operands(Tensor x, Tensor w, Tensor bias, Tensor yRef) {}

    /** x, w, bias (or null) from the case's seed, and the oracle's output (then max(0, ·) where the case fuses a ReLU). */
    private static Operands operands(Case tc) {
        ConvGeometry g = tc.g();
        Rng rng = new Rng(tc.name().hashCode());
        double wScale = 1 / Math.sqrt((double) tc.c() * tc.r() * tc.r());
        Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, tc.n(), tc.c(), tc.h(), tc.w());
        Tensor w = Tensor.uniform(rng, DType.F32, -wScale, wScale, tc.k(), tc.c(), tc.r(), tc.r());
        Tensor bias = tc.bias() ? Tensor.uniform(rng, DType.F32, -1, 1, tc.k()) : null;
        Tensor yRef = Tensor.empty(DType.F32, g.n(), g.k(), g.p(), g.q());
        Backends.ref().conv().forward(g, x, w, bias, yRef);
        if (tc.relu()) {   // the oracle has no fused ReLU: max(0, ·) on its output
            float[] v = yRef.toFloatArray();
            for (int i = 0; i < v.length; i++) yRef.setFlat(i, Math.max(v[i], 0f));
        }
        return new Operands(x, w, bias, yRef);
    }

    static Stream<Arguments> cases() {
        return Stream.<Case>of(
                new Case("resnet8x4 layer2 conv1, 64->128 3x3 s2 at 32x32", 1, 64, 32, 32, 128, 3, true, true),
                new Case("resnet8x4 layer3 conv1, 128->256 3x3 s2 at 16x16 (64 pixels: a last group of 4)", 1, 128, 16, 16, 256, 3, true, true),
                new Case("resnet8x4 layer3 shortcut, 128->256 1x1 s2 at 16x16", 1, 128, 16, 16, 256, 1, true, false),
                new Case("7x9 (odd sizes: outputs 4x5, a last group of 2), 16->64, no bias", 1, 16, 7, 9, 64, 3, false, true),
                new Case("1x1 image, 48->192 (one pixel: every lane of the group repeats it)", 1, 48, 1, 1, 192, 3, true, false),
                new Case("batch 2, 6x6, 32->64 1x1 s2 (two images, 9 pixels each)", 2, 32, 6, 6, 64, 1, false, true),
                new Case("batch 2, 10x10, 256->64 3x3 s2 (the deepest sum)", 2, 256, 10, 10, 64, 3, true, true)).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesRefAndRepeatsItsBitsOnOneAndTwoThreads(Case tc) {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only");
        ConvGeometry g = tc.g();
        try (Scope scope = Scope.open()) {
            Operands o = operands(tc);
            Tensor x = o.x(), w = o.w(), bias = o.bias(), yRef = o.yRef();
            WeightCache cache = new WeightCache();
            float[] first = null;
            for (int round = 0; round < 4; round++) {   // round 0 packs the weights; 2 and 3 on one thread
                int threads = round < 2 ? Parallel.threads() : 1;
                Tensor y = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.p(), g.q());
                Runnable call = () -> cache.run(() -> {
                    assertTrue(DirectChannelsLast.supports(g, true), "the rule must take " + g);
                    DirectChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias == null ? null : bias.segment(),
                            bias == null ? 0 : bias.offset(), y.segment(), y.offset(), tc.relu());
                });
                if (threads == 1) Parallel.onCaller(call);
                else call.run();
                if (first == null) {
                    first = y.toFloatArray();
                    Close.assertClose(y, yRef, Tolerance.F32_VS_REF, tc.toString());
                } else {
                    Close.assertBitIdentical(first, y.toFloatArray(), "round " + round + " (" + threads + " threads) " + tc);
                }
            }
            assertEquals(1, cache.size(), "one packing per layer, made once");
        }
    }

    /** Through CpuBackend under a cache: the kernel's bits; without a cache the grid path, within the oracle's tolerance of them. */
    @Test
    void dispatchedUnderACacheOnly() {
        Assumptions.assumeTrue(GridGemm.VL == 16);
        ConvGeometry g = ConvGeometry.of(1, 32, 12, 12, 64, 3, 3, 2, 2, 1, 1, 1);
        ConvKernels cpu = CpuBackend.INSTANCE.conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(5);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, 32, 12, 12);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.06, 0.06, 64, 32, 3, 3);
            Tensor bias = Tensor.uniform(rng, DType.F32, -1, 1, 64);
            Tensor direct = Tensor.empty(DType.F32, 1, 64, 6, 6), viaBackend = Tensor.empty(DType.F32, 1, 64, 6, 6);
            Tensor grid = Tensor.empty(DType.F32, 1, 64, 6, 6);
            new WeightCache().run(() -> {
                DirectChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bias.segment(), bias.offset(),
                        direct.segment(), direct.offset(), true);
                cpu.forwardRelu(g, x, w, bias, viaBackend);
            });
            cpu.forwardRelu(g, x, w, bias, grid);
            Close.assertBitIdentical(direct.toFloatArray(), viaBackend.toFloatArray(), "dispatched");
            Close.assertClose(grid, direct, Tolerance.F32_VS_REF, "the grid path without a cache");
        }
    }

    static Stream<Arguments> batchCases() {
        return Stream.<Case>of(
                new Case("resnet8x4 layer3 conv1 at batch 3, 128->256 3x3 s2 at 16x16", 3, 128, 16, 16, 256, 3, false, false),
                new Case("wrn_16_2 block3 conv1 at batch 4, 64->128 3x3 s2 at 16x16, bias and ReLU", 4, 64, 16, 16, 128, 3, true, true),
                new Case("batch 3, 7x9 (odd sizes), 16->64 3x3 s2", 3, 16, 7, 9, 64, 3, true, false),
                new Case("resnet8x4 layer3 shortcut at batch 3, 128->256 1x1 s2 at 16x16", 3, 128, 16, 16, 256, 1, false, false),
                new Case("batch 2, 7x9 (odd sizes), 32->64 1x1 s2, ReLU", 2, 32, 7, 9, 64, 1, true, true)).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("batchCases")
    void batchMatchesRefWithoutACacheOnThePoolAndImageByImage(Case tc) {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only");
        ConvGeometry g = tc.g();
        try (Scope scope = Scope.open()) {
            Operands o = operands(tc);
            Tensor x = o.x(), w = o.w(), bias = o.bias(), yRef = o.yRef();
            Tensor y2 = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.p(), g.q());
            Tensor y1 = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.p(), g.q());
            assertTrue(DirectChannelsLast.supportsBatch(g), "the batch rule must take " + g);
            if (tc.relu()) CpuBackend.INSTANCE.conv().forwardRelu(g, x, w, bias, y2);
            else CpuBackend.INSTANCE.conv().forward(g, x, w, bias, y2);   // dispatched: no cache, as in training
            Parallel.onCaller(() -> DirectChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(),
                    bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(), y1.segment(), y1.offset(), tc.relu()));
            Close.assertClose(y2, yRef, Tolerance.F32_VS_REF, tc.toString());
            Close.assertBitIdentical(y2.toFloatArray(), y1.toFloatArray(), "the pool against the caller alone: " + tc);
            // each image alone through the batch-1 path (row bands, weights under a cache): the same sums
            ConvGeometry one = ConvGeometry.of(1, tc.c(), tc.h(), tc.w(), tc.k(), tc.r(), tc.r(), 2, 2, (tc.r() - 1) / 2, (tc.r() - 1) / 2, 1);
            long xs = (long) tc.c() * tc.h() * tc.w(), ys = (long) tc.k() * g.p() * g.q();
            Tensor yi = Tensor.empty(DType.F32, 1, g.k(), g.p(), g.q());
            float[] all = y2.toFloatArray();
            for (int img = 0; img < tc.n(); img++) {
                long xo = x.offset() + img * xs;
                new WeightCache().run(() -> DirectChannelsLast.forward(one, x.segment(), xo, w.segment(), w.offset(),
                        bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(), yi.segment(), yi.offset(), tc.relu()));
                Close.assertBitIdentical(java.util.Arrays.copyOfRange(all, (int) (img * ys), (int) ((img + 1) * ys)), yi.toFloatArray(),
                        "image " + img + " alone: " + tc);
            }
        }
    }

    /**
     * Batch 1: shape and cache only, never without a WeightCache, never for stride 1 or past the pixel
     * limits. A batch (at least 2 images and one per thread): the same shapes at any pixel count, 1×1
     * only up to 64 output pixels per image.
     */
    @Test
    void selection() {
        boolean wide = GridGemm.VL == 16;
        assertEquals(wide, DirectChannelsLast.supportsBatch(ConvGeometry.of(64, 128, 16, 16, 256, 3, 3, 2, 2, 1, 1, 1)), "resnet8x4 training, 3x3 s2");
        assertEquals(wide, DirectChannelsLast.supportsBatch(ConvGeometry.of(64, 128, 16, 16, 256, 1, 1, 2, 2, 0, 0, 1)), "1x1 s2 to 8x8");
        assertFalse(DirectChannelsLast.supportsBatch(ConvGeometry.of(64, 64, 32, 32, 128, 1, 1, 2, 2, 0, 0, 1)), "1x1 s2 to 16x16");
        assertFalse(DirectChannelsLast.supportsBatch(ConvGeometry.of(1, 128, 16, 16, 256, 3, 3, 2, 2, 1, 1, 1)), "one image: the batch-1 rule");
        assertFalse(DirectChannelsLast.supportsBatch(ConvGeometry.of(64, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1)), "k = 32");
        assertFalse(DirectChannelsLast.supportsBatch(ConvGeometry.of(64, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1)), "stride 1");
        ConvGeometry s2 = ConvGeometry.of(1, 128, 16, 16, 256, 3, 3, 2, 2, 1, 1, 1);
        assertFalse(DirectChannelsLast.supports(s2, true), "no WeightCache: training and plain calls stay as they were");
        new WeightCache().run(() -> {
            assertEquals(wide, DirectChannelsLast.supports(s2, true), "resnet8x4's 128->256 stride 2");
            assertFalse(DirectChannelsLast.supports(s2, false), "weights it cannot cache (heap)");
            assertEquals(wide, DirectChannelsLast.supports(ConvGeometry.of(1, 128, 16, 16, 256, 1, 1, 2, 2, 0, 0, 1), true), "1x1 s2, 64 pixels");
            assertFalse(DirectChannelsLast.supports(ConvGeometry.of(1, 64, 32, 32, 128, 1, 1, 2, 2, 0, 0, 1), true), "1x1 s2, 256 pixels");
            assertFalse(DirectChannelsLast.supports(ConvGeometry.of(1, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1), true), "stride 1");
            assertFalse(DirectChannelsLast.supports(ConvGeometry.of(1, 24, 16, 16, 64, 3, 3, 2, 2, 1, 1, 1), true), "c = 24");
            assertFalse(DirectChannelsLast.supports(ConvGeometry.of(1, 64, 16, 16, 96, 3, 3, 2, 2, 1, 1, 1), true), "k = 96");
            assertFalse(DirectChannelsLast.supports(ConvGeometry.of(8, 64, 32, 32, 128, 3, 3, 2, 2, 1, 1, 1), true), "batch 8: 2048 pixels");
            assertFalse(DirectChannelsLast.supports(ConvGeometry.of(1, 64, 16, 16, 64, 3, 3, 2, 2, 1, 1, 64), true), "groups");
            boolean was = DirectChannelsLast.enable(false);
            try {
                assertFalse(DirectChannelsLast.supports(s2, true), "-Dstablekd.directChannelsLast=false switches it off");
                assertFalse(DirectChannelsLast.supportsBatch(ConvGeometry.of(64, 128, 16, 16, 256, 3, 3, 2, 2, 1, 1, 1)), "the batch path too");
            } finally {
                DirectChannelsLast.enable(was);
            }
        });
    }
}
