package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.SoftmaxLossKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** CpuSoftmaxLoss against the ref: every row width, temperatures, large logits, label checks. */
class CpuSoftmaxLossTest {
    private final SoftmaxLossKernels cpu = Backends.cpu().softmaxLoss();
    private final SoftmaxLossKernels ref = Backends.ref().softmaxLoss();

    private static final int[] COLS = {1, 10, 15, 16, 17, 33, 100, 1000, 1003};

    private static Tensor scalar(double v) {
        return Tensor.scalar(DType.F32, v);
    }

    private static Tensor labels(long seed, int rows, int classes) {
        Rng rng = new Rng(seed);
        Tensor t = Tensor.empty(DType.I32, rows);
        for (int i = 0; i < rows; i++) t.setFlat(i, rng.nextInt(classes));
        return t;
    }

    @Test
    void softmaxAndLogSoftmaxForwardAndBackward() {
        for (int cols : COLS) {
            for (double temp : new double[] {1, 4, 0.5}) {
                try (Scope s = Scope.open()) {
                    // std 8: logits far apart, the max subtraction matters
                    Tensor x = Data.normal(cols, 8, 7, cols), dy = Data.normal(cols + 1, 1, 7, cols);
                    for (boolean log : new boolean[] {false, true}) {
                        String what = (log ? "log_softmax" : "softmax") + " cols=" + cols + " T=" + temp;
                        Tensor y = Tensor.emptyLike(x), yr = Tensor.emptyLike(x);
                        cpu.softmax(x, temp, log, y);
                        ref.softmax(x, temp, log, yr);
                        assertClose(y, yr, Tolerance.F32_VS_REF, what);
                        Tensor dx = Tensor.emptyLike(x), dxr = Tensor.emptyLike(x);
                        cpu.softmaxBackward(yr, dy, temp, log, dx);
                        ref.softmaxBackward(yr, dy, temp, log, dxr);
                        assertClose(dx, dxr, Tolerance.F32_VS_REF, what + " backward");
                    }
                }
            }
        }
    }

