package org.stablekd.train;

import java.util.Map;

/** Watches training steps (diagnostics): called after each backward, before the optimizer step. */
public interface StepObserver {
    void afterBackward();

    /** Fields to add to the epoch's metrics record. */
    Map<String, Object> epochMetrics();
}
