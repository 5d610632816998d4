package org.stablekd.infer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.WeightCache;
import org.stablekd.io.Safetensors;
import org.stablekd.io.TensorFile;
import org.stablekd.models.Pretrained;
import org.stablekd.models.Zoo;
import org.stablekd.nn.BatchNormFolding;
import org.stablekd.nn.Model;
import org.stablekd.nn.StateDict;
import org.stablekd.backend.Transfers;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * A trained zoo model for embedding in a JVM service: BatchNorm folded into the convolutions, no
 * autograd, eval mode fixed. Safe for concurrent callers (each call runs in its own {@link Scope};
 * the model is read-only), and after the first call of each batch size the caching allocator
 * serves every buffer, so steady-state calls map no new memory. The convolutions' packed weight
 * panels are made on the first call and kept ({@link WeightCache}). On the CPU, calls with fewer
 * images than threads (batch 1) run on the thread pool or on the calling thread alone, whichever
 * a running measurement finds faster ({@link ThreadChoice}); the logits are the same bits either way.
 *
 * <pre>{@code
 * try (Predictor p = Predictor.load("resnet8", Path.of("runs/quickstart/weights.safetensors"))) {
 *     int[] classes = p.classify(images, batch);   // images: batch × C × H × W floats, normalized
 * }
 * }</pre>
 * Inputs are NCHW floats already normalized as in training (e.g. Fashion-MNIST: pad to 32×32,
 * (x/255 − 0.2860)/0.3530).
 */
public final class Predictor implements AutoCloseable {
    private final Model model;
    private final int folded;
    private final long imageFloats;
    /** The folded weights in the kernels' packed layouts, made on the first call (they never change). */
    private final WeightCache packed = new WeightCache();
    /** Where the folded model runs; inputs are uploaded and logits downloaded per call. */
    private volatile Device device = Device.CPU;
    /** On the CPU, per batch size: whether calls run on the thread pool or the caller alone (measured). */
    private final java.util.concurrent.ConcurrentHashMap<Integer, ThreadChoice> threads = new java.util.concurrent.ConcurrentHashMap<>();

    private Predictor(Model model) {
        this.model = model;
        this.folded = BatchNormFolding.fold(model);
        Shape s = model.inputShape();
        this.imageFloats = (long) s.dim(0) * s.dim(1) * s.dim(2);
    }

    /**
     * Loads {@code weights} (a state dict written by {@code stablekd train}/{@code distill}, or a
     * PyTorch state dict saved as safetensors) into the zoo model {@code name}. Classes and input
     * shape come from the file's metadata when present, else from the weights and the model's
     * standard input.
     */
    public static Predictor load(String name, Path weights) throws IOException {
        if (!Files.exists(weights)) throw new IllegalArgumentException("weights file " + weights + " does not exist");
        TensorFile tf = Safetensors.read(weights);
        String input = tf.metadata().get("input");
        Shape in = input != null ? parseShape(input) : Zoo.standardInput(name);
        return load(name, tf, weights.toString(), Pretrained.classesOf(tf), in);
    }

    /** As {@link #load(String, Path)} with the classes and the input shape (C,H,W) given. */
    public static Predictor load(String name, Path weights, int classes, Shape input) throws IOException {
        if (!Files.exists(weights)) throw new IllegalArgumentException("weights file " + weights + " does not exist");
        return load(name, Safetensors.read(weights), weights.toString(), classes, input);
    }

    private static Predictor load(String name, TensorFile tf, String source, int classes, Shape input) {
        Model m = Zoo.create(name, classes, input, new Rng(0));
        StateDict.load(m, tf.tensors(), source, name);
        return new Predictor(m);
    }

    /** Wraps an already loaded model (it is put in eval mode and folded; do not train it afterwards). */
    public static Predictor of(Model model) {
        return new Predictor(model);
    }

    private static Shape parseShape(String s) {
        String[] p = s.replaceAll("[()\\s]", "").split(",");
        return Shape.of(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
    }

    /**
     * Runs on {@code device} from now on (e.g. {@code cuda:0}, see DeviceChoice): the folded model
     * moves there; each call uploads its images and downloads its logits. Returns this.
     */
    public Predictor to(Device device) {
        model.to(device);
        this.device = device;
        return this;
    }

    /** Where the model runs. */
    public Device device() { return device; }

    public int numClasses() { return model.numClasses(); }
    /** One image: (C, H, W). */
    public Shape inputShape() { return model.inputShape(); }
    /** How many BatchNorms were folded into convolutions. */
    public int foldedBatchNorms() { return folded; }

    /** Logits (batch × classes, row-major) of {@code batch} images (batch × C × H × W floats). */
    public float[] predict(float[] images, int batch) {
        checkCount(images.length, batch);
        float[][] out = new float[1][];
        run(batch, () -> {
            try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
                Tensor x = Transfers.to(Tensor.of(images, batchShape(batch).dims()), device);
                out[0] = Transfers.toHost(model.forward(x)).toFloatArray();
            }
        });
        return out[0];
    }

