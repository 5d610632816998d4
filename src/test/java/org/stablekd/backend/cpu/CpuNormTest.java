package org.stablekd.backend.cpu;

import static org.stablekd.testing.Close.assertClose;

import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.NormKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** CpuNorm against the ref on training-sized batches: statistics accuracy, backward subsets, determinism. */
class CpuNormTest {
    private final NormKernels cpu = Backends.cpu().norm();
    private final NormKernels ref = Backends.ref().norm();

    /** Runs the training forward on both backends and compares y, saved and running statistics. */
    private void checkTrain(Tensor x, String what) {
        int c = x.dim(1);
        Tensor gamma = Data.uniform(1, 0.5, 1.5, c), beta = Data.normal(2, 1, c);
        Tensor[] got = trainOn(cpu, x, gamma, beta), want = trainOn(ref, x, gamma, beta);
        String[] names = {"y", "saveMean", "saveInvStd", "runMean", "runVar"};
        for (int i = 0; i < names.length; i++) assertClose(got[i], want[i], Tolerance.F32_VS_REF, what + " " + names[i]);
    }

    private static Tensor[] trainOn(NormKernels k, Tensor x, Tensor gamma, Tensor beta) {
        int c = x.dim(1);
        Tensor runMean = Data.normal(3, 1, c), runVar = Data.uniform(4, 0.5, 1.5, c);
        Tensor y = Tensor.emptyLike(x), mean = Tensor.empty(DType.F32, c), invStd = Tensor.empty(DType.F32, c);
        k.batchNormTrain(x, gamma, beta, runMean, runVar, 0.1, 1e-5, y, mean, invStd);
        return new Tensor[] {y, mean, invStd, runMean, runVar};
    }

    @Test
    void trainingForwardOnALargeBatch() {
        try (Scope s = Scope.open()) {
            checkTrain(Data.normal(5, 1, 16, 8, 32, 32), "16x8x32x32");
        }
    }

