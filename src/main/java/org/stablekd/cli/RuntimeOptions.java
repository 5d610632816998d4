package org.stablekd.cli;

import picocli.CommandLine.Option;

/** Backend and threads, shared by the commands that compute. Applied before any kernel runs. */
final class RuntimeOptions {
    @Option(names = "--threads", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--backend", description = "Host backend: cpu (Vector API, default) or ref (the slow scalar oracle).")
    String backend;

    void apply() {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1");
            System.setProperty("stablekd.threads", threads.toString());
        }
        if (backend != null) {
            if (!backend.equals("cpu") && !backend.equals("ref")) throw new IllegalArgumentException("--backend must be cpu or ref, not " + backend);
            System.setProperty("stablekd.backend", backend);
        }
    }
}