    /**
     * The same from and into off-heap memory: {@code images} holds batch × C × H × W floats
     * (native order), {@code logits} receives batch × classes floats. No Java arrays are made.
     */
    public void predict(MemorySegment images, int batch, MemorySegment logits) {
        long n = batch * imageFloats, out = (long) batch * numClasses();
        if (images.byteSize() < n * 4) throw new IllegalArgumentException("images segment has " + images.byteSize() + " bytes; " + batch + " images need " + n * 4);
        if (logits.byteSize() < out * 4) throw new IllegalArgumentException("logits segment has " + logits.byteSize() + " bytes; " + batch + " rows of " + numClasses() + " need " + out * 4);
        run(batch, () -> {
            try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
                Tensor x = Tensor.empty(DType.F32, batchShape(batch));
                MemorySegment.copy(images, 0, x.segment(), 0, n * 4);
                Tensor y = Transfers.toHost(model.forward(Transfers.to(x, device)));
                MemorySegment.copy(y.segment(), y.offset() * 4, logits, 0, out * 4);
            }
        });
    }

    /**
     * One call with the packed weights in force; on the CPU with fewer images than threads (where
     * kernels split each image, not the batch) in the measured thread mode ({@link ThreadChoice}).
     * With at least as many images as threads each thread takes whole images and the pool always
     * pays, so those calls run on it without probing (a probe's caller turn would halve them).
     */
    private void run(int batch, Runnable call) {
        Runnable withWeights = () -> packed.run(call);
        if (device.isHost() && batch < org.stablekd.backend.cpu.Parallel.threads()) {
            threads.computeIfAbsent(batch, b -> new ThreadChoice()).run(withWeights);
        } else {
            withWeights.run();
        }
    }

    /**
     * Runs calls of {@code batch} random images (N(0,1), never zeros) until the JIT has compiled
     * what these calls use, or {@code budget} is spent; returns the number of calls made. "Compiled"
     * means the JVM's total compilation time has not grown over the last 2 000 calls and the last
     * second. Why: the JIT compiles a predictor's per-call code after thousands of calls, and on a
     * small machine each compilation takes a core from the calls meanwhile; on 2 threads a batch-1
     * resnet8x4 ran its slowest 1 % at 2–4 ms (p50 1.4 ms) until about 6 000 calls in, and at
     * 1.13 × p50 after (benchmarks/results/cpu.md, 2026-12-06 morning). A service that cares about
     * its first seconds' p99 calls this before taking traffic. Without a JIT compilation monitor
     * (the JVM gives none) it runs until the budget.
     */
    public int warmUp(int batch, java.time.Duration budget) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean monitored = jit != null && jit.isCompilationTimeMonitoringSupported();
        float[] images;
        try (Scope s = Scope.open()) {
            images = Tensor.randn(new Rng(20261206), DType.F32, 1, batch, inputShape().dim(0), inputShape().dim(1), inputShape().dim(2)).toFloatArray();
        }
        long start = System.nanoTime(), end = start + budget.toNanos();
        long lastTime = monitored ? jit.getTotalCompilationTime() : -1, lastChange = start;
        int calls = 0, quietCalls = 0;
        while (System.nanoTime() < end) {
            predict(images, batch);
            calls++;
            if (!monitored) continue;
            long t = jit.getTotalCompilationTime(), now = System.nanoTime();
            if (t != lastTime) {
                lastTime = t;
                lastChange = now;
                quietCalls = 0;
            } else if (++quietCalls >= 2_000 && now - lastChange >= 1_000_000_000L) {
                break;
            }
        }
        return calls;
    }

    /** The top-1 class of each image. */
    public int[] classify(float[] images, int batch) {
        float[] l = predict(images, batch);
        int c = numClasses();
        int[] top = new int[batch];
        for (int i = 0; i < batch; i++) {
            int best = 0;
            for (int j = 1; j < c; j++) if (l[i * c + j] > l[i * c + best]) best = j;
            top[i] = best;
        }
        return top;
    }

    private void checkCount(long floats, int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        if (floats != batch * imageFloats) {
            throw new IllegalArgumentException(floats + " floats are not " + batch + " images of " + inputShape() + " (" + batch * imageFloats + " floats)");
        }
    }

    private Shape batchShape(int batch) {
        Shape s = inputShape();
        return Shape.of(batch, s.dim(0), s.dim(1), s.dim(2));
    }

    /** Nothing to release: the model's memory (host or device) goes back to its allocator when unreachable. */
    @Override
    public void close() {}
}
