package org.stablekd.distill.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.distill.augment.AugmentFixtures.codedImages;
import static org.stablekd.distill.augment.AugmentFixtures.labels;

import org.junit.jupiter.api.Test;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

class BatchAugmentTest {

    @Test
    void identityReturnsTheBatchAndDrawsNothing() {
        Tensor images = codedImages(2, 1, 2, 2), labels = labels(3, 4);
        Rng rng = new Rng(1), untouched = new Rng(1);
        Mixed m = BatchAugment.identity().apply(images, labels, null, rng);
        assertSame(images, m.images());
        assertArrayEquals(new double[] {1, 1}, m.lambda());
        assertArrayEquals(new int[] {3, 4}, m.labelsB().toIntArray());
        assertEquals(untouched.nextLong(), rng.nextLong());
    }

    @Test
    void parsesSpecs() {
        assertEquals("none", BatchAugment.parse("none").name());
        assertEquals("mixup", BatchAugment.parse("mixup").name());
        assertEquals("mixup(α=0.2)", BatchAugment.parse("MixUp:0.2").toString());
        assertEquals("cutmix", BatchAugment.parse("cutmix").name());
        assertEquals("cutmix_pick", BatchAugment.parse("cutmix_pick:3").name());
        assertTrue(BatchAugment.parse("cutmix_pick").toString().startsWith("cutmix_pick(2 passes"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BatchAugment.parse("cutout"));
        assertTrue(e.getMessage().contains("cutout") && e.getMessage().contains("mixup[:alpha]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BatchAugment.parse("mixup:x"));
        assertThrows(IllegalArgumentException.class, () -> BatchAugment.parse("mixup:-1"));
        assertThrows(IllegalArgumentException.class, () -> BatchAugment.parse("none:1"));
    }
}
