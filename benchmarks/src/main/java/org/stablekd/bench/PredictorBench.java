package org.stablekd.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.stablekd.backend.Backends;
import org.stablekd.infer.Predictor;
import org.stablekd.models.Zoo;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;

/**
 * Inference latency of {@link Predictor} (BatchNorm folded, no autograd): one call of
 * {@code predict(float[], batch)} on a fixed random batch (uniform [-1, 1), never zeros).
 *
 * <p>Weights: {@code -p weightsDir=DIR} loads {@code DIR/<model>.safetensors} — the files
 * {@code benchmarks/pytorch_infer.py --write-weights DIR} writes, so both engines run the same
 * numbers; empty (the default) uses the zoo's seeded initialization. Mode: sample time; read the
 * median (p0.50) and p0.99. {@code benchmarks/compare_infer.sh} runs this beside PyTorch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:+UseSerialGC", "-Xmn32m", "-Xss4m"})   // the launcher's collector and young generation
public class PredictorBench {
    @Param({"resnet8x4", "mobile_half", "resnet20"})
    public String model;

    /** C×H×W of one image (CIFAR-100 shape: 100 classes for 3 channels, 10 for 1). */
    @Param({"3x32x32"})
    public String input;

    @Param({"1"})
    public int batch;

    /** Folder with {@code <model>.safetensors}; empty = seeded zoo initialization. */
    @Param({""})
    public String weightsDir;

    @Param({"cpu"})
    public String backend;

    private Predictor predictor;
    private float[] images;
    private Restore backendHandle;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        backendHandle = Backends.use(Inputs.backend(backend));
        String[] d = input.split("x");
        Shape in = Shape.of(Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2]));
        int classes = in.dim(0) == 1 ? 10 : 100;
        if (weightsDir.isEmpty()) {
            predictor = Predictor.of(Zoo.create(model, classes, in, new Rng(42)));
        } else {
            Path w = Path.of(weightsDir, model + ".safetensors");
            if (!Files.exists(w)) throw new IllegalArgumentException("no weights file " + w + " (write it with pytorch_infer.py --write-weights)");
            predictor = Predictor.load(model, w, classes, in);
        }
        Rng rng = new Rng(7);
        images = new float[Math.toIntExact((long) batch * in.dim(0) * in.dim(1) * in.dim(2))];
        for (int i = 0; i < images.length; i++) images[i] = (float) (rng.nextDouble() * 2 - 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        predictor.close();
        backendHandle.close();
    }

    @Benchmark
    public float[] predict() {
        return predictor.predict(images, batch);
    }
}
