package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.nn.Parameter;
import org.stablekd.ops.Layout;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;
import org.stablekd.train.TrainingMethod;

/** Attention transfer: the pair loss by hand, its pooling, the method's losses, cuts and frozen teacher. */
class ATTest {
    static Tensor images() {
        return Tensor.randn(new Rng(12), DType.F32, 1.0, 4, 1, 8, 8);
    }

    static Tensor labels() {
        return Tensor.ofInts(new int[] {2, 0, 1, 1}, 4);
    }

    /**
     * Student feature (1,1,2,4) [[1,3,2,2],[1,3,0,0]] is 2×2-pooled to [2, 1] first (RepDistiller pools
     * the feature, not the map): q_s = [4, 1]. Teacher (1,2,1,2), channels [1,0] and [1,2]:
     * q_t = [(1+1)/2, (0+4)/2] = [1, 2]. Loss = mean((q_s/√17 − q_t/√5)²).
     */
    @Test
    void pairLossByHand() {
        double r17 = Math.sqrt(17), r5 = Math.sqrt(5);
        double expected = (Math.pow(4 / r17 - 1 / r5, 2) + Math.pow(1 / r17 - 2 / r5, 2)) / 2;
        for (Backend b : List.of(Backends.ref(), Backends.cpu())) {
            try (Restore r = Backends.use(b); Scope s = Scope.open()) {
                Tensor fs = Tensor.of(new float[] {1, 3, 2, 2, 1, 3, 0, 0}, 1, 1, 2, 4);
                Tensor ft = Tensor.of(new float[] {1, 0, 1, 2}, 1, 2, 1, 2);
                assertClose(new double[] {AT.pairLoss(fs, ft).item()}, new double[] {expected}, Tolerance.F32_VS_REF, b.name() + " student pooled");
                assertClose(new double[] {AT.pairLoss(ft, fs).item()}, new double[] {expected}, Tolerance.F32_VS_REF, b.name() + " teacher pooled");
            }
        }
    }

    @Test
    void pairLossIsZeroForTheSameFeaturesWhateverTheChannels() {
        try (Scope s = Scope.open()) {
            Tensor f = Tensor.randn(new Rng(4), DType.F32, 1.0, 3, 5, 4, 4);
            Tensor copy = Tensor.of(f.toFloatArray(), 3, 5, 4, 4);
            assertEquals(0.0, AT.pairLoss(f, copy).item(), "identical features");
            // doubling the channels keeps mean_c f², so the map
            assertEquals(0.0, AT.pairLoss(f, Layout.concat(copy, copy)).item(), 1e-12, "the same map from 10 channels");
        }
    }

