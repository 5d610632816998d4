package org.stablekd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.stablekd.tensor.Tensor;

/** Argmax semantics: ties go to the first maximum (PyTorch's topk), NaN rows are misses. */
class AccuracyTest {

    private static int[] hits(float[] logits, int classes, int[] labels, int k) {
        return Accuracy.topk(Tensor.of(logits, labels.length, classes), Tensor.ofInts(labels, labels.length), k);
    }

    @Test
    void countsPlainTopOneAndTopK() {
        float[] l = {
            0.1f, 0.9f, 0.3f, 0.2f,   // order 1,2,3,0
            5f, 4f, 3f, 2f,           // order 0,1,2,3
            -1f, -2f, -3f, 7f};       // order 3,0,1,2
        assertArrayEquals(new int[] {1, 1}, hits(l, 4, new int[] {1, 1, 2}, 1));
        assertArrayEquals(new int[] {1, 2}, hits(l, 4, new int[] {1, 1, 2}, 2));
        assertArrayEquals(new int[] {1, 3}, hits(l, 4, new int[] {1, 1, 2}, 4));
    }

    @Test
    void constantLogitsPredictTheFirstClassOnly() {
        float[] l = new float[4 * 5]; // all zero: every row ties
        int[] labels = {0, 1, 2, 4};
        // top-1: only label 0 is the first maximum; top-2: labels 0 and 1
        assertArrayEquals(new int[] {1, 2}, hits(l, 5, labels, 2));
        assertArrayEquals(new int[] {1, 4}, hits(l, 5, labels, 5));
    }

    @Test
    void tiesGoToTheLowerIndexLikeTopk() {
        float[] l = {1f, 3f, 3f, 0f};
        assertArrayEquals(new int[] {1, 1}, hits(l, 4, new int[] {1}, 1));
        assertArrayEquals(new int[] {0, 0}, hits(l, 4, new int[] {2}, 1));
        assertArrayEquals(new int[] {0, 1}, hits(l, 4, new int[] {2}, 2));
    }

    @Test
    void nanRowsAreMissesForEveryK() {
        float nan = Float.NaN;
        float[] l = {
            nan, nan, nan,     // all NaN
            9f, nan, 0f,       // the label's own logit is fine, another is NaN
            0f, 1f, 2f};       // a clean row
        assertArrayEquals(new int[] {1, 1}, hits(l, 3, new int[] {0, 0, 2}, 3));
        assertArrayEquals(new int[] {0, 0}, hits(new float[] {nan, nan}, 2, new int[] {1}, 2));
    }

    @Test
    void infinitiesRankLikeNumbers() {
        float inf = Float.POSITIVE_INFINITY;
        assertArrayEquals(new int[] {1, 1}, hits(new float[] {0f, inf, -inf}, 3, new int[] {1}, 1));
        assertArrayEquals(new int[] {0, 1}, hits(new float[] {inf, inf, 0f}, 3, new int[] {1}, 2));
    }

    @Test
    void rejectsMismatchedShapes() {
        assertThrows(IllegalArgumentException.class, () -> Accuracy.topk(Tensor.of(new float[6], 2, 3), Tensor.ofInts(new int[] {0, 1, 2}, 3), 1));
    }
}
