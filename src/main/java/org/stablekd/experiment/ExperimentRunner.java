package org.stablekd.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.data.Dataset;
import org.stablekd.data.Loader;
import org.stablekd.data.LoaderOptions;
import org.stablekd.distill.GradientNoise;
import org.stablekd.distill.MethodSpec;
import org.stablekd.distill.Methods;
import org.stablekd.distill.StableKD;
import org.stablekd.models.Pretrained;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.tensor.Rng;
import org.stablekd.train.DataSpec;
import org.stablekd.train.Evaluator;
import org.stablekd.train.Trainer;
import org.stablekd.train.TrainingMethod;

/**
 * Runs the methods of an {@link Experiment}: the data and the teacher are loaded once, each method
 * trains a fresh student (same seed, so every method starts from the same weights) into
 * {@code out/<label>}.
 */
public final class ExperimentRunner {
    private final Experiment e;
    private final PrintStream log;
    private final DataSpec data;
    private final Dataset pool;          // the training set less the validation images
    private final Dataset validation;    // null without a hold-out
    private final Map<Long, Dataset> trainBySeed = new java.util.HashMap<>();
    private Model teacher;
    private org.stablekd.tensor.Device device = org.stablekd.tensor.Device.CPU;

    /** Trains and evaluates on {@code device} (default: the CPU; see Trainer#on). */
    public ExperimentRunner on(org.stablekd.tensor.Device device) {
        this.device = device;
        return this;
    }

    /** The result of one method. */
    public record Outcome(String label, String method, Path dir, Trainer.Result result) {}

    public ExperimentRunner(Experiment e, int loaderThreads, PrintStream log) throws IOException {
        this.e = e;
        this.log = log;
        Zoo.entry(e.student());
        if (e.teacher() != null) Zoo.entry(e.teacher());
        if (e.dataFraction() <= 0 || e.dataFraction() > 1) throw new IllegalArgumentException("data_fraction must be in (0, 1], got " + e.dataFraction());
        this.data = DataSpec.load(e.data(), e.input(), loaderThreads);
        if (e.validation() > 0) {
            Dataset[] split = data.train().holdOut(e.validation(), Experiment.VALIDATION_SEED);
            this.pool = split[0];
            this.validation = split[1];
        } else {
            this.pool = data.train();
            this.validation = null;
        }
    }

    /** The training images of a run: a seeded stratified fraction of the pool (a different draw per seed). */
    public Dataset train(long seed) {
        return trainBySeed.computeIfAbsent(seed, s -> e.dataFraction() < 1 ? pool.subset(e.dataFraction(), s) : pool);
    }

    public DataSpec data() {
        return data;
    }

    /** The frozen teacher, loaded on first use. */
    public Model teacher() throws IOException {
        if (teacher == null) {
            if (e.teacher() == null || e.teacherWeights() == null) {
                throw new IllegalArgumentException("this method needs a teacher: pass --teacher NAME --teacher-weights FILE, or 'teacher: {model: NAME, weights: FILE}' in the experiment file (train one with 'stablekd train')");
            }
            teacher = Pretrained.load(e.teacher(), e.teacherWeights(), data.numClasses(), data.input());
        }
        return teacher;
    }

    /** The teacher's test accuracy; under mpirun each rank evaluates its part of the test set. */
    public Evaluator.Result evaluateTeacher(int workers) throws IOException {
        var comm = org.stablekd.dist.World.current();
        try (Loader l = new Loader(data.test().shard(comm.rank(), comm.size()), data.testTransform(), LoaderOptions.batchSize(256).shuffle(false).workers(workers));
             org.stablekd.train.DeviceBatches b = new org.stablekd.train.DeviceBatches(device)) {
            Model t = teacher();
            t.to(device);
            return Evaluator.evaluate(t, l, 0, comm, b);
        }
    }

    public Outcome run(MethodSpec m, boolean resume, boolean progress, int workers) throws IOException {
        return run(m, e.seed(), resume, progress, workers);
    }

    /** One method with one seed: the student's initial weights, the data order and the data fraction follow it. */
    public Outcome run(MethodSpec m, long seed, boolean resume, boolean progress, int workers) throws IOException {
        Dataset train = train(seed);
        Rng rng = new Rng(seed);
        Model student = Zoo.create(e.student(), data.numClasses(), data.input(), rng);
        Model t = Methods.needsTeacher(m.method()) ? teacher() : null;
        TrainingMethod method = Methods.create(m, t, student, e.epochs(), e.lr(), e.augment(), seed, new Rng(seed + 1), log);
        Path dir = e.runDir(m.label(), seed);
        Map<String, String> info = new LinkedHashMap<>();
        info.put("command", "distill");
        info.put("experiment", e.name());
        info.put("label", m.label());
        info.put("method", m.method());
        info.put("teacher", String.valueOf(e.teacher()));
        info.put("student", e.student());
        info.put("data", e.data());
        info.put("data_fraction", Double.toString(e.dataFraction()));
        info.put("seed", Long.toString(seed));
        if (validation != null) info.put("validation_images", Integer.toString(validation.size()));
        info.put("params", m.params().toString());
        log.printf("== %s: %s → %s with %s on %s (%d train images, %d epochs); writing %s%n", m.label(), e.teacher(), e.student(),
                m.method(), data.name(), train.size(), e.epochs(), dir);
        if (validation != null) log.printf("   validation: %s (best.safetensors is chosen on it)%n", validation.name());
        if (method instanceof StableKD s) log.println("   " + s.plan());
        Trainer.Options o = new Trainer.Options(e.epochs(), e.batch(), e.lr().build(e.epochs()), e.momentum(), e.weightDecay(), e.nesterov(),
                seed, dir, resume, workers, 256, progress, info);
        Trainer.Result r = new Trainer(o, log).on(device).fit(method, train, data.trainTransform(), data.test(), data.testTransform(), validation,
                e.iboeWindow() > 0 ? slab -> new GradientNoise(student, slab, e.iboeWindow()) : null);
        log.printf("== %s (seed %d): last test top-1 %.2f%%, best %s top-1 %.2f%% (epoch %d), %.0f img/s, %.1f min%n", m.label(), seed,
                r.lastTop1(), validation != null ? "validation" : "test", r.bestTop1(), r.bestEpoch(), r.trainImagesPerSecond(), r.wallSeconds() / 60);
        return new Outcome(m.label(), m.method(), dir, r);
    }
}
