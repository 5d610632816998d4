package org.stablekd.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.CopyKernels;
import org.stablekd.backend.DistillKernels;
import org.stablekd.backend.GemmKernels;
import org.stablekd.backend.NormKernels;
import org.stablekd.backend.Op;
import org.stablekd.backend.OptimizerKernels;
import org.stablekd.backend.PointwiseKernels;
import org.stablekd.backend.PoolKernels;
import org.stablekd.backend.ReduceKernels;
import org.stablekd.backend.RegressionLossKernels;
import org.stablekd.backend.SoftmaxLossKernels;
import org.stablekd.ops.Conv;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Reduce;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

class AutogradTest {

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Tensor x = Tensor.of(new float[] {1, -2, 3}, 3).requiresGrad(true);
        Autograd.backward(Reduce.sum(Pointwise.scale(x, 2)));
        assertArrayEquals(new float[] {2, 2, 2}, x.grad().toFloatArray());
        Autograd.backward(Reduce.sum(Pointwise.scale(x, 3)));
        assertArrayEquals(new float[] {5, 5, 5}, x.grad().toFloatArray());
    }

    @Test
    void aTensorUsedTwiceGetsBothContributions() {
        // d/dx Σ x·x = 2x, and d/dx Σ (x + x) = 2 (the ADD rule hands one tensor to both inputs)
        Tensor x = Tensor.of(new float[] {1.5f, -2, 0.25f}, 3).requiresGrad(true);
        Autograd.backward(Reduce.sum(Pointwise.mul(x, x)));
        assertArrayEquals(new float[] {3, -4, 0.5f}, x.grad().toFloatArray());
        Tensor y = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor s = Pointwise.add(y, y);
        Autograd.backward(Reduce.sum(Pointwise.mul(s, Pointwise.add(s, y))));
        // f = Σ (2y)(3y) = 6y² → 12y
        assertArrayEquals(new float[] {12, 24}, y.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void noGradRecordsNothingAndDetachCutsTheGraph() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        try (Restore ng = Autograd.noGrad()) {
            Tensor y = Pointwise.scale(x, 2);
            assertNull(y.gradFn());
            assertTrue(!y.requiresGrad());
        }
        Tensor d = Pointwise.scale(x, 2).detach();
        assertNull(d.gradFn());
        assertThrows(IllegalArgumentException.class, () -> Autograd.backward(Reduce.sum(d)));
    }

    @Test
    void backwardRejectsNonScalarsAndASecondPass() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor y = Pointwise.scale(x, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> Autograd.backward(y));
        assertTrue(e.getMessage().contains("one-element"), e.getMessage());
        Tensor loss = Reduce.sum(Pointwise.relu(x));
        Autograd.backward(loss);
        var again = assertThrows(IllegalStateException.class, () -> Autograd.backward(loss));
        assertTrue(again.getMessage().contains("second time"), again.getMessage());
    }

    @Test
    void backwardWithAnOutputGradient() {
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor y = Pointwise.scale(x, 2);
        Autograd.backward(y, Tensor.of(new float[] {1, 10, 100}, 3));
        assertArrayEquals(new float[] {2, 20, 200}, x.grad().toFloatArray());
    }

    @Test
    void unneededGradientsAreNeverComputed() {
        Spy spy = new Spy();
        Rng rng = new Rng(3);
        try (Restore b = Backends.use(spy)) {
            Tensor x = Tensor.randn(rng, DType.F32, 1, 2, 3, 5, 5);          // input images: no grad
            Tensor w = Tensor.randn(rng, DType.F32, 1, 4, 3, 3, 3).requiresGrad(true);
            Autograd.backward(Reduce.sum(Conv.conv2d(x, w, null, 1, 1, 1)));
            assertEquals(List.of("backwardWeight"), spy.calls, "only the weight gradient is needed");

            spy.calls.clear();
            Tensor frozen = Tensor.randn(rng, DType.F32, 1, 4, 3, 3, 3);     // a frozen teacher's weight
            Tensor xg = Tensor.randn(rng, DType.F32, 1, 2, 3, 5, 5).requiresGrad(true);
            Autograd.backward(Reduce.sum(Conv.conv2d(xg, frozen, null, 1, 1, 1)));
            assertEquals(List.of("backwardInput"), spy.calls, "only the input gradient is needed");

            spy.calls.clear();
            Tensor student = Tensor.randn(rng, DType.F32, 1, 4, 10).requiresGrad(true);
            Tensor teacher = Tensor.randn(rng, DType.F32, 1, 4, 10);
            Autograd.backward(Losses.kdLoss(student, teacher, 4));
            assertEquals(List.of("kdLossBackward dS=yes dT=no"), spy.calls, "the teacher logits get no gradient");
        }
    }

    /** The ref backend with the calls of interest logged. */
    private static final class Spy implements Backend {
        final List<String> calls = new ArrayList<>();
        final Backend ref = Backends.ref();

        @Override public String name() { return "spy"; }
        @Override public Device device() { return Device.CPU; }
        @Override public boolean supports(Op op, DType dtype) { return ref.supports(op, dtype); }
        @Override public GemmKernels gemm() { return ref.gemm(); }
        @Override public NormKernels norm() { return ref.norm(); }
        @Override public PointwiseKernels pointwise() { return ref.pointwise(); }
        @Override public CopyKernels copy() { return ref.copy(); }
        @Override public PoolKernels pool() { return ref.pool(); }
        @Override public ReduceKernels reduce() { return ref.reduce(); }
        @Override public OptimizerKernels optimizer() { return ref.optimizer(); }
        @Override public DistillKernels distill() { return ref.distill(); }
        @Override public RegressionLossKernels regressionLoss() { return ref.regressionLoss(); }

        @Override
        public ConvKernels conv() {
            ConvKernels k = ref.conv();
            return new ConvKernels() {
                public void forward(ConvGeometry g, Tensor x, Tensor w, Tensor b, Tensor y) { k.forward(g, x, w, b, y); }
                public void backwardInput(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) { calls.add("backwardInput"); k.backwardInput(g, dy, w, dx); }
                public void backwardWeight(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor db) { calls.add("backwardWeight"); k.backwardWeight(g, x, dy, dw, db); }
            };
        }

        @Override
        public SoftmaxLossKernels softmaxLoss() {
            SoftmaxLossKernels k = ref.softmaxLoss();
            return new SoftmaxLossKernels() {
                public void softmax(Tensor x, double t, boolean log, Tensor y) { k.softmax(x, t, log, y); }
                public void softmaxBackward(Tensor y, Tensor dy, double t, boolean log, Tensor dx) { k.softmaxBackward(y, dy, t, log, dx); }
                public void crossEntropy(Tensor l, Tensor lab, double s, Tensor loss) { k.crossEntropy(l, lab, s, loss); }
                public void crossEntropyBackward(Tensor l, Tensor lab, double s, Tensor g, Tensor d) { k.crossEntropyBackward(l, lab, s, g, d); }
                public void kdLoss(Tensor s, Tensor t, double tau, Tensor loss) { k.kdLoss(s, t, tau, loss); }
                public void kdLossBackward(Tensor s, Tensor t, double tau, Tensor g, Tensor ds, Tensor dt) {
                    calls.add("kdLossBackward dS=" + (ds != null ? "yes" : "no") + " dT=" + (dt != null ? "yes" : "no"));
                    k.kdLossBackward(s, t, tau, g, ds, dt);
                }
                public void kdCrossEntropy(Tensor s, Tensor t, Tensor l, double tau, double wc, double wk, Tensor loss) {
                    k.kdCrossEntropy(s, t, l, tau, wc, wk, loss);
                }
                public void kdCrossEntropyBackward(Tensor s, Tensor t, Tensor l, double tau, double wc, double wk, Tensor g, Tensor ds) {
                    k.kdCrossEntropyBackward(s, t, l, tau, wc, wk, g, ds);
                }
            };
        }
    }
}
