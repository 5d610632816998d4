package org.stablekd.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that is not valid safetensors (truncated, corrupt, or using what stablekd cannot read).
 * The message starts with the file and says what is wrong and where (tensor name, offsets).
 */
public final class SafetensorsFormatException extends IOException {
    private final transient Path file;

    public SafetensorsFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public SafetensorsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
