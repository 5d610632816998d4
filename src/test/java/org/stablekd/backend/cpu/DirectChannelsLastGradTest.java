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
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * Both gradients of the strided channels-last layers ({@link DirectChannelsLastGrad}) against the
 * ref oracle, through the CPU backend's three entry points (dx alone, dw alone, both at once):
 * resnet8x4's and wrn_16_2's strided layers, k with groups of 6 output channels only, with one or
 * two groups of 4, non-square images, bias, uneven image ranges and several chunks per range; the
 * same bits on the pool and on the caller alone; and the selection rule.
 */
class DirectChannelsLastGradTest {
    record Case(String name, int n, int c, int h, int w, int k, int r, boolean bias) {
        ConvGeometry g() { return ConvGeometry.of(n, c, h, w, k, r, r, 2, 2, (r - 1) / 2, (r - 1) / 2, 1); }
        @Override public String toString() { return name + " " + g(); }
    }

    static Stream<Arguments> cases() {
        return Stream.<Case>of(
                new Case("resnet8x4 layer3 conv1, 128->256 3x3 s2 at 16x16 (k mod 6 = 4; chunks of 2 images)", 5, 128, 16, 16, 256, 3, false),
                new Case("resnet8x4 layer2 conv1, 64->128 3x3 s2 at 32x32 (k mod 6 = 2)", 2, 64, 32, 32, 128, 3, false),
                new Case("64->192 3x3 s2 at 10x14 (k mod 6 = 0; phases of 5x7)", 3, 64, 10, 14, 192, 3, true),
                new Case("resnet8x4 layer3 shortcut, 128->256 1x1 s2 at 16x16", 3, 128, 16, 16, 256, 1, false),
                new Case("64->64 1x1 s2 at 6x12, bias (one image per thread and one more)", 3, 64, 6, 12, 64, 1, true)).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesRefThroughEveryEntryPoint(Case tc) {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only");
        ConvGeometry g = tc.g();
        assertTrue(DirectChannelsLastGrad.supports(g), "the rule must take " + g);
        ConvKernels cpu = CpuBackend.INSTANCE.conv(), ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode());
            double wScale = 1 / Math.sqrt((double) g.c() * g.r() * g.s()), dyScale = 1 / Math.sqrt((double) g.n() * g.p() * g.q());
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.c(), g.h(), g.w());
            Tensor w = Tensor.uniform(rng, DType.F32, -wScale, wScale, g.k(), g.c(), g.r(), g.s());
            Tensor dy = Tensor.uniform(rng, DType.F32, -dyScale, dyScale, g.n(), g.k(), g.p(), g.q());

            Tensor dxRef = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w()), dx = nan(g.n(), g.c(), g.h(), g.w());
            ref.backwardInput(g, dy, w, dxRef);
            cpu.backwardInput(g, dy, w, dx);
            Close.assertClose(dx, dxRef, Tolerance.F32_VS_REF, "backwardInput " + tc);

            Tensor dwRef = Tensor.empty(DType.F32, g.k(), g.c(), g.r(), g.s()), dw = nan(g.k(), g.c(), g.r(), g.s());
            Tensor dbRef = tc.bias() ? Tensor.empty(DType.F32, g.k()) : null, db = tc.bias() ? nan(g.k()) : null;
            ref.backwardWeight(g, x, dy, dwRef, dbRef);
            cpu.backwardWeight(g, x, dy, dw, db);
            Close.assertClose(dw, dwRef, Tolerance.F32_VS_REF, "backwardWeight " + tc);
            if (tc.bias()) Close.assertClose(db, dbRef, Tolerance.F32_VS_REF, "backwardBias " + tc);

            // both at once (what the derivatives table calls): the same bits as each alone
            Tensor dx2 = nan(g.n(), g.c(), g.h(), g.w()), dw2 = nan(g.k(), g.c(), g.r(), g.s()), db2 = tc.bias() ? nan(g.k()) : null;
            cpu.backward(g, x, dy, w, dx2, dw2, db2);
            Close.assertBitIdentical(dx.toFloatArray(), dx2.toFloatArray(), "fused backward, dx " + tc);
            Close.assertBitIdentical(dw.toFloatArray(), dw2.toFloatArray(), "fused backward, dw " + tc);
            if (tc.bias()) Close.assertBitIdentical(db.toFloatArray(), db2.toFloatArray(), "fused backward, dbias " + tc);

            // the caller alone (the same chunks, one after another): the same bits
            Tensor dx1 = nan(g.n(), g.c(), g.h(), g.w()), dw1 = nan(g.k(), g.c(), g.r(), g.s());
            Parallel.onCaller(() -> cpu.backward(g, x, dy, w, dx1, dw1, null));
            Close.assertBitIdentical(dx.toFloatArray(), dx1.toFloatArray(), "dx on the caller alone " + tc);
            Close.assertBitIdentical(dw.toFloatArray(), dw1.toFloatArray(), "dw on the caller alone " + tc);
        }
    }

    private static Tensor nan(int... shape) {
        return Tensor.full(DType.F32, Double.NaN, shape);
    }

    /** DirectChannelsLast's batch rule, with c a multiple of 64 and even sizes. */
    @Test
    void selection() {
        boolean wide = GridGemm.VL == 16;
        assertEquals(wide, DirectChannelsLastGrad.supports(ConvGeometry.of(64, 128, 16, 16, 256, 3, 3, 2, 2, 1, 1, 1)), "resnet8x4 128->256");
        assertEquals(wide, DirectChannelsLastGrad.supports(ConvGeometry.of(64, 128, 16, 16, 256, 1, 1, 2, 2, 0, 0, 1)), "its shortcut");
        assertFalse(DirectChannelsLastGrad.supports(ConvGeometry.of(64, 32, 32, 32, 64, 3, 3, 2, 2, 1, 1, 1)), "c = 32");
        assertFalse(DirectChannelsLastGrad.supports(ConvGeometry.of(64, 64, 15, 16, 128, 3, 3, 2, 2, 1, 1, 1)), "odd height");
        assertFalse(DirectChannelsLastGrad.supports(ConvGeometry.of(64, 64, 32, 32, 128, 1, 1, 2, 2, 0, 0, 1)), "1x1 to 16x16");
        assertFalse(DirectChannelsLastGrad.supports(ConvGeometry.of(1, 128, 16, 16, 256, 3, 3, 2, 2, 1, 1, 1)), "one image");
        assertFalse(DirectChannelsLastGrad.supports(ConvGeometry.of(64, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1)), "stride 1");
    }
}
