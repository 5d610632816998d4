package org.stablekd.tensor;

/** Restores a per-thread setting (grad mode, backend choice, scope suspension) when closed. */
@FunctionalInterface
public interface Restore extends AutoCloseable {
    @Override
    void close();
}
