package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plan cache closes what it drops: evicted plans and, on clear, all of them (cuDNN descriptors are never leaked). */
class PlanCacheTest {
    private final List<String> closed = new ArrayList<>();
    private final List<String> made = new ArrayList<>();

    private final class Resource implements AutoCloseable {
        final String name;

        Resource(String name) {
            this.name = name;
            made.add(name);
        }

        @Override
        public void close() {
            closed.add(name);
        }
    }

    @Test
    void aKnownKeyIsNotMadeAgainAndTheLeastRecentlyUsedIsClosedWhenFull() {
        PlanCache<String, Resource> cache = new PlanCache<>(2);
        Resource a = cache.get("a", Resource::new);
        cache.get("b", Resource::new);
        assertSame(a, cache.get("a", Resource::new), "a hit makes nothing");
        cache.get("c", Resource::new);  // b is the least recently used
        assertEquals(List.of("a", "b", "c"), made);
        assertEquals(List.of("b"), closed);
        assertEquals(2, cache.size());
        cache.clear();
        assertEquals(List.of("b", "a", "c"), closed);
        assertEquals(0, cache.size());
    }
}
