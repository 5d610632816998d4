package org.stablekd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.backend.sim.SimBackend;
import org.stablekd.backend.sim.SimTransfers;
import org.stablekd.data.Dataset;
import org.stablekd.data.ImageShape;
import org.stablekd.data.InMemoryImages;
import org.stablekd.data.Normalize;
import org.stablekd.distill.AT;
import org.stablekd.distill.DKD;
import org.stablekd.distill.FitNets;
import org.stablekd.distill.KD;
import org.stablekd.distill.Plan;
import org.stablekd.distill.StableKD;
import org.stablekd.io.Safetensors;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.optim.LrSchedule;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;

/**
 * Placement on a device, tested on the simulated one (Device.SIM: host memory that host code
 * cannot read, every transfer counted, the CPU kernels): a step of CE, KD and StableKD through
 * the real Trainer copies the batch up and its numbers (losses, hits) down in one copy and nothing else, and a run on
 * the device gives the host run's weights bit for bit (same kernels), resumed or not.
 */
class DevicePlacementTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    static final Shape INPUT = Shape.of(1, 32, 32);
    static final int BATCH = 8, IMAGES = 32;

    /** n seeded noise images of 3 classes (the zoo's ResNets need 32×32; what they learn does not matter here). */
    static Dataset noise(int n, long seed) {
        Rng rng = new Rng(seed);
        InMemoryImages imgs = new InMemoryImages(n, new ImageShape(1, 32, 32));
        int[] labels = new int[n];
        byte[] img = new byte[32 * 32];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
            for (int p = 0; p < img.length; p++) img[p] = (byte) (rng.nextInt(60) + 60 * labels[i]);
            imgs.write(i, img, 0);
        }
        return new Dataset("noise", imgs, labels, Dataset.numberedClasses(3));
    }

    static Model zoo(String name, long seed) {
        return Zoo.create(name, 3, INPUT, new Rng(seed));
    }

    static Trainer.Options options(Path out, int epochs, boolean resume) {
        return new Trainer.Options(epochs, BATCH, new LrSchedule.MultiStep(0.1, 0.1, 1), 0.9, 5e-4, false, 7, out,
                resume, 1, 16, false, Map.of());
    }

    static Trainer.Result fit(TrainingMethod m, Device device, Path out, int epochs, boolean resume) throws Exception {
        Dataset data = noise(IMAGES, 3);
        Normalize tf = new Normalize(new float[] {0.3f}, new float[] {0.3f});
        return new Trainer(options(out, epochs, resume), QUIET).on(device).fit(m, data, tf, noise(16, 4), tf);
    }

    /** Records the transfer counters as each step starts, so consecutive readings bracket exactly one loop iteration. */
    static final class Counting implements TrainingMethod {
        final TrainingMethod inner;
        final List<SimTransfers.Counts> atStep = new ArrayList<>();
        final List<Integer> lossParts = new ArrayList<>();

        Counting(TrainingMethod inner) { this.inner = inner; }

        @Override public String name() { return inner.name(); }
        @Override public Model model() { return inner.model(); }
        @Override public Map<String, Module> trainable() { return inner.trainable(); }
        @Override public void to(Device device) { inner.to(device); }
        @Override public void startEpoch(int epoch) { inner.startEpoch(epoch); }
        @Override public double learningRate(LrSchedule s, int epoch, double f) { return inner.learningRate(s, epoch, f); }
        @Override public Map<String, Object> epochInfo(int epoch) { return inner.epochInfo(epoch); }
        @Override public Collection<Module> frozen(int epoch) { return inner.frozen(epoch); }
        @Override public boolean resetsMomentum(int epoch) { return inner.resetsMomentum(epoch); }
        @Override public int bnRecalibrationBatches(int epoch) { return inner.bnRecalibrationBatches(epoch); }
        @Override public String trainAccuracyKey(int epoch) { return inner.trainAccuracyKey(epoch); }
        @Override public Map<String, String> checkpointMetadata() { return inner.checkpointMetadata(); }

        @Override
        public Step step(Tensor images, Tensor labels, int epoch, long step) {
            atStep.add(SimBackend.counts());
            assertEquals(Device.SIM, images.device(), "the batch arrives on the device");
            Step s = inner.step(images, labels, epoch, step);
            lossParts.add(s.losses().size());
            return s;
        }
    }

    /**
     * Between two steps: this step's two batch uploads (images, labels) and one download of its
     * numbers (the total loss, the top-1 hits, and each loss part when there are several), nothing else.
     */
    static void assertOnlyBatchAndLossCopies(Counting c, String what) {
        long batchBytes = (long) BATCH * INPUT.numel() * 4 + BATCH * 4;
        assertTrue(c.atStep.size() >= 3, what + ": too few steps");
        for (int i = 1; i < c.atStep.size(); i++) {
            SimTransfers.Counts d = c.atStep.get(i).minus(c.atStep.get(i - 1));
            int parts = c.lossParts.get(i - 1);
            long numbers = 2 + (parts > 1 ? parts : 0);
            String where = what + ", step " + i + ": " + d;
            assertEquals(2, d.batchUploads(), where);
            assertEquals(0, d.uploads(), where + " (a stray upload)");
            assertEquals(batchBytes, d.uploadBytes(), where);
            assertEquals(1, d.downloads(), where + " (a stray download)");
            assertEquals(numbers * 4, d.downloadBytes(), where);
        }
    }

    @Test
    void aCeStepCopiesOnlyTheBatchAndTheLoss(@TempDir Path dir) throws Exception {
        Counting c = new Counting(new Supervised(zoo("resnet8", 1), 0));
        fit(c, Device.SIM, dir, 1, false);
        assertEquals(IMAGES / BATCH, c.atStep.size());
        assertOnlyBatchAndLossCopies(c, "ce");
        assertEquals(Device.SIM, c.model().device());
    }

    /** The check itself: a step that also reads its logits on the host fails it. */
    @Test
    void aStrayDownloadFailsTheCheck(@TempDir Path dir) throws Exception {
        Supervised ce = new Supervised(zoo("resnet8", 1), 0);
        TrainingMethod stray = new TrainingMethod() {
            @Override public String name() { return "ce"; }
            @Override public Model model() { return ce.model(); }
            @Override public Map<String, Module> trainable() { return ce.trainable(); }

            @Override
            public Step step(Tensor images, Tensor labels, int epoch, long step) {
                Step s = ce.step(images, labels, epoch, step);
                org.stablekd.backend.Transfers.toHost(s.logits());   // e.g. accuracy counted on the host
                return s;
            }
        };
        Counting c = new Counting(stray);
        fit(c, Device.SIM, dir, 1, false);
        var e = assertThrows(org.opentest4j.AssertionFailedError.class, () -> assertOnlyBatchAndLossCopies(c, "stray"));
        assertTrue(e.getMessage().contains("a stray download"), e.getMessage());
        // and reading device memory on the host without a transfer does not even run
        assertThrows(IllegalStateException.class, () -> Accuracy.topk(org.stablekd.backend.Transfers.to(Tensor.of(new float[] {1, 2}, 1, 2), Device.SIM),
                Tensor.ofInts(new int[] {1}, 1), 1));
    }

    @Test
    void aKdStepCopiesOnlyTheBatchAndTheLoss(@TempDir Path dir) throws Exception {
        Counting c = new Counting(new KD(zoo("resnet14", 2), zoo("resnet8", 1), 0.1, 0.9, 4));
        Trainer.Result r = fit(c, Device.SIM, dir, 1, false);
        assertOnlyBatchAndLossCopies(c, "kd");
        assertTrue(Double.isFinite(r.lastTop1()));
    }

    @Test
    void aStableKdStepCopiesOnlyTheBatchAndTheLoss(@TempDir Path dir) throws Exception {
        Model t = zoo("resnet14", 2), s = zoo("resnet8", 1);
        Counting c = new Counting(new StableKD(t, s, Plan.defaults(4, 4, 3), null, new Rng(5), QUIET));
        fit(c, Device.SIM, dir, 1, false);
        assertTrue(c.lossParts.getFirst() > 2, "decomposition trains several groups");
        assertOnlyBatchAndLossCopies(c, "stablekd");
    }

    /** The same kernels run behind the device boundary, so the weights match the host run's bit for bit. */
    @Test
    void aRunOnTheDeviceGivesTheHostRunsWeights(@TempDir Path dir) throws Exception {
        Supplier<TrainingMethod> kd = () -> new KD(zoo("resnet14", 2), zoo("resnet8", 1), 0.1, 0.9, 4);
        Trainer.Result host = fit(kd.get(), Device.CPU, dir.resolve("host"), 2, false);
        Trainer.Result sim = fit(kd.get(), Device.SIM, dir.resolve("sim"), 2, false);
        assertEquals(host.lastTop1(), sim.lastTop1());
        assertSameTensors(dir.resolve("host/checkpoint.safetensors"), dir.resolve("sim/checkpoint.safetensors"));
        // resumed on the device from its own checkpoint: the uninterrupted run's weights
        fit(kd.get(), Device.SIM, dir.resolve("resumed"), 1, false);
        fit(kd.get(), Device.SIM, dir.resolve("resumed"), 2, true);
        assertSameTensors(dir.resolve("host/checkpoint.safetensors"), dir.resolve("resumed/checkpoint.safetensors"));
    }

    /** The other methods: DKD, FitNets (with its regressor), AT; each step copies the batch and its losses only. */
    @Test
    void dkdFitNetsAndAtStepsCopyOnlyTheBatchAndTheLoss(@TempDir Path dir) throws Exception {
        List<TrainingMethod> methods = List.of(new DKD(zoo("resnet14", 2), zoo("resnet8", 1)),
                new FitNets(zoo("resnet14", 2), zoo("resnet8", 1), 2, 2, 100, new Rng(4)),
                new AT(zoo("resnet14", 2), zoo("resnet8", 1)));
        for (TrainingMethod m : methods) {
            Counting c = new Counting(m);
            fit(c, Device.SIM, dir.resolve(m.name()), 1, false);
            assertOnlyBatchAndLossCopies(c, m.name());
        }
    }

    /** normalized_mse scales each inner loss by 1/Var(teacher feature): one more scalar per inner group comes back. */
    @Test
    void normalizedMseDownloadsOneVariancePerInnerGroup(@TempDir Path dir) throws Exception {
        Plan base = Plan.defaults(4, 4, 3);
        Plan p = base.withPolicies(base.policies().withInnerLoss(org.stablekd.distill.Policies.InnerLoss.NORMALIZED_MSE));
        Supplier<StableKD> skd = () -> new StableKD(zoo("resnet14", 2), zoo("resnet8", 1), p, null, new Rng(5), QUIET);
        Counting c = new Counting(skd.get());
        fit(c, Device.SIM, dir.resolve("sim"), 1, false);
        int inner = 3;   // decomposition: four groups, three of them inner
        for (int i = 1; i < c.atStep.size(); i++) {
            SimTransfers.Counts d = c.atStep.get(i).minus(c.atStep.get(i - 1));
            assertEquals(1 + inner, d.downloads(), "step " + i + ": " + d);
            assertEquals(0, d.uploads(), "step " + i + ": " + d);
        }
        fit(skd.get(), Device.CPU, dir.resolve("host"), 1, false);
        assertSameTensors(dir.resolve("host/checkpoint.safetensors"), dir.resolve("sim/checkpoint.safetensors"));
    }

    /** compare shares one teacher model between runs: the next method folds it on the host and it goes back to the device. */
    @Test
    void aTeacherSharedByTwoRunsMovesBetweenThem(@TempDir Path dir) throws Exception {
        Model teacher = zoo("resnet14", 2);
        fit(new KD(teacher, zoo("resnet8", 1), 0.1, 0.9, 4), Device.SIM, dir.resolve("kd"), 1, false);
        assertEquals(Device.SIM, teacher.device());
        Trainer.Result r = fit(new StableKD(teacher, zoo("resnet8", 1), Plan.defaults(4, 4, 3), null, new Rng(5), QUIET),
                Device.SIM, dir.resolve("stablekd"), 1, false);
        assertTrue(Double.isFinite(r.lastTop1()));
        assertEquals(Device.SIM, teacher.device());
    }

    static void assertSameTensors(Path expected, Path actual) throws Exception {
        var e = Safetensors.read(expected).tensors();
        var a = Safetensors.read(actual).tensors();
        assertEquals(e.keySet(), a.keySet());
        for (String k : e.keySet()) {
            if (!e.get(k).dtype().floating) {
                assertEquals(e.get(k).getFlat(0), a.get(k).getFlat(0), k);
                continue;
            }
            Close.assertBitIdentical(e.get(k).toFloatArray(), a.get(k).toFloatArray(), k);
        }
    }

    @Test
    void theIboeDiagnosticAndHostAugmentationsSayTheyNeedTheCpu(@TempDir Path dir) {
        Dataset data = noise(IMAGES, 3);
        Normalize tf = new Normalize(new float[] {0.3f}, new float[] {0.3f});
        var iboe = assertThrows(IllegalArgumentException.class, () -> new Trainer(options(dir, 1, false), QUIET).on(Device.SIM)
                .fit(new Supervised(zoo("resnet8", 1), 0), data, tf, data, tf, slab -> null));
        assertTrue(iboe.getMessage().contains("--device cpu"), iboe.getMessage());
        var aug = assertThrows(IllegalArgumentException.class, () -> new KD(zoo("resnet14", 2), zoo("resnet8", 1), 0.1, 0.9, 4,
                org.stablekd.distill.augment.BatchAugment.parse("mixup"), 0).to(Device.SIM));
        assertTrue(aug.getMessage().contains("--device cpu"), aug.getMessage());
    }
}
