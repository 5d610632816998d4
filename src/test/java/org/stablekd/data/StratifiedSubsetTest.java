package org.stablekd.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StratifiedSubsetTest {
    /** Class c has 10·(c+1) images, interleaved: 10, 20, 30, 40 and one lonely class of 1. */
    private static Dataset unbalanced() {
        int[] sizes = {10, 20, 30, 40, 1};
        int total = Arrays.stream(sizes).sum();
        int[] labels = new int[total];
        int[] left = sizes.clone();
        for (int i = 0, c = 0; i < total; c = (c + 1) % sizes.length) {
            if (left[c] > 0) {
                labels[i++] = c;
                left[c]--;
            }
        }
        InMemoryImages images = new InMemoryImages(total, new ImageShape(1, 1, 2));
        for (int i = 0; i < total; i++) images.write(i, new byte[] {(byte) i, (byte) labels[i]}, 0);
        return new Dataset("u", images, labels, TestFiles.classes(5));
    }

    @Test
    void keepsClassProportionsAndAtLeastOnePerClass() throws Exception {
        Dataset ds = unbalanced();
        Dataset sub = ds.subset(0.4, 7);
        assertArrayEquals(new int[] {4, 8, 12, 16, 1}, sub.classCounts());
        assertEquals(ds.classNames(), sub.classNames());
        assertEquals("u (40% stratified, seed 7)", sub.name());
        // images travel with their labels
        byte[] img = new byte[2];
        for (int i = 0; i < sub.size(); i++) {
            sub.readImage(i, img, 0);
            assertEquals(sub.label(i), img[1]);
        }
        assertArrayEquals(new int[] {1, 1, 1, 1, 1}, ds.subset(0.01, 7).classCounts());
        assertArrayEquals(new int[] {3, 5, 8, 10, 1}, ds.subset(0.25, 7).classCounts()); // round(2.5) = 3, round(7.5) = 8
        assertSame(ds, ds.subset(1.0, 7));
    }

    @Test
    void deterministicForASeedDifferentAcrossSeeds() {
        Dataset ds = unbalanced();
        int[] a = StratifiedSubset.indices(ds.labels(), 5, 0.4, 7);
        int[] b = StratifiedSubset.indices(ds.labels(), 5, 0.4, 7);
        int[] c = StratifiedSubset.indices(ds.labels(), 5, 0.4, 8);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        for (int i = 1; i < a.length; i++) assertTrue(a[i - 1] < a[i], "sorted, no duplicates");
    }

    @Test
    void aHoldOutIsStratifiedDisjointAndComplete() throws Exception {
        Dataset ds = unbalanced();
        Dataset[] split = ds.holdOut(20, 3);
        Dataset rest = split[0], val = split[1];
        assertArrayEquals(new int[] {2, 4, 6, 8, 1}, val.classCounts());   // 20 of 101 ≈ 19.8 % of each class, at least one
        assertEquals(ds.size(), rest.size() + val.size());
        // every image is in exactly one part: each image's first byte is its index
        boolean[] seen = new boolean[ds.size()];
        byte[] img = new byte[2];
        for (Dataset part : split) {
            for (int i = 0; i < part.size(); i++) {
                part.readImage(i, img, 0);
                int idx = img[0] & 0xff;
                assertFalse(seen[idx], "image " + idx + " is in both parts");
                seen[idx] = true;
                assertEquals(part.label(i), img[1]);
            }
        }
        for (boolean b : seen) assertTrue(b);
        assertArrayEquals(val.labels(), ds.holdOut(20, 3)[1].labels(), "same seed, same split");
        assertThrows(IllegalArgumentException.class, () -> ds.holdOut(0, 3));
        assertThrows(IllegalArgumentException.class, () -> ds.holdOut(ds.size(), 3));
    }

    @Test
    void rejectsBadFractions() {
        Dataset ds = unbalanced();
        assertThrows(IllegalArgumentException.class, () -> ds.subset(0, 1));
        assertThrows(IllegalArgumentException.class, () -> ds.subset(1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> ds.subset(Double.NaN, 1));
    }
}
