package org.stablekd.cli;

import org.stablekd.dist.World;
import picocli.CommandLine.Option;

/** Backend and threads, shared by the commands that compute. Applied before any kernel runs. */
final class RuntimeOptions {
    @Option(names = "--threads", description = "Compute threads (default: all cores; under mpirun, the cores divided by the ranks on this machine).")
    Integer threads;

    @Option(names = "--backend", description = "Host backend: cpu (Vector API, default) or ref (the slow scalar oracle).")
    String backend;

    @Option(names = "--device", description = "cpu or cuda (default: cuda when the CUDA backend loads, else cpu, saying why).")
    String device;

    private org.stablekd.tensor.Device resolved;

    /**
     * The device to run on (resolved once); a default that fell back to the CPU says why in one
     * line on stdout. Under mpirun the default is the CPU: with {@code --device cuda} every rank
     * drives GPU 0 of its machine and the all-reduces go through the host (NOTES.md, Note [Data parallelism]).
     */
    org.stablekd.tensor.Device device() {
        if (resolved == null) {
            var c = device == null && World.launchedByMpi(System.getenv())
                    ? new org.stablekd.backend.DeviceChoice.Choice(org.stablekd.tensor.Device.CPU, "running on the CPU, the default under mpirun (--device cuda works, with all-reduces through the host)")
                    : org.stablekd.backend.DeviceChoice.resolve(device);
            if (c.note() != null) System.out.println("stablekd: " + c.note());
            resolved = c.device();
        }
        return resolved;
    }

    void apply() {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1");
            System.setProperty("stablekd.threads", threads.toString());
        } else if (System.getProperty("stablekd.threads") == null && World.localRanks() > 1) {
            // ranks sharing a machine share its cores
            int each = Math.max(1, Runtime.getRuntime().availableProcessors() / World.localRanks());
            System.setProperty("stablekd.threads", Integer.toString(each));
        }
        if (backend != null) {
            if (!backend.equals("cpu") && !backend.equals("ref")) throw new IllegalArgumentException("--backend must be cpu or ref, not " + backend);
            System.setProperty("stablekd.backend", backend);
        }
        if (device != null) device();   // an explicit --device is checked before any data loads
    }
}
