package org.stablekd.cli;

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

    @Option(names = "--no-dist-overlap", description = "Under mpirun: all-reduce gradients after backward instead of during it.")
    boolean noOverlap;

    void apply() {
        if (checkEvery < 0) throw new IllegalArgumentException("--dist-check must be >= 0 steps, got " + checkEvery);
        if (!(bucketMb > 0)) throw new IllegalArgumentException("--dist-bucket-mb must be positive, got " + bucketMb);
        World.settings(new DataParallel.Settings(!noOverlap, Math.max(Float.BYTES, (long) (bucketMb * 1e6)), checkEvery, syncBatchNorm));
    }
}
