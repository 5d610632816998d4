package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.stablekd.testing.Close.assertBitIdentical;
import static org.stablekd.testing.Close.assertClose;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.models.Zoo;
import org.stablekd.nn.BatchNormFolding;
import org.stablekd.nn.Model;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** The teacher runs BN-folded with cached weight packing: same outputs, same state dict, no graph. */
class TeacherTest {
    private static final Shape IN = Shape.of(3, 32, 32);

    /** A resnet20 with non-trivial BatchNorm statistics (a few train-mode forwards). */
    private static Model trained(long seed) {
        Model m = Zoo.create("resnet20", 10, IN, new Rng(seed));
        try (Restore ng = Autograd.noGrad()) {
            for (int i = 0; i < 3; i++) m.forward(Tensor.randn(new Rng(seed + 10 + i), DType.F32, 1.5, 4, 3, 32, 32));
        }
        m.eval();
        return m;
    }

    private static Map<String, float[]> stateOf(Model m) {
        return m.stateDict().entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().toFloatArray()));
    }

    @Test
    void foldedTeacherGivesTheUnfoldedLogitsAndFeaturesAndKeepsItsStateDict() {
        Model plain = trained(5), folded = trained(5);
        Map<String, float[]> before = stateOf(folded);
        Teacher teacher = new Teacher(folded);
        Tensor x = Tensor.randn(new Rng(77), DType.F32, 1, 6, 3, 32, 32);
        int[] cuts = {1, 2, plain.stageCount()};
        try (Scope s = Scope.open(); Restore ng = Autograd.noGrad()) {
            Tensor expectedLogits = plain.forward(x);
            Tensor logits = teacher.logits(x);
            assertFalse(logits.requiresGrad(), "teacher logits must not record a graph");
            // folding reorders the float sums: within float rounding of the deeper sums
            assertClose(logits, expectedLogits, Tolerance.F32_VS_REF, "teacher logits vs the unfolded model");
            List<Tensor> feats = teacher.features(x, cuts);
            for (int i = 0; i < cuts.length; i++) {
                assertClose(feats.get(i), plain.forwardStages(0, cuts[i], x), Tolerance.F32_VS_REF, "teacher feature at cut " + cuts[i]);
            }
            // same batch twice (the second with packed weights from the cache): the same bits
            assertBitIdentical(logits.toFloatArray(), teacher.logits(x).toFloatArray(), "teacher logits, second call");
        }
        Map<String, float[]> after = stateOf(folded);
        assertEquals(before.keySet(), after.keySet());
        for (String k : before.keySet()) assertBitIdentical(before.get(k), after.get(k), "state dict entry " + k + " after folding");
    }

    @Test
    void theTeacherIsFoldedOnceEvenWhenSharedByTwoMethods() {
        Model m = trained(6);
        Tensor x = Tensor.randn(new Rng(78), DType.F32, 1, 2, 3, 32, 32);
        try (Scope s = Scope.open()) {
            float[] first = new Teacher(m).logits(x).toFloatArray();
            // every conv->BN pair of resnet20 is already folded: nothing left to fold
            assertEquals(0, BatchNormFolding.fold(m), "pairs folded again after the teacher folded them");
            float[] second = new Teacher(m).logits(x).toFloatArray();   // a compare run builds one teacher per method
            assertBitIdentical(first, second, "logits of a second teacher over the same model");
        }
        Model fresh = trained(6);
        assertEquals(19 + 2, BatchNormFolding.fold(fresh), "conv->BN pairs of resnet20 (19 3x3 convs, 2 shortcut 1x1 convs)");
    }
}
