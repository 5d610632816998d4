package org.stablekd.cli;

import java.util.concurrent.Callable;
import jdk.incubator.vector.FloatVector;
import org.stablekd.backend.Backends;
import org.stablekd.backend.cpu.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code stablekd} command. Subcommands live in this package, one class each. */
@Command(name = "stablekd", mixinStandardHelpOptions = true, version = "stablekd 0.1.0",
        description = "Train and distill convolutional networks on the JVM, with StableKD.",
        subcommands = {ModelsCommand.class, TrainCommand.class, EvalCommand.class, PredictCommand.class, DistillCommand.class, CompareCommand.class, ReportCommand.class, PlotCommand.class, BenchCommand.class, Main.Info.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    /** Entry point; the only place that exits the JVM. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOverwrittenOptionsAllowed(true); // the last value wins: scripts/quickstart --epochs 1 overrides its --epochs 5
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            // user errors: one sentence, no stack trace
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException || ex instanceof java.io.IOException) {
                cmd.getErr().println("stablekd: " + ex.getMessage());
                if (Boolean.getBoolean("stablekd.debug")) ex.printStackTrace(cmd.getErr());
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    @Command(name = "info", mixinStandardHelpOptions = true, description = "Show the backend, threads and vector width.")
    static final class Info implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.printf("backend   %s (choose with -Dstablekd.backend=ref|cpu)%n", Backends.host().name());
            System.out.printf("threads   %d (set with -Dstablekd.threads=N)%n", Parallel.threads());
            System.out.printf("vectors   %d-bit (%d floats)%n", FloatVector.SPECIES_PREFERRED.vectorBitSize(), FloatVector.SPECIES_PREFERRED.length());
            System.out.printf("java      %s%n", Runtime.version());
            return 0;
        }
    }
}
