package org.stablekd.distill;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * StableKD's recomposing function R as a pure function on partitions of blocks 0..N-1 into
 * contiguous groups: neighbouring groups merge {@code factor} at a time, left to right, and a
 * trailing remainder carries over. With factor 2:
 * {[0],[1],[2],[3]} → {[0,1],[2,3]} → {[0,1,2,3]};  {[0],[1],[2]} → {[0,1],[2]} → {[0,1,2]}.
 * A group is written as its first and last block, inclusive.
 */
public final class Recomposition {
    private Recomposition() {}

    /** Blocks first..last (inclusive) trained as one unit. */
    public record Group(int first, int last) {
        public Group {
            if (first < 0 || last < first) throw new IllegalArgumentException("bad group [" + first + ".." + last + "]");
        }

        public int size() { return last - first + 1; }

        /** 1-based, as in the paper: "b1", "b3-4". */
        @Override
        public String toString() {
            return first == last ? "b" + (first + 1) : "b" + (first + 1) + "-" + (last + 1);
        }
    }

    /** The finest partition: every block alone. */
    public static List<Group> singletons(int blocks) {
        if (blocks < 1) throw new IllegalArgumentException("need at least one block, got " + blocks);
        List<Group> out = new ArrayList<>();
        for (int i = 0; i < blocks; i++) out.add(new Group(i, i));
        return Collections.unmodifiableList(out);
    }

    /** R: merges neighbouring groups {@code factor} at a time; a shorter tail stays as it is when it is a single group. */
    public static List<Group> merge(List<Group> groups, int factor) {
        if (factor < 2) throw new IllegalArgumentException("merge factor must be at least 2, got " + factor);
        checkPartition(groups);
        List<Group> out = new ArrayList<>();
        for (int i = 0; i < groups.size(); i += factor) {
            int j = Math.min(i + factor, groups.size()) - 1;
            out.add(new Group(groups.get(i).first(), groups.get(j).last()));
        }
        return Collections.unmodifiableList(out);
    }

    /** Every partition from the singletons down to one group: the stages of a StableKD run. */
    public static List<List<Group>> schedule(int blocks, int factor) {
        List<List<Group>> stages = new ArrayList<>();
        List<Group> p = singletons(blocks);
        stages.add(p);
        while (p.size() > 1) {
            p = merge(p, factor);
            stages.add(p);
        }
        return Collections.unmodifiableList(stages);
    }

    /** The number of stages {@link #schedule} produces: 1 + ⌈log_factor(blocks)⌉. */
    public static int stageCount(int blocks, int factor) {
        return schedule(blocks, factor).size();
    }

    /** Throws unless the groups cover 0..N-1 contiguously, in order, without overlap. */
    public static void checkPartition(List<Group> groups) {
        if (groups.isEmpty()) throw new IllegalArgumentException("empty partition");
        int next = 0;
        for (Group g : groups) {
            if (g.first() != next) throw new IllegalArgumentException("partition " + groups + " is not contiguous at block " + next);
            next = g.last() + 1;
        }
    }
}