    @Test
    void softmaxOfHugeLogitsDoesNotOverflow() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1000, 999, -1000, 0, 100, 100, -100, 3}, 2, 4); // exp(100) overflows float
            Tensor y = Tensor.emptyLike(x), yr = Tensor.emptyLike(x);
            cpu.softmax(x, 1, false, y);
            ref.softmax(x, 1, false, yr);
            assertClose(y, yr, Tolerance.F32_VS_REF, "huge logits");
            for (double v : y.toDoubleArray()) assertTrue(Double.isFinite(v), "finite " + v);
        }
    }

    @Test
    void softmaxInPlace() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(1, 3, 5, 37), want = Tensor.emptyLike(x);
            ref.softmax(x, 2, false, want);
            cpu.softmax(x, 2, false, x);
            assertClose(x, want, Tolerance.F32_VS_REF, "softmax y==x");
        }
    }

    @Test
    void crossEntropyWithAndWithoutSmoothing() {
        for (int cols : COLS) {
            for (double eps : new double[] {0, 0.1, 1}) {
                try (Scope s = Scope.open()) {
                    int rows = 64;
                    Tensor x = Data.normal(cols * 3L, 4, rows, cols), l = labels(cols, rows, cols);
                    Tensor loss = scalar(0), lossr = scalar(0);
                    cpu.crossEntropy(x, l, eps, loss);
                    ref.crossEntropy(x, l, eps, lossr);
                    String what = "cross_entropy cols=" + cols + " eps=" + eps;
                    assertClose(loss, lossr, Tolerance.F32_VS_REF, what);
                    Tensor g = scalar(0.7), d = Tensor.emptyLike(x), dr = Tensor.emptyLike(x);
                    cpu.crossEntropyBackward(x, l, eps, g, d);
                    ref.crossEntropyBackward(x, l, eps, g, dr);
                    assertClose(d, dr, Tolerance.F32_VS_REF, what + " backward");
                }
            }
        }
    }

    @Test
    void confidentCrossEntropyGradientKeepsItsSmallEntries() {
        try (Scope s = Scope.open()) {
            // p(label) ≈ 1 − 1e-6: the gradient at the label is a small difference
            Tensor x = Tensor.of(new float[] {14, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1, 10);
            Tensor l = Tensor.ofInts(new int[] {0}, 1);
            Tensor d = Tensor.emptyLike(x), dr = Tensor.emptyLike(x);
            cpu.crossEntropyBackward(x, l, 0, scalar(1), d);
            ref.crossEntropyBackward(x, l, 0, scalar(1), dr);
            assertClose(d, dr, Tolerance.F32_RELATIVE, "tiny gradients, relative");
        }
    }

    @Test
    void labelsOutOfRangeAreAClearError() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(1, 1, 4, 10);
            Tensor bad = Tensor.ofInts(new int[] {1, 2, 3, 12}, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> cpu.crossEntropy(x, bad, 0, scalar(0)));
            assertTrue(e.getMessage().contains("label 12 at row 3 is outside [0, 10)"), e.getMessage());
            Tensor negative = Tensor.ofInts(new int[] {-1, 2, 3, 4}, 4);
            var e2 = assertThrows(IllegalArgumentException.class,
                    () -> cpu.crossEntropyBackward(x, negative, 0, scalar(1), Tensor.emptyLike(x)));
            assertTrue(e2.getMessage().contains("label -1 at row 0"), e2.getMessage());
        }
    }

    @Test
    void kdLossAndItsGradientsForStudentAndTeacher() {
        for (int cols : COLS) {
            for (double tau : new double[] {1, 4}) {
                try (Scope s = Scope.open()) {
                    int rows = 64;
                    Tensor st = Data.normal(cols, 3, rows, cols), te = Data.normal(cols + 7, 5, rows, cols);
                    Tensor loss = scalar(0), lossr = scalar(0);
                    cpu.kdLoss(st, te, tau, loss);
                    ref.kdLoss(st, te, tau, lossr);
                    String what = "kd cols=" + cols + " tau=" + tau;
                    assertClose(loss, lossr, Tolerance.F32_VS_REF, what);
                    Tensor g = scalar(1.3);
                    for (int mask = 1; mask < 4; mask++) {
                        Tensor ds = (mask & 1) != 0 ? Tensor.emptyLike(st) : null, dt = (mask & 2) != 0 ? Tensor.emptyLike(st) : null;
                        Tensor dsr = Tensor.emptyLike(st), dtr = Tensor.emptyLike(st);
                        cpu.kdLossBackward(st, te, tau, g, ds, dt);
                        ref.kdLossBackward(st, te, tau, g, dsr, dtr);
                        if (ds != null) assertClose(ds, dsr, Tolerance.F32_VS_REF, what + " dStudent");
                        if (dt != null) assertClose(dt, dtr, Tolerance.F32_VS_REF, what + " dTeacher");
                    }
                }
            }
        }
    }

    @Test
    void kdCrossEntropyAndItsStudentGradient() {
        for (int cols : COLS) {
            for (int rows : new int[] {5, 300}) {       // 300 rows of 1000: split over threads
                try (Scope s = Scope.open()) {
                    Tensor st = Data.normal(cols + 1, 3, rows, cols), te = Data.normal(cols + 8, 5, rows, cols), l = labels(cols, rows, cols);
                    Tensor loss = scalar(0), lossr = scalar(0);
                    cpu.kdCrossEntropy(st, te, l, 4, 0.1, 0.9, loss);
                    ref.kdCrossEntropy(st, te, l, 4, 0.1, 0.9, lossr);
                    String what = "kd_ce cols=" + cols + " rows=" + rows;
                    assertClose(loss, lossr, Tolerance.F32_VS_REF, what);
                    Tensor d = Tensor.emptyLike(st), dr = Tensor.emptyLike(st);
                    cpu.kdCrossEntropyBackward(st, te, l, 4, 0.1, 0.9, scalar(0.7), d);
                    ref.kdCrossEntropyBackward(st, te, l, 4, 0.1, 0.9, scalar(0.7), dr);
                    assertClose(d, dr, Tolerance.F32_VS_REF, what + " dS");
                }
            }
        }
    }

    @Test
    void kdLossOfIdenticalLogitsIsZero() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(3, 6, 16, 100);
            Tensor loss = scalar(1);
            cpu.kdLoss(x, x, 4, loss);
            assertClose(loss, scalar(0), Tolerance.F32_VS_REF, "KL(p ‖ p)");
        }
    }

    @Test
    void lossesAreDeterministic() {
        try (Scope s = Scope.open()) {
            Tensor a = Data.normal(1, 1, 256, 1000), b = Data.normal(2, 1, 256, 1000);
            Tensor l = labels(3, 256, 1000);
            float[] first = new float[3], second = new float[3];
            for (float[] out : new float[][] {first, second}) {
                Tensor loss = Tensor.empty(DType.F32, Shape.scalar());
                cpu.kdLoss(a, b, 4, loss);
                out[0] = (float) loss.item();
                cpu.crossEntropy(a, l, 0.1, loss);
                out[1] = (float) loss.item();
                cpu.kdCrossEntropy(a, b, l, 4, 0.1, 0.9, loss);
                out[2] = (float) loss.item();
            }
            for (int i = 0; i < 3; i++) assertEquals(Float.floatToRawIntBits(first[i]), Float.floatToRawIntBits(second[i]), "loss " + i);
        }
    }
}
