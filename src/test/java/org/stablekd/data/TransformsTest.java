package org.stablekd.data;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.stablekd.tensor.Rng;

class TransformsTest {
    /** A (c, h, w) image whose value at (ch, y, x) is 100·ch + 10·y + x + 1 (never 0, so padding shows). */
    private static ImageBuffer image(int c, int h, int w) {
        float[] v = new float[c * h * w];
        for (int ch = 0; ch < c; ch++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) v[(ch * h + y) * w + x] = 100 * ch + 10 * y + x + 1;
        ImageBuffer b = new ImageBuffer();
        b.load(v, new ImageShape(c, h, w));
        return b;
    }

    private static float at(ImageBuffer b, int ch, int y, int x) {
        return b.data()[(ch * b.height() + y) * b.width() + x];
    }

    /** Original value at (ch, y, x) of {@link #image}, 0 outside. */
    private static float source(int h, int w, int ch, int y, int x) {
        return y < 0 || y >= h || x < 0 || x >= w ? 0 : 100 * ch + 10 * y + x + 1;
    }

    @Test
    void loadUint8IsToTensor() {
        ImageBuffer b = new ImageBuffer();
        b.loadUint8(new byte[] {0, 1, (byte) 128, (byte) 255}, 0, new ImageShape(1, 2, 2));
        assertArrayEquals(new float[] {0f, 1 / 255f, 128 / 255f, 1f}, b.toArray());
    }

    @Test
    void randomCropIsAnExactWindowOfThePaddedImage() {
        RandomCrop crop = new RandomCrop(5, 2);
        for (long seed = 0; seed < 50; seed++) {
            Rng draw = new Rng(seed);
            int top = draw.nextInt(6 + 4 - 5 + 1) - 2, left = draw.nextInt(7 + 4 - 5 + 1) - 2; // the documented draws
            ImageBuffer b = image(2, 6, 7);
            crop.apply(b, new Rng(seed));
            assertEquals(new ImageShape(2, 5, 5), b.shape());
            for (int ch = 0; ch < 2; ch++) for (int y = 0; y < 5; y++) for (int x = 0; x < 5; x++) {
                assertEquals(source(6, 7, ch, y + top, x + left), at(b, ch, y, x), "seed " + seed + " at " + ch + "," + y + "," + x);
            }
        }
    }

