package org.stablekd.cli;

import org.stablekd.dist.DataParallel;
import org.stablekd.dist.World;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.stablekd.distill.MethodSpec;
import org.stablekd.experiment.Experiment;
import org.stablekd.experiment.ExperimentRunner;
import org.stablekd.io.Safetensors;
import org.stablekd.train.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stablekd compare}: every method of an experiment file, then one report. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run every method of an experiment file (each into OUT/LABEL; finished runs are kept) and write one report.",
                "Example: stablekd compare --config docs/experiments/fashion-resnet20-resnet8.yaml"})
final class CompareCommand implements Callable<Integer> {
    @Mixin DistillCommand.ExperimentOptions exp;

    @Option(names = "--only", split = ",", description = "Run only these labels (the report still includes every finished run).")
    List<String> only;

    @Option(names = "--rerun", description = "Train again even where OUT/LABEL already finished.") boolean rerun;

    @Option(names = "--report-only", description = "Train nothing: write the report over the runs that exist.") boolean reportOnly;

    @Option(names = "--target", description = "Accuracy (%%) for the 'epochs to reach' column (default: the KD run's last accuracy).")
    Double target;

    @Override
    public Integer call() throws Exception {
        exp.runtime.apply();
        exp.dist.apply();
        if (exp.config == null) throw new IllegalArgumentException("compare needs --config FILE listing the methods");
        Experiment e = exp.experiment(null);
        if (reportOnly) {
            if (World.current().isLeader()) ReportWriter.write(e, target, "Experiment file: " + exp.config, "stablekd compare --config " + exp.config);
            return 0;
        }
        ExperimentRunner runner = new ExperimentRunner(e, 2, System.out);
        runner.on(exp.runtime.device());
        if (e.teacher() != null) {
            Evaluator.Result t = runner.evaluateTeacher(exp.workers);
            System.out.printf("teacher %s: test top-1 %.2f%%%n", e.teacher(), t.top1());
        }
        List<String> done = new ArrayList<>();
        for (long seed : e.runSeeds()) {   // seed-major: a partial study already has every method of the first seeds
            for (MethodSpec m : e.methods()) {
                if (only != null && !only.contains(m.label())) continue;
                var ckpt = e.runDir(m.label(), seed).resolve("checkpoint.safetensors");
                boolean finished = Files.exists(ckpt) && Integer.toString(e.epochs()).equals(Safetensors.metadata(ckpt).get("next_epoch"));
                finished = DataParallel.leaderValues(World.current(), new double[] {finished ? 1 : 0})[0] != 0;   // rank 0's files decide
                if (finished && !rerun) {
                    System.out.printf("== %s: finished earlier in %s (use --rerun to train again)%n", m.label(), ckpt.getParent());
                } else {
                    runner.run(m, seed, !rerun, !exp.noProgress, exp.workers);
                }
                done.add(m.label());
            }
        }
        if (World.current().isLeader()) ReportWriter.write(e, target, "Experiment file: " + exp.config, "stablekd compare --config " + exp.config);
        return 0;
    }
}
