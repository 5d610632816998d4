package org.stablekd.backend;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Packed copies of weights that stay constant while the cache is in force: an inference
 * {@code Predictor} binds one around every call, and kernels that would otherwise copy and
 * repack their weights on each call (the grid convolution's panels: 2.4 MB for a 256→256 3×3
 * layer, as much work as the layer itself at batch 1) reuse the copy made on the first call.
 *
 * <p>Entries are keyed by the weights' native address and the packing's kind and sizes, so the
 * weights must neither change nor be freed while the cache is in use (a predictor's folded
 * weights never are). Training never binds a cache: there the weights change every step.
 * Safe for concurrent callers; an entry is built at most once per key and never changes.
 */
public final class WeightCache {
    private static final ScopedValue<WeightCache> CURRENT = ScopedValue.newInstance();

    private record Key(long address, String kind, int rows, int cols) {}

    private final ConcurrentHashMap<Key, float[]> packed = new ConcurrentHashMap<>();

    /** Runs {@code body} with this cache in force on the calling thread. */
    public void run(Runnable body) {
        ScopedValue.where(CURRENT, this).run(body);
    }

    /** The cache in force on this thread, or null (training, or any call outside a predictor). */
    public static WeightCache current() {
        return CURRENT.isBound() ? CURRENT.get() : null;
    }

    /**
     * The packed form ({@code kind}, of a rows × cols weight matrix) of the weights at element
     * {@code offset} of {@code weights}, made by {@code pack} on first use.
     */
    public float[] packed(MemorySegment weights, long offset, String kind, int rows, int cols, Supplier<float[]> pack) {
        return packed.computeIfAbsent(new Key(weights.address() + offset * Float.BYTES, kind, rows, cols), k -> pack.get());
    }

    /** Entries held (for tests and diagnostics). */
    public int size() {
        return packed.size();
    }
}
