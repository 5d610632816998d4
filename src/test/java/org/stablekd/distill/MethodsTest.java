package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.Module;
import org.stablekd.nn.ModuleGroup;
import org.stablekd.nn.Parameter;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.Sgd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

class MethodsTest {
    static final Tensor LABELS = Tensor.ofInts(new int[] {0, 1, 2, 3}, 4);

    private static Tensor images() {
        return Tensor.randn(new Rng(9), DType.F32, 1, 4, 1, 8, 8);
    }

    private static void assertTeacherUntouched(ToyNet teacher) {
        assertFalse(teacher.isTraining(), "the teacher stays in eval mode");
        for (Parameter p : teacher.namedParameters().values()) assertNull(p.grad(), "the teacher gets no gradient");
        assertEquals(0.0, teacher.bns.get(0).stateDict().get("num_batches_tracked").item(), "teacher BN statistics frozen");
    }

    @Test
    void kdIsTheWeightedSumOfCeAndTheKdLoss() {
        ToyNet teacher = new ToyNet("t", 8, 1), student = new ToyNet("s", 4, 2);
        KD kd = new KD(teacher, student, 0.1, 0.9, 4);
        try (Scope s = Scope.open()) {
            Tensor x = images();
            TrainingMethod.Step step = kd.step(x, LABELS, 0, 0);
            double ce, kl;
            try (Restore ng = Autograd.noGrad()) {
                Tensor sl = step.logits();
                ce = Losses.crossEntropy(sl, LABELS).item();
                kl = Losses.kdLoss(sl, new Teacher(teacher).logits(x), 4).item();
            }
            assertEquals(0.1 * ce, step.losses().get("ce").item(), 1e-6);
            assertEquals(0.9 * kl, step.losses().get("kd").item(), 1e-6);
            Autograd.backward(Pointwise.add(step.losses().get("ce"), step.losses().get("kd")));
        }
        assertTeacherUntouched(teacher);
    }

    @Test
    void fitNetsRegressesTheStudentHintOntoTheTeachers() {
        ToyNet teacher = new ToyNet("t", 8, 1), student = new ToyNet("s", 4, 2);
        assertEquals(2, FitNets.middleCut(student));
        // Cut c is the input of stage c: cut 2 is the output of s2 (stride 2 after s1), 8×4×4 for the teacher and 4×4×4
        // for the student, so the regressor maps 4 → 8 channels at stride 1.
        assertEquals(Shape.of(1, 8, 4, 4), teacher.stageShapes(1).get(1));
        assertEquals(Shape.of(1, 4, 4, 4), student.stageShapes(1).get(1));
        FitNets f = new FitNets(teacher, student, 2, 2, 100, new Rng(3));
        assertEquals(List.of("model", "regressor"), List.copyOf(f.trainable().keySet()));
        Module regressor = f.trainable().get("regressor");
        assertEquals(Shape.of(8, 4, 3, 3), regressor.namedParameters().get("conv.weight").value().shape());

        // The parameter group the trainer packs and steps (Trainer: one slab over ModuleGroup(trainable())) holds the regressor.
        ParameterSlab slab = ParameterSlab.pack(new ModuleGroup(f.trainable()));
        List<String> regressorNames = List.of("regressor.conv.weight", "regressor.conv.bias", "regressor.bn.weight", "regressor.bn.bias");
        List<String> inGroup = slab.entries().stream().map(ParameterSlab.Entry::name).toList();
        assertTrue(inGroup.containsAll(regressorNames), "regressor parameters in the optimizer's group: " + inGroup);
        assertTrue(inGroup.stream().noneMatch(n -> n.startsWith("t.") || n.contains("teacher")), "no teacher parameter in the group");
        float[] regressorBefore = regressor.namedParameters().get("conv.weight").value().toFloatArray();
        float[] teacherBefore = teacher.convs.get(1).namedParameters().get("weight").value().toFloatArray();

        try (Scope s = Scope.open()) {
            Tensor x = images();
            student.recording = true;
            TrainingMethod.Step step = f.step(x, LABELS, 0, 0);
            student.recording = false;
            assertEquals(List.of("ce", "hint"), List.copyOf(step.losses().keySet()));

            // The hint loss, recomputed: the student's hint (what its stage 2 received) through the regressor, against
            // the teacher's cut-2 features in eval mode; 100 · mean of the squared differences, summed in double.
            double expected;
            try (Restore ng = Autograd.noGrad()) {
                Tensor hintS = student.inputs.get(2).get(0);
                assertEquals(Shape.of(4, 4, 4, 4), hintS.shape());
                double[] reg = regressor.forward(hintS).toDoubleArray();
                double[] hintT = teacher.forwardStages(0, 2, x).toDoubleArray();
                assertEquals(4 * 8 * 4 * 4, reg.length);
                assertEquals(reg.length, hintT.length);
                double sq = 0;
                for (int i = 0; i < reg.length; i++) sq += (reg[i] - hintT[i]) * (reg[i] - hintT[i]);
                expected = 100 * sq / reg.length;
            }
            assertTrue(expected > 1e-3, "a non-trivial hint loss: " + expected);
            assertEquals(expected, step.losses().get("hint").item(), 1e-5 * expected, "hint = 100 · MSE(regressor(student hint), teacher hint)");

            Autograd.backward(Pointwise.add(step.losses().get("ce"), step.losses().get("hint")));
        }
        assertTeacherUntouched(teacher);
        for (String name : List.of("conv.weight", "bn.weight", "bn.bias")) {   // conv.bias feeds a training-mode BN: gradient ≈ 0
            double[] g = regressor.namedParameters().get(name).grad().toDoubleArray();
            double norm = 0;
            for (double v : g) {
                assertTrue(Double.isFinite(v), "regressor " + name + " gradient finite");
                norm += v * v;
            }
            assertTrue(norm > 0, "regressor " + name + " receives a gradient");
        }
        for (double v : regressor.namedParameters().get("conv.bias").grad().toDoubleArray()) assertTrue(Double.isFinite(v));
        new Sgd(slab, 0.9, 5e-4, false).step(0.1);
        assertFalse(java.util.Arrays.equals(regressorBefore, regressor.namedParameters().get("conv.weight").value().toFloatArray()),
                "the optimizer step moves the regressor");
        assertArrayEquals(teacherBefore, teacher.convs.get(1).namedParameters().get("weight").value().toFloatArray(), "the teacher stays");

        assertThrows(IllegalArgumentException.class, () -> new FitNets(teacher, student, 0, 2, 100, new Rng(3)));
        // A deeper teacher hint: cut 3 is the output of s3, 16×2×2, against the student's 4×4×4 at cut 2; the regressor
        // strides by 2.
        assertEquals(Shape.of(1, 16, 2, 2), teacher.stageShapes(1).get(2));
        FitNets deeper = new FitNets(teacher, student, 2, 3, 100, new Rng(3));
        try (Scope s = Scope.open()) {
            double hint = deeper.step(images(), LABELS, 0, 0).losses().get("hint").item();
            assertTrue(Double.isFinite(hint) && hint > 0, "stride-2 hint loss " + hint);
        }
    }
}
