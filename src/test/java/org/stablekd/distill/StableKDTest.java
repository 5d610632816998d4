package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.autograd.Autograd;
import org.stablekd.data.Normalize;
import org.stablekd.io.Safetensors;
import org.stablekd.nn.Parameter;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.LrSchedule;
import org.stablekd.optim.LrSpec;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.TestData;
import org.stablekd.train.TrainingMethod;
import org.stablekd.train.Trainer;

class StableKDTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    static Plan plan(int... epochs) {
        return new Plan(new int[] {0, 1, 2, 3, 4}, new int[] {0, 1, 2, 3, 4}, epochs, 2, 1.0, 0.1, 0.9, 4.0, false, false);
    }

    static Tensor images(long seed) {
        return Tensor.randn(new Rng(seed), DType.F32, 1, 6, 1, 8, 8);
    }

    static final Tensor LABELS = Tensor.ofInts(new int[] {0, 1, 2, 3, 4, 0}, 6);

    @Test
    void thePlanIsCheckedBeforeTraining() {
        ToyNet t = new ToyNet("teacher", 8, 1), s = new ToyNet("student", 4, 2);
        var bad = assertThrows(IllegalArgumentException.class, () -> new Plan(new int[] {0, 2, 5}, new int[] {0, 2, 4}, new int[] {1, 1}, 2, 1, 0.1, 0.9, 4, false, false).validate(t, s));
        assertTrue(bad.getMessage().contains("student student cuts [0, 2, 5] must start at 0 and end at its stage count 4"), bad.getMessage());
        var epochs = assertThrows(IllegalArgumentException.class, () -> plan(2, 2).validate(t, t));
        assertTrue(epochs.getMessage().contains("4 blocks merged 2 at a time give 3 stages"), epochs.getMessage());
        var shapes = assertThrows(IllegalArgumentException.class, () -> plan(1, 1, 1).validate(t, s));
        assertTrue(shapes.getMessage().contains("block 1 of student ends with (4,8,8) but block 1 of teacher ends with (8,8,8)"), shapes.getMessage());
        assertTrue(shapes.getMessage().contains("connectors"), shapes.getMessage());
        Plan withConnectors = new Plan(new int[] {0, 1, 2, 3, 4}, new int[] {0, 1, 2, 3, 4}, new int[] {1, 1, 1}, 2, 1, 0.1, 0.9, 4, false, true);
        StableKD m = new StableKD(t, s, withConnectors, null, new Rng(3), QUIET);
        assertEquals(List.of("model", "connector.in.1", "connector.in.2", "connector.in.3", "connector.out.1", "connector.out.2", "connector.out.3"),
                List.copyOf(m.trainable().keySet()));
        assertEquals(3, Plan.defaults(4, 4, 10).stageEpochs().length);
        assertArrayEquals(new int[] {4, 3, 3}, Plan.defaults(4, 4, 10).stageEpochs());
    }

    @Test
    void inDecompositionEachBlockGetsExactlyItsTeacherInput() {
        ToyNet teacher = new ToyNet("t", 4, 1), student = new ToyNet("s", 4, 2);
        StableKD m = new StableKD(teacher, student, plan(1, 1, 1), null, new Rng(3), QUIET);
        try (Scope sc = Scope.open()) {
            Tensor x = images(4);
            List<Tensor> h = new Teacher(new ToyNet("t", 4, 1)).features(x, new int[] {1, 2, 3, 4});
            student.recording = true;
            m.startEpoch(0);
            TrainingMethod.Step step = m.step(x, LABELS, 0, 0);
            assertEquals(List.of("b1.mse", "b2.mse", "b3.mse", "b4.ce", "b4.kd"), List.copyOf(step.losses().keySet()));
            assertSame(x, student.inputs.get(0).get(0), "block 1 gets the image");
            for (int b = 1; b < 4; b++) {
                assertEquals(1, student.inputs.get(b).size(), "block " + (b + 1) + " runs once");
                Close.assertBitIdentical(h.get(b - 1).toFloatArray(), student.inputs.get(b).get(0).toFloatArray(), "block " + (b + 1) + " gets teacher h_" + b);
            }
        }
    }

    @Test
    void aGroupsLossLeavesEveryOtherGroupsGradientsUntouched() {
        for (int group = 0; group < 4; group++) {
            ToyNet teacher = new ToyNet("t", 4, 1), student = new ToyNet("s", 4, 2);
            StableKD m = new StableKD(teacher, student, plan(1, 1, 1), null, new Rng(3), QUIET);
            try (Scope sc = Scope.open()) {
                TrainingMethod.Step step = m.step(images(5), LABELS, 0, 0);
                String prefix = "b" + (group + 1) + ".";
                Tensor loss = null;
                for (var e : step.losses().entrySet()) {
                    if (e.getKey().startsWith(prefix)) loss = loss == null ? e.getValue() : Pointwise.add(loss, e.getValue());
                }
                Autograd.backward(loss);
            }
            for (int stage = 0; stage < 4; stage++) {
                for (Parameter p : student.stageParameters(stage)) {
                    double norm = 0;
                    if (p.grad() != null) for (float v : p.grad().toFloatArray()) norm += v * v;
                    if (stage == group) assertTrue(norm > 0, "group b" + (group + 1) + " trains its own block");
                    else assertEquals(0.0, norm, "group b" + (group + 1) + "'s loss reached block " + (stage + 1));
                }
            }
        }
    }

    @Test
    void theFinalStageIsExactlyPlainKD() {
        ToyNet teacher = new ToyNet("t", 4, 1), a = new ToyNet("s", 4, 2), b = new ToyNet("s", 4, 2);
        StableKD stable = new StableKD(teacher, a, plan(1, 1, 1), null, new Rng(3), QUIET);
        KD kd = new KD(new ToyNet("t", 4, 1), b, 0.1, 0.9, 4.0);
        double[] totals = new double[2];
        try (Scope sc = Scope.open()) {
            int i = 0;
            for (TrainingMethod method : List.of(stable, kd)) {
                method.startEpoch(2);
                TrainingMethod.Step step = method.step(images(6), LABELS, 2, 0);
                assertEquals(2, step.losses().size());
                Tensor total = null;
                for (Tensor l : step.losses().values()) total = total == null ? l : Pointwise.add(total, l);
                totals[i++] = total.item();
                Autograd.backward(total);
            }
        }
        assertEquals(totals[1], totals[0], 0.0, "same loss");
        Map<String, Parameter> pa = a.namedParameters(), pb = b.namedParameters();
        for (String k : pa.keySet()) assertArrayEquals(pb.get(k).grad().toFloatArray(), pa.get(k).grad().toFloatArray(), k + " gradient");
    }

    /** Many steps of every stage: after warm-up, off-heap memory stays flat (nothing leaks, nothing new is mapped). */
    @Test
    void offHeapUsageStaysFlatOverManySteps() {
        ToyNet teacher = new ToyNet("t", 4, 1), student = new ToyNet("s", 4, 2);
        StableKD m = new StableKD(teacher, student, plan(1, 1, 1), null, new Rng(3), QUIET);
        org.stablekd.nn.ParameterSlab slab = org.stablekd.nn.ParameterSlab.pack(new org.stablekd.nn.ModuleGroup(m.trainable()));
        org.stablekd.optim.Sgd sgd = new org.stablekd.optim.Sgd(slab, 0.9, 5e-4, false);
        Tensor x = images(7);
        org.stablekd.tensor.HostAllocator.Stats warm = null;
        for (int round = 0; round < 4; round++) {
            for (int epoch = 0; epoch < 3; epoch++) {
                m.startEpoch(epoch);
                for (int i = 0; i < 10; i++) {
                    try (Scope sc = Scope.open()) {
                        Tensor total = null;
                        for (Tensor l : m.step(x, LABELS, epoch, i).losses().values()) total = total == null ? l : Pointwise.add(total, l);
                        Autograd.backward(total);
                        sgd.step(0.05);
                        sgd.zeroGrad();
                    }
                }
            }
            if (round == 0) warm = org.stablekd.testing.AllocatorStats.settled();
        }
        var end = org.stablekd.testing.AllocatorStats.settled();
        assertEquals(warm.freshBlocks(), end.freshBlocks(), "no new blocks after the first round of all three stages");
        assertEquals(warm.inUseBytes(), end.inUseBytes(), "every step returns what it took");
    }

    @Test
    void resumingAtAStageBoundaryMatchesAnUninterruptedRun(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        run(a, 3, false);
        run(b, 1, false);   // killed right after stage 1 (decomposition)
        run(b, 3, true);    // resumes into stage 2 (b1-2, b3-4), then the end-to-end stage
        var wa = Safetensors.read(a.resolve("checkpoint.safetensors")).tensors();
        var wb = Safetensors.read(b.resolve("checkpoint.safetensors")).tensors();
        assertEquals(wa.keySet(), wb.keySet());
        for (String k : wa.keySet()) assertArrayEquals(wa.get(k).toDoubleArray(), wb.get(k).toDoubleArray(), 0, k);
        assertTrue(Safetensors.metadata(b.resolve("checkpoint.safetensors")).get("plan").contains("[b1-2, b3-4]"));
    }

    private static void run(Path out, int epochs, boolean resume) throws Exception {
        StableKD m = new StableKD(new ToyNet("t", 4, 1), new ToyNet("s", 4, 2), new Plan(new int[] {0, 1, 2, 3, 4}, new int[] {0, 1, 2, 3, 4},
                new int[] {1, 1, 1}, 2, 1.0, 0.1, 0.9, 4.0, true, false), LrSpec.multistep(0.1), new Rng(3), QUIET);
        var norm = new Normalize(new float[] {0.3f}, new float[] {0.3f});
        Trainer.Options o = new Trainer.Options(epochs, 16, new LrSchedule.Constant(0.1), 0.9, 5e-4, false, 7, out, resume, 1, 32, false, Map.of());
        new Trainer(o, QUIET).fit(m, TestData.bars(48, 1), norm, TestData.bars(12, 2), norm);
    }
}
