package org.stablekd.data;

/**
 * A failure on a loader thread (a damaged image, a transform error), rethrown in the consumer
 * thread when it asks for the batch that failed. The message is the original one, unchanged; the
 * original exception is the cause; {@link #epoch()} and {@link #batch()} say where.
 */
public final class DataLoaderException extends RuntimeException {
    private final int epoch, batch;

    DataLoaderException(Throwable cause, int epoch, int batch) {
        super(cause.getMessage() != null ? cause.getMessage() : cause.toString(), cause);
        this.epoch = epoch;
        this.batch = batch;
    }

    public int epoch() { return epoch; }
    public int batch() { return batch; }
}
