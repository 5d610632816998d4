package org.stablekd.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.autograd.Autograd;
import org.stablekd.io.Safetensors;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.HostAllocator;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

public class PredictorTest {

    /** A zoo model with non-trivial BN statistics (a few train-mode forwards), saved as safetensors. */
    public static Path trainedWeights(Path dir, String name, Shape input, int classes) throws Exception {
        Model m = Zoo.create(name, classes, input, new Rng(3));
        try (Restore ng = Autograd.noGrad()) {
            for (int i = 0; i < 3; i++) m.forward(Tensor.randn(new Rng(10 + i), DType.F32, 1.5, 4, input.dim(0), input.dim(1), input.dim(2)));
        }
        Path f = dir.resolve(name + ".safetensors");
        Safetensors.write(f, m.stateDict(), Map.of("input", input.toString(), "classes", Integer.toString(classes)));
        return f;
    }

    static float[] images(int batch, Shape in, long seed) {
        return Tensor.randn(new Rng(seed), DType.F32, 1, batch, in.dim(0), in.dim(1), in.dim(2)).toFloatArray();
    }

    @Test
    void foldedModelsGiveTheUnfoldedLogits(@TempDir Path dir) throws Exception {
        for (String name : List.of("resnet8", "resnet8x4", "wrn_16_1", "mobile_half", "ShuffleV2", "vgg8")) {   // resnet8x4: DirectChannelsLast's strided layers
            Shape in = name.equals("mobile_half") ? Shape.of(3, 32, 32) : Shape.of(1, 32, 32);
            Path w = trainedWeights(dir, name, in, 10);
            Predictor p = Predictor.load(name, w);
            assertEquals(in, p.inputShape());
            assertEquals(10, p.numClasses());
            assertTrue(p.foldedBatchNorms() > 0, name + ": folded " + p.foldedBatchNorms());
            Model reference = Zoo.create(name, 10, in, new Rng(0));
            org.stablekd.nn.StateDict.load(reference, Safetensors.read(w).tensors(), w.toString(), name);
            reference.eval();
            float[] x = images(3, in, 5);
            float[] expected;
            try (Restore ng = Autograd.noGrad()) {
                expected = reference.forward(Tensor.of(x, 3, in.dim(0), in.dim(1), in.dim(2))).toFloatArray();
            }
            assertClose(p.predict(x, 3), expected, Tolerance.GOLDEN_MODEL_F32, name + " folded vs unfolded");
            float[] one = p.predict(java.util.Arrays.copyOf(x, (int) (in.numel())), 1);
            assertClose(one, java.util.Arrays.copyOf(expected, 10), Tolerance.GOLDEN_MODEL_F32, name + " batch 1");
        }
    }

    @Test
    void offHeapInputAndConcurrentCallersGiveTheSameAnswers(@TempDir Path dir) throws Exception {
        Shape in = Shape.of(1, 32, 32);
        Predictor p = Predictor.load("resnet8", trainedWeights(dir, "resnet8", in, 10));
        List<float[]> inputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            inputs.add(images(1 + i % 3, in, 100 + i));
            expected.add(p.predict(inputs.get(i), 1 + i % 3));
        }
        try (Arena a = Arena.ofConfined()) {
            float[] x = inputs.get(2);
            MemorySegment src = a.allocate(x.length * 4L), dst = a.allocate(3 * 10 * 4L);
            MemorySegment.copy(x, 0, src, ValueLayout.JAVA_FLOAT, 0, x.length);
            p.predict(src, 3, dst);
            Close.assertBitIdentical(expected.get(2), dst.toArray(ValueLayout.JAVA_FLOAT));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    for (int r = 0; r < 20; r++) {
                        for (int i = 0; i < inputs.size(); i++) {
                            if (!java.util.Arrays.equals(expected.get(i), p.predict(inputs.get(i), 1 + i % 3))) return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertTrue(f.get(), "a concurrent caller got different logits");
        } finally {
            pool.shutdown();
        }
        long fresh = HostAllocator.get().stats().freshBlocks();
        for (int i = 0; i < 20; i++) p.predict(inputs.get(0), 1);
        assertEquals(fresh, HostAllocator.get().stats().freshBlocks(), "steady-state calls map no new memory");
    }

    @Test
    void badInputIsOneClearSentence(@TempDir Path dir) throws Exception {
        Predictor p = Predictor.load("resnet8", trainedWeights(dir, "resnet8", Shape.of(1, 32, 32), 10));
        var e = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[100], 1));
        assertEquals("100 floats are not 1 images of (1,32,32) (1024 floats)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.predict(new float[1024], 0));
        assertThrows(IllegalArgumentException.class, () -> Predictor.load("resnet8", dir.resolve("missing.safetensors")));
    }
}
