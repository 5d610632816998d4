package org.stablekd.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

class LoaderTest {
    private static final ImageShape SHAPE = new ImageShape(3, 8, 8);
    private static final Transform AUGMENT = Compose.of(new RandomCrop(8, 2), new RandomHorizontalFlip(), Normalize.CIFAR10);

    /** What a test keeps of a batch (copied before release). */
    record Seen(int index, int[] samples, float[] images, int[] labels) {}

    private static List<Seen> run(Loader loader, int epoch, int firstBatch) {
        List<Seen> out = new ArrayList<>();
        for (Batch b : loader.startEpoch(epoch, firstBatch)) {
            try (b) {
                assertEquals(epoch, b.epoch());
                out.add(new Seen(b.index(), b.sampleIndices(), b.images().toFloatArray(), b.labels().toIntArray()));
            }
        }
        return out;
    }

    /** The dataset index an untransformed synthetic image carries in its first two pixels. */
    private static int decodeIndex(float[] images, int sample, int numel) {
        return Math.round(images[sample * numel] * 255) + 256 * Math.round(images[sample * numel + 1] * 255);
    }

    private static void assertSameBatches(List<Seen> a, List<Seen> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).index(), b.get(i).index());
            assertArrayEquals(a.get(i).samples(), b.get(i).samples(), "batch " + i);
            assertArrayEquals(a.get(i).labels(), b.get(i).labels(), "batch " + i);
            assertArrayEquals(a.get(i).images(), b.get(i).images(), "batch " + i);
        }
    }

    @Test
    void everySampleExactlyOncePerEpochWithShuffle() {
        Dataset ds = TestFiles.synthetic(103, SHAPE, 7);
        try (Loader loader = new Loader(ds, Transform.IDENTITY, LoaderOptions.batchSize(10).shuffle(true).seed(3))) {
            assertEquals(11, loader.batchesPerEpoch());
            assertEquals(11, loader.size());
            assertEquals(103, loader.samplesPerEpoch());
            for (int epoch = 0; epoch < 3; epoch++) {
                List<Seen> batches = run(loader, epoch, 0);
                assertEquals(11, batches.size());
                boolean[] seen = new boolean[103];
                for (Seen s : batches) {
                    assertEquals(s.index() == 10 ? 3 : 10, s.samples().length);
                    for (int j = 0; j < s.samples().length; j++) {
                        int idx = s.samples()[j];
                        assertFalse(seen[idx], "sample " + idx + " twice in epoch " + epoch);
                        seen[idx] = true;
                        assertEquals(idx, decodeIndex(s.images(), j, SHAPE.numel()), "the image is the sample's");
                        assertEquals(idx % 7, s.labels()[j], "the label is the sample's");
                    }
                }
                for (boolean b : seen) assertTrue(b);
            }
        }
    }

    @Test
    void orderIsSeededPerEpoch() {
        Dataset ds = TestFiles.synthetic(50, SHAPE, 5);
        LoaderOptions opts = LoaderOptions.batchSize(8).shuffle(true).seed(9);
        try (Loader a = new Loader(ds, Transform.IDENTITY, opts); Loader b = new Loader(ds, Transform.IDENTITY, opts);
             Loader c = new Loader(ds, Transform.IDENTITY, opts.seed(10));
             Loader plain = new Loader(ds, Transform.IDENTITY, LoaderOptions.batchSize(8))) {
            assertArrayEquals(a.order(0), b.order(0));
            assertFalse(Arrays.equals(a.order(0), a.order(1)), "a new order every epoch");
            assertFalse(Arrays.equals(a.order(0), c.order(0)), "another seed, another order");
            int[] identity = new int[50];
            Arrays.setAll(identity, i -> i);
            assertArrayEquals(identity, plain.order(4));
            assertSameBatches(run(a, 1, 0), run(b, 1, 0));
        }
    }

    @Test
    void dropLast() {
        Dataset ds = TestFiles.synthetic(25, SHAPE, 5);
        try (Loader loader = new Loader(ds, Transform.IDENTITY, LoaderOptions.batchSize(10).dropLast(true))) {
            assertEquals(2, loader.batchesPerEpoch());
            assertEquals(20, loader.samplesPerEpoch());
            List<Seen> batches = run(loader, 0, 0);
            assertEquals(2, batches.size());
            for (Seen s : batches) assertEquals(10, s.labels().length);
        }
    }

    @Test
    void ranksShareEachBatchAndTogetherSeeExactlyTheOneRankBatches() {
        // 103 samples, batch 10: the last batch has 3, which 3 ranks can still share (one each)
        Dataset ds = TestFiles.synthetic(103, SHAPE, 7);
        LoaderOptions opts = LoaderOptions.batchSize(10).shuffle(true).seed(3);
        try (Loader whole = new Loader(ds, AUGMENT, opts); Loader r0 = new Loader(ds, AUGMENT, opts.shard(0, 3));
             Loader r1 = new Loader(ds, AUGMENT, opts.shard(1, 3)); Loader r2 = new Loader(ds, AUGMENT, opts.shard(2, 3))) {
            assertEquals(11, r1.batchesPerEpoch());
            assertEquals(103, r0.samplesPerEpoch() + r1.samplesPerEpoch() + r2.samplesPerEpoch());
            List<Seen> all = run(whole, 1, 0), a = run(r0, 1, 0), b = run(r1, 1, 0), c = run(r2, 1, 0);
            int numel = SHAPE.numel();
            for (int k = 0; k < all.size(); k++) {
                // the parts, in rank order, are the one-rank batch: same samples, same augmented pixels, same labels
                int[] samples = concat(a.get(k).samples(), b.get(k).samples(), c.get(k).samples());
                assertArrayEquals(all.get(k).samples(), samples, "batch " + k);
                float[] px = new float[samples.length * numel];
                int at = 0;
                for (Seen s : List.of(a.get(k), b.get(k), c.get(k))) {
                    System.arraycopy(s.images(), 0, px, at, s.images().length);
                    at += s.images().length;
                    assertTrue(Math.abs(s.samples().length - all.get(k).samples().length / 3.0) < 1, "parts are nearly equal");
                }
                assertArrayEquals(all.get(k).images(), px, "batch " + k);
            }
        }
        // 101 samples: the last batch has 1 sample, fewer than 2 ranks, and is dropped for both
        Dataset odd = TestFiles.synthetic(101, SHAPE, 7);
        try (Loader r0 = new Loader(odd, Transform.IDENTITY, opts.shard(0, 2)); Loader r1 = new Loader(odd, Transform.IDENTITY, opts.shard(1, 2))) {
            assertEquals(10, r0.batchesPerEpoch());
            assertEquals(100, r0.samplesPerEpoch() + r1.samplesPerEpoch());
            for (Seen s : run(r1, 0, 0)) assertEquals(5, s.samples().length);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opts.shard(0, 11));
        assertTrue(e.getMessage().contains("cannot be shared by 11 ranks"), e.getMessage());
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void batchesDoNotDependOnTheNumberOfWorkers() {
        Dataset ds = TestFiles.synthetic(90, SHAPE, 10);
        LoaderOptions opts = LoaderOptions.batchSize(8).shuffle(true).seed(5);
        try (Loader one = new Loader(ds, AUGMENT, opts.workers(1).ringSize(2)); Loader four = new Loader(ds, AUGMENT, opts.workers(4))) {
            for (int epoch = 0; epoch < 2; epoch++) assertSameBatches(run(one, epoch, 0), run(four, epoch, 0));
        }
    }

    @Test
    void augmentationDiffersAcrossEpochs() {
        Dataset ds = TestFiles.synthetic(20, SHAPE, 2);
        try (Loader loader = new Loader(ds, AUGMENT, LoaderOptions.batchSize(20))) { // no shuffle: same order, new crops
            List<Seen> e0 = run(loader, 0, 0), e1 = run(loader, 1, 0);
            assertArrayEquals(e0.get(0).samples(), e1.get(0).samples());
            assertFalse(Arrays.equals(e0.get(0).images(), e1.get(0).images()));
        }
    }

    @Test
    void resumingMidEpochGivesTheSameBatches() {
        Dataset ds = TestFiles.synthetic(77, SHAPE, 7);
        LoaderOptions opts = LoaderOptions.batchSize(6).shuffle(true).seed(21).workers(3);
        List<Seen> uninterrupted;
        try (Loader loader = new Loader(ds, AUGMENT, opts)) {
            run(loader, 0, 0);
            uninterrupted = run(loader, 1, 0);
        }
        try (Loader resumed = new Loader(ds, AUGMENT, opts)) {
            // a "crash" after batch 4 of epoch 1 …
            Loader.Epoch partial = resumed.startEpoch(1);
            for (int i = 0; i < 5; i++) partial.next().release();
            // … and a resume from the checkpoint (epoch 1, next batch 5), in the same loader and a fresh one
            assertSameBatches(uninterrupted.subList(5, uninterrupted.size()), run(resumed, 1, 5));
        }
        try (Loader fresh = new Loader(ds, AUGMENT, opts.workers(1))) {
            assertSameBatches(uninterrupted.subList(5, uninterrupted.size()), run(fresh, 1, 5));
            assertTrue(run(fresh, 1, fresh.batchesPerEpoch()).isEmpty());
            assertThrows(IllegalArgumentException.class, () -> fresh.startEpoch(1, fresh.batchesPerEpoch() + 1));
        }
    }

    @Test
    void aBatchIsUnusableAfterRelease() {
        Dataset ds = TestFiles.synthetic(40, SHAPE, 4);
        try (Loader loader = new Loader(ds, Transform.IDENTITY, LoaderOptions.batchSize(4).ringSize(3))) {
            Loader.Epoch epoch = loader.startEpoch(0);
            Batch b = epoch.next();
            b.release();
            b.release(); // idempotent
            var e = assertThrows(IllegalStateException.class, b::images);
            assertTrue(e.getMessage().contains("used after release()"), e.getMessage());
            assertThrows(IllegalStateException.class, b::labels);
            // holding the whole ring and asking for more is reported, not a deadlock
            Batch x = epoch.next(), y = epoch.next(), z = epoch.next();
            var full = assertThrows(IllegalStateException.class, epoch::next);
            assertTrue(full.getMessage().contains("all 3 batches of the loader's ring are held"), full.getMessage());
            x.release();
            assertEquals(4, epoch.next().index());
            y.release();
            z.release();
        }
    }

    @Test
    void aWorkerFailureSurfacesInTheConsumerWithItsMessage() {
        Dataset ds = TestFiles.synthetic(30, SHAPE, 3);
        Transform failsOnSample17 = new Transform() {
            @Override
            public ImageShape outputShape(ImageShape in) {
                return in;
            }

            @Override
            public void apply(ImageBuffer image, Rng rng) {
                if (Math.round(image.data()[0] * 255) == 17) throw new IllegalArgumentException("sample 17 is cursed");
            }
        };
        try (Loader loader = new Loader(ds, failsOnSample17, LoaderOptions.batchSize(5).workers(2))) {
            Loader.Epoch epoch = loader.startEpoch(0);
            for (int i = 0; i < 3; i++) epoch.next().release(); // batches 0..2 hold samples 0..14
            var e = assertThrows(DataLoaderException.class, epoch::next);
            assertEquals("sample 17 is cursed", e.getMessage());
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertEquals(3, e.batch());
            assertEquals(0, e.epoch());
            // the loader is still usable: another epoch fails again at the same place
            List<Integer> indices = new ArrayList<>();
            var again = assertThrows(DataLoaderException.class, () -> {
                for (Batch b : loader.startEpoch(1)) {
                    try (b) { indices.add(b.index()); }
                }
            });
            assertEquals(List.of(0, 1, 2), indices);
            assertEquals("sample 17 is cursed", again.getMessage());
        }
    }

    @Test
    void aDamagedImageInALazyFolderNamesTheFile(@TempDir Path dir) throws Exception {
        for (int i = 0; i < 6; i++) TestFiles.writeImage(dir.resolve("c" + (i % 2) + "/img" + i + ".png"), TestFiles.rgb(8, 8, i), "png");
        Path bad = TestFiles.write(dir.resolve("c1/img9.png"), "garbage".getBytes());
        Dataset ds = ImageFolderReader.lazy(dir, 8, 8);
        try (Loader loader = new Loader(ds, Transform.IDENTITY, LoaderOptions.batchSize(2))) {
            var e = assertThrows(DataLoaderException.class, () -> {
                for (Batch b : loader.startEpoch(0)) b.release();
            });
            assertTrue(e.getMessage().startsWith(bad + ": cannot be decoded as an image"), e.getMessage());
            assertInstanceOf(DatasetFormatException.class, e.getCause());
        }
    }

    @Test
    void aNewEpochSupersedesTheOldOne() {
        Dataset ds = TestFiles.synthetic(40, SHAPE, 4);
        try (Loader loader = new Loader(ds, Transform.IDENTITY, LoaderOptions.batchSize(4))) {
            Loader.Epoch first = loader.startEpoch(0);
            Batch held = first.next();
            Loader.Epoch second = loader.startEpoch(1);
            assertThrows(IllegalStateException.class, first::next);
            assertEquals(4, held.images().dim(0)); // still valid until released
            held.release();
            int n = 0;
            for (Batch b : second) {
                b.release();
                n++;
            }
            assertEquals(10, n);
            assertThrows(IllegalStateException.class, second::iterator, "an Epoch iterates once");
        }
    }

    @Test
    void ringSurvivesTheCallersScopeAndCloseFreesIt() {
        Dataset ds = TestFiles.synthetic(16, SHAPE, 4);
        Loader loader;
        try (Scope s = Scope.open()) {
            loader = new Loader(ds, Transform.IDENTITY, LoaderOptions.batchSize(4));
        }
        Batch b = loader.startEpoch(0).next();
        Tensor images = b.images();
        assertEquals(4, images.dim(0));
        assertEquals(0, Math.round(images.getFlat(0) * 255));
        loader.close();
        loader.close(); // idempotent
        assertFalse(loader.workersAlive());
        assertThrows(IllegalStateException.class, () -> images.getFlat(0), "the ring is freed");
        assertThrows(IllegalStateException.class, () -> loader.startEpoch(1));
        b.release(); // harmless after close
    }
}