    @Test
    void randomCropCoversEveryOffset() {
        boolean[][] seen = new boolean[9][9];
        RandomCrop crop = new RandomCrop(4, 4); // 4×4 image padded to 12×12: offsets -4..4
        Rng rng = new Rng(1);
        for (int i = 0; i < 3000; i++) {
            ImageBuffer b = image(1, 4, 4);
            crop.apply(b, rng);
            // find where the original pixel (0,0) (value 1) went, if visible
            for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) if (at(b, 0, y, x) == 1) seen[y + 4][x + 4] = true;
        }
        for (int y = 4; y < 8; y++) for (int x = 4; x < 8; x++) assertTrue(seen[y][x], "offset " + y + "," + x);
    }

    @Test
    void flipMirrorsRowsWithProbability() {
        ImageBuffer b = image(2, 3, 4);
        new RandomHorizontalFlip(1.0).apply(b, new Rng(0));
        for (int ch = 0; ch < 2; ch++) for (int y = 0; y < 3; y++) for (int x = 0; x < 4; x++) assertEquals(source(3, 4, ch, y, 3 - x), at(b, ch, y, x));
        ImageBuffer same = image(2, 3, 4);
        new RandomHorizontalFlip(0.0).apply(same, new Rng(0));
        assertArrayEquals(image(2, 3, 4).toArray(), same.toArray());
        int flipped = 0;
        Rng rng = new Rng(3);
        for (int i = 0; i < 2000; i++) {
            ImageBuffer one = image(1, 1, 2);
            new RandomHorizontalFlip().apply(one, rng);
            if (one.data()[0] == 2) flipped++;
        }
        assertEquals(1000, flipped, 100);
    }

    @Test
    void normalizeMath() {
        ImageBuffer b = image(2, 1, 3);
        new Normalize(new float[] {1f, 50f}, new float[] {2f, 4f}).apply(b, null);
        assertArrayEquals(new float[] {0f, 0.5f, 1f, (101 - 50) / 4f, (102 - 50) / 4f, (103 - 50) / 4f}, b.toArray());
        ImageBuffer g = image(3, 1, 1);
        new Normalize(new float[] {1f}, new float[] {0.5f}).apply(g, null); // one value for every channel
        assertArrayEquals(new float[] {0f, 200f, 400f}, g.toArray());
        assertThrows(IllegalArgumentException.class, () -> Normalize.CIFAR100.outputShape(new ImageShape(1, 2, 2)));
    }

    @Test
    void normalizeFromDataset() throws Exception {
        InMemoryImages imgs = new InMemoryImages(2, new ImageShape(2, 1, 2));
        imgs.write(0, new byte[] {0, (byte) 255, 10, 30}, 0);
        imgs.write(1, new byte[] {0, (byte) 255, 30, 10}, 0);
        Normalize n = Normalize.fromDataset(new Dataset("n", imgs, new int[] {0, 0}, TestFiles.classes(1)));
        assertArrayEquals(new float[] {0.5f, 20 / 255f}, n.mean(), 1e-6f);
        assertArrayEquals(new float[] {0.5f, 10 / 255f}, n.std(), 1e-6f);
    }

    @Test
    void centerCropRoundsHalfToEvenAndPads() {
        ImageBuffer b = image(1, 7, 6);
        new CenterCrop(4).apply(b, null); // top round(1.5) = 2, left round(1.0) = 1
        for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) assertEquals(source(7, 6, 0, y + 2, x + 1), at(b, 0, y, x));
        ImageBuffer p = image(1, 2, 3);
        new CenterCrop(5).apply(p, null); // pads: top (5-2)/2 = 1, left (5-3)/2 = 1
        for (int y = 0; y < 5; y++) for (int x = 0; x < 5; x++) assertEquals(source(2, 3, 0, y - 1, x - 1), at(p, 0, y, x));
    }

    @Test
    void padToSizeFashionMnist() {
        ImageBuffer b = image(1, 28, 28);
        Transform t = Compose.of(new PadToSize(32, 32), new RepeatChannels(3));
        assertEquals(new ImageShape(3, 32, 32), t.outputShape(new ImageShape(1, 28, 28)));
        t.apply(b, null);
        assertEquals(new ImageShape(3, 32, 32), b.shape());
        for (int ch = 0; ch < 3; ch++) for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) {
            assertEquals(source(28, 28, 0, y - 2, x - 2), at(b, ch, y, x), ch + "," + y + "," + x);
        }
        assertThrows(IllegalArgumentException.class, () -> new PadToSize(20, 20).outputShape(new ImageShape(1, 28, 28)));
        assertThrows(IllegalArgumentException.class, () -> new RepeatChannels(3).outputShape(new ImageShape(2, 28, 28)));
    }

    @Test
    void randomResizedCropFullBoxIsIdentity() {
        ImageBuffer b = image(3, 8, 8);
        new RandomResizedCrop(8, 1.0, 1.0, 1.0, 1.0).apply(b, new Rng(5));
        assertArrayEquals(image(3, 8, 8).toArray(), b.toArray(), 1e-4f);
    }

    @Test
    void randomResizedCropBoxesAreValidAndFollowTheRanges() {
        RandomResizedCrop t = new RandomResizedCrop(16);
        Rng rng = new Rng(11);
        double minArea = 1, maxArea = 0;
        for (int i = 0; i < 2000; i++) {
            int[] box = t.box(60, 80, rng);
            int top = box[0], left = box[1], h = box[2], w = box[3];
            assertTrue(top >= 0 && left >= 0 && h > 0 && w > 0 && top + h <= 60 && left + w <= 80, java.util.Arrays.toString(box));
            double area = (double) h * w / (60 * 80);
            minArea = Math.min(minArea, area);
            maxArea = Math.max(maxArea, area);
            assertTrue(area > 0.07 && area <= 1.0, "area " + area);
            double ratio = (double) w / h;
            assertTrue(ratio > 0.7 && ratio < 1.45, "ratio " + ratio);
        }
        assertTrue(minArea < 0.1 && maxArea > 0.8, minArea + " " + maxArea);
        // A very wide image never fits the ratio range at full scale: the fallback is the centered max-ratio box.
        int[] fallback = new RandomResizedCrop(4, 1.0, 1.0, 1.0, 1.0).box(10, 100, new Rng(0));
        assertArrayEquals(new int[] {0, 45, 10, 10}, fallback);
        ImageBuffer b = image(3, 60, 80);
        t.apply(b, new Rng(2));
        assertEquals(new ImageShape(3, 16, 16), b.shape());
    }

    @Test
    void randomResizedCropOfAConstantIsConstant() {
        float[] v = new float[3 * 30 * 40];
        java.util.Arrays.fill(v, 0.25f);
        ImageBuffer b = new ImageBuffer();
        for (long seed = 0; seed < 20; seed++) {
            b.load(v, new ImageShape(3, 30, 40));
            new RandomResizedCrop(12).apply(b, new Rng(seed));
            for (float f : b.toArray()) assertEquals(0.25f, f, 1e-6f);
        }
    }

    @Test
    void pipelinesAreDeterministicForASeedAndVaryAcrossSeeds() {
        Transform t = Compose.of(new RandomResizedCrop(10), new RandomCrop(10, 2), new RandomHorizontalFlip(), Normalize.IMAGENET);
        ImageBuffer a = image(3, 20, 24), b = image(3, 20, 24), c = image(3, 20, 24);
        t.apply(a, new Rng(42));
        t.apply(b, new Rng(42));
        t.apply(c, new Rng(43));
        assertArrayEquals(a.toArray(), b.toArray());
        assertFalse(java.util.Arrays.equals(a.toArray(), c.toArray()));
        assertEquals(new ImageShape(3, 10, 10), t.outputShape(new ImageShape(3, 20, 24)));
    }

    @Test
    void standardPipelineShapes() {
        assertEquals(new ImageShape(3, 32, 32), Transforms.cifarTrain(Normalize.CIFAR100).outputShape(CifarReader.SHAPE));
        assertEquals(new ImageShape(1, 32, 32), Transforms.fashionMnist(true, 1).outputShape(new ImageShape(1, 28, 28)));
        assertEquals(new ImageShape(3, 32, 32), Transforms.fashionMnist(false, 3).outputShape(new ImageShape(1, 28, 28)));
        assertEquals(new ImageShape(3, 224, 224), Transforms.imageNetTrain(224, Normalize.IMAGENET).outputShape(new ImageShape(3, 256, 256)));
        assertEquals(new ImageShape(3, 224, 224), Transforms.imageNetEval(224, Normalize.IMAGENET).outputShape(new ImageShape(3, 256, 256)));
    }
}
