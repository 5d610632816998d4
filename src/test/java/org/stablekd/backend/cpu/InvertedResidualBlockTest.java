package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.InvertedResidualGeometry;
import org.stablekd.backend.WeightCache;
import org.stablekd.ops.Conv;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * The fused inverted-residual block ({@link InvertedResidualBlock}) against the ref oracle's three
 * convolutions (with the ReLUs and the residual add between them), on mobile_half's block shapes at
 * batch 1 (16×16 down to 2×2, stride 1 and 2, with and without the residual) and on shapes that are
 * not whole vectors or 4-pixel tiles. Documented bound: per output, |y − y_ref| ≤ 1e-5 · S + 1e-6,
 * where S is the same chain run on |x|, |w| and |b| (the magnitude of every term that reached
 * the output); the two differ only in summation order. Then: the same bits call after call, with
 * and without a WeightCache; batch n (images over the threads) gives each image's batch-1 bits;
 * the frontend runs it only where nothing needs a gradient.
 */
class InvertedResidualBlockTest {
    record Case(String name, int n, int c, int h, int w, int m, int k, int stride, boolean residual) {
        InvertedResidualGeometry g() {
            return new InvertedResidualGeometry(n, c, h, w, m, k, stride, residual);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                new Case("mobile_half block 0: 16->16->8 at 16x16 (t=1)", 1, 16, 16, 16, 16, 8, 1, false),
                new Case("12->72->12 at 16x16, residual (72: not whole vectors)", 1, 12, 16, 16, 72, 12, 1, true),
                new Case("12->72->16 at 16x16, stride 2", 1, 12, 16, 16, 72, 16, 2, false),
                new Case("32->192->32 at 4x4, residual", 1, 32, 4, 4, 192, 32, 1, true),
                new Case("48->288->80 at 4x4, stride 2 (to 2x2)", 1, 48, 4, 4, 288, 80, 2, false),
                new Case("80->480->160 at 2x2 (the deepest project sum)", 1, 80, 2, 2, 480, 160, 1, false),
                new Case("5x7 stride 2 (odd sizes, a 3-pixel last tile), 7->21->5", 1, 7, 5, 7, 21, 5, 2, false),
                new Case("3x3, 9->40->9, residual (9 pixels: a 1-pixel last tile)", 1, 9, 3, 3, 40, 9, 1, true),
                new Case("batch 3, 8x8, 16->96->16, residual", 3, 16, 8, 8, 96, 16, 1, true),
                new Case("batch 2, 6x6, 24->100->37, stride 2", 2, 24, 6, 6, 100, 37, 2, false))
                .map(Arguments::of);
    }

    /** {x, w1, b1, wd, bd, w2, b2} for a case, random normal (biases too). */
    static Tensor[] inputs(Case tc, Rng rng) {
        return new Tensor[] {
                Tensor.randn(rng, DType.F32, 1, tc.n(), tc.c(), tc.h(), tc.w()),
                Tensor.randn(rng, DType.F32, 1 / Math.sqrt(tc.c()), tc.m(), tc.c(), 1, 1),
                Tensor.randn(rng, DType.F32, 1, tc.m()),
                Tensor.randn(rng, DType.F32, 1 / 3.0, tc.m(), 1, 3, 3),
                Tensor.randn(rng, DType.F32, 1, tc.m()),
                Tensor.randn(rng, DType.F32, 1 / Math.sqrt(tc.m()), tc.k(), tc.m(), 1, 1),
                Tensor.randn(rng, DType.F32, 1, tc.k())};
    }

    /** The block on the ref oracle's convolutions; {@code relu} false gives the magnitude chain S on |inputs|. */
    static float[] refBlock(InvertedResidualGeometry g, Tensor[] in, boolean relu) {
        ConvKernels ref = Backends.ref().conv();
        Tensor e = Tensor.empty(DType.F32, g.n(), g.m(), g.h(), g.w());
        ref.forward(g.expand(), in[0], in[1], in[2], e);
        if (relu) reluInPlace(e);
        Tensor d = Tensor.empty(DType.F32, g.n(), g.m(), g.p(), g.q());
        ref.forward(g.depthwise(), e, in[3], in[4], d);
        if (relu) reluInPlace(d);
        Tensor y = Tensor.empty(DType.F32, g.n(), g.k(), g.p(), g.q());
        ref.forward(g.project(), d, in[5], in[6], y);
        float[] out = y.toFloatArray();
        if (g.residual()) {
            float[] x = in[0].toFloatArray();
            for (int i = 0; i < out.length; i++) out[i] = x[i] + out[i];
        }
        return out;
    }

    private static void reluInPlace(Tensor t) {
        for (long i = 0; i < t.numel(); i++) t.setFlat(i, Math.max(0, t.getFlat(i)));
    }

    static Tensor abs(Tensor t) {
        Tensor a = Tensor.empty(DType.F32, t.shape());
        for (long i = 0; i < t.numel(); i++) a.setFlat(i, Math.abs(t.getFlat(i)));
        return a;
    }

