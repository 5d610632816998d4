package org.stablekd.dist;

/** The distributed runtime cannot start or failed: the message is one sentence with a hint. */
public final class DistributedException extends IllegalStateException {
    public DistributedException(String message) {
        super(message);
    }

    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
