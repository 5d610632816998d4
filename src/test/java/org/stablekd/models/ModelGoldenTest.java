package org.stablekd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.stablekd.autograd.Autograd;
import org.stablekd.io.TensorFile;
import org.stablekd.nn.Model;
import org.stablekd.nn.StateDict;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * Whole-model forwards against PyTorch 1.13 (fixtures golden/models-v1/golden/*, written by
 * scripts/golden/make_model_fixtures.py): every parameter and buffer filled by {@link ModelFill},
 * then eval-mode logits (and the small stage outputs), then one train-mode forward (batch
 * statistics) and, for resnet8x4, the running statistics it leaves behind. Plus a real PyTorch
 * state dict of resnet8 saved as safetensors, loaded by name.
 */
class ModelGoldenTest {
    static final Tolerance TOL = Tolerance.GOLDEN_MODEL_F32;

    static Stream<Arguments> cases() {
        return ModelFixtures.csv("golden_cases.csv").stream().map(r -> Arguments.of(r.get("case"), r.get("model"),
                Integer.parseInt(r.get("classes")), Shape.of(Integer.parseInt(r.get("C")), Integer.parseInt(r.get("H")), Integer.parseInt(r.get("W")))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void logitsEqualPyTorchInEvalAndTrainMode(String caseName, String model, int classes, Shape input) {
        TensorFile golden = ModelFixtures.tensors("golden/" + caseName + ".safetensors");
        Map<String, Tensor> g = golden.tensors();
        assertEquals(model, golden.metadata().get("model"));
        Model m = Zoo.create(model, classes, input, new Rng(11));
        ModelFill.fill(m);
        Tensor x = g.get("input");
        assertEquals(Shape.of(2, input.dim(0), input.dim(1), input.dim(2)), x.shape());

        m.eval();
        int compared = 0;
        try (Restore _ = Autograd.noGrad(); Scope _ = Scope.open()) {
            Tensor h = x;
            for (int i = 0; i < m.stageCount(); i++) {
                h = m.forwardStage(i, h);
                Tensor expected = g.get("stage" + i + "_eval");
                if (expected != null) {
                    Close.assertClose(h, expected, TOL, caseName + " eval stage " + i + " (" + m.stageNames().get(i) + ")");
                    compared++;
                }
            }
            Close.assertClose(h, g.get("logits_eval"), TOL, caseName + " eval logits");
        }
        long stageTensors = g.keySet().stream().filter(k -> k.startsWith("stage")).count();
        assertEquals(stageTensors, compared, "every stored stage output was compared");

        m.train(true);
        try (Scope _ = Scope.open()) {
            Close.assertClose(m.forward(x), g.get("logits_train"), TOL, caseName + " train logits");
        }
        List<String> after = new ArrayList<>(g.keySet().stream().filter(k -> k.startsWith("after_train.")).toList());
        Map<String, Tensor> state = m.stateDict();
        for (String key : after) {
            String name = key.substring("after_train.".length());
            Tensor actual = state.get(name);
            if (name.endsWith("num_batches_tracked")) assertEquals(g.get(key).item(), actual.item(), name);
            else Close.assertClose(actual, g.get(key), TOL, caseName + " after one train forward: " + name);
        }
        if (caseName.equals("resnet8x4")) {
            long batchNorms = state.keySet().stream().filter(k -> k.endsWith(".running_mean")).count();
            assertEquals(3 * batchNorms, after.size(), "running mean, variance and count of every BN compared");
        }
    }

    @Test
    void aPyTorchStateDictSavedAsSafetensorsLoadsAndGivesPyTorchsLogits() {
        String file = "resnet8_state_dict.safetensors";
        TensorFile sd = ModelFixtures.tensors(file);
        Model m = Zoo.create("resnet8", 100, new Rng(12));
        StateDict.load(m, sd.tensors(), file, "resnet8");
        assertEquals(3.0, m.stateDict().get("layer3.0.downsample.1.num_batches_tracked").item(), "int64 counters load");
        assertTrue(m.stateDict().get("bn1.running_var").getFlat(0) != 1.0, "running statistics loaded");
        m.eval();
        Map<String, Tensor> golden = ModelFixtures.tensors("resnet8_state_dict_logits.safetensors").tensors();
        try (Restore _ = Autograd.noGrad(); Scope _ = Scope.open()) {
            Close.assertClose(m.forward(golden.get("input")), golden.get("logits_eval"), TOL, "resnet8 from a PyTorch state dict");
        }
    }
}
