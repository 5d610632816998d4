package org.stablekd.backend;

/**
 * The rank of a label among a row of logits, with PyTorch's {@code topk} order: classes ranked by
 * score, ties broken by the lower class index. A row with a NaN, or a label out of range, ranks
 * past every k (a miss): a model that diverged must never score.
 */
public final class TopK {
    private TopK() {}

    /** The 0-based position of class {@code label} in {@code l[from, from+classes)} sorted as above; {@code classes} for a miss. */
    public static int rank(float[] l, int from, int classes, int label) {
        if (label < 0 || label >= classes) return classes;
        float target = l[from + label];
        int ahead = 0;
        for (int c = 0; c < classes; c++) {
            float v = l[from + c];
            if (Float.isNaN(v)) return classes;
            if (v > target || (v == target && c < label)) ahead++;
        }
        return ahead;
    }
}
