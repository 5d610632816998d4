package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.autograd.Autograd;
import org.stablekd.data.Batch;
import org.stablekd.data.Loader;
import org.stablekd.data.LoaderOptions;
import org.stablekd.data.Normalize;
import org.stablekd.io.Safetensors;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.ModuleGroup;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Norm;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.LrSchedule;
import org.stablekd.optim.Sgd;
import org.stablekd.report.RunMetrics;
import org.stablekd.report.RunRef;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.TestData;
import org.stablekd.testing.Tolerance;
import org.stablekd.train.BatchNormRecalibration;
import org.stablekd.train.MetricsLog;
import org.stablekd.train.Trainer;
import org.stablekd.train.TrainingMethod;

/** StableKD's stage policies (Policies; NOTES.md, Note [StableKD]): each choice, its default, and what it does. */
class StableKDPoliciesTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    static final Normalize NORM = new Normalize(new float[] {0.3f}, new float[] {0.3f});
    static final int[] CUTS = {0, 1, 2, 3, 4};
    static final Tensor LABELS = Tensor.ofInts(new int[] {0, 1, 2, 3, 4, 0}, 6);   // made when the class loads, outside any Scope

    static Tensor images(long seed) {
        return Tensor.randn(new Rng(seed), DType.F32, 1, 6, 1, 8, 8);
    }

    static Plan plan(Policies p, boolean connectors) {
        return new Plan(CUTS, CUTS, new int[] {1, 1, 1}, 2, 1.0, 0.1, 0.9, 4.0, false, connectors, p);
    }

    /** A 3-epoch run (one per stage) of teacher ToyNet(width) → student ToyNet(4) on bars. */
    static StableKD method(int teacherWidth, Plan plan) {
        return new StableKD(new ToyNet("t", teacherWidth, 1), new ToyNet("s", 4, 2), plan, null, new Rng(3), QUIET);
    }

    static void train(Path out, TrainingMethod m, int epochs, boolean resume) throws Exception {
        Trainer.Options o = new Trainer.Options(epochs, 16, new LrSchedule.Constant(0.1), 0.9, 5e-4, false, 7, out, resume, 1, 32, false, Map.of());
        new Trainer(o, QUIET).fit(m, TestData.bars(48, 1), NORM, TestData.bars(12, 2), NORM);
    }

    static Map<String, Tensor> checkpoint(Path run) throws Exception {
        return Safetensors.read(run.resolve("checkpoint.safetensors")).tensors();
    }

    // ---------------------------------------------------------------- 1. BatchNorm statistics

    /**
     * After recalibration on n batches, every BatchNorm's running mean/variance is the average over
     * those batches of the batch mean/unbiased variance of its input in the student's own train-mode
     * forward (computed here directly, layer by layer); weights and gradients are untouched.
     */
    @Test
    void recalibrationGivesTheStudentsOwnStatisticsAndLeavesWeightsAlone() {
        ToyNet student = new ToyNet("s", 4, 2);
        for (BatchNorm2d bn : student.bns) {   // as if learned on someone else's features
            bn.runningMean().value().fill(3);
            bn.runningVar().value().fill(5);
        }
        Map<String, float[]> weights = new LinkedHashMap<>();
        student.namedParameters().forEach((k, p) -> weights.put(k, p.value().toFloatArray()));
        student.eval();
        int n = 2;   // of the loader's 3 batches
        try (Loader loader = new Loader(TestData.bars(48, 1), NORM, LoaderOptions.batchSize(16).shuffle(false).workers(1))) {
            var r = BatchNormRecalibration.run(student, loader.startEpoch(0), n);
            assertEquals(n, r.batches());
            assertEquals(32, r.images());
            assertFalse(student.isTraining(), "the model's mode is restored");

            double[][] meanSum = new double[3][], varSum = new double[3][];
            int seen = 0;
            for (Batch b : loader.startEpoch(0)) {
                try (b; Scope s = Scope.open(); Restore ng = Autograd.noGrad()) {
                    Tensor h = b.images();
                    for (int i = 0; i < 3; i++) {
                        Tensor c = student.convs.get(i).forward(h);
                        double[][] mv = channelMeanAndUnbiasedVar(c);
                        if (meanSum[i] == null) {
                            meanSum[i] = new double[mv[0].length];
                            varSum[i] = new double[mv[0].length];
                        }
                        for (int ch = 0; ch < mv[0].length; ch++) {
                            meanSum[i][ch] += mv[0][ch];
                            varSum[i][ch] += mv[1][ch];
                        }
                        BatchNorm2d bn = student.bns.get(i);
                        Tensor scratchMean = Tensor.zeros(DType.F32, bn.channels), scratchVar = Tensor.full(DType.F32, 1, bn.channels);
                        h = Pointwise.relu(Norm.batchNorm(c, bn.weight().value(), bn.bias().value(), scratchMean, scratchVar, true,
                                Norm.DEFAULT_MOMENTUM, Norm.DEFAULT_EPS));
                    }
                }
                if (++seen == n) break;
            }
            for (int i = 0; i < 3; i++) {
                BatchNorm2d bn = student.bns.get(i);
                double[] mean = meanSum[i].clone(), var = varSum[i].clone();
                for (int ch = 0; ch < mean.length; ch++) {
                    mean[ch] /= n;
                    var[ch] /= n;
                }
                Close.assertClose(bn.runningMean().value().toDoubleArray(), mean, new Tolerance(1e-5, 1e-4), "bn" + i + " running mean");
                Close.assertClose(bn.runningVar().value().toDoubleArray(), var, new Tolerance(1e-5, 1e-4), "bn" + i + " running variance");
                assertEquals(n, (int) bn.batchesTracked().value().getFlat(0), "bn" + i + " batches tracked since the reset");
            }
        }
        student.namedParameters().forEach((k, p) -> {
            Close.assertBitIdentical(weights.get(k), p.value().toFloatArray(), k + " untouched");
            assertTrue(p.grad() == null || allZero(p.grad().toFloatArray()), k + " got no gradient");
        });
    }

    /** Per channel of (N,C,H,W): the mean and the unbiased variance, in double. */
    static double[][] channelMeanAndUnbiasedVar(Tensor x) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        float[] v = x.toFloatArray();
        double[] mean = new double[c], var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (int i = 0; i < n; i++) for (int k = 0; k < hw; k++) s += v[(i * c + ch) * hw + k];
            mean[ch] = s / (n * hw);
            double q = 0;
            for (int i = 0; i < n; i++) for (int k = 0; k < hw; k++) q += Math.pow(v[(i * c + ch) * hw + k] - mean[ch], 2);
            var[ch] = q / (n * hw - 1);
        }
        return new double[][] {mean, var};
    }

    static boolean allZero(float[] v) {
        for (float f : v) if (f != 0) return false;
        return true;
    }

    /**
     * With bn_recalibrate_batches, the teacher-fed epochs evaluate with recalibrated statistics and
     * also report the as-trained ones; the end-to-end stage is plain KD (running statistics). The
     * training accuracy is named for what it measures (items 1 and 2), and reports still read the run.
     */
    @Test
    void metricsSayWhichStatisticsAndWhichAccuracy(@TempDir Path dir) throws Exception {
        train(dir, method(4, plan(Policies.DEFAULTS.withBnRecalibrateBatches(2), false)), 3, false);
        List<Map<String, Object>> recs = MetricsLog.read(dir.resolve("metrics.jsonl"));
        for (int e = 0; e < 2; e++) {
            Map<String, Object> r = recs.get(e);
            assertEquals("recalibrated", r.get("bn_stats"), "epoch " + (e + 1));
            assertEquals(2, r.get("bn_recalibration_batches"));
            for (String k : List.of("test_top1_running_bn", "test_loss_running_bn", "train_top1_end_to_end", "train_top1_last_group_on_teacher_features")) {
                assertTrue(r.get(k) instanceof Number, "epoch " + (e + 1) + " has " + k + ": " + r);
            }
            assertFalse(r.containsKey("train_top1"), "decomposition does not claim the student's train accuracy: " + r);
        }
        Map<String, Object> last = recs.get(2);
        assertEquals("running", last.get("bn_stats"));
        assertTrue(last.get("train_top1") instanceof Number && !last.containsKey("test_top1_running_bn"), last.toString());
        RunMetrics rm = RunMetrics.load(new RunRef("s", dir));
        assertTrue(rm.lossTerms().stream().noneMatch(t -> t.startsWith("top")), "accuracies are not loss terms: " + rm.lossTerms());
        assertTrue(rm.lossTerms().contains("b1.mse"), rm.lossTerms().toString());
    }

    /** The recalibrated statistics are what the checkpoint holds, so a run resumed after a recalibrated epoch equals an uninterrupted one. */
    @Test
    void aResumedRunWithRecalibrationMatchesAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Plan p = plan(Policies.DEFAULTS.withBnRecalibrateBatches(2), false);
        Path a = dir.resolve("a"), b = dir.resolve("b");
        train(a, method(4, p), 3, false);
        train(b, method(4, p), 1, false);
        train(b, method(4, p), 3, true);
        var wa = checkpoint(a);
        var wb = checkpoint(b);
        assertEquals(wa.keySet(), wb.keySet());
        for (String k : wa.keySet()) assertArrayEquals(wa.get(k).toDoubleArray(), wb.get(k).toDoubleArray(), 0, k);
    }

    // ---------------------------------------------------------------- 3. optimizer state at a stage change

    /**
     * Retired connectors (default: freeze) keep the weights of the last epoch that used them, bit for
     * bit; with retired_connectors: train, weight decay and momentum keep moving them. The student
     * is the same either way: no group reads a retired connector.
     */
    @Test
    void retiredConnectorsStayBitIdenticalAndTheStudentDoesNotNotice(@TempDir Path dir) throws Exception {
        Path one = dir.resolve("one"), frozen = dir.resolve("frozen"), trained = dir.resolve("trained");
        train(one, method(8, plan(Policies.DEFAULTS, true)), 1, false);
        train(frozen, method(8, plan(Policies.DEFAULTS, true)), 3, false);
        train(trained, method(8, plan(Policies.DEFAULTS.withRetiredConnectors(Policies.RetiredConnectors.TRAIN), true)), 3, false);
        var a = checkpoint(one);
        var f = checkpoint(frozen);
        var t = checkpoint(trained);
        // stage 2 {b1-2, b3-4} retires cuts 1 and 3; stage 3 {b1-4} also cut 2
        for (String k : List.of("connector.in.1.conv.weight", "connector.out.3.bn.bias")) {
            assertArrayEquals(a.get(k).toFloatArray(), f.get(k).toFloatArray(), 0f, k + " frozen since epoch 1");
            assertFalse(java.util.Arrays.equals(a.get(k).toFloatArray(), t.get(k).toFloatArray()), k + " still moves when trained");
        }
        for (String k : f.keySet()) {
            if (k.startsWith("model.")) assertArrayEquals(f.get(k).toFloatArray(), t.get(k).toFloatArray(), 0f, k + ": the student does not depend on it");
        }
    }

    @Test
    void momentumResetsExactlyWhenAStageAfterTheFirstStarts(@TempDir Path dir) throws Exception {
        StableKD reset = method(4, new Plan(CUTS, CUTS, new int[] {2, 1, 2}, 2, 1, 0.1, 0.9, 4, false, false,
                Policies.DEFAULTS.withMomentumAtMerge(Policies.MomentumAtMerge.RESET)));
        List<Integer> at = new ArrayList<>();
        for (int e = 0; e < 5; e++) if (reset.resetsMomentum(e)) at.add(e);
        assertEquals(List.of(2, 3), at, "the first epochs of stages 2 and 3");
        StableKD keep = method(4, new Plan(CUTS, CUTS, new int[] {2, 1, 2}, 2, 1, 0.1, 0.9, 4, false, false));
        for (int e = 0; e < 5; e++) assertFalse(keep.resetsMomentum(e), "keep is the default");

        // the trainer acts on it: the same first epoch, different momentum after the second
        Path k = dir.resolve("keep"), r = dir.resolve("reset"), r1 = dir.resolve("reset1");
        train(k, method(4, plan(Policies.DEFAULTS, false)), 2, false);
        train(r, method(4, plan(Policies.DEFAULTS.withMomentumAtMerge(Policies.MomentumAtMerge.RESET), false)), 2, false);
        assertFalse(java.util.Arrays.equals(checkpoint(k).get("optim.momentum").toFloatArray(), checkpoint(r).get("optim.momentum").toFloatArray()));
        // and a run resumed at the merge resets there too
        train(r1, method(4, plan(Policies.DEFAULTS.withMomentumAtMerge(Policies.MomentumAtMerge.RESET), false)), 1, false);
        train(r1, method(4, plan(Policies.DEFAULTS.withMomentumAtMerge(Policies.MomentumAtMerge.RESET), false)), 2, true);
        assertArrayEquals(checkpoint(r).get("optim.momentum").toFloatArray(), checkpoint(r1).get("optim.momentum").toFloatArray(), 0f);
    }

    // ---------------------------------------------------------------- 4. the inner loss's scale

    /** normalized_mse = innerWeight · mean((s − t)²) / (Var(t) + 1e-8), by hand in double, for every inner group. */
    @Test
    void normalizedInnerLossIsTheMseOverTheTeachersVariance() {
        for (Policies.InnerLoss kind : Policies.InnerLoss.values()) {
            ToyNet student = new ToyNet("s", 4, 2), twin = new ToyNet("s", 4, 2);
            Plan p = new Plan(CUTS, CUTS, new int[] {1, 1, 1}, 2, 0.5, 0.1, 0.9, 4, false, false, Policies.DEFAULTS.withInnerLoss(kind));
            StableKD m = new StableKD(new ToyNet("t", 4, 1), student, p, null, new Rng(3), QUIET);
            try (Scope sc = Scope.open()) {
                Tensor x = images(8);
                var step = m.step(x, LABELS, 0, 0);
                List<Tensor> h = new Teacher(new ToyNet("t", 4, 1)).features(x, new int[] {1, 2, 3, 4});
                for (int b = 0; b < 3; b++) {
                    float[] s = twin.forwardStage(b, b == 0 ? x : h.get(b - 1)).toFloatArray(), t = h.get(b).toFloatArray();
                    double se = 0, mean = 0, var = 0;
                    for (int i = 0; i < t.length; i++) {
                        se += Math.pow(s[i] - t[i], 2);
                        mean += t[i];
                    }
                    mean /= t.length;
                    for (float v : t) var += (v - mean) * (v - mean);
                    var /= t.length;
                    double mse = se / t.length;
                    double expected = 0.5 * (kind == Policies.InnerLoss.MSE ? mse : mse / (var + 1e-8));
                    String key = "b" + (b + 1) + (kind == Policies.InnerLoss.MSE ? ".mse" : ".nmse");
                    assertEquals(expected, step.losses().get(key).item(), 1e-5 * expected, key);
                }
            }
        }
    }

    // ---------------------------------------------------------------- 5. connectors

    /** A cut whose maps differ in height and width cannot get connectors both ways: validate says so, before anything is built. */
    @Test
    void validateRejectsSpatialMismatchesThatConnectorsCannotBridge() {
        TinyNet teacher = new TinyNet("t", 4, 8, 2, true, 1), student = new TinyNet("s", 4, 8, 1, true, 2);
        Plan p = new Plan(new int[] {0, 1, 2, 3}, new int[] {0, 1, 2, 3}, new int[] {1, 1, 1}, 2, 1, 0.1, 0.9, 4, false, true);
        var e = assertThrows(IllegalArgumentException.class, () -> new StableKD(teacher, student, p, null, new Rng(3), QUIET));
        assertTrue(e.getMessage().contains("block 2 of s ends with (8,8,8) but block 2 of t ends with (8,4,4); connectors bridge channel counts only"),
                e.getMessage());
    }

    /**
     * One full training step with connectors (teacher twice as wide): every student and connector
     * parameter gets a gradient and moves; with connector_relu the blocks fed through an input
     * connector get non-negative input, without it signed input.
     */
    @Test
    void aFullTrainingStepWithConnectors() {
        for (boolean relu : new boolean[] {false, true}) {
            ToyNet student = new ToyNet("s", 4, 2);
            StableKD m = new StableKD(new ToyNet("t", 8, 1), student, plan(Policies.DEFAULTS.withConnectorRelu(relu), true), null, new Rng(3), QUIET);
            ParameterSlab slab = ParameterSlab.pack(new ModuleGroup(m.trainable()));
            Sgd sgd = new Sgd(slab, 0.9, 5e-4, false);
            float[] before = slab.values().toFloatArray();
            student.recording = true;
            m.startEpoch(0);
            try (Scope sc = Scope.open()) {
                TrainingMethod.Step step = m.step(images(9), LABELS, 0, 0);
                Tensor total = null;
                for (Tensor l : step.losses().values()) total = total == null ? l : Pointwise.add(total, l);
                assertTrue(Double.isFinite(total.item()));
                Autograd.backward(total);
                for (var e : slab.entries()) {
                    assertFalse(allZero(e.parameter().grad().toFloatArray()), e.name() + " gets a gradient");
                }
                sgd.step(0.1);
                float min = Float.MAX_VALUE;
                for (int b = 1; b < 4; b++) for (float v : student.inputs.get(b).get(0).toFloatArray()) min = Math.min(min, v);
                if (relu) assertTrue(min >= 0, "connector_relu: non-negative block inputs, min " + min);
                else assertTrue(min < 0, "without it the connector's BatchNorm output is signed, min " + min);
            }
            float[] after = slab.values().toFloatArray();
            for (var e : slab.entries()) {
                boolean moved = false;
                for (long i = e.offset(); i < e.offset() + e.numel(); i++) moved |= before[(int) i] != after[(int) i];
                assertTrue(moved, e.name() + " moves");
            }
        }
    }

    // ---------------------------------------------------------------- the experiment-file keys

    @Test
    void planKeysAreReadAndBadValuesGetOneSentence() throws Exception {
        ToyNet t = new ToyNet("t", 4, 1), s = new ToyNet("s", 4, 2);
        Plan p = Methods.plan(spec("{\"bn_recalibrate_batches\": 200, \"momentum_at_merge\": \"reset\", \"retired_connectors\": \"train\","
                + " \"inner_loss\": \"normalized_mse\", \"connector_relu\": true}"), t, s, 3);
        assertEquals(new Policies(200, Policies.MomentumAtMerge.RESET, Policies.RetiredConnectors.TRAIN, Policies.InnerLoss.NORMALIZED_MSE, true), p.policies());
        assertEquals(Policies.DEFAULTS, Methods.plan(spec("{}"), t, s, 3).policies());
        Map<String, String> bad = Map.of(
                "{\"inner_loss\": \"cosine\"}", "method x: 'inner_loss' must be one of [mse, normalized_mse], got \"cosine\"",
                "{\"momentum_at_merge\": 1}", "method x: 'momentum_at_merge' must be one of [keep, reset], got 1",
                "{\"retired_connectors\": \"drop\"}", "method x: 'retired_connectors' must be one of [freeze, train], got \"drop\"",
                "{\"bn_recalibrate_batches\": -1}", "method x: 'bn_recalibrate_batches' must be a whole number of at least 0, got -1",
                "{\"bn_recalibrate_batches\": 2.5}", "method x: 'bn_recalibrate_batches' must be a whole number of at least 0, got 2.5",
                "{\"connector_relu\": \"yes\"}", "method x: 'connector_relu' must be true or false, got \"yes\"");
        bad.forEach((json, message) -> {
            var e = assertThrows(IllegalArgumentException.class, () -> Methods.plan(spec(json), t, s, 3), json);
            assertEquals(message, e.getMessage());
        });
        assertNotEquals(Methods.plan(spec("{\"inner_loss\": \"mse\"}"), t, s, 3), p, "policies are part of a plan's identity");
    }

    static MethodSpec spec(String json) throws Exception {
        Map<String, JsonNode> params = new LinkedHashMap<>();
        new ObjectMapper().readTree(json).fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue()));
        return new MethodSpec("x", "stablekd", params);
    }
}