    @Test
    void pairLossRejectsSizesWithoutAWholeFactor() {
        try (Scope s = Scope.open()) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> AT.pairLoss(Tensor.zeros(DType.F32, 2, 3, 8, 8), Tensor.zeros(DType.F32, 2, 3, 3, 3)));
            assertTrue(e.getMessage().contains("whole factor"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> AT.pairLoss(Tensor.zeros(DType.F32, 2, 3, 8, 4), Tensor.zeros(DType.F32, 2, 3, 4, 4)));
            assertTrue(e.getMessage().contains("whole factor"), e.getMessage());
        }
    }

    /** Identical networks (no BN, so train and eval mode agree): the AT loss is exactly 0. */
    @Test
    void lossIsZeroWhenStudentEqualsTeacher() {
        AT m = new AT(new TinyNet("teacher", 4, 6, 2, false, 5), new TinyNet("student", 4, 6, 2, false, 5));
        try (Scope s = Scope.open()) {
            TrainingMethod.Step step = m.step(images(), labels(), 0, 0);
            assertEquals(0.0, step.losses().get("at").item());
        }
    }

    /** Teacher (6,8,8) | (8,8,8); student (4,8,8) | (5,4,4): the second teacher feature is pooled 2×2. */
    @Test
    void stepIsCrossEntropyPlusBetaTimesPairLosses() {
        TinyNet teacher = new TinyNet("teacher", 6, 8, 1, true, 1), student = new TinyNet("student", 4, 5, 2, true, 2);
        AT m = new AT(teacher, student);
        assertArrayEquals(new int[] {1, 2}, m.studentCuts(), "every stage output but the logits");
        assertEquals(1000, m.beta());
        teacher.headAllowed = false; // AT needs no teacher logits
        try (Scope s = Scope.open()) {
            Tensor x = images(), y = labels();
            TrainingMethod.Step step = m.step(x, y, 0, 0);
            assertEquals(List.of("ce", "at"), List.copyOf(step.losses().keySet()));
            List<Tensor> fs = new ArrayList<>(), ft = new ArrayList<>();
            try (Restore ng = Autograd.noGrad()) {
                Tensor h = x, g = x;
                for (int i = 0; i < 2; i++) {
                    fs.add(h = student.forwardStage(i, h));
                    ft.add(g = teacher.forwardStage(i, g));
                }
                Tensor logits = student.forwardStage(2, h);
                assertClose(step.logits(), logits, Tolerance.EXACT, "the step returns the student's logits");
                double expected = 1000 * (AT.pairLoss(fs.get(0), ft.get(0)).item() + AT.pairLoss(fs.get(1), ft.get(1)).item());
                assertClose(new double[] {step.losses().get("at").item()}, new double[] {expected}, Tolerance.F32_VS_REF, "β·Σ pair losses");
                assertClose(new double[] {step.losses().get("ce").item()}, new double[] {Losses.crossEntropy(logits, y).item()}, Tolerance.EXACT, "CE, weight 1");
            }
        }
    }

    @Test
    void teacherGetsNoGradientAndStaysInEvalMode() {
        TinyNet teacher = new TinyNet("teacher", 6, 8, 1, true, 1), student = new TinyNet("student", 4, 5, 2, true, 2);
        AT m = new AT(teacher, student);
        assertFalse(teacher.isTraining());
        teacher.train(true);
        float[] runningVar = teacher.bn1.runningVar().value().toFloatArray();
        try (Scope s = Scope.open()) {
            TrainingMethod.Step step = m.step(images(), labels(), 0, 0);
            Autograd.backward(Pointwise.add(step.losses().get("ce"), step.losses().get("at")));
        }
        assertFalse(teacher.isTraining(), "teacher in eval mode after a step");
        Close.assertBitIdentical(runningVar, teacher.bn1.runningVar().value().toFloatArray(), "teacher BN statistics untouched");
        for (Parameter p : teacher.parameters()) assertNull(p.grad(), "a teacher parameter got a gradient");
        for (Parameter p : student.parameters()) assertNotNull(p.grad(), "every student parameter gets a gradient");
    }

    @Test
    void cutsAreChecked() {
        TinyNet teacher = new TinyNet("teacher", 6, 8, 1, true, 1), student = new TinyNet("student", 4, 5, 2, true, 2);
        assertArrayEquals(new int[] {2}, new AT(teacher, student, 1000, new int[] {2}).teacherCuts());
        var e = assertThrows(IllegalArgumentException.class, () -> new AT(teacher, student, 1000, new int[] {3}));
        assertTrue(e.getMessage().contains("logits are no feature map"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AT(teacher, student, 1000, new int[] {0}));
        assertThrows(IllegalArgumentException.class, () -> new AT(teacher, student, 1000, new int[] {2, 1}));
        assertThrows(IllegalArgumentException.class, () -> new AT(teacher, student, 1000, new int[] {1, 2}, new int[] {1}));
        // stride 3: 8×8 → 3×3, no whole factor to the teacher's 8×8
        e = assertThrows(IllegalArgumentException.class, () -> new AT(teacher, new TinyNet("odd", 4, 5, 3, true, 2)));
        assertTrue(e.getMessage().contains("cut 2") && e.getMessage().contains("whole factor"), e.getMessage());
    }
}
