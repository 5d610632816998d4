package org.stablekd.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.stablekd.backend.Backends;
import org.stablekd.backend.cpu.Parallel;
import org.stablekd.data.Dataset;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.optim.LrSchedule;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.train.DataSpec;
import org.stablekd.train.Supervised;
import org.stablekd.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stablekd train}: train a zoo model from scratch (a teacher, or a student baseline). */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a zoo model with SGD and cross-entropy.",
                "Writes OUT/checkpoint.safetensors (resumable), OUT/weights.safetensors (last), OUT/best.safetensors and OUT/metrics.jsonl.",
                "Example: stablekd train --model resnet20 --epochs 15 --out runs/resnet20"})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Zoo model (see 'stablekd models').")
    String model;

    @Option(names = "--data", defaultValue = "fashion-mnist",
            description = "fashion-mnist[:DIR] (default), cifar10:DIR, cifar100:DIR or folder:DIR (train/ and val/ inside).")
    String data;

    @Option(names = "--input", converter = Shapes.class, description = "Model input CxHxW (default: the dataset's, 1x32x32 for Fashion-MNIST).")
    Shape input;

    @Option(names = "--epochs", defaultValue = "15", description = "Epochs (default ${DEFAULT-VALUE}; the CIFAR recipe is 240).")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "0.05", description = "Base learning rate (default ${DEFAULT-VALUE}; 0.01 for MobileNetV2/ShuffleNets in the recipe).")
    double lr;

    @Option(names = "--schedule", defaultValue = "multistep", description = "multistep (x0.1 at 62.5/75/87.5 %% of the epochs, the 150/180/210-of-240 recipe) or cosine.")
    String schedule;

    @Option(names = "--milestones", split = ",", description = "Epochs where multistep divides the rate by 10 (overrides the default fractions).")
    int[] milestones;

    @Option(names = "--warmup", defaultValue = "0", description = "Linear warm-up epochs (default 0).")
    double warmup;

    @Option(names = "--momentum", defaultValue = "0.9") double momentum;
    @Option(names = "--wd", defaultValue = "5e-4", description = "Weight decay (default ${DEFAULT-VALUE}).") double weightDecay;
    @Option(names = "--nesterov", description = "Nesterov momentum.") boolean nesterov;
    @Option(names = "--label-smoothing", defaultValue = "0") double labelSmoothing;

    @Option(names = "--data-fraction", defaultValue = "1.0", description = "Train on a seeded, stratified fraction of the training set (e.g. 0.4).")
    double dataFraction;

    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--out", description = "Run folder (default runs/<model>-<data>).") Path out;
    @Option(names = "--resume", description = "Continue from OUT/checkpoint.safetensors if it exists.") boolean resume;
    @Option(names = "--workers", defaultValue = "1", description = "Data loader threads (default ${DEFAULT-VALUE}).") int workers;
    @Option(names = "--no-progress", description = "No progress bar (one line per epoch only).") boolean noProgress;

    @Mixin RuntimeOptions runtime;
    @Mixin DistOptions dist;

    @Override
    public Integer call() throws Exception {
        runtime.apply();
        dist.apply();
        if (epochs < 1 || batch < 1) throw new IllegalArgumentException("--epochs and --batch must be at least 1");
        if (dataFraction <= 0 || dataFraction > 1) throw new IllegalArgumentException("--data-fraction must be in (0, 1], got " + dataFraction);
        Zoo.entry(model); // unknown names fail here, before the data loads
        DataSpec d = DataSpec.load(data, input, Math.max(1, Parallel.threads()));
        Dataset train = dataFraction < 1 ? d.train().subset(dataFraction, seed) : d.train();
        Model m = Zoo.create(model, d.numClasses(), d.input(), new Rng(seed));
        Path dir = out != null ? out : Path.of("runs", model + "-" + d.name().replace(':', '-'));
        LrSchedule sched = schedule(lr, epochs);
        Map<String, String> info = new LinkedHashMap<>();
        info.put("command", "train");
        info.put("data", data);
        info.put("data_fraction", Double.toString(dataFraction));
        info.put("seed", Long.toString(seed));
        info.put("epochs", Integer.toString(epochs));
        info.put("batch", Integer.toString(batch));
        info.put("lr", Double.toString(lr));
        info.put("schedule", sched.toString());
        var device = runtime.device();
        System.out.printf("stablekd train: %s (%,d params) on %s: %d train / %d test images, input %s, %d classes; device %s, backend %s, %d threads%n",
                model, m.parameterCount(), d.name(), train.size(), d.test().size(), d.input(), d.numClasses(),
                device, device.isHost() ? Backends.host().name() : Backends.forDevice(device).name(), Parallel.threads());
        System.out.printf("  %d epochs, batch %d, SGD lr %s (%s), momentum %s, wd %s%s; writing %s%n",
                epochs, batch, lr, sched, momentum, weightDecay, nesterov ? ", nesterov" : "", dir);
        Trainer.Options opts = new Trainer.Options(epochs, batch, sched, momentum, weightDecay, nesterov, seed, dir, resume,
                workers, 256, !noProgress, info);
        Trainer.Result r = new Trainer(opts, System.out).on(device).fit(new Supervised(m, labelSmoothing), train, d.trainTransform(), d.test(), d.testTransform());
        System.out.printf("done: last test top-1 %.2f%%, best %.2f%% (epoch %d); %.0f train img/s; %.1f min; weights in %s%n",
                r.lastTop1(), r.bestTop1(), r.bestEpoch(), r.trainImagesPerSecond(), r.wallSeconds() / 60, dir.resolve("weights.safetensors"));
        return 0;
    }

    private LrSchedule schedule(double base, int epochs) {
        LrSchedule s = switch (schedule) {
            case "multistep" -> new LrSchedule.MultiStep(base, 0.1, milestones != null ? milestones
                    : new int[] {(int) Math.round(epochs * 0.625), (int) Math.round(epochs * 0.75), (int) Math.round(epochs * 0.875)});
            case "cosine" -> new LrSchedule.Cosine(base, 0, epochs);
            default -> throw new IllegalArgumentException("--schedule must be multistep or cosine, not " + schedule);
        };
        if (milestones != null && schedule.equals("multistep")) Arrays.sort(milestones);
        return warmup > 0 ? new LrSchedule.Warmup(s, warmup) : s;
    }
}
