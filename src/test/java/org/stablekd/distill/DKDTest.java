package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.stablekd.testing.Close.assertClose;

import java.util.List;
import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.Parameter;
import org.stablekd.ops.Distill;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;
import org.stablekd.train.TrainingMethod;

/** The DKD method: CE + warmed-up DKD loss, a frozen teacher, the benchmark's β per pair. (The loss itself: DistillOpsTest.) */
class DKDTest {
    static Tensor images() {
        return Tensor.randn(new Rng(11), DType.F32, 1.0, 4, 1, 8, 8);
    }

    static Tensor labels() {
        return Tensor.ofInts(new int[] {0, 1, 2, 1}, 4);
    }

    static TinyNet teacher() {
        return new TinyNet("teacher", 6, 8, 2, true, 1);
    }

    static TinyNet student() {
        return new TinyNet("student", 4, 5, 2, true, 2);
    }

    /** mdistiller: min(epoch/warmup, 1) with epochs counted from 1; our epochs count from 0. */
    @Test
    void warmupIsLinearOverTheFirstEpochsCountedFromOne() {
        DKD m = new DKD(teacher(), student(), 1, 8, 4, 20);
        assertEquals(1.0 / 20, m.warmup(0));
        assertEquals(10.0 / 20, m.warmup(9));
        assertEquals(1.0, m.warmup(19));
        assertEquals(1.0, m.warmup(20));
        assertEquals(1.0, m.warmup(239));
        assertEquals(1.0, new DKD(teacher(), student(), 1, 8, 4, 1).warmup(0), "a one-epoch warm-up is no warm-up");
    }

    @Test
    void stepIsCrossEntropyPlusWarmedUpDkd() {
        TinyNet teacher = teacher(), student = student();
        DKD m = new DKD(teacher, student, 1, 8, 4, 20);
        try (Scope s = Scope.open()) {
            Tensor x = images(), y = labels();
            TrainingMethod.Step step = m.step(x, y, 4, 100);
            assertEquals(List.of("ce", "dkd"), List.copyOf(step.losses().keySet()));
            Tensor t, logits;
            try (Restore ng = Autograd.noGrad()) {
                t = teacher.forward(x);   // already in eval mode (the method's Teacher put it there)
                logits = student.forward(x);
            }
            assertClose(step.logits(), logits, Tolerance.EXACT, "the step returns the student's logits");
            double dkd = Distill.dkdLoss(logits, t, y, 1, 8, 4).item();
            assertClose(new double[] {step.losses().get("dkd").item()}, new double[] {5.0 / 20 * dkd}, Tolerance.F32_VS_REF, "0-based epoch 4 of a 20-epoch warm-up: 5/20 of the DKD loss");
            assertClose(new double[] {step.losses().get("ce").item()}, new double[] {Losses.crossEntropy(logits, y).item()}, Tolerance.EXACT, "CE, weight 1");
        }
    }

    @Test
    void teacherGetsNoGradientAndStaysInEvalMode() {
        TinyNet teacher = teacher(), student = student();
        DKD m = new DKD(teacher, student);
        assertFalse(teacher.isTraining(), "the teacher is put in eval mode");
        teacher.train(true); // someone flips it: the method puts it back for every step
        float[] runningMean = teacher.bn1.runningMean().value().toFloatArray();
        try (Scope s = Scope.open()) {
            TrainingMethod.Step step = m.step(images(), labels(), 0, 0);
            Autograd.backward(Pointwise.add(step.losses().get("ce"), step.losses().get("dkd")));
        }
        assertFalse(teacher.isTraining(), "teacher in eval mode after a step");
        Close.assertBitIdentical(runningMean, teacher.bn1.runningMean().value().toFloatArray(), "teacher BN statistics untouched");
        for (Parameter p : teacher.parameters()) assertNull(p.grad(), "a teacher parameter got a gradient");
        for (Parameter p : student.parameters()) assertNotNull(p.grad(), "every student parameter gets a gradient");
    }

    @Test
    void defaultBetaFollowsTheBenchmark() {
        assertEquals(2, DKD.defaultBeta("resnet56", "resnet20"));
        assertEquals(2, DKD.defaultBeta("resnet110", "resnet32"));
        assertEquals(6, DKD.defaultBeta("vgg13", "vgg8"));
        assertEquals(6, DKD.defaultBeta("vgg13", "mobile_half"));
        assertEquals(6, DKD.defaultBeta("wrn_40_2", "wrn_16_2"));
        assertEquals(6, DKD.defaultBeta("wrn_40_2", "wrn_40_1"));
        assertEquals(8, DKD.defaultBeta("resnet32x4", "resnet8x4"));
        assertEquals(8, DKD.defaultBeta("wrn_40_2", "ShuffleV1"));
        assertEquals(8, DKD.defaultBeta("resnet110", "resnet20"));
        DKD m = new DKD(new TinyNet("resnet56", 6, 8, 2, true, 1), new TinyNet("resnet20", 4, 5, 2, true, 2));
        assertEquals(List.of(1.0, 2.0, 4.0, 20.0), List.of(m.alpha(), m.beta(), m.tau(), (double) m.warmupEpochs()), "α, β, τ, warm-up defaults");
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new DKD(teacher(), student(), 1, 8, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> new DKD(teacher(), student(), 1, 8, 0, 20));
        assertThrows(IllegalArgumentException.class, () -> new DKD(teacher(), student(), Double.NaN, 8, 4, 20));
    }
}
