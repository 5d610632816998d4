package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.nn.Parameter;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/** The fused KD+CE op is what a KD or StableKD step asks a backend that fuses it for (CUDA), and only such a backend. */
class KdLogitLossTest {
    static final Tensor LABELS = Tensor.ofInts(new int[] {0, 1, 2, 3}, 4);

    private record Result(List<String> keys, double total, Map<String, float[]> grads) {}

    private static Result kdStep() {
        ToyNet teacher = new ToyNet("t", 8, 1), student = new ToyNet("s", 4, 2);
        KD kd = new KD(teacher, student, 0.1, 0.9, 4);
        try (Scope s = Scope.open()) {
            TrainingMethod.Step step = kd.step(Tensor.randn(new Rng(9), DType.F32, 1, 4, 1, 8, 8), LABELS, 0, 0);
            Tensor total = null;
            for (Tensor l : step.losses().values()) total = total == null ? l : Pointwise.add(total, l);
            Autograd.backward(total);
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : student.namedParameters().entrySet()) grads.put(e.getKey(), e.getValue().grad().toFloatArray());
            return new Result(List.copyOf(step.losses().keySet()), total.item(), grads);
        }
    }

    @Test
    void aKdStepAsksAFusingBackendForOneKdCeOpWithTheSameValueAndGradients() {
        Result apart = kdStep();
        assertEquals(List.of("ce", "kd"), apart.keys(), "cpu does not fuse: CE and KD apart, as in every earlier run");
        FusingBackend fusing = new FusingBackend();
        Result fused;
        try (Restore r = Backends.use(fusing)) {
            fused = kdStep();
        }
        assertEquals(List.of("ce+kd"), fused.keys());
        assertEquals(List.of("kdCrossEntropy", "kdCrossEntropyBackward"), fusing.calls, "no separate CE or KD op on a fusing backend");
        assertEquals(apart.total(), fused.total(), 1e-5 * Math.max(1, Math.abs(apart.total())));
        for (String name : apart.grads().keySet()) {
            float[] a = apart.grads().get(name), f = fused.grads().get(name);
            assertEquals(a.length, f.length, name);
            for (int i = 0; i < a.length; i++) {
                assertTrue(Float.isFinite(f[i]), name);
                assertEquals(a[i], f[i], 1e-5 + 1e-4 * Math.abs(a[i]), name + "[" + i + "]");
            }
        }
    }

    @Test
    void aStableKdStepAsksAFusingBackendForOneKdCeOpOnTheLogitGroup() {
        FusingBackend fusing = new FusingBackend();
        ToyNet teacher = new ToyNet("t", 4, 1), student = new ToyNet("s", 4, 2);
        StableKD m = new StableKD(teacher, student, StableKDTest.plan(1, 1, 1), null, new Rng(3), StableKDTest.QUIET);
        try (Restore r = Backends.use(fusing); Scope sc = Scope.open()) {
            m.startEpoch(0);
            TrainingMethod.Step step = m.step(StableKDTest.images(4), StableKDTest.LABELS, 0, 0);
            assertEquals(List.of("b1.mse", "b2.mse", "b3.mse", "b4.ce+kd"), List.copyOf(step.losses().keySet()));
            Tensor total = null;
            for (Tensor l : step.losses().values()) total = total == null ? l : Pointwise.add(total, l);
            Autograd.backward(total);
        }
        assertEquals(List.of("kdCrossEntropy", "kdCrossEntropyBackward"), fusing.calls);
    }
}
