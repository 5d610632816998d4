package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.stablekd.testing.Close.assertClose;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ReduceKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** CpuReduce against the double-accumulating ref: tails, multi-chunk sums, accuracy, determinism. */
class CpuReduceTest {
    private final ReduceKernels cpu = Backends.cpu().reduce();
    private final ReduceKernels ref = Backends.ref().reduce();

    @Test
    void sumMatchesRefForEverySize() {
        for (int n : new int[] {1, 15, 16, 17, 63, 64, 65, 1000, 4097, 70_001, 300_007}) {
            try (Scope s = Scope.open()) {
                Tensor x = Data.normal(n, 1, n);
                Tensor got = Tensor.empty(DType.F32, Shape.scalar()), want = Tensor.empty(DType.F32, Shape.scalar());
                cpu.sum(x, got);
                ref.sum(x, want);
                assertClose(got, want, Tolerance.F32_VS_REF, "sum n=" + n);
            }
        }
    }

    @Test
    void longSumOfSmallPositiveValuesStaysAccurate() {
        // a float running sum this long loses low bits at every step; blocked float + double does not
        try (Scope s = Scope.open()) {
            int n = 2_000_000;
            Tensor x = Data.uniform(3, 0.05, 0.15, n);
            Tensor got = Tensor.empty(DType.F32, Shape.scalar()), want = Tensor.empty(DType.F32, Shape.scalar());
            cpu.sum(x, got);
            ref.sum(x, want);
            assertClose(got, want, Tolerance.F32_VS_REF, "sum of 2M values");
        }
    }

    @Test
    void sumIsDeterministic() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(9, 1, 500_001);
            Tensor a = Tensor.empty(DType.F32, Shape.scalar()), b = Tensor.empty(DType.F32, Shape.scalar());
            cpu.sum(x, a);
            cpu.sum(x, b);
            assertEquals(Float.floatToRawIntBits((float) a.item()), Float.floatToRawIntBits((float) b.item()), "two runs differ");
        }
    }

    @Test
    void sumRowsMatchesRef() {
        int[][] shapes = {{1, 1}, {3, 17}, {64, 100}, {300, 33}, {1000, 15}, {5, 16}, {2, 1003}, {130, 257}};
        for (int[] sh : shapes) {
            try (Scope s = Scope.open()) {
                Tensor x = Data.normal(sh[0] * 31L + sh[1], 1, sh);
                Tensor got = Tensor.empty(DType.F32, sh[1]), want = Tensor.empty(DType.F32, sh[1]);
                cpu.sumRows(x, got);
                ref.sumRows(x, want);
                assertClose(got, want, Tolerance.F32_VS_REF, "sumRows " + sh[0] + "x" + sh[1]);
            }
        }
    }
}
