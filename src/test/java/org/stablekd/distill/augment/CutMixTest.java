package org.stablekd.distill.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.distill.augment.AugmentFixtures.codedImages;
import static org.stablekd.distill.augment.AugmentFixtures.labels;
import static org.stablekd.distill.augment.AugmentFixtures.sourceImage;

import org.stablekd.testing.Close;
import org.junit.jupiter.api.Test;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

class CutMixTest {

    @Test
    void boxIsCentredWithSideSqrtOneMinusLambda() {
        // 8×8, λ = 0.75: r = 0.5, w = h = 4, centre (4, 4) → [2, 6) × [2, 6)
        CutMix.Box box = CutMix.box(8, 8, 0.75, 4, 4);
        assertEquals(new CutMix.Box(2, 2, 6, 6), box);
        assertEquals(16, box.area());
        assertEquals(0.75, box.lambda(8, 8));
    }

    @Test
    void boxIsClippedAtTheBorderAndLambdaFollowsTheClippedArea() {
        // 8×8, λ = 0.75 (w = h = 4), centre (0, 7): x [−2, 2) → [0, 2), y [5, 9) → [5, 8)
        CutMix.Box box = CutMix.box(8, 8, 0.75, 0, 7);
        assertEquals(new CutMix.Box(0, 5, 2, 8), box);
        assertEquals(1 - 6.0 / 64, box.lambda(8, 8), 1e-15);
    }

    @Test
    void oddBoxSidesLoseOnePixelAsInTheReferenceCode() {
        // 6×10 (H×W), λ = 0.5: r = 0.7071, w = ⌊7.07⌋ = 7, h = ⌊4.24⌋ = 4; centre (5, 3):
        // x [5 − 3, 5 + 3) = [2, 8) (6 wide), y [3 − 2, 3 + 2) = [1, 5)
        CutMix.Box box = CutMix.box(6, 10, 0.5, 5, 3);
        assertEquals(new CutMix.Box(2, 1, 8, 5), box);
        assertEquals(1 - 24.0 / 60, box.lambda(6, 10), 1e-15);
    }

    @Test
    void lambdaOneGivesAnEmptyBoxAndZeroTheWholeImage() {
        assertEquals(0, CutMix.box(5, 5, 1.0, 2, 2).area());
        CutMix.Box whole = CutMix.box(4, 4, 0.0, 2, 2);
        assertEquals(new CutMix.Box(0, 0, 4, 4), whole);
        assertEquals(0.0, whole.lambda(4, 4));
    }

    @Test
    void pastePutsThePartnersPixelsInsideTheBoxAndKeepsTheRest() {
        Tensor images = codedImages(3, 2, 4, 5);
        int[] partner = {2, 0, 1};
        CutMix.Box box = new CutMix.Box(1, 2, 4, 4);   // x [1,4), y [2,4): 6 of 20 pixels
        Mixed m = CutMix.paste(images, labels(7, 8, 9), box, partner);
        for (int i = 0; i < 3; i++)
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 5; x++) {
                        int from = box.contains(x, y) ? partner[i] : i;
                        assertEquals(images.get(from, c, y, x), m.images().get(i, c, y, x), "pixel " + i + "," + c + "," + y + "," + x);
                    }
        assertArrayEquals(new int[] {7, 8, 9}, m.labelsA().toIntArray());
        assertArrayEquals(new int[] {9, 7, 8}, m.labelsB().toIntArray());
        assertArrayEquals(new double[] {0.7, 0.7, 0.7}, m.lambda(), 1e-15);
        assertNull(m.teacherLogits());
        assertEquals(21.0, images.get(0, 0, 2, 1), "the input is not modified");
    }

    @Test
    void lambdaIsExactlyTheShareOfOwnPixelsAndPartnersAreOthers() {
        Tensor images = codedImages(6, 3, 7, 9);
        for (long seed = 0; seed < 20; seed++) {
            Mixed m = new CutMix().apply(images, labels(0, 1, 2, 3, 4, 5), null, new Rng(seed));
            for (int i = 0; i < 6; i++) {
                int own = 0, partner = -1;
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < 7; y++)
                        for (int x = 0; x < 9; x++) {
                            int src = sourceImage(m.images().get(i, c, y, x));
                            if (src == i) own++;
                            else partner = src;
                        }
                assertEquals(m.lambda()[i], own / (3.0 * 7 * 9), 1e-12, "seed " + seed + " image " + i);
                if (partner >= 0) assertEquals(partner, m.labelsB().toIntArray()[i], "labels b name the partner");
                assertNotEquals(i, m.labelsB().toIntArray()[i], "a sample never mixes with itself");
            }
        }
    }

    @Test
    void sameSeedSameBatchOtherSeedOtherBatch() {
        Tensor images = codedImages(8, 1, 6, 6);
        Tensor labels = labels(0, 1, 2, 3, 4, 5, 6, 7);
        Mixed a = new CutMix().apply(images, labels, null, new Rng(42));
        Mixed b = new CutMix().apply(images, labels, null, new Rng(42));
        Mixed c = new CutMix().apply(images, labels, null, new Rng(43));
        Close.assertBitIdentical(a.images().toFloatArray(), b.images().toFloatArray());
        assertArrayEquals(a.lambda(), b.lambda());
        assertArrayEquals(a.labelsB().toIntArray(), b.labelsB().toIntArray());
        assertTrue(a.lambda()[0] != c.lambda()[0] || !java.util.Arrays.equals(a.labelsB().toIntArray(), c.labelsB().toIntArray()));
    }

    @Test
    void rejectsBadBatches() {
        CutMix cm = new CutMix();
        Rng rng = new Rng(1);
        assertThrows(IllegalArgumentException.class, () -> cm.apply(Tensor.zeros(DType.F32, 2, 4, 4), labels(0, 1), null, rng));
        assertThrows(IllegalArgumentException.class, () -> cm.apply(codedImages(2, 1, 4, 4), labels(0, 1, 2), null, rng));
        assertThrows(IllegalArgumentException.class, () -> new CutMix(0));
    }
}
