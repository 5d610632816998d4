package org.stablekd.train;

import org.stablekd.tensor.Tensor;

/**
 * Top-k hits of logits (n, classes) against labels (n), counted on the host, with PyTorch's
 * {@code topk} order: classes ranked by score, ties broken by the lower class index (so among
 * equal maxima the first one is the prediction). A row with a NaN logit predicts nothing and is a
 * miss for every k: a model that diverged must never score, and constant logits score only the
 * samples of class 0, as argmax would.
 */
public final class Accuracy {
    private Accuracy() {}

    /** {top-1 hits, top-k hits}. */
    public static int[] topk(Tensor logits, Tensor labels, int k) {
        if (logits.rank() != 2 || labels.numel() != logits.dim(0)) {
            throw new IllegalArgumentException("accuracy: logits " + logits.shape() + " must be (n, classes) for " + labels.numel() + " labels");
        }
        float[] l = logits.toFloatArray();
        int[] y = labels.toIntArray();
        int classes = logits.dim(1);
        int top1 = 0, topk = 0;
        for (int i = 0; i < y.length; i++) {
            int rank = rank(l, i * classes, classes, y[i]);
            if (rank == 0) top1++;
            if (rank < k) topk++;
        }
        return new int[] {top1, topk};
    }

    /** See {@link org.stablekd.backend.TopK#rank}. */
    static int rank(float[] l, int from, int classes, int label) {
        return org.stablekd.backend.TopK.rank(l, from, classes, label);
    }
}
