package org.stablekd.cli;

import org.stablekd.dist.Communicator;
import org.stablekd.dist.World;
import org.stablekd.bench.StageCosts;
import java.util.List;
import java.util.concurrent.Callable;
import org.stablekd.backend.Backends;
import org.stablekd.backend.cpu.Parallel;
import org.stablekd.bench.StepBench;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.tensor.HostAllocator;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stablekd bench}: training throughput per mode, inference latency, and memory. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Training images/s (teacher alone; KD; StableKD's decomposed, merged and final stages) and inference latency",
                "(p50/p99) on random data, with warm-up and medians; then peak RSS and off-heap bytes.",
                "Example: stablekd bench --teacher resnet56 --student resnet20 --batch 64 --latency resnet8x4,mobile_half"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--teacher", defaultValue = "resnet56") String teacher;
    @Option(names = "--student", defaultValue = "resnet20") String student;
    @Option(names = "--batch", defaultValue = "64") int batch;
    @Option(names = "--input", defaultValue = "3x32x32", converter = Shapes.class, description = "CxHxW (default ${DEFAULT-VALUE}).") Shape input;
    @Option(names = "--classes", defaultValue = "100") int classes;
    @Option(names = "--warmup", defaultValue = "5", description = "Warm-up steps per training mode (default ${DEFAULT-VALUE}).") int warmup;
    @Option(names = "--warmup-seconds", defaultValue = "3", description = "Keep warming up each training mode for at least this long, one process only (default ${DEFAULT-VALUE}; the JIT is still compiling after a few steps).") double warmupSeconds;
    @Option(names = "--steps", defaultValue = "20", description = "Timed steps; the median is reported (default ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--latency", split = ",", description = "Models for batch-1 inference latency (default: the student).") List<String> latency;
    @Option(names = "--latency-calls", defaultValue = "1000", description = "Timed Predictor calls per latency model, after 3 s of warm-up (default ${DEFAULT-VALUE}).") int calls;
    @Option(names = "--no-training", description = "Only the inference latency.") boolean noTraining;
    @Option(names = "--stages", description = "Also time each stage: teacher forward and student forward+backward, and what spreading StableKD's block groups over 2 ranks could gain.")
    boolean stages;
    @Mixin RuntimeOptions runtime;
    @Mixin DistOptions dist;

    @Override
    public Integer call() {
        runtime.apply();
        dist.apply();
        Communicator comm = World.current();
        if (batch < 1 || steps < 1 || warmup < 0 || !(warmupSeconds >= 0)) {
            throw new IllegalArgumentException("--batch and --steps must be at least 1, --warmup and --warmup-seconds at least 0");
        }
        var device = runtime.device();
        System.out.printf("stablekd bench: device %s, backend %s, %d threads, batch %d, input %s, %d classes; %d warm-up steps (and at least %s s) + %d timed steps (median)%n",
                device, device.isHost() ? Backends.host().name() : Backends.forDevice(device).name(), Parallel.threads(), batch, input, classes, warmup,
                comm.isDistributed() ? "0" : new java.text.DecimalFormat("0.#").format(warmupSeconds), steps);
        if (!noTraining) {
            Model t = Zoo.create(teacher, classes, input, new Rng(1)), s = Zoo.create(student, classes, input, new Rng(2));
            if (comm.isDistributed()) {
                // Note [Data parallelism]: the global batch is shared by the ranks; "wait" is the step's time blocked on the gradient all-reduce
                System.out.printf("data-parallel over %d ranks (%s), %d images per rank per step, gradients all-reduced %s%n", comm.size(), comm.name(),
                        batch / comm.size(), World.settings().overlap() ? "during backward" : "after backward");
                System.out.printf("%-58s %10s %10s %10s %10s %12s%n", "training step", "median ms", "p90 ms", "img/s", "wait ms", "MB/rank/step");
            } else {
                System.out.printf("%-58s %10s %10s %10s%n", "training step", "median ms", "p90 ms", "img/s");
            }
            for (StepBench.Timing r : StepBench.trainingModes(t, s, batch, warmup, warmupSeconds, steps, comm, World.settings(), device).values()) {
                if (comm.isDistributed()) {
                    // ring all-reduce: each rank sends 2 (N-1)/N of the gradient bytes
                    System.out.printf("%-58s %10.1f %10.1f %10.0f %10.2f %12.2f%n", r.name(), r.medianMs(), r.p90Ms(), r.imagesPerSecond(), r.medianWaitMs(),
                            2.0 * (comm.size() - 1) / comm.size() * r.allreduceBytes() / 1e6);
                } else {
                    System.out.printf("%-58s %10.1f %10.1f %10.0f%n", r.name(), r.medianMs(), r.p90Ms(), r.imagesPerSecond());
                }
            }
        }
        if (comm.isDistributed()) return 0;   // latency and memory are per process: measure them without mpirun
        if (stages) {
            if (!device.isHost()) System.out.println("stage costs: measured on the CPU (--stages does not place its models on " + device + ")");
            printStageCosts();
        }
        List<String> names = latency != null ? latency : List.of(student);
        System.out.printf("%-20s %6s %10s %10s   (Predictor, %d calls after 3 s of warm-up)%n", "inference", "batch", "p50 ms", "p99 ms", calls);
        for (String n : names) {
            Model m = Zoo.create(n, classes, input.dim(1) == Zoo.standardInput(n).dim(1) ? input : Zoo.standardInput(n), new Rng(3));
            StepBench.Latency l = StepBench.latency(m, 1, 20, 3.0, calls, 4, device);   // 3 s of warm-up: past the JIT's
            System.out.printf("%-20s %6d %10.3f %10.3f%n", l.name(), l.batch(), l.p50Ms(), l.p99Ms());
        }
        HostAllocator.Stats st = HostAllocator.get().stats();
        System.out.printf("memory: peak RSS %.0f MiB; off-heap reserved %.0f MiB (in use %.0f MiB), %d blocks mapped, %d requests%n",
                StepBench.peakRssBytes() / 1048576.0, st.reservedBytes() / 1048576.0, st.inUseBytes() / 1048576.0, st.freshBlocks(), st.requests());
        return 0;
    }

    /** Per-stage costs and the 2-rank estimates of NOTES.md, Note [StableKD across ranks]. */
    private void printStageCosts() {
        Model t = Zoo.create(teacher, classes, input, new Rng(1)), s = Zoo.create(student, classes, input, new Rng(2));
        StageCosts.Result r = StageCosts.measure(t, s, batch, warmup, steps);
        int n = r.stages().size();
        System.out.printf("%-12s %18s %24s%n", "stage", "teacher fwd ms", "student fwd+bwd ms");
        double tSum = 0, sSum = 0;
        for (int i = 0; i < n; i++) {
            System.out.printf("%-12s %18.1f %24.1f%n", r.stages().get(i), r.teacherForwardMs()[i], r.studentStepMs()[i]);
            tSum += r.teacherForwardMs()[i];
            sSum += r.studentStepMs()[i];
        }
        // 2 ranks, groups [0,k) and [k,n): rank A needs the teacher up to stage k, rank B all of it (or, pipelined, only from k on)
        double bestReplicated = Double.MAX_VALUE, bestPipelined = Double.MAX_VALUE;
        for (int k = 1; k < n; k++) {
            double tA = 0, sA = 0, tB = 0, sB = 0;
            for (int i = 0; i < n; i++) {
                if (i < k) { tA += r.teacherForwardMs()[i]; sA += r.studentStepMs()[i]; }
                else { tB += r.teacherForwardMs()[i]; sB += r.studentStepMs()[i]; }
            }
            bestReplicated = Math.min(bestReplicated, Math.max(tA + sA, tA + tB + sB));
            bestPipelined = Math.min(bestPipelined, Math.max(tA + sA, tB + sB));
        }
        System.out.printf("decomposed step from the stages, 1 rank: %.1f ms; 2 ranks data-parallel, ideal: %.1f ms;%n", tSum + sSum, (tSum + sSum) / 2);
        System.out.printf("block groups over 2 ranks, best split: %.1f ms (teacher replicated), %.1f ms (teacher pipelined, transfers free)%n",
                bestReplicated, bestPipelined);
    }
}
