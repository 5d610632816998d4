package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.NormKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * CpuNormChannelsLast against CpuNorm on the same values in NCHW: the training forward (plain,
 * relu, add-relu) and backward (plain, relu-masked), within float tolerances where only the
 * statistics' summation order differs, bit for bit where the sums are exact (integer data), the
 * pivot fallback, and run-to-run bits.
 */
class CpuNormChannelsLastTest {
    private final NormKernels nchw = CpuNorm.kernels();
    private static final int PLAIN = 0, RELU = 1, ADD_RELU = 2;
    private static final String[] VARIANT = {"plain", "relu", "add-relu"};
    private static final String[] TRAIN_OUT = {"y", "saveMean", "saveInvStd", "runMean", "runVar", "affine"};
    private static final String[] GRAD_OUT = {"dx", "dgamma", "dbeta"};

    /** (n, c, h, w): c of one, two and three vectors; 5×7 and 4×4 pixels per image; 1, 3, 8 images (8: two parts on 2 threads). */
    private static final int[][] SHAPES = {{1, 16, 5, 7}, {3, 32, 5, 7}, {8, 48, 5, 7}, {3, 16, 16, 16}, {8, 32, 8, 8}, {8, 16, 32, 32}, {8, 48, 4, 4}};

    // ---------------------------------------------------------------- layout

