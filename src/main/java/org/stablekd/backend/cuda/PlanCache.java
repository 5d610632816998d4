package org.stablekd.backend.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A bounded least-recently-used cache whose values own native resources (cuDNN descriptors):
 * a value is closed when it is evicted or when the cache is cleared, never leaked. Bounded
 * because the key is a whole shape, batch size included (cuDNN's tensor descriptors carry it):
 * a training run needs a handful (the full batch, a short last batch, the evaluation batch),
 * but a predictor fed every batch size from 1 up would otherwise grow without limit.
 */
final class PlanCache<K, V extends AutoCloseable> {
    private final int capacity;
    private final LinkedHashMap<K, V> map;

    PlanCache(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity " + capacity);
        this.capacity = capacity;
        this.map = new LinkedHashMap<>(16, 0.75f, true);  // access order: the eldest is the least recently used
    }

    /** The value for key, made by {@code make} when absent (evicting and closing the least recently used one if full). */
    synchronized V get(K key, Function<K, V> make) {
        V v = map.get(key);
        if (v != null) return v;
        v = make.apply(key);
        if (map.size() == capacity) {
            Map.Entry<K, V> eldest = map.entrySet().iterator().next();
            map.remove(eldest.getKey());
            close(eldest.getValue());
        }
        map.put(key, v);
        return v;
    }

    synchronized int size() {
        return map.size();
    }

    /** Closes every value and empties the cache. */
    synchronized void clear() {
        List<V> values = new ArrayList<>(map.values());
        map.clear();
        for (V v : values) close(v);
    }

    private static void close(AutoCloseable v) {
        try {
            v.close();
        } catch (Exception e) {
            throw new CudaException("closing a cached plan failed: " + e.getMessage());
        }
    }
}
