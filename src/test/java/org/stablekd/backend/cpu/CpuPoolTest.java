package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.PoolGeometry;
import org.stablekd.backend.PoolKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** CpuPool against the ref over many window geometries, PyTorch's tie and NaN rules for max pooling. */
class CpuPoolTest {
    private final PoolKernels cpu = Backends.cpu().pool();
    private final PoolKernels ref = Backends.ref().pool();

    /** Kernel 1..4, stride 1..3, padding up to half the kernel, floor and ceil, on odd and even planes. */
    private static Iterable<PoolGeometry> geometries(int n, int c) {
        java.util.List<PoolGeometry> gs = new java.util.ArrayList<>();
        int[][] planes = {{8, 8}, {9, 7}, {5, 11}, {32, 32}, {1, 1}, {3, 3}, {4, 45}}; // 45: rows of several vectors plus a tail
        for (int[] hw : planes)
            for (int k = 1; k <= 4; k++)
                for (int s = 1; s <= 3; s++)
                    for (int p = 0; 2 * p <= k; p++)
                        for (boolean ceil : new boolean[] {false, true}) {
                            PoolGeometry g = PoolGeometry.of(n, c, hw[0], hw[1], k, k, s, s, p, p, ceil);
                            if (g.p() >= 1 && g.q() >= 1) gs.add(g);
                        }
        return gs;
    }

    /** Integer-valued inputs so windows hold ties (the first maximum must win). */
    private static Tensor withTies(long seed, int... dims) {
        Rng rng = new Rng(seed);
        Tensor t = Tensor.empty(DType.F32, dims);
        for (long e = 0; e < t.numel(); e++) t.setFlat(e, rng.nextInt(5) - 2);
        return t;
    }

    @Test
    void maxPoolForwardAndBackwardMatchRef() {
        try (Scope s = Scope.open()) {
            for (PoolGeometry g : geometries(2, 3)) {
                Tensor x = withTies(g.h() * 131L + g.w(), g.n(), g.c(), g.h(), g.w());
                Tensor y = Tensor.empty(DType.F32, g.n(), g.c(), g.p(), g.q()), yr = Tensor.emptyLike(y);
                Tensor am = Tensor.empty(DType.I32, g.n(), g.c(), g.p(), g.q()), amr = Tensor.emptyLike(am);
                cpu.maxForward(g, x, y, am);
                ref.maxForward(g, x, yr, amr);
                assertClose(y, yr, Tolerance.EXACT, "max forward " + g);
                assertArrayEquals(amr.toIntArray(), am.toIntArray(), "argmax " + g);
                Tensor dy = Data.normal(3, 1, g.n(), g.c(), g.p(), g.q());
                Tensor dx = Tensor.emptyLike(x), dxr = Tensor.emptyLike(x);
                cpu.maxBackward(g, dy, am, dx);
                ref.maxBackward(g, dy, amr, dxr);
                assertClose(dx, dxr, Tolerance.EXACT, "max backward " + g);
            }
        }
    }

    @Test
    void maxPoolPropagatesNaNAndPointsAtTheLastNaN() {
        try (Scope s = Scope.open()) {
            // one 4x4 plane, 2x2 windows: window (0,0) holds a NaN, window (0,1) two NaNs, window (1,1) a tie
            float nan = Float.NaN;
            Tensor x = Tensor.of(new float[] {
                    1, nan, 2, nan,
                    3, 0, nan, 1,
                    -1, -2, 5, 5,
                    -3, -1, 5, 4}, 1, 1, 4, 4);
            PoolGeometry g = PoolGeometry.of(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, false);
            Tensor y = Tensor.empty(DType.F32, 1, 1, 2, 2), am = Tensor.empty(DType.I32, 1, 1, 2, 2);
            cpu.maxForward(g, x, y, am);
            assertTrue(Double.isNaN(y.getFlat(0)), "NaN propagates");
            assertTrue(Double.isNaN(y.getFlat(1)), "NaN propagates");
            assertEquals(-1.0, y.getFlat(2));
            assertEquals(5.0, y.getFlat(3));
            assertArrayEquals(new int[] {1, 6, 8, 10}, am.toIntArray(), "argmax: the NaN, the last NaN, the first max, the first of a tie");
            Tensor amr = Tensor.emptyLike(am);
            ref.maxForward(g, x, Tensor.emptyLike(y), amr);
            assertArrayEquals(amr.toIntArray(), am.toIntArray(), "same as ref");
        }
    }

