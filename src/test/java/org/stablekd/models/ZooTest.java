package org.stablekd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.stablekd.nn.Model;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/** The registry, exact parameter counts and state-dict layouts against PyTorch (no forwards). */
class ZooTest {
    static final List<String> ALL = List.of("resnet8", "resnet14", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
            "resnet8x4", "resnet32x4", "wrn_16_1", "wrn_16_2", "wrn_40_1", "wrn_40_2", "vgg8", "vgg11", "vgg13", "mobile_half",
            "ShuffleV1", "ShuffleV2", "ResNet18", "ResNet34", "ResNet50", "resnet18", "resnet34");

    @Test
    void registryListsEveryModelWithADescriptionAndAStandardInput() {
        assertEquals(ALL, Zoo.names());
        assertEquals(new LinkedHashSet<>(ALL), new LinkedHashSet<>(ModelFixtures.csv("param_counts.csv").stream().map(r -> r.get("model")).toList()),
                "the fixture script and the registry know the same models");
        for (String name : Zoo.names()) {
            assertFalse(Zoo.description(name).isBlank(), name);
            assertTrue(Zoo.description(name).lines().count() == 1, name + " has a one-line description");
        }
        assertEquals(Shape.of(3, 32, 32), Zoo.standardInput("wrn_40_2"));
        assertEquals(Shape.of(3, 224, 224), Zoo.standardInput("resnet34"));
    }

    /** Every (model, classes, input channels) row the script counted in PyTorch, to the scalar. */
    @Test
    void parameterCountsEqualPyTorchExactly() {
        List<String> wrong = new ArrayList<>();
        for (Map<String, String> row : ModelFixtures.csv("param_counts.csv")) {
            String name = row.get("model");
            int classes = Integer.parseInt(row.get("classes")), channels = Integer.parseInt(row.get("in_channels"));
            Shape std = Zoo.standardInput(name);
            Model m = Zoo.create(name, classes, Shape.of(channels, std.dim(1), std.dim(2)), new Rng(1));
            long expected = Long.parseLong(row.get("params"));
            if (m.parameterCount() != expected) wrong.add(name + " classes=" + classes + " in=" + channels + ": " + m.parameterCount() + " vs PyTorch " + expected);
            assertEquals(classes, m.numClasses());
        }
        assertTrue(wrong.isEmpty(), "parameter counts differ: " + wrong);
    }

    /**
     * Our models against the published counts of the RepDistiller benchmark models (100 classes, 3×32×32, in millions
     * rounded to three decimals; see docs/design.md, Models). Builds each model and rounds ITS {@code parameterCount()}.
     */
    @Test
    void parameterCountsRoundToThePublishedCounts() {
        Map<String, Double> millions = Map.ofEntries(Map.entry("resnet20", 0.278), Map.entry("resnet56", 0.862),
                Map.entry("resnet110", 1.737), Map.entry("resnet8x4", 1.234), Map.entry("resnet32x4", 7.434),
                Map.entry("wrn_16_1", 0.181), Map.entry("wrn_16_2", 0.703), Map.entry("wrn_40_1", 0.570), Map.entry("wrn_40_2", 2.255),
                Map.entry("vgg8", 3.965), Map.entry("vgg13", 9.462), Map.entry("mobile_half", 0.813), Map.entry("ShuffleV1", 0.949),
                Map.entry("ShuffleV2", 1.356), Map.entry("ResNet18", 11.220), Map.entry("ResNet50", 23.705));
        List<String> wrong = new ArrayList<>();
        for (var e : millions.entrySet()) {
            Model m = Zoo.create(e.getKey(), 100, Shape.of(3, 32, 32), new Rng(7));
            double rounded = Math.round(m.parameterCount() / 1e3) / 1e3;
            if (Math.abs(rounded - e.getValue()) > 1e-9) wrong.add(e.getKey() + ": " + m.parameterCount() + " params ≈ " + rounded + " M, published " + e.getValue() + " M");
        }
        assertTrue(wrong.isEmpty(), "parameter counts differ from the published ones: " + wrong);
    }

