package org.stablekd.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import org.stablekd.dist.Communicator;
import org.stablekd.dist.DistributedException;
import org.stablekd.dist.World;
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

    /**
     * Entry point; the only place that exits the JVM. Under mpirun it starts MPI first, keeps
     * rank 0's standard output only, and ends the rank with MPI_Finalize (or MPI_Abort after an
     * error, so no rank waits forever for one that stopped).
     */
    public static void main(String[] args) {
        int code;
        if (World.launchedByMpi(System.getenv())) {
            Communicator world;
            try {
                world = World.get();
            } catch (DistributedException e) {
                System.err.println("stablekd: " + e.getMessage());
                System.exit(2);
                return;
            }
            if (!world.isLeader()) System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            code = run(world.isLeader() ? "stablekd" : "stablekd (rank " + world.rank() + ")", args);
        } else {
            code = run(args);
        }
        World.shutdown(code);
        System.exit(code);
    }

    /** Runs the command line and returns its exit code (tests call this). */
    public static int run(String... args) {
        return run("stablekd", args);
    }

    /** As {@link #run(String...)}, prefixing error lines with {@code who}. */
    static int run(String who, String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOverwrittenOptionsAllowed(true); // the last value wins: scripts/quickstart --epochs 1 overrides its --epochs 5
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            // user errors: one sentence, no stack trace
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException || ex instanceof java.io.IOException) {
                cmd.getErr().println(who + ": " + ex.getMessage());
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