    @Test
    void trainingStatisticsOver64x32x32ValuesWithALargeMean() {
        // mean 1000, std 0.1: a one-pass Σx² − m·μ² cancels 8 digits away, even when summed in
        // double from float partials; the two-pass Σ(x − μ)² does not
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(6, 0.1, 64, 2, 32, 32);
            Tensor shifted = Tensor.emptyLike(x);
            Backends.cpu().pointwise().unary(org.stablekd.backend.Op.ADD_SCALAR, x, 1000, shifted);
            checkTrain(shifted, "64x2x32x32 mean 1000 std 0.1");
        }
    }

    @Test
    void trainingStatisticsWhenTheFirstPlaneIsFarFromTheMean() {
        // sample 0 of every channel sits 50 above the rest: the pivot (its mean) is ~8σ from the
        // channel mean, so the one-pass variance is redone with a second pass
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(22, 0.01, 64, 3, 8, 8);
            for (int ch = 0; ch < 3; ch++)
                for (int j = 0; j < 64; j++) x.set(x.get(0, ch, j / 8, j % 8) + 50, 0, ch, j / 8, j % 8);
            checkTrain(x, "64x3x8x8 first sample offset");
        }
    }

    @Test
    void trainingForwardOnOddAndTinyPlanes() {
        try (Scope s = Scope.open()) {
            checkTrain(Data.normal(7, 2, 3, 5, 7, 9), "3x5x7x9");
            checkTrain(Data.normal(8, 1, 2, 3, 1, 1), "2x3x1x1");
            checkTrain(Data.normal(9, 1, 1, 4, 4, 4), "1x4x4x4");
            checkTrain(Data.normal(10, 1, 4, 3, 17, 16), "4x3x17x16");
            checkTrain(Data.normal(28, 1, 9, 8, 32, 32), "9x8x32x32 (two uneven ranges of images on 2 threads)");
        }
    }

    @Test
    void evalForwardMatchesRef() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(11, 1, 5, 6, 9, 13);
            Tensor gamma = Data.uniform(12, 0.5, 1.5, 6), beta = Data.normal(13, 1, 6);
            Tensor rm = Data.normal(14, 1, 6), rv = Data.uniform(15, 0.5, 1.5, 6);
            Tensor got = Tensor.emptyLike(x), want = Tensor.emptyLike(x);
            cpu.batchNormEval(x, gamma, beta, rm, rv, 1e-5, got);
            ref.batchNormEval(x, gamma, beta, rm, rv, 1e-5, want);
            assertClose(got, want, Tolerance.F32_VS_REF, "eval forward");
        }
    }

    @Test
    void backwardMatchesRefForEverySubsetOfOutputs() {
        try (Scope s = Scope.open()) {
            for (int[] shape : new int[][] {{16, 8, 32, 32}, {9, 8, 32, 32}, {3, 5, 7, 9}, {2, 3, 1, 1}}) {
                int c = shape[1];
                Tensor x = Data.normal(16, 1.5, shape), dy = Data.normal(17, 1, shape);
                Tensor gamma = Data.uniform(18, 0.5, 1.5, c);
                Tensor mean = Tensor.empty(DType.F32, c), invStd = Tensor.empty(DType.F32, c);
                ref.batchNormTrain(x, gamma, Data.normal(19, 1, c), Tensor.zeros(DType.F32, c), Tensor.zeros(DType.F32, c),
                        0.1, 1e-5, Tensor.emptyLike(x), mean, invStd);
                for (boolean training : new boolean[] {true, false}) {
                    for (int mask = 1; mask < 8; mask++) {
                        Tensor[] got = backwardOn(cpu, x, dy, gamma, mean, invStd, training, mask);
                        Tensor[] want = backwardOn(ref, x, dy, gamma, mean, invStd, training, mask);
                        String what = java.util.Arrays.toString(shape) + (training ? " training" : " eval") + " outputs " + mask;
                        for (int i = 0; i < 3; i++) {
                            if (want[i] != null) assertClose(got[i], want[i], Tolerance.F32_VS_REF, what + " grad " + i);
                        }
                    }
                }
            }
        }
    }

    private static Tensor[] backwardOn(NormKernels k, Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd,
                                       boolean training, int mask) {
        int c = x.dim(1);
        Tensor dx = (mask & 1) != 0 ? Tensor.emptyLike(x) : null;
        Tensor dg = (mask & 2) != 0 ? Tensor.empty(DType.F32, c) : null;
        Tensor db = (mask & 4) != 0 ? Tensor.empty(DType.F32, c) : null;
        k.batchNormBackward(x, dy, gamma, mean, invStd, training, dx, dg, db);
        return new Tensor[] {dx, dg, db};
    }

    @Test
    void trainingIsDeterministic() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(20, 1, 16, 8, 32, 32), dy = Data.normal(21, 1, 16, 8, 32, 32);
            Tensor gamma = Data.uniform(1, 0.5, 1.5, 8), beta = Data.normal(2, 1, 8);
            Tensor[] a = trainOn(cpu, x, gamma, beta), b = trainOn(cpu, x, gamma, beta);
            for (int i = 0; i < a.length; i++) Close.assertBitIdentical(a[i].toFloatArray(), b[i].toFloatArray(), "forward output " + i);
            Tensor[] ga = backwardOn(cpu, x, dy, gamma, a[1], a[2], true, 7), gb = backwardOn(cpu, x, dy, gamma, a[1], a[2], true, 7);
            for (int i = 0; i < 3; i++) Close.assertBitIdentical(ga[i].toFloatArray(), gb[i].toFloatArray(), "gradient " + i);
        }
    }

    /**
     * The fused batch norm + relu against this backend's own two ops: the same bits forward
     * (train and eval) and backward (the mask recomputed from x and the saved affine makes the
     * ReLU's decisions, and the masked dy feeds the same sums in the same order), on a
     * training-sized batch with a vector tail. Inputs near zero after normalization are many
     * (beta ~ N(0,1)), so a mask that differed anywhere would show.
     */
    @Test
    void fusedReluEqualsBatchNormThenRelu() {
        var pointwise = Backends.cpu().pointwise();
        try (Scope s = Scope.open()) {
            for (int[] shape : new int[][] {{16, 8, 32, 32}, {3, 5, 7, 9}}) {
                int c = shape[1];
                Tensor x = Data.normal(21, 1.5, shape), dy = Data.normal(22, 1, shape);
                Tensor gamma = Data.uniform(23, 0.5, 1.5, c), beta = Data.normal(24, 1, c);
                for (boolean training : new boolean[] {true, false}) {
                    Tensor rm1 = Data.normal(25, 1, c), rv1 = Data.uniform(26, 0.5, 1.5, c);
                    Tensor rm2 = Data.normal(25, 1, c), rv2 = Data.uniform(26, 0.5, 1.5, c);
                    Tensor bn = Tensor.emptyLike(x), y2 = Tensor.emptyLike(x), fused = Tensor.emptyLike(x);
                    Tensor mean1 = Tensor.empty(DType.F32, c), inv1 = Tensor.empty(DType.F32, c);
                    Tensor mean2 = Tensor.empty(DType.F32, c), inv2 = Tensor.empty(DType.F32, c), affine = Tensor.empty(DType.F32, 2 * c);
                    if (training) {
                        cpu.batchNormTrain(x, gamma, beta, rm1, rv1, 0.1, 1e-5, bn, mean1, inv1);
                        cpu.batchNormTrainRelu(x, gamma, beta, rm2, rv2, 0.1, 1e-5, fused, mean2, inv2, affine);
                        Close.assertBitIdentical(mean1.toFloatArray(), mean2.toFloatArray(), "saved mean");
                        Close.assertBitIdentical(inv1.toFloatArray(), inv2.toFloatArray(), "saved invStd");
                        Close.assertBitIdentical(rv1.toFloatArray(), rv2.toFloatArray(), "running var");
                    } else {
                        cpu.batchNormEval(x, gamma, beta, rm1, rv1, 1e-5, bn);
                        cpu.batchNormEvalRelu(x, gamma, beta, rm2, rv2, 1e-5, fused, affine);
                        mean1 = rm1;
                        inv1 = Data.uniform(27, 0.5, 1.5, c);
                    }
                    pointwise.unary(org.stablekd.backend.Op.RELU, bn, 0, y2);
                    String what = java.util.Arrays.toString(shape) + (training ? " training" : " eval");
                    Close.assertBitIdentical(y2.toFloatArray(), fused.toFloatArray(), what + " forward");
                    Tensor masked = Tensor.emptyLike(x);
                    pointwise.activationBackward(org.stablekd.backend.Op.RELU, y2, dy, masked);
                    Tensor[] want = {Tensor.emptyLike(x), Tensor.empty(DType.F32, c), Tensor.empty(DType.F32, c)};
                    Tensor[] got = {Tensor.emptyLike(x), Tensor.empty(DType.F32, c), Tensor.empty(DType.F32, c)};
                    cpu.batchNormBackward(x, masked, gamma, mean1, inv1, training, want[0], want[1], want[2]);
                    cpu.batchNormReluBackward(x, fused, affine, dy, gamma, mean1, inv1, training, got[0], got[1], got[2]);
                    for (int i = 0; i < 3; i++) Close.assertBitIdentical(want[i].toFloatArray(), got[i].toFloatArray(), what + " grad " + i);
                }
            }
        }
    }
    /**
     * The fused batch norm + residual add + ReLU (training) gives the bits of batchNormTrain then
     * CpuPointwise's add-ReLU: forward, saved and running statistics; and through the op frontend
     * with the autograd, the same gradients for x, γ, β and r as the two ops (r ~ N(0,1) puts
     * many sums near zero, so a mask that differed would show).
     */
    @Test
    void fusedAddReluEqualsBatchNormThenAddRelu() {
        var pointwise = Backends.cpu().pointwise();
        try (Scope s = Scope.open()) {
            for (int[] shape : new int[][] {{16, 8, 32, 32}, {3, 5, 7, 9}}) {
                int c = shape[1];
                Tensor x = Data.normal(31, 1.5, shape), r = Data.normal(32, 1, shape), dy = Data.normal(33, 1, shape);
                Tensor gamma = Data.uniform(34, 0.5, 1.5, c), beta = Data.normal(35, 1, c);
                Tensor rm1 = Data.normal(36, 1, c), rv1 = Data.uniform(37, 0.5, 1.5, c);
                Tensor rm2 = Data.normal(36, 1, c), rv2 = Data.uniform(37, 0.5, 1.5, c);
                Tensor bn = Tensor.emptyLike(x), y2 = Tensor.emptyLike(x), fused = Tensor.emptyLike(x);
                Tensor mean1 = Tensor.empty(DType.F32, c), inv1 = Tensor.empty(DType.F32, c);
                Tensor mean2 = Tensor.empty(DType.F32, c), inv2 = Tensor.empty(DType.F32, c);
                cpu.batchNormTrain(x, gamma, beta, rm1, rv1, 0.1, 1e-5, bn, mean1, inv1);
                pointwise.binary(org.stablekd.backend.Op.ADD_RELU, bn, r, y2);
                cpu.batchNormTrainAddRelu(x, gamma, beta, rm2, rv2, 0.1, 1e-5, r, fused, mean2, inv2);
                String what = java.util.Arrays.toString(shape);
                Close.assertBitIdentical(y2.toFloatArray(), fused.toFloatArray(), what + " forward");
                Close.assertBitIdentical(mean1.toFloatArray(), mean2.toFloatArray(), what + " saved mean");
                Close.assertBitIdentical(inv1.toFloatArray(), inv2.toFloatArray(), what + " saved invStd");
                Close.assertBitIdentical(rm1.toFloatArray(), rm2.toFloatArray(), what + " running mean");
                Close.assertBitIdentical(rv1.toFloatArray(), rv2.toFloatArray(), what + " running var");

                // the op, with gradients: fused against the two ops
                Tensor[][] grads = new Tensor[2][];
                Tensor[] outs = new Tensor[2];
                for (int k = 0; k < 2; k++) {
                    Tensor xk = x.detach().requiresGrad(true), gk = gamma.detach().requiresGrad(true);
                    Tensor bk = beta.detach().requiresGrad(true), rk = r.detach().requiresGrad(true);
                    Tensor rm = Data.normal(36, 1, c), rv = Data.uniform(37, 0.5, 1.5, c);
                    outs[k] = k == 0 ? org.stablekd.ops.Norm.batchNormAddRelu(xk, gk, bk, rm, rv, true, 0.1, 1e-5, rk)
                            : org.stablekd.ops.Pointwise.addRelu(org.stablekd.ops.Norm.batchNorm(xk, gk, bk, rm, rv, true, 0.1, 1e-5), rk);
                    org.stablekd.autograd.Autograd.backward(outs[k], dy);
                    grads[k] = new Tensor[] {xk.grad(), gk.grad(), bk.grad(), rk.grad()};
                }
                Close.assertBitIdentical(outs[1].toFloatArray(), outs[0].toFloatArray(), what + " op forward");
                String[] names = {"dx", "dgamma", "dbeta", "dr"};
                for (int i = 0; i < 4; i++) Close.assertBitIdentical(grads[1][i].toFloatArray(), grads[0][i].toFloatArray(), what + " " + names[i]);
            }
        }
    }
}
