package org.stablekd.bench;

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
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.distill.KD;
import org.stablekd.distill.Plan;
import org.stablekd.distill.Recomposition;
import org.stablekd.distill.StableKD;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.nn.ModuleGroup;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.Sgd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/**
 * One full training step of a zoo model: forward, cross-entropy, backward, SGD (momentum 0.9,
 * weight decay 5e-4) and zeroing the gradients, inside a {@code Scope} — what {@code Trainer}
 * does per batch, minus data loading. Fixed random batch (uniform [-1, 1) images, random labels;
 * 10 classes for 1-channel input as Fashion-MNIST, 100 for 3 channels as CIFAR-100).
 *
 * <p>Distillation workloads use the same {@code model} parameter: {@code kd:TEACHER:STUDENT} is
 * one step of {@link KD} (the frozen teacher's forward, the student's forward, 0.1·CE + 0.9·KD at
 * τ = 4, backward, SGD over the student) and {@code stablekd-decomposed:TEACHER:STUDENT} one step
 * of {@link StableKD}'s first stage (default plan: every stage its own block, all trained at once
 * on the teacher's features) — the classes {@code stablekd distill} runs.
 *
 * <p>Mode: sample time, so JMH reports the distribution of step times; the median (p0.50) is
 * the number to read, images/s = batch / median. {@code benchmarks/compare_train_step.sh} runs
 * this beside {@code benchmarks/pytorch_train_step.py} (the same step in PyTorch) and prints the
 * ratio table.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:+UseParallelGC", "-Xss4m"})
public class TrainStepBench {
    @Param({"resnet20", "resnet8", "wrn_16_2", "resnet56"})
    public String model;

    /** C×H×W of one image. */
    @Param({"1x32x32", "3x32x32"})
    public String input;

    @Param({"64"})
    public int batch;

    @Param({"cpu"})
    public String backend;

    private TrainStep step;
    private Restore backendHandle;

    @Setup(Level.Trial)
    public void setup() {
        backendHandle = Backends.use(Inputs.backend(backend));
        step = new TrainStep(model, input, batch, 42);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backendHandle.close();
    }

    @Benchmark
    public double step() {
        return step.run();
    }

    /** A model (or a distillation method), its optimizer and one fixed batch; {@link #run} is one training step. */
    public static final class TrainStep {
        final Model model;
        /** The distillation method, or null for plain cross-entropy training of {@link #model}. */
        final TrainingMethod method;
        final Sgd sgd;
        final Tensor images, labels;

        public TrainStep(String modelName, String input, int batch, long seed) {
            String[] chw = input.toLowerCase().split("x");
            Shape shape = Shape.of(Integer.parseInt(chw[0]), Integer.parseInt(chw[1]), Integer.parseInt(chw[2]));
            int classes = shape.dim(0) == 1 ? 10 : 100;
            Rng rng = new Rng(seed);
            String[] parts = modelName.split(":");
            if (parts.length == 3) {   // kind:teacher:student
                Model teacher = Zoo.create(parts[1], classes, shape, rng);
                model = Zoo.create(parts[2], classes, shape, rng);
                method = switch (parts[0]) {
                    case "kd" -> new KD(teacher, model, 0.1, 0.9, 4);
                    case "stablekd-decomposed" -> new StableKD(teacher, model,
                            Plan.defaults(model.stageCount(), teacher.stageCount(), Recomposition.stageCount(Math.min(model.stageCount(), teacher.stageCount()), 2)),
                            null, new Rng(1), null);
                    default -> throw new IllegalArgumentException("unknown workload " + parts[0] + " in " + modelName + " (kd, stablekd-decomposed)");
                };
                method.startEpoch(0);
                for (var m : method.trainable().values()) m.train(true);
                sgd = new Sgd(ParameterSlab.pack(new ModuleGroup(method.trainable())), 0.9, 5e-4, false);
            } else {
                model = Zoo.create(modelName, classes, shape, rng);
                method = null;
                model.train(true);
                sgd = new Sgd(ParameterSlab.pack(model), 0.9, 5e-4, false);
            }
            images = Tensor.uniform(rng, DType.F32, -1, 1, batch, shape.dim(0), shape.dim(1), shape.dim(2));
            int[] ys = new int[batch];
            for (int i = 0; i < batch; i++) ys[i] = rng.nextInt(classes);
            labels = Tensor.ofInts(ys, batch);
        }

        /** forward + loss + backward + SGD + zero grad; returns the loss. */
        public double run() {
            try (org.stablekd.tensor.Scope s = org.stablekd.tensor.Scope.open()) {
                Tensor loss = method == null ? Losses.crossEntropy(model.forward(images), labels) : methodLoss();
                double value = loss.item();
                Autograd.backward(loss);
                sgd.step(0.05);
                sgd.zeroGrad();
                return value;
            }
        }

        /** The method's losses on the batch, summed (as the trainer does). */
        private Tensor methodLoss() {
            TrainingMethod.Step st = method.step(images, labels, 0, 0);
            Tensor total = null;
            for (Tensor l : st.losses().values()) total = total == null ? l : Pointwise.add(total, l);
            return total;
        }
    }
}