    @Test
    void maxPoolOfAllMinusInfinityPointsAtTheFirstElementInTheWindow() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.full(DType.F32, Double.NEGATIVE_INFINITY, 1, 1, 5, 5);
            PoolGeometry g = PoolGeometry.of(1, 1, 5, 5, 3, 3, 2, 2, 1, 1, true);
            Tensor y = Tensor.empty(DType.F32, 1, 1, g.p(), g.q()), am = Tensor.empty(DType.I32, 1, 1, g.p(), g.q());
            Tensor amr = Tensor.emptyLike(am);
            cpu.maxForward(g, x, y, am);
            ref.maxForward(g, x, Tensor.emptyLike(y), amr);
            assertArrayEquals(amr.toIntArray(), am.toIntArray());
        }
    }

    @Test
    void avgPoolForwardAndBackwardMatchRef() {
        try (Scope s = Scope.open()) {
            for (PoolGeometry g : geometries(2, 3)) {
                Tensor x = Data.normal(g.h() * 7L + g.w(), 1, g.n(), g.c(), g.h(), g.w());
                Tensor y = Tensor.empty(DType.F32, g.n(), g.c(), g.p(), g.q()), yr = Tensor.emptyLike(y);
                cpu.avgForward(g, x, y);
                ref.avgForward(g, x, yr);
                assertClose(y, yr, Tolerance.F32_VS_REF, "avg forward " + g);
                Tensor dy = Data.normal(5, 1, g.n(), g.c(), g.p(), g.q());
                Tensor dx = Tensor.emptyLike(x), dxr = Tensor.emptyLike(x);
                cpu.avgBackward(g, dy, dx);
                ref.avgBackward(g, dy, dxr);
                assertClose(dx, dxr, Tolerance.F32_VS_REF, "avg backward " + g);
            }
        }
    }

    @Test
    void globalAvgPoolMatchesRefForEveryPlaneSize() {
        try (Scope s = Scope.open()) {
            for (int[] hw : new int[][] {{1, 1}, {3, 5}, {4, 4}, {1, 17}, {8, 8}, {32, 32}, {56, 56}}) {
                Tensor x = Data.normal(hw[0] * 100L + hw[1], 1, 64, 5, hw[0], hw[1]);
                Tensor y = Tensor.empty(DType.F32, 64, 5), yr = Tensor.emptyLike(y);
                cpu.globalAvgForward(x, y);
                ref.globalAvgForward(x, yr);
                assertClose(y, yr, Tolerance.F32_VS_REF, "global avg forward " + hw[0] + "x" + hw[1]);
                Tensor dx = Tensor.emptyLike(x), dxr = Tensor.emptyLike(x);
                cpu.globalAvgBackward(y, dx);
                ref.globalAvgBackward(y, dxr);
                assertClose(dx, dxr, Tolerance.EXACT, "global avg backward " + hw[0] + "x" + hw[1]);
            }
        }
    }

    @Test
    void poolingIsDeterministicOnManyPlanes() {
        try (Scope s = Scope.open()) {
            PoolGeometry g = PoolGeometry.of(16, 32, 16, 16, 3, 3, 2, 2, 1, 1, false);
            Tensor x = Data.normal(1, 1, 16, 32, 16, 16), dy = Data.normal(2, 1, 16, 32, g.p(), g.q());
            Tensor a = Tensor.emptyLike(x), b = Tensor.emptyLike(x);
            cpu.avgBackward(g, dy, a);
            cpu.avgBackward(g, dy, b);
            Close.assertBitIdentical(a.toFloatArray(), b.toFloatArray());
        }
    }
}
