package org.stablekd.train;

/** The loss became NaN or infinite; the message says where and which checkpoint is the last good one. */
public final class TrainingDivergedException extends IllegalStateException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