    private static float[] toNhwc(float[] a, int n, int c, int h, int w) {
        float[] out = new float[a.length];
        int hw = h * w;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < hw; p++) out[((i * hw) + p) * c + ch] = a[(i * c + ch) * hw + p];
        return out;
    }

    private static float[] toNchw(float[] a, int n, int c, int h, int w) {
        float[] out = new float[a.length];
        int hw = h * w;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < hw; p++) out[(i * c + ch) * hw + p] = a[((i * hw) + p) * c + ch];
        return out;
    }

    /** A contiguous (n,h,w,c) copy of x (n,c,h,w). */
    private static Tensor channelsLast(Tensor x) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        return Tensor.of(toNhwc(x.toFloatArray(), n, c, h, w), n, h, w, c);
    }

    // ---------------------------------------------------------------- runs

    /** y (NCHW order), saveMean, saveInvStd, runMean, runVar, affine (relu only, else empty) of CpuNorm on x (n,c,h,w). */
    private float[][] trainNchw(Tensor x, Tensor gamma, Tensor beta, Tensor r, int variant) {
        int c = x.dim(1);
        Tensor runMean = Data.normal(3, 1, c), runVar = Data.uniform(4, 0.5, 1.5, c);
        Tensor y = Tensor.emptyLike(x), mean = Tensor.empty(DType.F32, c), invStd = Tensor.empty(DType.F32, c);
        Tensor affine = Tensor.empty(DType.F32, 2 * c);
        switch (variant) {
            case PLAIN -> nchw.batchNormTrain(x, gamma, beta, runMean, runVar, 0.1, 1e-5, y, mean, invStd);
            case RELU -> nchw.batchNormTrainRelu(x, gamma, beta, runMean, runVar, 0.1, 1e-5, y, mean, invStd, affine);
            default -> nchw.batchNormTrainAddRelu(x, gamma, beta, runMean, runVar, 0.1, 1e-5, r, y, mean, invStd);
        }
        return new float[][] {y.toFloatArray(), mean.toFloatArray(), invStd.toFloatArray(), runMean.toFloatArray(), runVar.toFloatArray(),
                variant == RELU ? affine.toFloatArray() : new float[0]};
    }

    /** The same outputs of CpuNormChannelsLast on x and r (n,c,h,w) made channels-last; y back in NCHW order. */
    private static float[][] trainNhwc(Tensor x, Tensor gamma, Tensor beta, Tensor r, int variant) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor runMean = Data.normal(3, 1, c), runVar = Data.uniform(4, 0.5, 1.5, c);
        Tensor xl = channelsLast(x), y = Tensor.emptyLike(xl), mean = Tensor.empty(DType.F32, c), invStd = Tensor.empty(DType.F32, c);
        Tensor affine = variant == RELU ? Tensor.empty(DType.F32, 2 * c) : null;
        CpuNormChannelsLast.train(xl, gamma, beta, runMean, runVar, 0.1, 1e-5, y, mean, invStd, affine, variant == ADD_RELU ? channelsLast(r) : null);
        return new float[][] {toNchw(y.toFloatArray(), n, c, h, w), mean.toFloatArray(), invStd.toFloatArray(), runMean.toFloatArray(),
                runVar.toFloatArray(), variant == RELU ? affine.toFloatArray() : new float[0]};
    }

    /** dx (NCHW order), dgamma, dbeta of CpuNorm's training backward (relu-masked where affine != null). */
    private float[][] backwardNchw(Tensor x, Tensor affine, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd) {
        int c = x.dim(1);
        Tensor dx = Tensor.emptyLike(x), dg = Tensor.empty(DType.F32, c), db = Tensor.empty(DType.F32, c);
        if (affine == null) nchw.batchNormBackward(x, dy, gamma, mean, invStd, true, dx, dg, db);
        else nchw.batchNormReluBackward(x, null, affine, dy, gamma, mean, invStd, true, dx, dg, db);
        return new float[][] {dx.toFloatArray(), dg.toFloatArray(), db.toFloatArray()};
    }

    private static float[][] backwardNhwc(Tensor x, Tensor affine, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor xl = channelsLast(x), dx = Tensor.emptyLike(xl), dg = Tensor.empty(DType.F32, c), db = Tensor.empty(DType.F32, c);
        CpuNormChannelsLast.backward(xl, affine, channelsLast(dy), gamma, mean, invStd, dx, dg, db);
        return new float[][] {toNchw(dx.toFloatArray(), n, c, h, w), dg.toFloatArray(), db.toFloatArray()};
    }

    /** Every value within rel·|want| + abs of want, and no NaN on either side. */
    private static void assertNear(float[] got, float[] want, double rel, double abs, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            double tol = rel * Math.abs(want[i]) + abs;
            if (Float.isNaN(got[i]) || Float.isNaN(want[i]) || !(Math.abs(got[i] - want[i]) <= tol)) {
                fail(String.format("%s: [%d] got %.9g, want %.9g (tolerance %.3g)", what, i, got[i], want[i], tol));
            }
        }
    }

    /** The three forwards and both backwards of x (n,c,h,w) against CpuNorm: stats to 1e-6, values to 1e-5·(|v| + 1), gradient sums to 1e-5·(|v| + √m). */
    private void checkAgainstCpuNorm(Tensor x, String what) {
        int c = x.dim(1);
        Tensor gamma = Data.uniform(1, 0.5, 1.5, c), beta = Data.normal(2, 1, c), r = Data.normal(5, 1, x.shape().dims());
        for (int v = PLAIN; v <= ADD_RELU; v++) {
            float[][] got = trainNhwc(x, gamma, beta, r, v), want = trainNchw(x, gamma, beta, r, v);
            for (int i = 0; i < TRAIN_OUT.length; i++) {
                double rel = i == 0 ? 1e-5 : 1e-6, abs = i == 0 ? 1e-5 : 1e-6;
                assertNear(got[i], want[i], rel, abs, what + " " + VARIANT[v] + " " + TRAIN_OUT[i]);
            }
        }
        // backward from CpuNorm's own saved statistics and affine: the same mask decisions on both sides
        Tensor dy = Data.normal(6, 1, x.shape().dims());
        Tensor mean = Tensor.empty(DType.F32, c), invStd = Tensor.empty(DType.F32, c), affine = Tensor.empty(DType.F32, 2 * c);
        nchw.batchNormTrainRelu(x, gamma, beta, Data.normal(3, 1, c), Data.uniform(4, 0.5, 1.5, c), 0.1, 1e-5, Tensor.emptyLike(x), mean, invStd, affine);
        for (Tensor af : new Tensor[] {null, affine}) {
            float[][] got = backwardNhwc(x, af, dy, gamma, mean, invStd), want = backwardNchw(x, af, dy, gamma, mean, invStd);
            for (int i = 0; i < 3; i++) {
                // dgamma, dbeta: sums of m terms of either sign, their float rounding grows like √m
                double abs = i == 0 ? 1e-5 : 1e-5 * Math.sqrt(x.numel() / c);
                assertNear(got[i], want[i], 1e-5, abs, what + (af == null ? " backward " : " relu backward ") + GRAD_OUT[i]);
            }
        }
    }

    // ---------------------------------------------------------------- tests

    @Test
    void trainingForwardAndBackwardMatchCpuNorm() {
        try (Scope s = Scope.open()) {
            for (int[] shape : SHAPES) checkAgainstCpuNorm(Data.normal(7, 1.5, shape), Arrays.toString(shape));
        }
    }

    /**
     * Integer data whose image-0 sums and whole sums per channel divide by hw and m: pivot, mean,
     * moments and gradient sums are exact in any order, so every per-channel float is CpuNorm's
     * and every output must have CpuNorm's bits (the per-value arithmetic is the same).
     */
    @Test
    void withExactSumsEveryOutputHasCpuNormsBits() {
        try (Scope s = Scope.open()) {
            for (int[] shape : new int[][] {{1, 16, 5, 7}, {3, 32, 5, 7}, {8, 48, 4, 4}, {8, 16, 16, 16}}) {
                int n = shape[0], c = shape[1], hw = shape[2] * shape[3];
                float[] v = integers(Data.uniform(8, -4.49, 4.49, shape).toFloatArray());
                for (int ch = 0; ch < c; ch++) {
                    // last pixel of image 0 makes image 0's sum a multiple of hw; that of the last image, the total a multiple of m
                    fixSum(v, ch * hw, 1, hw, hw);
                    if (n > 1) {
                        int last = ((n - 1) * c + ch) * hw + hw - 1;
                        double rest = 0;
                        for (int i = 0; i < n; i++) for (int p = 0; p < hw; p++) rest += v[(i * c + ch) * hw + p];
                        rest -= v[last];
                        long m = (long) n * hw;
                        v[last] = (float) (Math.round(rest / m) * m - rest);
                    }
                }
                Tensor x = Tensor.of(v, shape);
                Tensor dy = Tensor.of(integers(Data.uniform(9, -3.49, 3.49, shape).toFloatArray()), shape);
                Tensor gamma = Data.uniform(1, 0.5, 1.5, c), beta = Data.normal(2, 1, c), r = Data.normal(5, 1, shape);
                String what = Arrays.toString(shape) + " integer data";
                for (int k = PLAIN; k <= ADD_RELU; k++) {
                    float[][] got = trainNhwc(x, gamma, beta, r, k), want = trainNchw(x, gamma, beta, r, k);
                    for (int i = 0; i < TRAIN_OUT.length; i++) Close.assertBitIdentical(want[i], got[i], what + " " + VARIANT[k] + " " + TRAIN_OUT[i]);
                }
                Tensor mean = Tensor.empty(DType.F32, c), invStd = Tensor.empty(DType.F32, c), affine = Tensor.empty(DType.F32, 2 * c);
                nchw.batchNormTrainRelu(x, gamma, beta, Data.normal(3, 1, c), Data.uniform(4, 0.5, 1.5, c), 0.1, 1e-5, Tensor.emptyLike(x), mean, invStd, affine);
                for (Tensor af : new Tensor[] {null, affine}) {
                    float[][] got = backwardNhwc(x, af, dy, gamma, mean, invStd), want = backwardNchw(x, af, dy, gamma, mean, invStd);
                    for (int i = 0; i < 3; i++) Close.assertBitIdentical(want[i], got[i], what + (af == null ? " backward " : " relu backward ") + GRAD_OUT[i]);
                }
            }
        }
    }

    private static float[] integers(float[] a) {
        for (int i = 0; i < a.length; i++) a[i] = Math.round(a[i]);
        return a;
    }

    // sets a[from + (count−1)·stride] so that the count values from `from`, stride apart, sum to a multiple of `divisor`
    private static void fixSum(float[] a, int from, int stride, int count, int divisor) {
        double rest = 0;
        for (int j = 0; j < count - 1; j++) rest += a[from + j * stride];
        a[from + (count - 1) * stride] = (float) (Math.round(rest / divisor) * (double) divisor - rest);
    }

    @Test
    void largeMeanSmallStd() {
        // mean 1000, std 0.1 (CpuNormTest's case): the shifted moments keep the variance; also within ref's tolerance
        try (Scope s = Scope.open()) {
            int[] shape = {16, 16, 16, 16};
            float[] v = Data.normal(10, 0.1, shape).toFloatArray();
            for (int i = 0; i < v.length; i++) v[i] += 1000f;
            Tensor x = Tensor.of(v, shape);
            checkAgainstCpuNorm(x, "16x16x16x16 mean 1000 std 0.1");
            int c = shape[1];
            Tensor gamma = Data.uniform(1, 0.5, 1.5, c), beta = Data.normal(2, 1, c);
            NormKernels ref = Backends.ref().norm();
            Tensor rm = Data.normal(3, 1, c), rv = Data.uniform(4, 0.5, 1.5, c);
            Tensor y = Tensor.emptyLike(x), mean = Tensor.empty(DType.F32, c), invStd = Tensor.empty(DType.F32, c);
            ref.batchNormTrain(x, gamma, beta, rm, rv, 0.1, 1e-5, y, mean, invStd);
            float[][] got = trainNhwc(x, gamma, beta, null, PLAIN);
            Close.assertClose(got[0], y.toFloatArray(), Tolerance.F32_VS_REF, "y against ref");
            Close.assertClose(got[1], mean.toFloatArray(), Tolerance.F32_VS_REF, "saveMean against ref");
            Close.assertClose(got[2], invStd.toFloatArray(), Tolerance.F32_VS_REF, "saveInvStd against ref");
        }
    }

    @Test
    void pivotFarFromTheMeanTakesTheSecondPass() {
        // image 0 of the even channels sits 50 above the rest: d² = n − 1 = 31 > MAX_PIVOT_DISTANCE2 there,
        // so those channels take their moments again around the float mean; the odd channels keep the first pass
        try (Scope s = Scope.open()) {
            for (int[] shape : new int[][] {{32, 16, 4, 4}, {32, 48, 3, 5}}) {
                int c = shape[1], hw = shape[2] * shape[3];
                float[] v = Data.normal(11, 0.01, shape).toFloatArray();
                for (int ch = 0; ch < c; ch += 2) for (int p = 0; p < hw; p++) v[ch * hw + p] += 50f;
                checkAgainstCpuNorm(Tensor.of(v, shape), Arrays.toString(shape) + " image 0 offset");
            }
        }
    }

    @Test
    void trainingIsDeterministic() {
        try (Scope s = Scope.open()) {
            for (int[] shape : new int[][] {{8, 16, 32, 32}, {9, 48, 8, 8}}) {
                int c = shape[1];
                Tensor x = Data.normal(12, 1, shape), dy = Data.normal(13, 1, shape), r = Data.normal(14, 1, shape);
                Tensor gamma = Data.uniform(1, 0.5, 1.5, c), beta = Data.normal(2, 1, c);
                String what = Arrays.toString(shape);
                for (int k = PLAIN; k <= ADD_RELU; k++) {
                    float[][] a = trainNhwc(x, gamma, beta, r, k), b = trainNhwc(x, gamma, beta, r, k);
                    for (int i = 0; i < TRAIN_OUT.length; i++) Close.assertBitIdentical(a[i], b[i], what + " " + VARIANT[k] + " " + TRAIN_OUT[i]);
                }
                float[][] f = trainNhwc(x, gamma, beta, r, RELU);
                Tensor mean = Tensor.of(f[1], c), invStd = Tensor.of(f[2], c), affine = Tensor.of(f[5], 2 * c);
                for (Tensor af : new Tensor[] {null, affine}) {
                    float[][] a = backwardNhwc(x, af, dy, gamma, mean, invStd), b = backwardNhwc(x, af, dy, gamma, mean, invStd);
                    for (int i = 0; i < 3; i++) Close.assertBitIdentical(a[i], b[i], what + " backward " + GRAD_OUT[i]);
                }
            }
        }
    }

    @Test
    void backwardWritesOnlyTheGradientsAskedFor() {
        try (Scope s = Scope.open()) {
            int[] shape = {3, 32, 5, 7};
            int c = shape[1];
            Tensor x = Data.normal(15, 1, shape), dy = Data.normal(16, 1, shape), gamma = Data.uniform(1, 0.5, 1.5, c);
            Tensor mean = Tensor.empty(DType.F32, c), invStd = Tensor.empty(DType.F32, c);
            nchw.batchNormTrain(x, gamma, Data.normal(2, 1, c), Data.normal(3, 1, c), Data.uniform(4, 0.5, 1.5, c), 0.1, 1e-5,
                    Tensor.emptyLike(x), mean, invStd);
            float[][] all = backwardNhwc(x, null, dy, gamma, mean, invStd);
            Tensor xl = channelsLast(x), dyl = channelsLast(dy);
            for (int mask = 1; mask < 8; mask++) {
                Tensor dx = (mask & 1) != 0 ? Tensor.emptyLike(xl) : null;
                Tensor dg = (mask & 2) != 0 ? Tensor.empty(DType.F32, c) : null, db = (mask & 4) != 0 ? Tensor.empty(DType.F32, c) : null;
                CpuNormChannelsLast.backward(xl, null, dyl, gamma, mean, invStd, dx, dg, db);
                if (dx != null) Close.assertBitIdentical(all[0], toNchw(dx.toFloatArray(), 3, c, 5, 7), "dx, outputs " + mask);
                if (dg != null) Close.assertBitIdentical(all[1], dg.toFloatArray(), "dgamma, outputs " + mask);
                if (db != null) Close.assertBitIdentical(all[2], db.toFloatArray(), "dbeta, outputs " + mask);
            }
            CpuNormChannelsLast.backward(xl, null, dyl, gamma, mean, invStd, null, null, null);   // nothing asked: nothing done
        }
    }

    @Test
    void rejectsChannelsThatAreNotWholeVectors() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(17, 1, 2, 3, 3, 8);
            Tensor p = Tensor.zeros(DType.F32, 8);
            assertThrows(IllegalArgumentException.class, () -> CpuNormChannelsLast.train(x, p, p, p, p, 0.1, 1e-5, Tensor.emptyLike(x), p, p, null, null));
        }
    }
}
