package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.Parameter;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
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
        FitNets f = new FitNets(teacher, student, 2, 2, 100, new Rng(3));
        assertEquals(List.of("model", "regressor"), List.copyOf(f.trainable().keySet()));
        try (Scope s = Scope.open()) {
            TrainingMethod.Step step = f.step(images(), LABELS, 0, 0);
            assertEquals(List.of("ce", "hint"), List.copyOf(step.losses().keySet()));
            Autograd.backward(Pointwise.add(step.losses().get("ce"), step.losses().get("hint")));
        }
        assertTeacherUntouched(teacher);
        assertThrows(IllegalArgumentException.class, () -> new FitNets(teacher, student, 0, 2, 100, new Rng(3)));
        // a deeper teacher hint (4×4) than the student's (8×8): the regressor strides by 2
        new FitNets(teacher, student, 2, 3, 100, new Rng(3)).step(images(), LABELS, 0, 0);
    }
}
