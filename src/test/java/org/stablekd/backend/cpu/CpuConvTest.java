package org.stablekd.backend.cpu;


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
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * The CPU convolution (forward, input gradient, weight and bias gradient) against the ref oracle
 * over many geometries: odd sizes and vector tails, strides, asymmetric padding, groups,
 * depthwise, 1×1 and 7×7, and every distinct layer of resnet20 and resnet8x4 at batch 2.
 * Inputs are scaled like a trained layer's (weights ~ 1/√fan-in, dy ~ 1/√outputs) so sums stay O(1).
 */
class CpuConvTest {

    /** name, geometry (n, c, h, w, k, r, s, strideH, strideW, padH, padW, groups), with bias. */
    record Case(String name, ConvGeometry g, boolean bias) {
        @Override public String toString() { return name + " " + g; }
    }

    static Case c(String name, int n, int c, int h, int w, int k, int r, int s, int sh, int sw, int ph, int pw, int groups, boolean bias) {
        return new Case(name, ConvGeometry.of(n, c, h, w, k, r, s, sh, sw, ph, pw, groups), bias);
    }

    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        // small and odd
        cs.add(c("1x1x1 pixel", 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, true));
        cs.add(c("3x3 odd", 2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, true));
        cs.add(c("3x3 tails w=37", 2, 3, 5, 37, 4, 3, 3, 1, 1, 1, 1, 1, false));
        cs.add(c("3x3 no pad", 3, 4, 9, 11, 6, 3, 3, 1, 1, 0, 0, 1, true));
        cs.add(c("3x3 s2", 2, 4, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1, false));
        cs.add(c("3x3 stride (2,1)", 2, 3, 9, 10, 5, 3, 3, 2, 1, 1, 1, 1, true));
        cs.add(c("3x1 pad (2,0)", 2, 3, 6, 5, 2, 3, 1, 1, 1, 2, 0, 1, false));
        cs.add(c("1x3 pad (0,1) s(1,3)", 2, 3, 6, 10, 4, 1, 3, 1, 3, 0, 1, 1, true));
        cs.add(c("5x5 pad 2", 1, 2, 11, 13, 3, 5, 5, 1, 1, 2, 2, 1, true));
        cs.add(c("7x7 s2 p3", 1, 3, 19, 17, 4, 7, 7, 2, 2, 3, 3, 1, false));
        cs.add(c("7x7 s2 p3 224-ish stem", 1, 3, 45, 45, 8, 7, 7, 2, 2, 3, 3, 1, true));
        cs.add(c("kernel = image", 2, 3, 4, 5, 6, 4, 5, 1, 1, 0, 0, 1, true));
        cs.add(c("1x1", 3, 8, 5, 6, 7, 1, 1, 1, 1, 0, 0, 1, false));
        cs.add(c("1x1 bias k=1", 2, 5, 3, 3, 1, 1, 1, 1, 1, 0, 0, 1, true));
        cs.add(c("1x1 s2", 2, 6, 7, 7, 4, 1, 1, 2, 2, 0, 0, 1, true));
        cs.add(c("1x1 pad 1", 2, 3, 4, 4, 5, 1, 1, 1, 1, 1, 1, 1, false));
        // wide enough for the direct (no im2col) stride-1 weight gradient: tails, groups, bias, no padding
        cs.add(c("direct wgrad groups=2 bias", 2, 4, 20, 30, 6, 3, 3, 1, 1, 1, 1, 2, true));
        cs.add(c("direct wgrad 5x5 pad (2,1) tail", 1, 3, 18, 40, 5, 5, 5, 1, 1, 2, 1, 1, true));
        cs.add(c("direct wgrad no padding", 3, 3, 20, 40, 4, 3, 3, 1, 1, 0, 0, 1, true));
        cs.add(c("batch 5 (uneven thread split)", 5, 4, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, true));
        // groups and depthwise
        cs.add(c("groups=2 3x3", 2, 4, 6, 5, 6, 3, 3, 1, 1, 1, 1, 2, false));
        cs.add(c("groups=3 1x1", 1, 6, 5, 5, 9, 1, 1, 1, 1, 0, 0, 3, true));
        cs.add(c("groups=3 shufflenet-like 1x1", 2, 24, 8, 8, 12, 1, 1, 1, 1, 0, 0, 3, false));
        cs.add(c("groups=c, k=2c (multiplier)", 2, 4, 7, 7, 8, 3, 3, 1, 1, 1, 1, 4, true));
        cs.add(c("depthwise 3x3 s1", 2, 5, 8, 7, 5, 3, 3, 1, 1, 1, 1, 5, false));
        cs.add(c("depthwise 3x3 s2 bias", 2, 5, 9, 8, 5, 3, 3, 2, 2, 1, 1, 5, true));
        cs.add(c("depthwise 3x3 s1 wide (tails)", 2, 3, 6, 37, 3, 3, 3, 1, 1, 1, 1, 3, true));
        cs.add(c("depthwise 5x5 s2 p2", 1, 4, 13, 21, 4, 5, 5, 2, 2, 2, 2, 4, false));
        cs.add(c("depthwise 3x3 stride (1,2) pad (0,1)", 2, 3, 7, 9, 3, 3, 3, 1, 2, 0, 1, 3, true));
        cs.add(c("depthwise mobilenet 48ch 16x16 s2", 2, 48, 16, 16, 48, 3, 3, 2, 2, 1, 1, 48, false));
        // small planes (p·q <= 64) run channels-last: channel blocks with a tail, bias, stride, 1x1 pixels
        cs.add(c("depthwise small planes 40ch 4x4 bias", 3, 40, 4, 4, 40, 3, 3, 1, 1, 1, 1, 40, true));
        cs.add(c("depthwise small planes 21ch 8x8 s2", 2, 21, 8, 8, 21, 3, 3, 2, 2, 1, 1, 21, false));
        cs.add(c("depthwise small planes 17ch 2x2", 1, 17, 2, 2, 17, 3, 3, 1, 1, 1, 1, 17, true));
        // DepthwiseFlat: packed planes (2x2: 4 a vector; c a multiple and not), whole-plane vectors with tails, gathers (strides, no pad), batches
        cs.add(c("depthwise flat packed 2x2 480ch", 1, 480, 2, 2, 480, 3, 3, 1, 1, 1, 1, 480, true));
        cs.add(c("depthwise flat packed 2x2 batch 3 of 8ch", 3, 8, 2, 2, 8, 3, 3, 1, 1, 1, 1, 8, true));
        cs.add(c("depthwise flat packed 1x2 s2 from 2x4", 2, 8, 2, 4, 8, 3, 3, 2, 2, 1, 1, 8, false));
        cs.add(c("depthwise flat 4x4 192ch batch 2", 2, 192, 4, 4, 192, 3, 3, 1, 1, 1, 1, 192, true));
        cs.add(c("depthwise flat 16x16 72ch", 1, 72, 16, 16, 72, 3, 3, 1, 1, 1, 1, 72, true));
        cs.add(c("depthwise rows a vector, odd h, batch 2", 2, 5, 7, 16, 5, 3, 3, 1, 1, 1, 1, 5, true));
        cs.add(c("depthwise rows a vector 1x16", 1, 3, 1, 16, 3, 3, 3, 1, 1, 1, 1, 3, false));
        cs.add(c("depthwise flat 16x16 s2 72ch", 1, 72, 16, 16, 72, 3, 3, 2, 2, 1, 1, 72, true));
        cs.add(c("depthwise flat 4x4 s2 288ch", 1, 288, 4, 4, 288, 3, 3, 2, 2, 1, 1, 288, false));
        cs.add(c("depthwise flat split packed 4x4 s2 batch 3 of 8ch", 3, 8, 4, 4, 8, 3, 3, 2, 2, 1, 1, 8, true));
        cs.add(c("depthwise flat split 32x32 s2 5ch (half rows a vector)", 2, 5, 32, 32, 5, 3, 3, 2, 2, 1, 1, 5, true));
        cs.add(c("depthwise flat split 8x8 s2 batch 2 of 12ch", 2, 12, 8, 8, 12, 3, 3, 2, 2, 1, 1, 12, false));
        cs.add(c("depthwise flat 5x7 odd tails", 2, 6, 5, 7, 6, 3, 3, 1, 1, 1, 1, 6, true));
        cs.add(c("depthwise flat 13x11 s2 no pad", 1, 5, 13, 11, 5, 3, 3, 2, 2, 0, 0, 5, true));
        cs.add(c("depthwise flat 9x9 5x5 pad 2", 2, 3, 9, 9, 3, 5, 5, 1, 1, 2, 2, 3, false));
        cs.add(c("depthwise flat 3x3 planes s1", 3, 7, 3, 3, 7, 3, 3, 1, 1, 1, 1, 7, true));
        // PointwiseConvPlanes: 1x1 straight from the planes (at least a vector of pixels; channel and pixel tails)
        cs.add(c("1x1 planes 48->288 4x4 bias", 1, 48, 4, 4, 288, 1, 1, 1, 1, 0, 0, 1, true));
        cs.add(c("1x1 planes 72->12 16x16", 1, 72, 16, 16, 12, 1, 1, 1, 1, 0, 0, 1, false));
        cs.add(c("1x1 planes 13->7 5x7 batch 3 bias", 3, 13, 5, 7, 7, 1, 1, 1, 1, 0, 0, 1, true));
        cs.add(c("1x1 planes 5->9 4x5 batch 2", 2, 5, 4, 5, 9, 1, 1, 1, 1, 0, 0, 1, false));
        // 1x1 over at most 16 pixels in all: vectorized across output channels (tails of the 4-pixel and 32-channel tiles)
        cs.add(c("1x1 small 160->1280 2x2 bias", 1, 160, 2, 2, 1280, 1, 1, 1, 1, 0, 0, 1, true));
        cs.add(c("1x1 small 7->45 batch 3 of 2x2", 3, 7, 2, 2, 45, 1, 1, 1, 1, 0, 0, 1, false));
        cs.add(c("1x1 small 33->20 1x3", 2, 33, 1, 3, 20, 1, 1, 1, 1, 0, 0, 1, true));
        // resnet20 (CIFAR): every distinct layer, batch 2
        cs.add(c("resnet20 stem 3->16", 2, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, false));
        cs.add(c("resnet20 16->16", 2, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, false));
        cs.add(c("resnet20 16->32 s2", 2, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1, false));
        cs.add(c("resnet20 1x1 16->32 s2", 2, 16, 32, 32, 32, 1, 1, 2, 2, 0, 0, 1, false));
        cs.add(c("resnet20 32->32", 2, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, false));
        cs.add(c("resnet20 32->64 s2", 2, 32, 16, 16, 64, 3, 3, 2, 2, 1, 1, 1, false));
        cs.add(c("resnet20 1x1 32->64 s2", 2, 32, 16, 16, 64, 1, 1, 2, 2, 0, 0, 1, false));
        cs.add(c("resnet20 64->64", 2, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, false));
        // resnet8x4: every distinct layer, batch 2
        cs.add(c("resnet8x4 stem 3->32", 2, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, false));
        cs.add(c("resnet8x4 32->64", 2, 32, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, false));
        cs.add(c("resnet8x4 1x1 32->64", 2, 32, 32, 32, 64, 1, 1, 1, 1, 0, 0, 1, false));
        cs.add(c("resnet8x4 64->64", 2, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, false));
        cs.add(c("resnet8x4 64->128 s2", 2, 64, 32, 32, 128, 3, 3, 2, 2, 1, 1, 1, false));
        cs.add(c("resnet8x4 1x1 64->128 s2", 2, 64, 32, 32, 128, 1, 1, 2, 2, 0, 0, 1, false));
        cs.add(c("resnet8x4 128->128", 2, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, 1, false));
        cs.add(c("resnet8x4 128->256 s2", 2, 128, 16, 16, 256, 3, 3, 2, 2, 1, 1, 1, false));
        cs.add(c("resnet8x4 1x1 128->256 s2", 2, 128, 16, 16, 256, 1, 1, 2, 2, 0, 0, 1, false));
        cs.add(c("resnet8x4 256->256", 1, 256, 8, 8, 256, 3, 3, 1, 1, 1, 1, 1, false));
        return cs.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesRef(Case tc) {
        ConvGeometry g = tc.g();
        ConvKernels cpu = CpuBackend.INSTANCE.conv(), ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode());
            double wScale = 1 / Math.sqrt(g.cPerGroup() * g.r() * g.s());
            double dyScale = 1 / Math.sqrt((double) g.n() * g.p() * g.q());
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.c(), g.h(), g.w());
            Tensor w = Tensor.uniform(rng, DType.F32, -wScale, wScale, g.k(), g.cPerGroup(), g.r(), g.s());
            Tensor bias = tc.bias() ? Tensor.uniform(rng, DType.F32, -1, 1, g.k()) : null;
            Tensor dy = Tensor.uniform(rng, DType.F32, -dyScale, dyScale, g.n(), g.k(), g.p(), g.q());
            Shape yShape = Shape.of(g.n(), g.k(), g.p(), g.q()), xShape = Shape.of(g.n(), g.c(), g.h(), g.w());
            Shape wShape = Shape.of(g.k(), g.cPerGroup(), g.r(), g.s());

            Tensor yRef = Tensor.empty(DType.F32, yShape), y = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.p(), g.q());
            ref.forward(g, x, w, bias, yRef);
            cpu.forward(g, x, w, bias, y);
            Close.assertClose(y, yRef, Tolerance.F32_VS_REF, "forward " + tc);

            // the inference forward with the ReLU fused (a folded conv → BatchNorm → ReLU) against ref's forward, then max(0, ·)
            Tensor yRelu = Tensor.full(DType.F32, Double.NaN, g.n(), g.k(), g.p(), g.q()), yRefRelu = Tensor.empty(DType.F32, yShape);
            for (long e = 0; e < yRef.numel(); e++) yRefRelu.setFlat(e, Math.max(yRef.getFlat(e), 0));
            cpu.forwardRelu(g, x, w, bias, yRelu);
            Close.assertClose(yRelu, yRefRelu, Tolerance.F32_VS_REF, "forwardRelu " + tc);

            Tensor dxRef = Tensor.empty(DType.F32, xShape), dx = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
            ref.backwardInput(g, dy, w, dxRef);
            cpu.backwardInput(g, dy, w, dx);
            Close.assertClose(dx, dxRef, Tolerance.F32_VS_REF, "backwardInput " + tc);

            Tensor dwRef = Tensor.empty(DType.F32, wShape), dw = Tensor.full(DType.F32, Double.NaN, g.k(), g.cPerGroup(), g.r(), g.s());
            Tensor dbRef = tc.bias() ? Tensor.empty(DType.F32, g.k()) : null, db = tc.bias() ? Tensor.full(DType.F32, Double.NaN, g.k()) : null;
            ref.backwardWeight(g, x, dy, dwRef, dbRef);
            cpu.backwardWeight(g, x, dy, dw, db);
            Close.assertClose(dw, dwRef, Tolerance.F32_VS_REF, "backwardWeight " + tc);
            if (tc.bias()) Close.assertClose(db, dbRef, Tolerance.F32_VS_REF, "backwardBias " + tc);
        }
    }

    /** Tensors at a non-zero storage offset (kernels must honour Tensor.offset()). */
    @Test
    void offsetsInStorage() {
        ConvGeometry g = ConvGeometry.of(2, 4, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1);
        ConvKernels cpu = CpuBackend.INSTANCE.conv(), ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(5);
            Tensor x = shifted(Tensor.uniform(rng, DType.F32, -1, 1, 2, 4, 6, 7));
            Tensor w = shifted(Tensor.uniform(rng, DType.F32, -0.3, 0.3, 6, 4, 3, 3));
            Tensor y = shifted(Tensor.zeros(DType.F32, 2, 6, 6, 7)), yRef = Tensor.zeros(DType.F32, 2, 6, 6, 7);
            ref.forward(g, x, w, null, yRef);
            cpu.forward(g, x, w, null, y);
            Close.assertClose(y, yRef, Tolerance.F32_VS_REF, "forward at offsets");
        }
    }

    /** Same inputs, same bits, call after call (Note [Determinism]): the im2row path and the direct path. */
    @ParameterizedTest(name = "h=w={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {10, 32})
    void weightGradientIsDeterministic(int size) {
        ConvGeometry g = ConvGeometry.of(7, 8, size, size, 8, 3, 3, 1, 1, 1, 1, 1);
        ConvKernels cpu = CpuBackend.INSTANCE.conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(9);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 7, 8, size, size);
            Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, 7, 8, size, size);
            float[] first = null;
            for (int round = 0; round < 5; round++) {
                Tensor dw = Tensor.empty(DType.F32, 8, 8, 3, 3), db = Tensor.empty(DType.F32, 8);
                cpu.backwardWeight(g, x, dy, dw, db);
                float[] now = concat(dw.toFloatArray(), db.toFloatArray());
                if (first == null) first = now;
                else Close.assertBitIdentical(first, now, "round " + round);
            }
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = new float[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A contiguous copy of t that starts 3 elements into its storage. */
    private static Tensor shifted(Tensor t) {
        Tensor big = Tensor.zeros(DType.F32, (int) t.numel() + 3);
        Tensor view = big.narrowView(0, 3, (int) t.numel()).viewAs(t.shape().dims());
        for (long e = 0; e < t.numel(); e++) view.setFlat(e, t.getFlat(e));
        return view;
    }
}
