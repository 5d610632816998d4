package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;
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
 * The Winograd F(4×4, 3×3) convolution ({@link WinogradConv}), called directly (whatever the
 * selection rule says), against the ref oracle: sizes that are not multiples of the 4×4 tile,
 * batch 1 and batches larger than the thread count, blocks that cut images, channel counts
 * that are not multiples of the vector length or of the 8-channel panels, bias, the input
 * gradient (flipped, channel-swapped weights), and the documented error bound
 * |error| ≤ {@link #BOUND}·max|y|.
 */
class WinogradConvTest {
    /** The bound stated in WinogradConv's class comment and docs/design.md, relative to max |y_ref|. */
    static final double BOUND = 1e-5;

    record Case(String name, int n, int c, int h, int w, int k, boolean bias) {
        ConvGeometry g() { return ConvGeometry.of(n, c, h, w, k, 3, 3, 1, 1, 1, 1, 1); }
        @Override public String toString() { return name + " " + g(); }
    }

    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(new Case("1x1 image, c=k=1", 1, 1, 1, 1, 1, true));
        cs.add(new Case("batch 1, 5x7, odd channels", 1, 3, 5, 7, 5, true));
        cs.add(new Case("batch 3, 9x10 (tile overhang), k=17", 3, 7, 9, 10, 17, false));
        cs.add(new Case("batch 5, 8x8, 16->16", 5, 16, 8, 8, 16, true));
        cs.add(new Case("batch 2, 32x32, 16->16 (blocks cut images)", 2, 16, 32, 32, 16, false));
        cs.add(new Case("batch 7, 16x16, 33->40", 7, 33, 16, 16, 40, true));
        cs.add(new Case("batch 2, 11x13, 20->9", 2, 20, 11, 13, 9, true));
        cs.add(new Case("batch 3, 8x8, 64->64", 3, 64, 8, 8, 64, false));
        cs.add(new Case("batch 1, 6x6, 130->24 (a deep block)", 1, 130, 6, 6, 24, true));
        cs.add(new Case("batch 9, 2x3", 9, 4, 2, 3, 6, false));
        return cs.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesRefWithinTheBound(Case tc) {
        ConvGeometry g = tc.g();
        ConvKernels ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode());
            double wScale = 1 / Math.sqrt(9.0 * g.c());
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.c(), g.h(), g.w());
            Tensor w = Tensor.uniform(rng, DType.F32, -wScale, wScale, g.k(), g.c(), 3, 3);
            Tensor bias = tc.bias() ? Tensor.uniform(rng, DType.F32, -1, 1, g.k()) : null;
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.k(), g.h(), g.w());

            Tensor yRef = Tensor.empty(DType.F32, g.n(), g.k(), g.h(), g.w());
            Tensor y = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.h(), g.w());
            ref.forward(g, x, w, bias, yRef);
            WinogradConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(),
                    bias == null ? null : bias.segment(), bias == null ? 0 : bias.offset(), y.segment(), y.offset());
            Close.assertClose(y, yRef, Tolerance.F32_VS_REF, "forward " + tc);
            assertWithinBound(y.toFloatArray(), yRef.toFloatArray(), "forward " + tc);

            Tensor dxRef = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w());
            Tensor dx = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
            ref.backwardInput(g, dy, w, dxRef);
            WinogradConv.backwardInput(g, dy.segment(), dy.offset(), w.segment(), w.offset(), dx.segment(), dx.offset());
            Close.assertClose(dx, dxRef, Tolerance.F32_VS_REF, "input gradient " + tc);
            assertWithinBound(dx.toFloatArray(), dxRef.toFloatArray(), "input gradient " + tc);
        }
    }

    /** max |a − e| ≤ BOUND · max |e|, every value finite. */
    static double assertWithinBound(float[] actual, float[] expected, String what) {
        double worst = 0, scale = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(actual[i])) throw new AssertionFailedError(what + ": [" + i + "] is " + actual[i]);
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        if (worst > BOUND * scale) {
            throw new AssertionFailedError(String.format("%s: max error %.3g is %.3g of max |y| %.3g, above the bound %.0e",
                    what, worst, worst / scale, scale, BOUND));
        }
        return worst / scale;
    }

    /** Same inputs, same bits, call after call, and the same bits from cached weights (Note [Determinism]). */
    @Test
    void deterministicAndCachedWeightsChangeNothing() {
        ConvGeometry g = ConvGeometry.of(5, 24, 12, 12, 20, 3, 3, 1, 1, 1, 1, 1);
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(7);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 5, 24, 12, 12);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.1, 0.1, 20, 24, 3, 3);
            float[] first = null;
            for (int round = 0; round < 3; round++) {
                Tensor y = Tensor.empty(DType.F32, 5, 20, 12, 12);
                WinogradConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), null, 0, y.segment(), y.offset());
                if (first == null) first = y.toFloatArray();
                else Close.assertBitIdentical(first, y.toFloatArray(), "round " + round);
            }
            Tensor cached = Tensor.empty(DType.F32, 5, 20, 12, 12);
            WeightCache cache = new WeightCache();
            cache.run(() -> WinogradConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), null, 0, cached.segment(), cached.offset()));
            Close.assertBitIdentical(first, cached.toFloatArray(), "under a WeightCache");
        }
    }

    /** The selection rule: shapes only, and only the layers the algorithm computes. */
    @Test
    void selection() {
        assertTrue(WinogradConv.computes(ConvGeometry.of(1, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1)));
        assertFalse(WinogradConv.computes(ConvGeometry.of(1, 16, 16, 16, 16, 3, 3, 2, 2, 1, 1, 1)), "stride 2");
        assertFalse(WinogradConv.computes(ConvGeometry.of(1, 16, 16, 16, 16, 3, 3, 1, 1, 0, 0, 1)), "no padding");
        assertFalse(WinogradConv.computes(ConvGeometry.of(1, 16, 16, 16, 16, 1, 1, 1, 1, 0, 0, 1)), "1x1");
        assertFalse(WinogradConv.computes(ConvGeometry.of(1, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 2)), "groups");
        assertFalse(WinogradConv.supports(ConvGeometry.of(64, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)), "the stem (3 channels)");
        assertFalse(WinogradConv.supportsInputGradient(ConvGeometry.of(64, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1)),
                "a strided layer's input gradient (found by a training step: its swapped geometry has stride 1)");
        assertFalse(WinogradConv.supports(ConvGeometry.of(64, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)), "16 channels: the grid path is faster");
        assertFalse(WinogradConv.supports(ConvGeometry.of(1, 256, 8, 8, 256, 3, 3, 1, 1, 1, 1, 1)), "4 tiles: the grid path is faster");
        if (WinogradConv.ENABLED) {
            assertTrue(WinogradConv.supports(ConvGeometry.of(64, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1)), "resnet20's second stage");
            assertTrue(WinogradConv.supports(ConvGeometry.of(64, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1)), "resnet20's third stage");
            assertTrue(WinogradConv.supportsInputGradient(ConvGeometry.of(64, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1)));
        }
    }
}