    static float[] fused(InvertedResidualGeometry g, Tensor[] in) {
        Tensor y = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.p(), g.q());   // an output it forgets fails
        CpuConv.kernels().invertedResidual(g, in[0], in[1], in[2], in[3], in[4], in[5], in[6], y);
        return y.toFloatArray();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheRefConvolutionsWithinTheBound(Case tc) {
        InvertedResidualGeometry g = tc.g();
        try (Scope s = Scope.open()) {
            Tensor[] in = inputs(tc, new Rng(tc.name().hashCode()));
            float[] expected = refBlock(g, in, true);
            Tensor[] absIn = new Tensor[in.length];
            for (int i = 0; i < in.length; i++) absIn[i] = abs(in[i]);
            float[] magnitude = refBlock(g, absIn, false);
            float[] y = fused(g, in);
            double worst = 0;
            for (int i = 0; i < y.length; i++) {
                double err = Math.abs((double) y[i] - expected[i]), bound = 1e-5 * magnitude[i] + 1e-6;
                assertTrue(err <= bound, tc + ": output " + i + " is " + y[i] + ", ref " + expected[i] + " (error " + err + " > bound " + bound + ")");
                worst = Math.max(worst, err / (magnitude[i] + 1e-30));
            }
            Close.assertClose(y, expected, Tolerance.F32_VS_REF, tc.toString());
            assertTrue(worst < 1e-5, tc + ": worst relative error " + worst);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sameBitsEveryCallWithAndWithoutTheWeightCache(Case tc) {
        InvertedResidualGeometry g = tc.g();
        try (Scope s = Scope.open()) {
            Tensor[] in = inputs(tc, new Rng(7 + tc.name().hashCode()));
            float[] first = fused(g, in);
            Close.assertBitIdentical(first, fused(g, in), "second call " + tc);
            WeightCache cache = new WeightCache();
            for (int round = 0; round < 2; round++) {   // round 0 packs the weights into the cache, round 1 reuses them
                float[][] y = new float[1][];
                cache.run(() -> y[0] = fused(g, in));
                Close.assertBitIdentical(first, y[0], "under a WeightCache, round " + round + " " + tc);
            }
            assertEquals(1, cache.size());
        }
    }

    @Test
    void aBatchGivesEachImagesBatchOneBits() {
        Case tc = new Case("batch 4, 8x8, 16->96->16, residual", 4, 16, 8, 8, 96, 16, 1, true);
        try (Scope s = Scope.open()) {
            Tensor[] in = inputs(tc, new Rng(11));
            float[] all = fused(tc.g(), in);
            InvertedResidualGeometry one = new InvertedResidualGeometry(1, 16, 8, 8, 96, 16, 1, true);
            int perImageIn = 16 * 8 * 8, perImageOut = 16 * 8 * 8;
            float[] x = in[0].toFloatArray();
            for (int i = 0; i < tc.n(); i++) {
                Tensor[] single = in.clone();
                single[0] = Tensor.of(java.util.Arrays.copyOfRange(x, i * perImageIn, (i + 1) * perImageIn), 1, 16, 8, 8);
                Close.assertBitIdentical(java.util.Arrays.copyOfRange(all, i * perImageOut, (i + 1) * perImageOut), fused(one, single), "image " + i);
            }
        }
    }

    @Test
    void theFrontendFusesOnlyWithoutGradientsAndChecksShapes() {
        Case tc = new Case("12->72->12 at 16x16, residual", 2, 12, 16, 16, 72, 12, 1, true);
        try (Scope s = Scope.open(); Restore cpu = Backends.use(Backends.named("cpu"))) {
            Tensor[] in = inputs(tc, new Rng(5));
            float[] expected = refBlock(tc.g(), in, true);
            float[] fusedY;
            try (Restore ng = Autograd.noGrad()) {
                fusedY = Conv.invertedResidual(in[0], in[1], in[2], in[3], in[4], in[5], in[6], 1, true).toFloatArray();
            }
            Close.assertBitIdentical(fused(tc.g(), in), fusedY, "frontend, no grad: the fused kernel");
            Tensor x = in[0].requiresGrad(true);
            Tensor unfused = Conv.invertedResidual(x, in[1], in[2], in[3], in[4], in[5], in[6], 1, true);
            assertTrue(Autograd.needsGrad(unfused), "with a gradient wanted it records the unfused ops");
            Close.assertClose(unfused.toFloatArray(), expected, Tolerance.F32_VS_REF, "frontend, unfused");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> Conv.invertedResidual(in[0], in[1], in[2], in[3], in[4], in[5], in[6], 2, true));
            assertTrue(bad.getMessage().contains("residual"), bad.getMessage());
            bad = assertThrows(IllegalArgumentException.class,
                    () -> Conv.invertedResidual(in[0], in[5], in[2], in[3], in[4], in[5], in[6], 1, true));
            assertTrue(bad.getMessage().contains("expand weight"), bad.getMessage());
        }
    }

    @Test
    void aMobileNetV2PredictorRunsEveryBlockFused() {
        java.util.concurrent.atomic.AtomicInteger fused = new java.util.concurrent.atomic.AtomicInteger();
        org.stablekd.backend.Backend cpu = Backends.named("cpu");
        ConvKernels counting = (ConvKernels) java.lang.reflect.Proxy.newProxyInstance(ConvKernels.class.getClassLoader(),
                new Class<?>[] {ConvKernels.class}, (proxy, method, args) -> {
                    if (method.getName().equals("invertedResidual")) fused.incrementAndGet();
                    return method.invoke(cpu.conv(), args);
                });
        org.stablekd.backend.Backend backend = (org.stablekd.backend.Backend) java.lang.reflect.Proxy.newProxyInstance(
                org.stablekd.backend.Backend.class.getClassLoader(), new Class<?>[] {org.stablekd.backend.Backend.class},
                (proxy, method, args) -> method.getName().equals("conv") ? counting : method.invoke(cpu, args));
        try (Restore use = Backends.use(backend)) {
            var shape = org.stablekd.tensor.Shape.of(3, 32, 32);
            var predictor = org.stablekd.infer.Predictor.of(org.stablekd.models.Zoo.create("mobile_half", 10, shape, new Rng(3)));
            fused.set(0);
            predictor.predict(new float[3 * 32 * 32], 1);
            assertEquals(17, fused.get(), "mobile_half's 17 inverted-residual blocks, each one fused call");
        }
    }
}
