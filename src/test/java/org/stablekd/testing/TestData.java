package org.stablekd.testing;

import org.stablekd.data.Dataset;
import org.stablekd.data.ImageShape;
import org.stablekd.data.InMemoryImages;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/** Small generated data for tests: datasets for training tests, label tensors for loss tests. */
public final class TestData {
    private TestData() {}

    /** 1×8×8 images of 3 classes: a horizontal bar, a vertical bar, a diagonal, at a random place, plus noise. */
    public static Dataset bars(int n, long seed) {
        Rng rng = new Rng(seed);
        InMemoryImages imgs = new InMemoryImages(n, new ImageShape(1, 8, 8));
        int[] labels = new int[n];
        byte[] img = new byte[64];
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            labels[i] = c;
            for (int p = 0; p < 64; p++) img[p] = (byte) rng.nextInt(60);
            int oy = 1 + rng.nextInt(3), ox = 1 + rng.nextInt(3);
            for (int k = 0; k < 4; k++) {
                int y = c == 1 ? k : (c == 0 ? 1 : k), x = c == 0 ? k : (c == 1 ? 1 : k);
                img[(oy + y) * 8 + ox + x] = (byte) 230;
            }
            imgs.write(i, img, 0);
        }
        return new Dataset("bars", imgs, labels, Dataset.numberedClasses(3));
    }

    /** n seeded uniform class indices in [0, classes), an I32 tensor (n). */
    public static Tensor labels(long seed, int n, int classes) {
        Rng rng = new Rng(seed);
        int[] l = new int[n];
        for (int i = 0; i < n; i++) l[i] = rng.nextInt(classes);
        return Tensor.ofInts(l, n);
    }
}
