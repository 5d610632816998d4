package org.stablekd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.stablekd.distill.MethodSpec;
import org.stablekd.experiment.Experiment;
import org.stablekd.experiment.ExperimentRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stablekd distill}: one distillation method, from an experiment file and/or flags. */
@Command(name = "distill", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Distill a teacher into a student with one method (ce, kd, fitnets, at, dkd, stablekd).",
                "Either --config FILE (YAML/JSON, see docs/experiments/) with flags overriding it, or everything by flags:",
                "  stablekd distill --teacher resnet20 --teacher-weights runs/teacher/best.safetensors --student resnet8 --method stablekd --epochs 15"})
final class DistillCommand implements Callable<Integer> {
    @Mixin ExperimentOptions exp;

    @Option(names = "--method", description = "The method (or, with --config, the label of one of its methods).")
    String method;

    @Option(names = "--resume", description = "Continue from OUT/LABEL/checkpoint.safetensors if it exists.") boolean resume;

    @Option(names = "--param", paramLabel = "KEY=VALUE", description = {"A parameter of the method, as in an experiment file's method entry",
            "(repeatable; overrides the file), e.g. --param bn_recalibrate_batches=200 --param momentum_at_merge=reset",
            "--param student_cuts=[0,1,2,4] (VALUE is read as YAML)."})
    List<String> params;

    @Override
    public Integer call() throws Exception {
        exp.runtime.apply();
        exp.dist.apply();
        Experiment e = exp.experiment(method);
        MethodSpec m = withParams(exp.config == null ? e.methods().get(0) : e.method(method), params);
        ExperimentRunner runner = new ExperimentRunner(e, 2, System.out);
        runner.on(exp.runtime.device());
        for (long seed : e.runSeeds()) runner.run(m, seed, resume, !exp.noProgress, exp.workers);
        return 0;
    }

    /** {@code m} with each KEY=VALUE of {@code params} set (VALUE read as YAML: 200, reset, true, [0,1,2,4]). */
    static MethodSpec withParams(MethodSpec m, List<String> params) {
        if (params == null || params.isEmpty()) return m;
        Map<String, JsonNode> out = new LinkedHashMap<>(m.params());
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        for (String p : params) {
            int eq = p.indexOf('=');
            if (eq < 1 || p.substring(eq + 1).isBlank()) throw new IllegalArgumentException("--param '" + p + "' is not KEY=VALUE (e.g. --param inner_loss=normalized_mse)");
            try {
                out.put(p.substring(0, eq).strip(), yaml.readTree(p.substring(eq + 1)));
            } catch (com.fasterxml.jackson.core.JacksonException ex) {
                throw new IllegalArgumentException("--param '" + p + "': the value is not valid YAML (" + ex.getOriginalMessage() + ")");
            }
        }
        return new MethodSpec(m.label(), m.method(), out);
    }

    /** Flags shared by distill and compare. */
    static final class ExperimentOptions {
        @Option(names = "--config", description = "Experiment file (YAML or JSON).") Path config;
        @Option(names = "--teacher", description = "Teacher zoo model.") String teacher;
        @Option(names = "--teacher-weights", description = "Teacher weights (safetensors state dict).") Path teacherWeights;
        @Option(names = "--student", description = "Student zoo model.") String student;
        @Option(names = "--data", description = "Dataset as for train (default fashion-mnist).") String data;
        @Option(names = "--data-fraction", description = "Seeded stratified fraction of the training set.") Double dataFraction;
        @Option(names = "--input", description = "Model input CxHxW.") String input;
        @Option(names = "--epochs") Integer epochs;
        @Option(names = "--batch") Integer batch;
        @Option(names = "--lr") Double lr;
        @Option(names = "--seed") Long seed;
        @Option(names = "--seeds", split = ",", description = "Run every method once per seed (e.g. 0,1,2), each into OUT/LABEL/seed-K; compare reports mean ± std.")
        List<Long> seeds;
        @Option(names = "--validation", description = "Hold out N training images (stratified, seed 0) as a validation set, evaluated every epoch; best.safetensors is chosen on it.")
        Integer validation;
        @Option(names = "--out", description = "Base folder; each method writes OUT/LABEL.") Path out;
        @Option(names = "--iboe-window", description = "Record per-block gradient noise over windows of N steps (0 = off).") Integer iboeWindow;
        @Option(names = "--augment", description = "Extra KD on mixed batches: none, mixup[:alpha], cutmix[:alpha], cutmix_pick[:passes].") String augment;
        @Option(names = "--workers", defaultValue = "1", description = "Data loader threads.") int workers;
        @Option(names = "--no-progress", description = "No progress bar.") boolean noProgress;
        @Mixin RuntimeOptions runtime;
        @Mixin DistOptions dist;

        /** The experiment of --config with the flags applied, or one built from the flags alone. */
        Experiment experiment(String method) throws Exception {
            Experiment base;
            if (config != null) {
                base = Experiment.load(config);
            } else {
                if (student == null || method == null) throw new IllegalArgumentException("without --config, give at least --student and --method");
                base = new Experiment(method, "fashion-mnist", 1.0, null, null, null, student, 15, 64,
                        org.stablekd.optim.LrSpec.multistep(0.05), 0.9, 5e-4, false, 0, Path.of("runs", "distill"), 0, "none",
                        List.of(new MethodSpec(method, method, Map.of())), null, 0);
            }
            var lrSpec = lr == null ? base.lr() : new org.stablekd.optim.LrSpec(base.lr().kind(), lr, base.lr().milestoneFractions(), base.lr().warmupEpochs());
            return new Experiment(base.name(), data != null ? data : base.data(), dataFraction != null ? dataFraction : base.dataFraction(),
                    input != null ? Experiment.parseShape(input) : base.input(), teacher != null ? teacher : base.teacher(),
                    teacherWeights != null ? teacherWeights : base.teacherWeights(), student != null ? student : base.student(),
                    epochs != null ? epochs : base.epochs(), batch != null ? batch : base.batch(), lrSpec, base.momentum(), base.weightDecay(),
                    base.nesterov(), seed != null ? seed : base.seed(), out != null ? out : base.out(),
                    iboeWindow != null ? iboeWindow : base.iboeWindow(), augment != null ? augment : base.augment(), base.methods(),
                    seeds != null ? List.copyOf(seeds) : base.seeds(), validation != null ? validation : base.validation());
        }
    }
}
