package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.stablekd.distill.Recomposition.Group;

class RecompositionTest {

    @Test
    void thePapersExamples() {
        assertEquals("[[b1, b2, b3, b4], [b1-2, b3-4], [b1-4]]", Recomposition.schedule(4, 2).toString());
        assertEquals("[[b1, b2, b3], [b1-2, b3], [b1-3]]", Recomposition.schedule(3, 2).toString());
        assertEquals("[[b1]]", Recomposition.schedule(1, 2).toString());
        assertEquals("[[b1, b2, b3, b4, b5], [b1-3, b4-5], [b1-5]]", Recomposition.schedule(5, 3).toString());
    }

    /** Every N ≤ 16 and factor ≤ 5: each stage partitions the blocks and is R of the previous one. */
    @Test
    void exhaustivelyEveryStageIsAPartitionMergedFromItsPredecessor() {
        for (int n = 1; n <= 16; n++) {
            for (int f = 2; f <= 5; f++) {
                List<List<Group>> stages = Recomposition.schedule(n, f);
                assertEquals(n, stages.get(0).size());
                assertEquals(1, stages.getLast().size());
                assertEquals(new Group(0, n - 1), stages.getLast().get(0));
                int expected = 1 + (int) Math.ceil(Math.log(n) / Math.log(f) - 1e-9);
                assertEquals(n == 1 ? 1 : expected, stages.size(), "stage count for N=" + n + " f=" + f);
                for (int s = 1; s < stages.size(); s++) {
                    List<Group> prev = stages.get(s - 1), cur = stages.get(s);
                    Recomposition.checkPartition(cur);
                    assertEquals((prev.size() + f - 1) / f, cur.size(), "groups after merging N=" + n + " f=" + f);
                    // each new group is the union of up to f consecutive previous groups, left to right
                    int pi = 0;
                    for (Group g : cur) {
                        int merged = 0;
                        assertEquals(prev.get(pi).first(), g.first());
                        while (pi < prev.size() && prev.get(pi).last() <= g.last()) {
                            pi++;
                            merged++;
                        }
                        assertEquals(prev.get(pi - 1).last(), g.last());
                        assertTrue(merged >= 1 && merged <= f);
                        if (pi < prev.size()) assertEquals(f, merged, "only the last group may merge fewer");
                    }
                    assertEquals(prev.size(), pi);
                }
            }
        }
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> Recomposition.merge(List.of(new Group(0, 0), new Group(2, 2)), 2));
        assertThrows(IllegalArgumentException.class, () -> Recomposition.merge(List.of(new Group(0, 1)), 1));
        assertThrows(IllegalArgumentException.class, () -> Recomposition.singletons(0));
        assertThrows(IllegalArgumentException.class, () -> new Group(2, 1));
    }
}