    /** Same names, in the same order, with the same shapes and dtypes as PyTorch's state_dict(). */
    @Test
    void stateDictsEqualPyTorchInNamesOrderShapesAndDtypes() {
        for (String name : Zoo.names()) {
            Model m = Zoo.create(name, 100, new Rng(2));
            List<String> expected = ModelFixtures.lines("state_dicts/" + name + ".txt");
            List<String> actual = new ArrayList<>();
            for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
                // BatchNorm2d keeps num_batches_tracked as I32; PyTorch's int64 loads into it (StateDict.load converts).
                String dtype = e.getValue().dtype() == DType.I32 ? "I64" : e.getValue().dtype().name();
                actual.add(e.getKey() + " " + dtype + " " + e.getValue().shape());
            }
            assertEquals(String.join("\n", expected), String.join("\n", actual), name + " state dict");
        }
    }

    @Test
    void initializationFollowsTheReferences() {
        Model resnet = Zoo.create("resnet20", 100, new Rng(3));
        Map<String, Tensor> s = resnet.stateDict();
        assertStd(s.get("layer2.0.conv1.weight"), Math.sqrt(2.0 / (32 * 9)), "kaiming fan_out");
        assertEquals(1.0, s.get("layer1.0.bn1.weight").getFlat(5));
        assertEquals(0.0, s.get("layer1.0.bn1.bias").getFlat(5));
        assertBound(s.get("fc.weight"), 1 / Math.sqrt(64), "PyTorch's default Linear");

        Map<String, Tensor> wrn = Zoo.create("wrn_16_2", 100, new Rng(4)).stateDict();
        assertStd(wrn.get("block3.layer.0.conv2.weight"), Math.sqrt(2.0 / (9 * 128)), "N(0, √(2/(k·k·C_out)))");
        assertAllZero(wrn.get("fc.bias"), "WRN fc bias");

        Map<String, Tensor> vgg = Zoo.create("vgg8", 100, new Rng(5)).stateDict();
        assertStd(vgg.get("classifier.weight"), 0.01, "VGG classifier N(0, 0.01)");
        assertAllZero(vgg.get("block2.0.bias"), "VGG conv bias");

        Map<String, Tensor> shuffle = Zoo.create("ShuffleV2", 100, new Rng(6)).stateDict();
        assertBound(shuffle.get("layer2.1.conv1.weight"), 1 / Math.sqrt(116), "PyTorch's default Conv2d");
    }

    @Test
    void unknownNamesListTheValidOnesAndSuggestNearMisses() {
        var e = assertThrows(IllegalArgumentException.class, () -> Zoo.create("resnet9", 10, new Rng(0)));
        assertTrue(e.getMessage().startsWith("unknown model 'resnet9'; did you mean resnet8?"), e.getMessage());
        assertTrue(e.getMessage().contains("Valid names: resnet8, resnet14,"), e.getMessage());
        assertTrue(e.getMessage().contains("ShuffleV2, ResNet18, ResNet34, ResNet50, resnet18, resnet34"), e.getMessage());
        assertTrue(Zoo.nearNames("shufflev2").contains("ShuffleV2"));
        assertEquals(List.of("wrn_40_2"), Zoo.nearNames("wrn-40-2"));
        assertEquals(List.of("mobile_half"), Zoo.nearNames("mobilehalf"));
        assertTrue(Zoo.nearNames("Resnet50").contains("ResNet50"));
        assertEquals(List.of(), Zoo.nearNames("transformer"));
        var none = assertThrows(IllegalArgumentException.class, () -> Zoo.description("alexnet"));
        assertTrue(none.getMessage().startsWith("unknown model 'alexnet'. Valid names: resnet8,"), none.getMessage());
    }

    @Test
    void inputsAModelCannotTakeFailWithTheReason() {
        var r = assertThrows(IllegalArgumentException.class, () -> Zoo.create("resnet20", 10, Shape.of(1, 28, 28), new Rng(0)));
        assertEquals("resnet20 cannot take input 1×28×28: its head AvgPool2d(8) needs the last feature map (here 7×7, a quarter"
                + " of H×W) to be 8..15 pixels on each side, i.e. H and W in 29..60; 32×32 is standard (pad Fashion-MNIST's 28×28 to 32×32)",
                r.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> Zoo.create("wrn_16_1", 10, Shape.of(3, 64, 64), new Rng(0)));
        assertTrue(w.getMessage().startsWith("wrn_16_1 cannot take input 3×64×64: its head AvgPool2d(8)"), w.getMessage());
        var mb = assertThrows(IllegalArgumentException.class, () -> Zoo.create("mobile_half", 10, Shape.of(1, 28, 28), new Rng(0)));
        assertTrue(mb.getMessage().startsWith("mobile_half cannot take input 1×28×28: it needs a square input whose side is a multiple of 32"), mb.getMessage());
        var sh = assertThrows(IllegalArgumentException.class, () -> Zoo.create("ShuffleV1", 10, Shape.of(3, 64, 64), new Rng(0)));
        assertTrue(sh.getMessage().contains("H and W in 25..56"), sh.getMessage());
        var vg = assertThrows(IllegalArgumentException.class, () -> Zoo.create("vgg8", 10, Shape.of(3, 4, 4), new Rng(0)));
        assertTrue(vg.getMessage().contains("at least 8"), vg.getMessage());
        var rank = assertThrows(IllegalArgumentException.class, () -> Zoo.create("vgg8", 10, Shape.of(32, 32), new Rng(0)));
        assertTrue(rank.getMessage().contains("(C,H,W)"), rank.getMessage());
        var classes = assertThrows(IllegalArgumentException.class, () -> Zoo.create("ResNet18", 0, new Rng(0)));
        assertTrue(classes.getMessage().contains("at least 1"), classes.getMessage());

        // Fashion-MNIST as is (1×28×28) where the architecture allows it.
        for (String ok : List.of("vgg8", "ShuffleV1", "ShuffleV2", "ResNet18", "resnet18")) {
            Model m = Zoo.create(ok, 10, Shape.of(1, 28, 28), new Rng(0));
            assertEquals(Shape.of(1, 28, 28), m.inputShape());
        }
    }

    private static void assertStd(Tensor t, double std, String what) {
        double[] v = t.toDoubleArray();
        double sq = 0;
        for (double x : v) sq += x * x;
        double measured = Math.sqrt(sq / v.length);
        assertEquals(std, measured, std * 0.1, what + ": std of " + v.length + " draws");
    }

    private static void assertBound(Tensor t, double bound, String what) {
        double max = 0;
        for (double x : t.toDoubleArray()) max = Math.max(max, Math.abs(x));
        assertTrue(max <= bound && max > 0.9 * bound, what + ": max |w| " + max + " for bound " + bound);
    }

    private static void assertAllZero(Tensor t, String what) {
        for (double x : t.toDoubleArray()) assertEquals(0.0, x, what);
    }
}
