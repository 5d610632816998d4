package org.stablekd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.Model;
import org.stablekd.nn.Parameter;
import org.stablekd.ops.Losses;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/** Training readiness: whole-model gradients equal PyTorch's; creation is seeded. */
class ModelBackwardTest {
    /** A gradient's scale is at least this fraction of the largest gradient (see {@link StepFixture#compareAll}). */
    static final double FLOOR = 1e-2;

    /**
     * Small models covering every block type (post-act residual, pre-act WRN, inverted residual,
     * both ShuffleNets, VGG): one train-mode forward and backward of cross-entropy on a batch of 2
     * from {@link ModelFill}'s start, against PyTorch (golden/steps-v1/backward_<model>, written by
     * scripts/golden/make_step_fixtures.py): the loss, every parameter's gradient by name, the
     * input's gradient, and the BatchNorm running statistics the forward left behind.
     */
    @ParameterizedTest(name = "{0} {1}x{2}x{3}")
    @CsvSource({"resnet8,3,32,32,well", "wrn_16_1,3,32,32,well", "mobile_half,3,32,32,ill", "ShuffleV1,1,28,28,kinked",
                "ShuffleV2,1,28,28,kinked", "vgg8,1,28,28,well"})
    void everyGradientEqualsPyTorch(String name, int c, int h, int w, String conditioning) {
        // float32's own accuracy on these networks differs by orders of magnitude: see each constant
        Tolerance grad = switch (conditioning) {
            case "well" -> Tolerance.GOLDEN_GRAD_F32;
            case "ill" -> Tolerance.GOLDEN_GRAD_F32_ILL_CONDITIONED;
            case "kinked" -> Tolerance.GOLDEN_GRAD_F32_KINKED;
            default -> throw new IllegalArgumentException(conditioning);
        };
        Tolerance state = conditioning.equals("well") ? Tolerance.GOLDEN_STATE_F32 : grad;
        StepFixture f = StepFixture.load("backward_" + name + ".safetensors");
        assertEquals(name, f.attr("model"));
        assertEquals(c + "x" + h + "x" + w, f.attr("input"));
        Model m = Zoo.create(name, f.intAttr("classes"), Shape.of(c, h, w), new Rng(21));
        ModelFill.fill(m);
        m.train(true);
        Tensor x = f.input(f.intAttr("batch"), c, h, w).requiresGrad(true);
        try (Scope _ = Scope.open()) {
            Tensor loss = Losses.crossEntropy(m.forward(x), f.tensor("labels"));
            f.compareScalar("loss", loss.item(), Tolerance.GOLDEN_LOSS_F32, name + " loss");
            Autograd.backward(loss);
        }
        Map<String, Tensor> grads = new LinkedHashMap<>();
        grads.put("input", x.grad());
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) grads.put(e.getKey(), e.getValue().grad());
        f.compareAll("grad.", grads, grad, FLOOR, name + " gradient of");
        Map<String, Tensor> buffers = new LinkedHashMap<>();
        m.namedBuffers().forEach((k, b) -> buffers.put(k, b.value()));
        f.compareAll("buffer.", buffers, state, 0, name + " after the forward:");
        f.assertAllUsed();
        System.out.println(f.worstDifferences());
    }

    @Test
    void creationIsSeeded() {
        float[] a = Zoo.create("resnet8", 10, new Rng(5)).stateDict().get("layer2.0.conv1.weight").toFloatArray();
        float[] b = Zoo.create("resnet8", 10, new Rng(5)).stateDict().get("layer2.0.conv1.weight").toFloatArray();
        float[] c = Zoo.create("resnet8", 10, new Rng(6)).stateDict().get("layer2.0.conv1.weight").toFloatArray();
        Close.assertBitIdentical(a, b);
        assertFalse(java.util.Arrays.equals(a, c));
    }

}
