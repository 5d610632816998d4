package org.stablekd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.data.Dataset;
import org.stablekd.data.Normalize;
import org.stablekd.data.Transform;
import org.stablekd.data.Compose;
import org.stablekd.data.RandomHorizontalFlip;
import org.stablekd.io.Safetensors;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.optim.LrSchedule;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.TestData;

class TrainerTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    /** conv(1→8) → BN → ReLU | global pool → linear(8→3). */
    static final class Tiny extends Model {
        final Conv2d conv1;
        final BatchNorm2d bn1;
        final Linear fc;

        Tiny(long seed) {
            this("tiny", seed);
        }

        Tiny(String name, long seed) {
            super(name, 3, Shape.of(1, 8, 8));
            Rng rng = new Rng(seed);
            conv1 = child("conv1", new Conv2d(1, 8, 3, 1, 1)).kaimingFanOut(rng);
            bn1 = child("bn1", new BatchNorm2d(8));
            fc = child("fc", new Linear(8, 3, true)).pytorchDefault(rng);
        }

        @Override public List<String> stageNames() { return List.of("features", "head"); }

        @Override
        public Tensor forwardStage(int i, Tensor x) {
            return i == 0 ? Pointwise.relu(bn1.forward(conv1.forward(x))) : fc.forward(Pool.globalAvgPool(x));
        }
    }

    static Dataset blobs(int n, long seed) {
        return TestData.bars(n, seed);
    }

    static final Transform TRAIN_TF = Compose.of(new RandomHorizontalFlip(0.5), new Normalize(new float[] {0.3f}, new float[] {0.3f}));
    static final Transform TEST_TF = new Normalize(new float[] {0.3f}, new float[] {0.3f});

    /** lr 0.2, ×0.1 at epoch 3 (so a resumed 4-epoch run crosses the milestone after resuming). */
    static Trainer.Options options(Path out, int epochs, boolean resume) {
        return new Trainer.Options(epochs, 16, new LrSchedule.MultiStep(0.2, 0.1, 3), 0.9, 5e-4, false, 7, out,
                resume, 1, 32, false, Map.of("test", "yes"));
    }

    @Test
    void learnsWritesMetricsAndCheckpoints(@TempDir Path dir) throws Exception {
        Trainer.Result r = new Trainer(options(dir, 5, false), QUIET).fit(new Supervised(new Tiny(1), 0), blobs(240, 1), TRAIN_TF, blobs(30, 2), TEST_TF);
        assertTrue(r.lastTop1() > 80, "learns the blobs: " + r.lastTop1() + " " + MetricsLog.read(dir.resolve("metrics.jsonl")));
        var recs = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(5, recs.size());
        assertEquals(5, ((Number) recs.get(4).get("epoch")).intValue());
        assertTrue(((Number) recs.get(4).get("train_loss")).doubleValue() < ((Number) recs.get(0).get("train_loss")).doubleValue());
        for (String f : List.of("checkpoint.safetensors", "weights.safetensors", "best.safetensors")) assertTrue(Files.exists(dir.resolve(f)), f);
        var weights = Safetensors.read(dir.resolve("weights.safetensors"));
        assertEquals(new Tiny(1).stateDict().keySet(), weights.tensors().keySet(), "weights are a plain state dict");
        assertEquals("tiny", weights.metadata().get("model"));
        assertEquals("5", Safetensors.metadata(dir.resolve("checkpoint.safetensors")).get("next_epoch"));
    }

    @Test
    void resumingAFinishedRunTrainsNothingAndReportsItsLastEpoch(@TempDir Path dir) throws Exception {
        Trainer.Result first = new Trainer(options(dir, 2, false), QUIET).fit(new Supervised(new Tiny(1), 0), blobs(64, 1), TRAIN_TF, blobs(30, 2), TEST_TF);
        var out = new java.io.ByteArrayOutputStream();
        Trainer.Result again = new Trainer(options(dir, 2, true), new PrintStream(out, true)).fit(new Supervised(new Tiny(1), 0), blobs(64, 1), TRAIN_TF,
                blobs(30, 2), TEST_TF);
        assertEquals(first.lastTop1(), again.lastTop1());
        assertEquals(first.bestEpoch(), again.bestEpoch());
        assertTrue(out.toString().contains("already finished its 2 epochs"), out.toString());
        assertEquals(2, MetricsLog.read(dir.resolve("metrics.jsonl")).size());
    }

    @Test
    void aValidationSetIsEvaluatedEveryEpochAndChoosesTheBestWeights(@TempDir Path dir) throws Exception {
        Dataset val = blobs(40, 3);
        Trainer.Result r = new Trainer(options(dir, 3, false), QUIET).fit(new Supervised(new Tiny(1), 0), blobs(120, 1), TRAIN_TF,
                blobs(30, 2), TEST_TF, val, null);
        List<Map<String, Object>> recs = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(3, recs.size());
        double bestVal = -1;
        int bestEpoch = -1;
        for (Map<String, Object> rec : recs) {
            double v = ((Number) rec.get("val_top1")).doubleValue();
            assertTrue(v >= 0 && v <= 100, "val_top1 " + v);
            assertTrue(rec.containsKey("val_loss") && rec.containsKey("test_top1"));
            if (v > bestVal) {
                bestVal = v;
                bestEpoch = ((Number) rec.get("epoch")).intValue();
            }
        }
        assertEquals(bestVal, r.bestTop1(), "best is judged on validation");
        assertEquals(bestEpoch, r.bestEpoch());
        assertEquals("validation", Safetensors.metadata(dir.resolve("checkpoint.safetensors")).get("best_on"));
    }

    @Test
    void aResumedRunIsBitIdenticalToAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        new Trainer(options(a, 4, false), QUIET).fit(new Supervised(new Tiny(3), 0), blobs(64, 1), TRAIN_TF, blobs(30, 2), TEST_TF);
        new Trainer(options(b, 2, false), QUIET).fit(new Supervised(new Tiny(3), 0), blobs(64, 1), TRAIN_TF, blobs(30, 2), TEST_TF);
        // "killed" after epoch 2; resume with the full epoch count (the schedule's milestone 3 is crossed after resuming)
        new Trainer(options(b, 4, true), QUIET).fit(new Supervised(new Tiny(3), 0), blobs(64, 1), TRAIN_TF, blobs(30, 2), TEST_TF);
        var wa = Safetensors.read(a.resolve("checkpoint.safetensors")).tensors();
        var wb = Safetensors.read(b.resolve("checkpoint.safetensors")).tensors();
        assertEquals(wa.keySet(), wb.keySet());
        for (String k : wa.keySet()) Close.assertBitIdentical(wa.get(k).toFloatArray(), wb.get(k).toFloatArray(), k);
        assertEquals(4, MetricsLog.read(b.resolve("metrics.jsonl")).size());
    }

    @Test
    void aNanLossStopsWithTheStepAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Tiny model = new Tiny(5);
        TrainingMethod poisoned = new TrainingMethod() {
            public String name() { return "poisoned"; }
            public Model model() { return model; }
            public Map<String, Module> trainable() { return Map.of("model", model); }
            public Step step(Tensor images, Tensor labels, int epoch, long step) {
                Tensor logits = model.forward(images);
                Tensor ce = Losses.crossEntropy(logits, labels);
                return new Step(logits, Map.of("ce", epoch == 1 && step % 4 == 2 ? Pointwise.scale(ce, Double.MAX_VALUE) : ce));
            }
        };
        var e = assertThrows(TrainingDivergedException.class,
                () -> new Trainer(options(dir, 3, false), QUIET).fit(poisoned, blobs(64, 1), TRAIN_TF, blobs(30, 2), TEST_TF));
        assertTrue(e.getMessage().contains("epoch 2, step 3 of 4"), e.getMessage());
        assertTrue(e.getMessage().contains("checkpoint.safetensors"), e.getMessage());
        assertEquals("1", Safetensors.metadata(dir.resolve("checkpoint.safetensors")).get("next_epoch"));
    }

    @Test
    void resumingTheWrongModelSaysSo(@TempDir Path dir) throws Exception {
        new Trainer(options(dir, 1, false), QUIET).fit(new Supervised(new Tiny(1), 0), blobs(32, 1), TRAIN_TF, blobs(9, 2), TEST_TF);
        Model other = new Tiny("other", 1);
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(options(dir, 2, true), QUIET).fit(new Supervised(other, 0), blobs(32, 1), TRAIN_TF, blobs(9, 2), TEST_TF));
        assertTrue(e.getMessage().contains("is a checkpoint of tiny, not other"), e.getMessage());
    }
}
