package org.stablekd.dist;

import java.util.Map;

/**
 * The process's communicator, started once: {@link Mpi} when this process was launched by
 * {@code mpirun} (Open MPI exports {@code OMPI_COMM_WORLD_SIZE}; PMIx/Slurm launches export
 * {@code PMIX_RANK}), else {@link Local}. MPI can be initialised once per process, so every
 * command of a JVM shares it; {@link #shutdown()} (called by the CLI's entry point) finalises it.
 */
public final class World {
    private static Communicator world;
    private static DataParallel.Settings settings = DataParallel.Settings.DEFAULT;

    private World() {}

    /** The communicator if one was started, else {@link Local} (never starts MPI). */
    public static synchronized Communicator current() {
        return world == null ? Local.INSTANCE : world;
    }

    /** How the trainer runs data-parallel (the CLI's --dist-* and --sync-bn options). */
    public static synchronized DataParallel.Settings settings() {
        return settings;
    }

    public static synchronized void settings(DataParallel.Settings s) {
        settings = s;
    }

    /** True when the environment says this process is one rank of an MPI job. */
    public static boolean launchedByMpi(Map<String, String> env) {
        return env.containsKey("OMPI_COMM_WORLD_SIZE") || env.containsKey("PMIX_RANK");
    }

    /** The communicator of this process (starting MPI on the first call when launched by mpirun). */
    public static synchronized Communicator get() {
        if (world == null) world = launchedByMpi(System.getenv()) ? Mpi.start() : Local.INSTANCE;
        return world;
    }

    /** Ranks on this machine (for the default thread count): Open MPI's local size, else 1. */
    public static int localRanks() {
        String s = System.getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        try {
            return s == null ? 1 : Math.max(1, Integer.parseInt(s.trim()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /**
     * Ends the process's part in the job: MPI_Finalize after success, MPI_Abort after a failure
     * (the other ranks may wait in a collective this rank will never join). No-op without MPI.
     */
    public static synchronized void shutdown(int exitCode) {
        if (world == null || !world.isDistributed()) {
            if (world != null) world.close();
            return;
        }
        if (exitCode != 0) world.abort(exitCode);
        else world.close();
    }
}
