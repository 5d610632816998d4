package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
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
 * The shared-padding grid convolution ({@link GridConv}) against the ref oracle where its own
 * cuts show: batches that make multi-image blocks and uneven thread ranges, a batch smaller than
 * the thread count (pixels split instead of images), channel counts that are not multiples of
 * the register tiles (output channels of {@link GridGemm}, taps and channels of
 * {@link GridWeightGemm}, rows of {@link DotRows}), both weight-gradient kernels, strides with
 * every phase, bias, and the fused backward (both gradients in one pass over dy). CpuConvTest
 * covers the layers of the zoo at batch 2.
 */
class GridConvTest {

    record Case(String name, ConvGeometry g, boolean bias) {
        @Override public String toString() { return name + " " + g; }
    }

    static Case c(String name, int n, int c, int hw, int k, int r, int stride, boolean bias) {
        return new Case(name, ConvGeometry.of(n, c, hw, hw, k, r, r, stride, stride, (r - 1) / 2, (r - 1) / 2, 1), bias);
    }

    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("batch 1 (tiles split over threads)", 1, 5, 12, 7, 3, 1, true));
        cs.add(c("batch 1 strided", 1, 6, 10, 9, 3, 2, false));
        cs.add(c("batch 3 uneven ranges", 3, 4, 9, 10, 3, 1, true));
        cs.add(c("batch 9 8x8 multi-image blocks", 9, 16, 8, 16, 3, 1, false));
        cs.add(c("batch 17 4x4 multi-image blocks, k=33", 17, 12, 4, 33, 3, 1, true));
        cs.add(c("16 to 16 at 32x32 batch 5 (packed dy, blocks of 2 and 1)", 5, 16, 32, 16, 3, 1, true));
        cs.add(c("k=11 c=3 at 16x16 batch 6 (packed dy, a partial panel)", 6, 3, 16, 11, 3, 1, false));
        cs.add(c("k=17 (one past a tile)", 4, 3, 7, 17, 3, 1, false));
        cs.add(c("k=40 c=1 (stem-like)", 5, 1, 11, 40, 3, 1, true));
        cs.add(c("k=64 c=5 (taps not a multiple of 8)", 3, 5, 6, 64, 3, 1, false));
        cs.add(c("1x1 k=31", 4, 7, 5, 31, 1, 1, true));
        cs.add(c("1x1 s2 k=48", 5, 9, 6, 48, 1, 2, false));
        cs.add(c("3x3 s2 2x2 input", 3, 4, 2, 8, 3, 2, true));
        cs.add(c("3x3 s2 k=33", 6, 10, 12, 33, 3, 2, false));
        cs.add(c("3x3 s2 k=16 batch 11", 11, 16, 8, 16, 3, 2, false));
        cs.add(c("3x3 s2 16 to 32 at 32x32 (rows of whole vectors)", 3, 16, 32, 32, 3, 2, true));
        cs.add(c("1x1 s2 16 to 32 at 32x32", 3, 16, 32, 32, 1, 2, false));
        cs.add(c("3x3 s2 at 40x40 (a vector and a tail per row)", 2, 3, 40, 8, 3, 2, false));
        cs.add(c("1x1 s2 at 36x36", 2, 5, 36, 7, 1, 2, true));
        cs.add(c("3x3 s2 at 28x28 (a tail of more than half a vector)", 2, 4, 28, 9, 3, 2, true));
        cs.add(c("1x1 s2 at 28x28", 3, 6, 28, 5, 1, 2, false));
        cs.add(c("1x1 pixel", 7, 3, 1, 20, 3, 1, true));
        return cs.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesRef(Case tc) {
        ConvGeometry g = tc.g();
        assertTrue(GridConv.supports(g), "the grid path must run " + g);
        ConvKernels cpu = CpuBackend.INSTANCE.conv(), ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode());
            double wScale = 1 / Math.sqrt(g.c() * g.r() * g.s());
            double dyScale = 1 / Math.sqrt((double) g.n() * g.p() * g.q());
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.c(), g.h(), g.w());
            Tensor w = Tensor.uniform(rng, DType.F32, -wScale, wScale, g.k(), g.c(), g.r(), g.s());
            Tensor bias = tc.bias() ? Tensor.uniform(rng, DType.F32, -1, 1, g.k()) : null;
            Tensor dy = Tensor.uniform(rng, DType.F32, -dyScale, dyScale, g.n(), g.k(), g.p(), g.q());

            Tensor yRef = Tensor.empty(DType.F32, g.n(), g.k(), g.p(), g.q()), y = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.p(), g.q());
            ref.forward(g, x, w, bias, yRef);
            cpu.forward(g, x, w, bias, y);
            Close.assertClose(y, yRef, Tolerance.F32_VS_REF, "forward " + tc);

            Tensor dxRef = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w()), dx = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
            ref.backwardInput(g, dy, w, dxRef);
            cpu.backwardInput(g, dy, w, dx);
            Close.assertClose(dx, dxRef, Tolerance.F32_VS_REF, "backwardInput " + tc);

            Tensor dwRef = Tensor.empty(DType.F32, g.k(), g.c(), g.r(), g.s()), dw = Tensor.full(DType.F32, Double.NaN, g.k(), g.c(), g.r(), g.s());
            Tensor dbRef = tc.bias() ? Tensor.empty(DType.F32, g.k()) : null, db = tc.bias() ? Tensor.full(DType.F32, Double.NaN, g.k()) : null;
            ref.backwardWeight(g, x, dy, dwRef, dbRef);
            cpu.backwardWeight(g, x, dy, dw, db);
            Close.assertClose(dw, dwRef, Tolerance.F32_VS_REF, "backwardWeight " + tc);
            if (tc.bias()) Close.assertClose(db, dbRef, Tolerance.F32_VS_REF, "backwardBias " + tc);

            // both gradients in one pass (what the derivatives table calls)
            Tensor dx2 = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
            Tensor dw2 = Tensor.full(DType.F32, Double.NaN, g.k(), g.c(), g.r(), g.s());
            Tensor db2 = tc.bias() ? Tensor.full(DType.F32, Double.NaN, g.k()) : null;
            cpu.backward(g, x, dy, w, dx2, dw2, db2);
            Close.assertClose(dx2, dxRef, Tolerance.F32_VS_REF, "fused backward, dx " + tc);
            Close.assertClose(dw2, dwRef, Tolerance.F32_VS_REF, "fused backward, dw " + tc);
            if (tc.bias()) Close.assertClose(db2, dbRef, Tolerance.F32_VS_REF, "fused backward, dbias " + tc);
        }
    }

    /**
     * Under an inference WeightCache the forward packs each weight tensor once and gives the
     * same bits as packing per call, at batch 1 (tiles split) and batch 4 (images split).
     */
    @Test
    void weightCachePacksOnceAndChangesNothing() {
        ConvKernels cpu = CpuBackend.INSTANCE.conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(5);
            Tensor w = Tensor.uniform(rng, DType.F32, -0.2, 0.2, 24, 12, 3, 3);
            Tensor w2 = Tensor.uniform(rng, DType.F32, -0.2, 0.2, 24, 12, 3, 3);
            var cache = new org.stablekd.backend.WeightCache();
            for (int n : new int[] {1, 4}) {
                ConvGeometry g = ConvGeometry.of(n, 12, 10, 10, 24, 3, 3, 1, 1, 1, 1, 1);
                Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, n, 12, 10, 10);
                Tensor want = Tensor.empty(DType.F32, n, 24, 10, 10), got = Tensor.empty(DType.F32, n, 24, 10, 10);
                Tensor want2 = Tensor.empty(DType.F32, n, 24, 10, 10), got2 = Tensor.empty(DType.F32, n, 24, 10, 10);
                cpu.forward(g, x, w, null, want);
                cpu.forward(g, x, w2, null, want2);
                cache.run(() -> {
                    cpu.forward(g, x, w, null, got);
                    cpu.forward(g, x, w2, null, got2);
                });
                Close.assertBitIdentical(want.toFloatArray(), got.toFloatArray(), "batch " + n);
                Close.assertBitIdentical(want2.toFloatArray(), got2.toFloatArray(), "batch " + n + ", second weights");
            }
            assertEquals(2, cache.size(), "one packed copy per weight tensor, reused across calls and batch sizes");
        }
    }

    /** What the grid path takes, and what it leaves to the lowering path. */
    @Test
    void supports() {
        assertTrue(GridConv.supports(ConvGeometry.of(2, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)));
        assertTrue(GridConv.supports(ConvGeometry.of(2, 16, 32, 32, 32, 1, 1, 2, 2, 0, 0, 1)));
        assertFalse(GridConv.supports(ConvGeometry.of(2, 4, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1)), "odd height, stride 2");
        assertFalse(GridConv.supports(ConvGeometry.of(2, 4, 8, 8, 6, 3, 3, 2, 1, 1, 1, 1)), "stride (2,1)");
        assertFalse(GridConv.supports(ConvGeometry.of(2, 4, 8, 8, 6, 3, 3, 1, 1, 0, 0, 1)), "3x3 without padding");
        assertFalse(GridConv.supports(ConvGeometry.of(2, 4, 8, 8, 6, 5, 5, 1, 1, 2, 2, 1)), "5x5");
        assertFalse(GridConv.supports(ConvGeometry.of(2, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 2)), "groups");
        assertFalse(GridConv.supports(ConvGeometry.of(2, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 4)), "depthwise");
    }

    /** Same inputs, same bits, call after call, for both weight-gradient kernels (Note [Determinism]). */
    @ParameterizedTest(name = "k={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {16, 48})
    void weightGradientIsDeterministic(int k) {
        ConvGeometry g = ConvGeometry.of(13, 8, 10, 10, k, 3, 3, 1, 1, 1, 1, 1);
        ConvKernels cpu = CpuBackend.INSTANCE.conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(11);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 13, 8, 10, 10);
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, 13, k, 10, 10);
            float[] first = null;
            for (int round = 0; round < 4; round++) {
                Tensor dw = Tensor.empty(DType.F32, k, 8, 3, 3);
                cpu.backwardWeight(g, x, dy, dw, null);
                float[] now = dw.toFloatArray();
                if (first == null) first = now;
                else Close.assertBitIdentical(first, now, "round " + round);
            }
        }
    }

    /** The grid layout: data where the class comment says, zero everywhere else. */
    @Test
    void gridLayout() {
        int c = 2, h = 3, w = 4, nb = 2, tile = 8;
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.uniform(new Rng(3), DType.F32, 1, 2, 3, c, h, w);   // every value ≥ 1
            int pl = ConvGrid.inputPlane(nb, h, w, tile), ws = ConvGrid.rowStride(w), o = ConvGrid.origin(w);
            float[] grid = new float[c * pl];
            java.util.Arrays.fill(grid, Float.NaN);
            ConvGrid.fillInput(x.segment(), x.offset(), c, h, w, 1, nb, grid, pl);
            int data = 0;
            for (int ci = 0; ci < c; ci++) {
                for (int e = 0; e < pl; e++) {
                    int rel = e - o, b = Math.floorDiv(rel, (h + 1) * ws), inImage = Math.floorMod(rel, (h + 1) * ws);
                    int yy = inImage / ws, xx = inImage % ws;
                    boolean isData = rel >= 0 && b < nb && yy < h && xx < w;
                    float v = grid[ci * pl + e];
                    if (isData) {
                        data++;
                        assertEquals(x.getFlat((((1L + b) * c + ci) * h + yy) * w + xx), v, 0, "element (" + b + "," + ci + "," + yy + "," + xx + ")");
                    } else {
                        assertEquals(0f, v, 0, "padding at plane " + ci + " index " + e);
                    }
                }
            }
            assertEquals(c * nb * h * w, data);
        }
    }
}
