package org.stablekd.distill.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.distill.augment.AugmentFixtures.labels;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.stablekd.distill.Teacher;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

class CutMixPickTest {

    @Test
    void picksTheHighestEntropiesInCandidateOrder() {
        assertArrayEquals(new int[] {1, 2, 3}, CutMixPick.pick(new double[] {0.1, 0.9, 0.5, 0.9, Double.NaN, 0.3}, 3));
        assertArrayEquals(new int[] {0, 1}, CutMixPick.pick(new double[] {0.5, 0.5, 0.5}, 2), "ties go to the earlier candidate");
        assertArrayEquals(new int[] {0, 4}, CutMixPick.pick(new double[] {0.2, 0.1, Double.NaN, 0.0, 0.3}, 2));
        assertArrayEquals(new int[] {2, 3}, CutMixPick.pick(new double[] {Double.NaN, Double.NaN, 0, -1}, 2), "NaN ranks lowest");
    }

    @Test
    void entropyOfKnownDistributions() {
        assertEquals(Math.log(4), CutMixPick.entropy(new float[] {9, 3, 3, 3, 3}, 1, 4), 1e-12);
        double p = 0.75;   // logits (ln 3, 0) give p = (3/4, 1/4)
        assertEquals(-(p * Math.log(p) + (1 - p) * Math.log(1 - p)), CutMixPick.entropy(new float[] {(float) Math.log(3), 0}, 0, 2), 1e-7);
        assertEquals(0, CutMixPick.entropy(new float[] {1000, 0, -1000}, 0, 3), 1e-12, "stable for large logits");
    }

    /** Images of constant value v_i (1×4×4), so a CutMix image's mean is λ·v_i + (1−λ)·v_π(i). */
    private static Tensor constantImages(float... values) {
        float[] d = new float[values.length * 16];
        for (int i = 0; i < values.length; i++) java.util.Arrays.fill(d, i * 16, (i + 1) * 16, values[i]);
        return Tensor.of(d, values.length, 1, 4, 4);
    }

    @Test
    void keepsTheCandidatesTheTeacherIsLeastSureAbout() {
        Tensor images = constantImages(0f, 0.1f, 0.45f, 0.9f, 1f, 0.3f);
        Tensor labels = labels(0, 1, 2, 3, 4, 5);
        Teacher teacher = AugmentFixtures.meanTeacher(Shape.of(1, 4, 4));
        for (long seed = 0; seed < 10; seed++) {
            Mixed picked = new CutMixPick(3).apply(images, labels, teacher, new Rng(seed));

            // the same draws, by hand: three CutMix passes, 18 candidates
            Rng rng = new Rng(seed);
            List<Mixed> passes = new ArrayList<>();
            List<Double> entropy = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                Mixed m = new CutMix().apply(images, labels, null, rng);
                passes.add(m);
                float[] z = teacher.logits(m.images()).toFloatArray();
                for (int i = 0; i < 6; i++) entropy.add(CutMixPick.entropy(z, 2 * i, 2));
            }
            List<Integer> order = new ArrayList<>();
            for (int c = 0; c < 18; c++) order.add(c);
            order.sort((a, b) -> Double.compare(entropy.get(b), entropy.get(a)) != 0 ? Double.compare(entropy.get(b), entropy.get(a)) : Integer.compare(a, b));
            int[] expected = order.subList(0, 6).stream().mapToInt(Integer::intValue).sorted().toArray();
            double worstKept = Double.POSITIVE_INFINITY, bestDropped = Double.NEGATIVE_INFINITY;
            java.util.Set<Integer> keptSet = new java.util.HashSet<>(order.subList(0, 6));
            for (int c = 0; c < 18; c++) {
                boolean kept = keptSet.contains(c);
                if (kept) worstKept = Math.min(worstKept, entropy.get(c));
                else bestDropped = Math.max(bestDropped, entropy.get(c));
            }
            assertTrue(worstKept >= bestDropped, "kept candidates have the highest entropies");

            float[] teacherOnPicked = teacher.logits(picked.images()).toFloatArray();
            for (int k = 0; k < 6; k++) {
                Mixed source = passes.get(expected[k] / 6);
                int i = expected[k] % 6;
                float[] want = new float[16], got = new float[16];
                for (int q = 0; q < 16; q++) {
                    want[q] = (float) source.images().getFlat(i * 16L + q);
                    got[q] = (float) picked.images().getFlat(k * 16L + q);
                }
                assertArrayEquals(want, got, "seed " + seed + " sample " + k + " is candidate " + expected[k]);
                assertEquals(source.lambda()[i], picked.lambda()[k]);
                assertEquals(source.labelsA().getFlat(i), picked.labelsA().getFlat(k));
                assertEquals(source.labelsB().getFlat(i), picked.labelsB().getFlat(k));
                assertEquals(teacherOnPicked[2 * k + 1], (float) picked.teacherLogits().get(k, 1), 1e-6, "cached teacher logits");
            }
        }
    }

    @Test
    void needsTheTeacher() {
        assertThrows(IllegalArgumentException.class, () -> new CutMixPick().apply(constantImages(0, 1), labels(0, 1), null, new Rng(1)));
        assertThrows(IllegalArgumentException.class, () -> new CutMixPick(0));
    }
}
