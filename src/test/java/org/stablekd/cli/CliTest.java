package org.stablekd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.infer.Predictor;
import org.stablekd.infer.PredictorTest;
import org.stablekd.io.Safetensors;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/** The command line as a user meets it: exit codes, one-sentence errors, and predict's files. */
class CliTest {

    /** Runs {@code stablekd args…} and returns {exit code, stdout, stderr}. */
    private static Object[] run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Object[] {code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void repeatedOptionTakesTheLastValue() {
        // --epochs 0 after --epochs 5 must reach the command's own check (not picocli's "specified only once")
        Object[] r = run("train", "--model", "resnet8", "--epochs", "5", "--epochs", "0", "--data", "cifar10:/nonexistent");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--epochs and --batch must be at least 1"), (String) r[2]);
    }

    @Test
    void userErrorIsOneSentenceWithoutStackTrace(@TempDir Path dir) {
        Object[] r = run("predict", "--model", "resnet8", "--weights", dir.resolve("missing.safetensors").toString(),
                "--in", dir.resolve("in.safetensors").toString(), "--out", dir.resolve("out.safetensors").toString());
        String err = (String) r[2];
        assertEquals(2, r[0]);
        assertTrue(err.startsWith("stablekd: "), err);
        assertEquals(1, err.strip().lines().count(), err);
        assertFalse(err.contains("\tat org."), err);
    }

    /** compare --report-only trains nothing and reports the seeds' runs that exist, grouped by method. */
    @Test
    void compareReportOnlyAggregatesSeeds(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("e.yaml");
        java.nio.file.Files.writeString(cfg, "student: resnet8\nepochs: 2\nout: " + dir.resolve("out") + "\nmethods: [kd, ce]\n");
        String[][] top1 = {{"70.0", "80.0"}, {"72.0", "84.0"}};   // kd seeds 0 and 1: last 80 and 84 → 82 ± 2.83
        for (int seed = 0; seed < 2; seed++) {
            Path run = dir.resolve("out/kd/seed-" + seed);
            java.nio.file.Files.createDirectories(run);
            java.nio.file.Files.writeString(run.resolve("metrics.jsonl"),
                    "{\"epoch\": 1, \"method\": \"kd\", \"test_top1\": " + top1[seed][0] + "}\n{\"epoch\": 2, \"method\": \"kd\", \"test_top1\": " + top1[seed][1] + "}\n");
        }
        Object[] r = run("compare", "--config", cfg.toString(), "--seeds", "0,1", "--report-only");
        assertEquals(0, r[0], (String) r[2]);
        String md = java.nio.file.Files.readString(dir.resolve("out/report-seeds.md"));
        assertTrue(md.contains("| kd | 2 | 82.00 ± 2.83 % |"), md);
        assertFalse(md.contains("| ce |"), "ce has no runs: " + md);
        assertFalse(java.nio.file.Files.exists(dir.resolve("out/ce")), "nothing was trained");
    }

    /** distill --param KEY=VALUE sets a method parameter (read as YAML), and a malformed one is a sentence. */
    @Test
    void distillParamsAreMethodParameters() {
        var base = new org.stablekd.distill.MethodSpec("stablekd", "stablekd", Map.of("inner_loss", com.fasterxml.jackson.databind.node.TextNode.valueOf("mse")));
        var m = DistillCommand.withParams(base, java.util.List.of("inner_loss=normalized_mse", "bn_recalibrate_batches=200", "student_cuts=[0, 1, 2, 4]",
                "connector_relu=true"));
        assertEquals("normalized_mse", m.params().get("inner_loss").asText());
        assertEquals(200, m.integer("bn_recalibrate_batches", 0, 0));
        assertEquals(java.util.List.of(0, 1, 2, 4), java.util.Arrays.stream(m.ints("student_cuts")).boxed().toList());
        assertTrue(m.bool("connector_relu", false));
        Object[] r = run("distill", "--student", "resnet8", "--method", "stablekd", "--param", "inner_loss");
        assertEquals(2, r[0]);
        assertEquals("stablekd: --param 'inner_loss' is not KEY=VALUE (e.g. --param inner_loss=normalized_mse)", ((String) r[2]).strip());
    }

    @Test
    void predictWritesTheEvalModeLogits(@TempDir Path dir) throws Exception {
        Shape in = Shape.of(1, 32, 32);
        Path weights = PredictorTest.trainedWeights(dir, "resnet8", in, 10);
        Tensor x = Tensor.randn(new Rng(5), DType.F32, 1, 3, 1, 32, 32);
        Path input = dir.resolve("in.safetensors"), output = dir.resolve("out.safetensors");
        Safetensors.write(input, Map.of("input", x), Map.of());

        Object[] r = run("predict", "--model", "resnet8", "--weights", weights.toString(), "--in", input.toString(), "--out", output.toString());
        assertEquals(0, r[0], (String) r[2]);
        Tensor logits = Safetensors.read(output).tensors().get("logits");
        assertEquals(Shape.of(3, 10), logits.shape());
        float[] expected;
        try (Predictor p = Predictor.load("resnet8", weights)) { // BN folded: equal to eval mode up to rounding
            expected = p.predict(x.toFloatArray(), 3);
        }
        Close.assertClose(logits.toFloatArray(), expected, Tolerance.GOLDEN_MODEL_F32, "predict logits vs Predictor");
    }

    /** --device: the simulated device gives the CPU's logits bit for bit (Predictor and predict); cuda without a GPU is one sentence. */
    @Test
    void predictRunsOnTheChosenDevice(@TempDir Path dir) throws Exception {
        Shape in = Shape.of(1, 32, 32);
        Path weights = PredictorTest.trainedWeights(dir, "resnet8", in, 10);
        Tensor x = Tensor.randn(new Rng(5), DType.F32, 1, 3, 1, 32, 32);
        Path input = dir.resolve("in.safetensors");
        Safetensors.write(input, Map.of("input", x), Map.of());
        float[][] logits = new float[2][];
        String[] devices = {"cpu", "sim"};
        for (int i = 0; i < 2; i++) {
            Path output = dir.resolve("out-" + devices[i] + ".safetensors");
            Object[] r = run("predict", "--model", "resnet8", "--weights", weights.toString(), "--in", input.toString(), "--out", output.toString(),
                    "--device", devices[i]);
            assertEquals(0, r[0], (String) r[2]);
            logits[i] = Safetensors.read(output).tensors().get("logits").toFloatArray();
        }
        Close.assertBitIdentical(logits[0], logits[1], "predict --device sim vs cpu");
        try (Predictor host = Predictor.load("resnet8", weights); Predictor sim = Predictor.load("resnet8", weights).to(org.stablekd.tensor.Device.SIM)) {
            Close.assertBitIdentical(host.predict(x.toFloatArray(), 3), sim.predict(x.toFloatArray(), 3), "Predictor on sim vs cpu");
        }
        var cuda = org.stablekd.backend.Backends.cuda();
        if (!cuda.available()) {
            Object[] r = run("predict", "--model", "resnet8", "--weights", weights.toString(), "--in", input.toString(),
                    "--out", dir.resolve("o.safetensors").toString(), "--device", "cuda");
            String err = (String) r[2];
            assertEquals(2, r[0]);
            assertEquals("stablekd: --device cuda: CUDA is unavailable here (" + cuda.reason() + "); use --device cpu", err.strip());
            Object[] auto = run("predict", "--model", "resnet8", "--weights", weights.toString(), "--in", input.toString(),
                    "--out", dir.resolve("o.safetensors").toString());
            assertEquals(0, auto[0], (String) auto[2]);
            assertEquals(1, ((String) auto[1]).lines().filter(l -> l.equals("stablekd: running on the CPU: CUDA unavailable (" + cuda.reason() + ")")).count(),
                    (String) auto[1]);
        }
        Object[] bad = run("eval", "--model", "resnet8", "--weights", weights.toString(), "--device", "tpu");
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("--device must be cpu or cuda, not 'tpu'"), (String) bad[2]);
    }
}
