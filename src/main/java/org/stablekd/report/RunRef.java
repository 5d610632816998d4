package org.stablekd.report;

import java.nio.file.Path;

/** A run folder (with {@code metrics.jsonl}) and the label it gets in reports. */
public record RunRef(String label, Path dir) {
    public RunRef {
        if (label == null || label.isBlank()) throw new IllegalArgumentException("a run needs a label (folder " + dir + ")");
        if (dir == null) throw new IllegalArgumentException("run '" + label + "' needs a folder");
    }

    /**
     * From a command-line argument: {@code label=folder}, or just {@code folder} (labelled with its
     * name).
     */
    public static RunRef parse(String arg) {
        int eq = arg.indexOf('=');
        if (eq > 0) return new RunRef(arg.substring(0, eq), Path.of(arg.substring(eq + 1)));
        Path dir = Path.of(arg);
        Path name = dir.toAbsolutePath().normalize().getFileName();
        return new RunRef(name == null ? arg : name.toString(), dir);
    }
}
