package org.stablekd.testing;

import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.backend.cpu.Parallel;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Buffer;
import org.stablekd.nn.Model;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Losses;
import org.stablekd.optim.Sgd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.opentest4j.AssertionFailedError;
import org.stablekd.tensor.Tensor;

/**
 * Whole training steps for determinism tests (Note [Determinism]): a fresh resnet8 from a fixed seed, its parameters
 * packed into a slab as the trainer does, then {@link #STEPS} steps of forward, cross-entropy, backward, SGD (momentum,
 * weight decay) over the slab, on two different seeded batches, in training mode (BatchNorm updates its running
 * statistics). Everything the steps leave behind is returned by name, to compare two runs bit for bit.
 */
public final class TrainingStepRun {
    public static final int STEPS = 2, BATCH = 2, CLASSES = 10;

    private TrainingStepRun() {}

    /** The run on the active host backend ({@code Backends.use}). */
    public static Map<String, float[]> resnet8() {
        Map<String, float[]> out = new LinkedHashMap<>();
        Model m = Zoo.create("resnet8", CLASSES, Shape.of(3, 32, 32), new Rng(41));
        m.train(true);
        ParameterSlab slab = ParameterSlab.pack(m);
        Sgd sgd = new Sgd(slab, 0.9, 5e-4, false);
        out.put("initial parameters", slab.values().toFloatArray());
        for (int step = 0; step < STEPS; step++) {
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(new Rng(100 + step), DType.F32, 1, BATCH, 3, 32, 32);
                Rng lr = new Rng(200 + step);
                int[] labels = new int[BATCH];
                for (int i = 0; i < BATCH; i++) labels[i] = lr.nextInt(CLASSES);
                Tensor logits = m.forward(x);
                Tensor loss = Losses.crossEntropy(logits, Tensor.ofInts(labels, BATCH));
                Autograd.backward(loss);
                out.put("step " + step + " logits", logits.toFloatArray());
                out.put("step " + step + " loss", new float[] {(float) loss.item()});
                out.put("step " + step + " gradients", slab.grads().toFloatArray());
                sgd.step(0.1);
                sgd.zeroGrad();
            }
        }
        out.put("parameters", slab.values().toFloatArray());
        out.put("momentum", sgd.momentumBuffer().toFloatArray());
        for (Map.Entry<String, Buffer> e : m.namedBuffers().entrySet()) out.put("buffer " + e.getKey(), e.getValue().value().toFloatArray());
        return out;
    }

    /** Two runs: the same names, every value finite and bit-identical ({@link Close#assertBitIdentical}). */
    public static void assertBitIdentical(Map<String, float[]> first, Map<String, float[]> second, String what) {
        if (!first.keySet().equals(second.keySet())) throw new AssertionFailedError(what + ": " + first.keySet() + " vs " + second.keySet());
        for (String k : first.keySet()) Close.assertBitIdentical(first.get(k), second.get(k), what + ", " + k);
    }

    /**
     * For a child JVM started with another {@code -Dstablekd.threads}: runs twice on the host backend {@code args[0]}
     * and prints one line, "bit-identical …" (exit 0) or the first difference (exit 1).
     */
    public static void main(String[] args) {
        String what = args[0] + " backend, " + Parallel.threads() + " threads";
        try (Restore r = Backends.use(Backends.named(args[0]))) {
            assertBitIdentical(resnet8(), resnet8(), what);
        } catch (AssertionError e) {
            System.out.println("differs: " + e.getMessage());
            System.exit(1);
        }
        System.out.println("bit-identical: " + what);
    }
}
