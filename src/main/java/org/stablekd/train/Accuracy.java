package org.stablekd.train;

import org.stablekd.tensor.Tensor;

/** Top-k hits of logits (n, classes) against labels (n), counted on the host. */
public final class Accuracy {
    private Accuracy() {}

    /** {top-1 hits, top-k hits}; a label is in the top k if fewer than k classes score strictly higher. */
    public static int[] topk(Tensor logits, Tensor labels, int k) {
        float[] l = logits.toFloatArray();
        int[] y = labels.toIntArray();
        int classes = logits.dim(1);
        int top1 = 0, topk = 0;
        for (int i = 0; i < y.length; i++) {
            float target = l[i * classes + y[i]];
            int higher = 0;
            for (int c = 0; c < classes; c++) if (l[i * classes + c] > target) higher++;
            if (higher == 0) top1++;
            if (higher < k) topk++;
        }
        return new int[] {top1, topk};
    }
}
