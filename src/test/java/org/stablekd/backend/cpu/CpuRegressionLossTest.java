package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.stablekd.testing.Close.assertClose;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.RegressionLossKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** CpuRegressionLoss against the ref for every size class (vector tails, several threads), and run twice. */
class CpuRegressionLossTest {
    private final RegressionLossKernels cpu = Backends.cpu().regressionLoss();
    private final RegressionLossKernels ref = Backends.ref().regressionLoss();

    private static Tensor scalar(double v) {
        return Tensor.scalar(DType.F32, v);
    }

    @Test
    void mseForwardAndBackward() {
        for (int n : Data.SIZES) {
            try (Scope s = Scope.open()) {
                Tensor a = Data.normal(n, 1, n), b = Data.normal(n + 1, 1, n);
                Tensor loss = scalar(0), lossr = scalar(0);
                cpu.mse(a, b, loss);
                ref.mse(a, b, lossr);
                assertClose(loss, lossr, Tolerance.F32_VS_REF, "mse n=" + n);
                for (int mask = 1; mask < 4; mask++) {
                    Tensor da = (mask & 1) != 0 ? Tensor.emptyLike(a) : null, db = (mask & 2) != 0 ? Tensor.emptyLike(a) : null;
                    Tensor dar = Tensor.emptyLike(a), dbr = Tensor.emptyLike(a);
                    cpu.mseBackward(a, b, scalar(0.9), da, db);
                    ref.mseBackward(a, b, scalar(0.9), dar, dbr);
                    if (da != null) assertClose(da, dar, Tolerance.F32_VS_REF, "mse da n=" + n);
                    if (db != null) assertClose(db, dbr, Tolerance.F32_VS_REF, "mse db n=" + n);
                }
            }
        }
    }

    @Test
    void mseIsDeterministic() {
        try (Scope s = Scope.open()) {
            Tensor a = Data.normal(1, 1, 256, 1000), b = Data.normal(2, 1, 256, 1000);
            Tensor first = scalar(0), second = scalar(0);
            cpu.mse(a, b, first);
            cpu.mse(a, b, second);
            assertEquals(Float.floatToRawIntBits((float) first.item()), Float.floatToRawIntBits((float) second.item()));
        }
    }
}
