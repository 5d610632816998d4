package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import org.junit.jupiter.api.Test;
import org.stablekd.testing.TestData;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** KD_CE_LOSS is ceWeight·CE + kdWeight·KD: loss and student gradient equal the composition on both host backends. */
class KdCrossEntropyTest {

    private static Tensor labels(long seed, int n, int classes) {
        return TestData.labels(seed, n, classes);
    }

    @Test
    void equalsTheWeightedSumOfCrossEntropyAndKd() {
        for (Backend backend : new Backend[] {Backends.ref(), Backends.cpu()}) {
            for (int classes : new int[] {2, 10, 100}) {
                try (Restore b = Backends.use(backend); Scope s = Scope.open()) {
                    Tensor student = Tensor.randn(new Rng(1), DType.F32, 2, 7, classes), teacher = Tensor.randn(new Rng(2), DType.F32, 2, 7, classes);
                    Tensor y = labels(3, 7, classes);
                    Tensor a = student.detach().requiresGrad(true), c = student.detach().requiresGrad(true);
                    Tensor fused = Losses.kdCrossEntropy(a, teacher, y, 4, 0.1, 0.9);
                    Tensor composed = Pointwise.add(Pointwise.scale(Losses.crossEntropy(c, y), 0.1), Pointwise.scale(Losses.kdLoss(c, teacher, 4), 0.9));
                    Autograd.backward(fused);
                    Autograd.backward(composed);
                    String what = backend.name() + ", " + classes + " classes";
                    assertClose(fused, composed, Tolerance.F32_VS_REF, what + ": loss");
                    assertClose(a.grad(), c.grad(), Tolerance.F32_VS_REF, what + ": d loss / d student");
                }
            }
        }
    }

    @Test
    void rejectsATeacherThatRequiresAGradientAndBadLabels() {
        try (Scope s = Scope.open()) {
            Tensor student = Tensor.randn(new Rng(1), DType.F32, 1, 3, 5).requiresGrad(true);
            Tensor teacher = Tensor.randn(new Rng(2), DType.F32, 1, 3, 5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Losses.kdCrossEntropy(student, teacher.detach().requiresGrad(true), labels(3, 3, 5), 4, 0.1, 0.9));
            assertTrue(e.getMessage().startsWith("kd_ce_loss: the teacher logits"), e.getMessage());
            for (Backend backend : new Backend[] {Backends.ref(), Backends.cpu()}) {
                try (Restore b = Backends.use(backend)) {
                    e = assertThrows(IllegalArgumentException.class,
                            () -> Losses.kdCrossEntropy(student, teacher, Tensor.ofInts(new int[] {0, 5, 1}, 3), 4, 0.1, 0.9));
                    assertTrue(e.getMessage().startsWith("kd_ce_loss: label 5 at row 1"), backend.name() + ": " + e.getMessage());
                }
            }
        }
    }
}
