package org.stablekd.distill.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.tensor.Tensor;

class TeacherStddevTest {
    private static final float LN3 = (float) Math.log(3);
    /** logits (0, 0) → p = (1/2, 1/2); (ln 3, 0) → (3/4, 1/4); (0, ln 3) → (1/4, 3/4). */
    private static final float[] HALF = {0, 0}, MOSTLY_A = {LN3, 0}, MOSTLY_B = {0, LN3};

    private static Tensor batch(float[]... rows) {
        float[] d = new float[rows.length * 2];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, d, 2 * i, 2);
        return Tensor.of(d, rows.length, 2);
    }

    @Test
    void oneBatchPerGroup() {
        // group means of class A: 1/2, 3/4, 1/4 → mean 1/2, unbiased variance (0 + 1/16 + 1/16)/2 → std 1/4; class B the same
        TeacherStddev s = new TeacherStddev(1);
        s.add(batch(HALF));
        assertTrue(Double.isNaN(s.value()), "undefined before two groups");
        s.add(batch(MOSTLY_A));
        s.add(batch(MOSTLY_B));
        assertEquals(3, s.groups());
        assertArrayEquals(new double[] {0.25, 0.25}, s.perClassStddev(), 1e-7);
        assertEquals(0.25, s.value(), 1e-7);
    }

    @Test
    void groupMeansWeighEverySampleEquallyAndIncompleteGroupsDoNotCount() {
        TeacherStddev s = new TeacherStddev(2);
        s.add(batch(HALF, MOSTLY_A));   // group 1: class A (1/2 + 3/4 + 1/4)/3 = 1/2
        s.add(batch(MOSTLY_B));
        s.add(batch(MOSTLY_A));         // group 2: class A 3/4
        s.add(batch(MOSTLY_A, MOSTLY_A));
        s.add(batch(HALF));             // incomplete third group
        assertEquals(2, s.groups());
        // std of (1/2, 3/4) with 1/(G−1): |difference|/√2
        assertEquals(0.25 / Math.sqrt(2), s.value(), 1e-7);
        double hHalf = Math.log(2), hQuarter = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
        assertEquals((2 * hHalf + 5 * hQuarter) / 7, s.meanEntropy(), 1e-7, "entropy over every sample fed, incomplete group included");
    }

    @Test
    void identicalGroupsGiveZeroAndResetForgets() {
        TeacherStddev s = new TeacherStddev(1);
        for (int i = 0; i < 4; i++) s.add(batch(MOSTLY_A, HALF));
        assertEquals(0, s.value(), 1e-12);
        s.reset();
        assertEquals(0, s.groups());
        assertTrue(Double.isNaN(s.value()) && Double.isNaN(s.meanEntropy()));
    }

    @Test
    void rejectsChangingClassCounts() {
        TeacherStddev s = new TeacherStddev();
        s.add(batch(HALF));
        assertThrows(IllegalArgumentException.class, () -> s.add(Tensor.of(new float[] {0, 0, 0}, 1, 3)));
        assertThrows(IllegalArgumentException.class, () -> s.add(Tensor.of(new float[] {0, 0}, 2)));
        assertThrows(IllegalArgumentException.class, () -> new TeacherStddev(0));
    }
}
