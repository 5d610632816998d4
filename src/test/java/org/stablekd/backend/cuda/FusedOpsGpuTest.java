package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.stablekd.testing.TestData;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Norm;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Reduce;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/**
 * The ops the CUDA backend runs as fused kernels against the compositions they replace, on the GPU:
 * KD_CE_LOSS (kd_loss.cu's kd_ce_fused_f32) against ceWeight·CE + kdWeight·KD, and batch norm + ReLU
 * (bn_apply_relu / bn_eval_relu, masked backward) against batch norm then ReLU. Skipped with the
 * reason where there is no GPU.
 */
@Tag("gpu")
class FusedOpsGpuTest {
    private static final Device GPU = Device.cuda(0);

    private static Tensor randn(long seed, int... dims) {
        return Tensor.randn(new Rng(seed), DType.F32, 1, dims);
    }

    private static Tensor labels(long seed, int n, int classes) {
        return TestData.labels(seed, n, classes);
    }

    @Test
    void kdCrossEntropyMatchesCrossEntropyPlusKd() {
        GpuTests.requireGpu();
        double tau = 4, ceWeight = 0.1, kdWeight = 0.9;
        try (Scope s = Scope.open()) {
            Tensor student = randn(7, 6, 100), y = CudaTensors.toDevice(labels(9, 6, 100));
            Tensor teacher = randn(8, 6, 100);
            for (int r = 0; r < 6; r++) teacher.set(teacher.get(r, 3) + 30, r, 3);  // a confident teacher in class 3
            Tensor t = CudaTensors.toDevice(teacher);
            Tensor a = CudaTensors.toDevice(student).requiresGrad(true), c = CudaTensors.toDevice(student).requiresGrad(true);
            Tensor fused = Losses.kdCrossEntropy(a, t, y, tau, ceWeight, kdWeight);
            Tensor composed = Pointwise.add(Pointwise.scale(Losses.crossEntropy(c, y), ceWeight), Pointwise.scale(Losses.kdLoss(c, t, tau), kdWeight));
            Autograd.backward(Pointwise.scale(fused, 1.5));       // an incoming gradient other than 1
            Autograd.backward(Pointwise.scale(composed, 1.5));
            assertClose(CudaTensors.toHost(fused), CudaTensors.toHost(composed), Tolerance.CUDA_VS_CPU, "KD+CE loss");
            assertClose(CudaTensors.toHost(a.grad()), CudaTensors.toHost(c.grad()), Tolerance.CUDA_VS_CPU, "KD+CE d loss / d student");
        }
    }

    @Test
    void batchNormReluIsFusedAndMatchesBatchNormThenRelu() {
        assertTrue(GpuTests.requireGpu().norm().fusesRelu(), "CudaNorm fuses the ReLU");
        for (boolean training : new boolean[] {true, false}) {
            try (Scope s = Scope.open()) {
                Tensor x = randn(10, 4, 6, 5, 5), gamma = Tensor.uniform(new Rng(11), DType.F32, 0.5, 1.5, 6), beta = randn(12, 6);
                Tensor rm = randn(13, 6), rv = Tensor.uniform(new Rng(14), DType.F32, 0.5, 1.5, 6), r = CudaTensors.toDevice(randn(15, 4, 6, 5, 5));
                Tensor[] fused = run(x, gamma, beta, rm, rv, r, training, true), plain = run(x, gamma, beta, rm, rv, r, training, false);
                String[] what = {"y", "dx", "dgamma", "dbeta", "running mean", "running var"};
                for (int i = 0; i < what.length; i++) {
                    assertClose(fused[i], plain[i], Tolerance.CUDA_VS_CPU, (training ? "training " : "eval ") + what[i]);
                }
            }
        }
    }

    /** {y, dx, dgamma, dbeta, running mean, running var} on the host after y = relu(bn(x)) and the backward of Σ y∘r. */
    private static Tensor[] run(Tensor x, Tensor gamma, Tensor beta, Tensor rm, Tensor rv, Tensor r, boolean training, boolean fused) {
        Tensor xg = CudaTensors.toDevice(x).requiresGrad(true), gg = CudaTensors.toDevice(gamma).requiresGrad(true);
        Tensor bg = CudaTensors.toDevice(beta).requiresGrad(true), rmg = CudaTensors.toDevice(rm), rvg = CudaTensors.toDevice(rv);
        Tensor y = fused ? Norm.batchNormRelu(xg, gg, bg, rmg, rvg, training, 0.1, 1e-5)
                : Pointwise.relu(Norm.batchNorm(xg, gg, bg, rmg, rvg, training, 0.1, 1e-5));
        assertTrue(fused == (((org.stablekd.autograd.Node) y.gradFn()).op() == Op.BATCH_NORM), "fused: one BATCH_NORM op, else BATCH_NORM then RELU");
        Autograd.backward(Reduce.sum(Pointwise.mul(y, r)));
        return new Tensor[] {CudaTensors.toHost(y), CudaTensors.toHost(xg.grad()), CudaTensors.toHost(gg.grad()), CudaTensors.toHost(bg.grad()),
            CudaTensors.toHost(rmg), CudaTensors.toHost(rvg)};
    }
}
