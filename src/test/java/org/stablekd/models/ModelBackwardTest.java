package org.stablekd.models;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.stablekd.testing.Close;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.Model;
import org.stablekd.nn.Parameter;
import org.stablekd.ops.Losses;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/** Training readiness: one train-mode step reaches every parameter; creation is seeded. */
class ModelBackwardTest {

    /** Small models covering every block type: post-act residual, pre-act WRN, VGG, inverted residual, both ShuffleNets. */
    @ParameterizedTest(name = "{0} {1}x{2}x{3}")
    @CsvSource({"resnet8,3,32,32", "wrn_16_1,3,32,32", "mobile_half,3,32,32", "ShuffleV1,1,28,28", "ShuffleV2,1,28,28", "vgg8,1,28,28"})
    void everyParameterGetsAGradient(String name, int c, int h, int w) {
        Model m = Zoo.create(name, 10, Shape.of(c, h, w), new Rng(21));
        m.train(true);
        try (Scope _ = Scope.open()) {
            Tensor x = Tensor.randn(new Rng(22), DType.F32, 1, 2, c, h, w);
            Autograd.backward(Losses.crossEntropy(m.forward(x), Tensor.ofInts(new int[] {3, 7}, 2)));
        }
        List<String> without = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            Tensor g = e.getValue().grad();
            if (g == null || !anyNonZero(g)) without.add(e.getKey());
        }
        assertTrue(without.isEmpty(), name + ": parameters without a gradient: " + without);
    }

    @Test
    void creationIsSeeded() {
        float[] a = Zoo.create("resnet8", 10, new Rng(5)).stateDict().get("layer2.0.conv1.weight").toFloatArray();
        float[] b = Zoo.create("resnet8", 10, new Rng(5)).stateDict().get("layer2.0.conv1.weight").toFloatArray();
        float[] c = Zoo.create("resnet8", 10, new Rng(6)).stateDict().get("layer2.0.conv1.weight").toFloatArray();
        Close.assertBitIdentical(a, b);
        assertFalse(java.util.Arrays.equals(a, c));
    }

    private static boolean anyNonZero(Tensor t) {
        for (double v : t.toDoubleArray()) if (v != 0) return true;
        return false;
    }
}
