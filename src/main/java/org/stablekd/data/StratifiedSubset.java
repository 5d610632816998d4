package org.stablekd.data;

import java.util.Arrays;
import org.stablekd.tensor.Rng;

/**
 * Seeded stratified sampling: from each class keep {@code max(1, round(fraction · n_c))} images,
 * chosen by a partial Fisher-Yates shuffle of that class's indices. One {@link Rng} seeded with
 * {@code seed} walks the classes in label order, so the choice depends only on (labels, fraction,
 * seed). The kept indices are returned in ascending order (the subset keeps the file order).
 */
public final class StratifiedSubset {
    private StratifiedSubset() {}

    public static int[] indices(int[] labels, int numClasses, double fraction, long seed) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("a subset fraction must be in (0, 1], got " + fraction);
        }
        int[][] byClass = groupByClass(labels, numClasses);
        Rng rng = new Rng(seed);
        int total = 0;
        int[][] kept = new int[numClasses][];
        for (int c = 0; c < numClasses; c++) {
            int[] members = byClass[c];
            int n = members.length;
            int k = n == 0 ? 0 : (int) Math.min(n, Math.max(1, Math.round(fraction * n)));
            for (int i = 0; i < k; i++) { // partial Fisher-Yates: members[0..k) become the sample
                int j = i + rng.nextInt(n - i);
                int t = members[i]; members[i] = members[j]; members[j] = t;
            }
            kept[c] = Arrays.copyOf(members, k);
            total += k;
        }
        int[] out = new int[total];
        int at = 0;
        for (int[] k : kept) {
            System.arraycopy(k, 0, out, at, k.length);
            at += k.length;
        }
        Arrays.sort(out);
        return out;
    }

    private static int[][] groupByClass(int[] labels, int numClasses) {
        int[] counts = new int[numClasses];
        for (int l : labels) counts[l]++;
        int[][] byClass = new int[numClasses][];
        for (int c = 0; c < numClasses; c++) byClass[c] = new int[counts[c]];
        int[] fill = new int[numClasses];
        for (int i = 0; i < labels.length; i++) byClass[labels[i]][fill[labels[i]]++] = i;
        return byClass;
    }
}
