package org.stablekd.cli;

import org.stablekd.backend.cpu.Parallel;
import org.stablekd.dist.DataParallel;
import org.stablekd.dist.World;
import picocli.CommandLine.Option;

/**
 * Data-parallel flags of train, distill and compare. They matter only under
 * {@code mpirun -np N ./stablekd …} (see README, "Running distributed"); one process ignores them.
 */
final class DistOptions {
    @Option(names = "--sync-bn", description = "Under mpirun: BatchNorm statistics over the global batch (default: each rank's own part).")
    boolean syncBatchNorm;

    @Option(names = "--dist-check", defaultValue = "0", paramLabel = "K",
            description = "Under mpirun: compare a checksum of the parameters across ranks every K steps and stop if they differ (0 = off).")
    int checkEvery;

    @Option(names = "--dist-bucket-mb", defaultValue = "1", paramLabel = "MB",
            description = "Under mpirun: smallest gradient bucket all-reduced at once (default ${DEFAULT-VALUE} MB).")
    double bucketMb;

    @Option(names = "--dist-overlap", defaultValue = "auto", paramLabel = "auto|on|off",
            description = "Under mpirun: all-reduce gradient buckets on a thread during backward (on), or after it (off); auto: on when "
                    + "the machine has a core to spare for each rank's communication thread (default ${DEFAULT-VALUE}).")
    String overlap;

    void apply() {
        if (checkEvery < 0) throw new IllegalArgumentException("--dist-check must be >= 0 steps, got " + checkEvery);
        if (!(bucketMb > 0)) throw new IllegalArgumentException("--dist-bucket-mb must be positive, got " + bucketMb);
        boolean on = switch (overlap) {
            case "on" -> true;
            case "off" -> false;
            // the communication thread polls while it waits: on 2 cores with 2 ranks x 1 thread it slowed KD by about 11 %
            // (benchmarks/results/dist.md), so it only runs where it has a core of its own
            case "auto" -> Runtime.getRuntime().availableProcessors() >= (Parallel.threads() + 1) * World.localRanks();
            default -> throw new IllegalArgumentException("--dist-overlap must be auto, on or off, not " + overlap);
        };
        World.settings(new DataParallel.Settings(on, Math.max(Float.BYTES, (long) (bucketMb * 1e6)), checkEvery, syncBatchNorm));
    }
}
