package org.stablekd.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

class ModuleTest {

    /** A two-stage toy model: conv1/bn1/relu | fc. */
    static final class Toy extends Model {
        final Conv2d conv1;
        final BatchNorm2d bn1;
        final Sequential layer;
        final Linear fc;

        Toy(Rng rng) {
            super("toy", 3, Shape.of(1, 6, 6));
            conv1 = child("conv1", new Conv2d(1, 4, 3, 1, 1)).kaimingFanOut(rng);
            bn1 = child("bn1", new BatchNorm2d(4));
            layer = child("layer1", new Sequential(new Conv2d(4, 4, 1, 1, 0).kaimingFanOut(rng)));
            fc = child("fc", new Linear(4, 3, true)).pytorchDefault(rng);
        }

        @Override public List<String> stageNames() { return List.of("features", "head"); }

        @Override
        public Tensor forwardStage(int i, Tensor x) {
            return i == 0 ? layer.forward(Pointwise.relu(bn1.forward(conv1.forward(x))))
                    : fc.forward(Pool.globalAvgPool(x));
        }
    }

    @Test
    void namesFollowPyTorchModulePaths() {
        Toy m = new Toy(new Rng(1));
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                "bn1.num_batches_tracked", "layer1.0.weight", "fc.weight", "fc.bias"), List.copyOf(m.stateDict().keySet()));
        assertEquals(36 + 8 + 16 + 12 + 3, m.parameterCount());
        assertEquals(List.of(Shape.of(2, 4, 6, 6), Shape.of(2, 3)), m.stageShapes(2));
    }

    @Test
    void slabPackingKeepsValuesAndRoutesGradientsIntoTheSlab() {
        Toy m = new Toy(new Rng(2));
        float[] before = m.conv1.weight().value().toFloatArray();
        ParameterSlab slab = ParameterSlab.pack(m);
        Close.assertBitIdentical(before, m.conv1.weight().value().toFloatArray());
        assertSame(slab.values().storage(), m.fc.weight().value().storage());
        for (ParameterSlab.Entry e : slab.entries()) assertEquals(0, e.offset() % 16, e.name() + " is 64-byte aligned");
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(new Rng(3), DType.F32, 1, 2, 1, 6, 6);
            Autograd.backward(Losses.crossEntropy(m.forward(x), Tensor.ofInts(new int[] {0, 2}, 2)));
        }
        assertSame(slab.grads().storage(), m.fc.weight().grad().storage());
        double sum = 0;
        for (float g : slab.grads().toFloatArray()) sum += Math.abs(g);
        assertTrue(sum > 0, "gradients landed in the slab");
        assertEquals(1.0, m.bn1.stateDict().get("num_batches_tracked").item());
        slab.zeroGrad();
        for (float g : slab.grads().toFloatArray()) assertEquals(0f, g);
    }

    @Test
    void loadingAStateDictCopiesByNameAndReportsEveryMismatch() {
        Toy a = new Toy(new Rng(4)), b = new Toy(new Rng(5));
        StateDict.load(b, a.stateDict(), "a.safetensors", "toy");
        Close.assertBitIdentical(a.fc.weight().value().toFloatArray(), b.fc.weight().value().toFloatArray());

        Map<String, Tensor> bad = new LinkedHashMap<>(a.stateDict());
        bad.remove("bn1.running_var");
        bad.put("classifier.weight", Tensor.zeros(DType.F32, 3, 4));
        bad.put("conv1.weight", Tensor.zeros(DType.F32, 4, 3, 3, 3));
        var e = assertThrows(IllegalArgumentException.class, () -> StateDict.load(b, bad, "w.safetensors", "toy"));
        String msg = e.getMessage();
        assertTrue(msg.contains("w.safetensors does not match toy"), msg);
        assertTrue(msg.contains("missing 1 keys [bn1.running_var]"), msg);
        assertTrue(msg.contains("unexpected 1 keys [classifier.weight]"), msg);
        assertTrue(msg.contains("conv1.weight file (4,3,3,3) vs model (4,1,3,3)"), msg);
    }
}
