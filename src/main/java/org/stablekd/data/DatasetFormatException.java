package org.stablekd.data;

import java.io.IOException;

/**
 * A dataset file that cannot be read as what it claims to be: bad magic, impossible dimensions,
 * a truncated or damaged file, a label out of range, an image that does not decode. The message
 * is complete on its own (file, byte offset or record, what was expected, a hint), so a command
 * line can print it as one line without a stack trace.
 */
public class DatasetFormatException extends IOException {
    public DatasetFormatException(String message) {
        super(message);
    }

    public DatasetFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
