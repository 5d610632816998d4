package org.stablekd.distill.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.distill.augment.AugmentFixtures.codedImages;
import static org.stablekd.distill.augment.AugmentFixtures.labels;

import java.util.Arrays;
import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

class MixUpTest {

    @Test
    void mixesEachImageWithItsPartner() {
        Tensor images = codedImages(3, 2, 3, 3);
        int[] partner = {1, 2, 0};
        Mixed m = MixUp.mix(images, labels(4, 5, 6), 0.3, partner);
        float[] x = images.toFloatArray(), out = m.images().toFloatArray();
        int per = 2 * 3 * 3;
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < per; k++) {
                float expected = (float) (0.3 * x[i * per + k] + 0.7 * x[partner[i] * per + k]);
                assertEquals(expected, out[i * per + k], "image " + i + " element " + k);
            }
        }
        assertArrayEquals(new int[] {4, 5, 6}, m.labelsA().toIntArray());
        assertArrayEquals(new int[] {5, 6, 4}, m.labelsB().toIntArray());
        assertArrayEquals(new double[] {0.3, 0.3, 0.3}, m.lambda());
    }

    @Test
    void aConcreteMixIsTheConvexCombination() {
        Tensor images = Tensor.of(new float[] {1, 2, 10, 20}, 2, 1, 1, 2);
        Mixed m = MixUp.mix(images, labels(0, 1), 0.25, new int[] {1, 0});
        assertArrayEquals(new float[] {0.25f * 1 + 0.75f * 10, 0.25f * 2 + 0.75f * 20, 0.25f * 10 + 0.75f * 1, 0.25f * 20 + 0.75f * 2},
                m.images().toFloatArray(), 1e-5f);
    }

    @Test
    void applyIsSeededAndLabelsBAreAPermutation() {
        Tensor images = codedImages(5, 1, 2, 2);
        Tensor labels = labels(10, 11, 12, 13, 14);
        Mixed a = new MixUp().apply(images, labels, null, new Rng(7));
        Mixed b = new MixUp().apply(images, labels, null, new Rng(7));
        Close.assertBitIdentical(a.images().toFloatArray(), b.images().toFloatArray());
        assertArrayEquals(a.lambda(), b.lambda());
        assertTrue(a.uniformLambda());
        assertTrue(a.lambda()[0] >= 0 && a.lambda()[0] <= 1);
        int[] lb = a.labelsB().toIntArray();
        Arrays.sort(lb);
        assertArrayEquals(new int[] {10, 11, 12, 13, 14}, lb);
    }

    @Test
    void distinctPartnersNeverMixASampleWithItself() {
        Tensor images = codedImages(4, 1, 1, 1);
        for (long seed = 0; seed < 50; seed++) {
            Mixed m = new MixUp(1.0, true).apply(images, labels(0, 1, 2, 3), null, new Rng(seed));
            int[] lb = m.labelsB().toIntArray();
            for (int i = 0; i < 4; i++) assertTrue(lb[i] != i, "seed " + seed);
        }
    }
}
