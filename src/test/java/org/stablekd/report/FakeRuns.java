package org.stablekd.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Run folders with made-up but plausible metrics.jsonl files, written as the trainer writes them. */
final class FakeRuns {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FakeRuns() {}

    static Path write(Path dir, List<Map<String, Object>> records) throws IOException {
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> r : records) sb.append(JSON.writeValueAsString(r)).append('\n');
        Files.writeString(dir.resolve("metrics.jsonl"), sb.toString(), StandardCharsets.UTF_8);
        return dir;
    }

    /** The keys every epoch record has. */
    static Map<String, Object> base(int epoch, String method, double top1, double loss, double imagesPerSecond, double wall) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("epoch", epoch);
        r.put("method", method);
        r.put("lr", epoch <= 20 ? 0.05 : 0.005);
        r.put("train_loss", loss);
        r.put("train_top1", Math.min(100, top1 + 5));
        r.put("test_loss", loss * 1.1);
        r.put("test_top1", top1);
        r.put("test_top5", Math.min(100, top1 + 20));
        r.put("train_images_per_s", imagesPerSecond);
        r.put("epoch_seconds", 50000 / imagesPerSecond);
        r.put("eval_seconds", 2.0);
        r.put("wall_seconds", wall);
        return r;
    }

    static double curve(int epoch, double end, double speed) {
        return end * (1 - Math.exp(-epoch / speed)) + 0.8 * Math.sin(epoch * 1.7);
    }

    /** Plain supervised training: one loss term (so no per-term keys), no IBOE keys. */
    static List<Map<String, Object>> supervised(int epochs) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) out.add(base(e, "ce", curve(e, 66, 7), 3.5 * Math.exp(-e / 8.0) + 0.4, 1200 + 10 * (e % 3), 27.0 * e));
        return out;
    }

    /** End-to-end KD with ce/kd terms and noisy gradients. */
    static List<Map<String, Object>> kd(int epochs) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            double ce = 0.1 * (3.5 * Math.exp(-e / 8.0) + 0.5), kd = 0.9 * (2.0 * Math.exp(-e / 10.0) + 0.3);
            Map<String, Object> r = base(e, "kd", curve(e, 70, 6), ce + kd, 900 + 5 * (e % 4), 36.0 * e);
            r.put("train_ce", ce);
            r.put("train_kd", kd);
            r.put("t_stddev", 0.0045 + 0.0001 * (e % 3));
            for (int b = 1; b <= 4; b++) {
                r.put("iboe_snr_b" + b, 0.02 * b * (1 + 0.3 * Math.sin(e + b)) * (1 + e / 10.0));
                r.put("iboe_cos_b" + b, 0.05 + 0.04 * b + 0.03 * Math.cos(e * 0.9 + b));
            }
            out.add(r);
        }
        return out;
    }

    /** StableKD over 4 blocks: stages of {@code perStage} epochs, [b1..b4] → [b1-2, b3-4] → [b1-4]. */
    static List<Map<String, Object>> stableKd(int perStage) {
        List<Map<String, Object>> out = new ArrayList<>();
        String[] groups = {"[b1, b2, b3, b4]", "[b1-2, b3-4]", "[b1-4]"};
        for (int e = 1; e <= 3 * perStage; e++) {
            int stage = (e - 1) / perStage + 1;
            double decay = Math.exp(-((e - 1) % perStage) / 3.0);
            Map<String, Object> terms = new LinkedHashMap<>();
            switch (stage) {
                case 1 -> {
                    for (int b = 1; b <= 3; b++) terms.put("b" + b + ".mse", 0.02 * b * decay + 0.004 * b);
                    terms.put("b4.ce", 0.1 * (1.2 * decay + 0.3));
                    terms.put("b4.kd", 0.9 * (0.8 * decay + 0.2));
                }
                case 2 -> {
                    terms.put("b1-2.mse", 0.03 * decay + 0.01);
                    terms.put("b3-4.ce", 0.1 * (0.6 * decay + 0.3));
                    terms.put("b3-4.kd", 0.9 * (0.5 * decay + 0.2));
                }
                default -> {
                    terms.put("b1-4.ce", 0.1 * (0.5 * decay + 0.3));
                    terms.put("b1-4.kd", 0.9 * (0.4 * decay + 0.15));
                }
            }
            double total = terms.values().stream().mapToDouble(v -> (Double) v).sum();
            Map<String, Object> r = base(e, "stablekd", curve(e, 72, 3.5), total, 1000 + 7 * (e % 5), 33.0 * e);
            r.put("stage", stage);
            r.put("groups", groups[stage - 1]);
            terms.forEach((k, v) -> r.put("train_" + k, v));
            for (int b = 1; b <= 4; b++) {
                r.put("iboe_snr_b" + b, (stage == 3 ? 0.15 : 2.0 / stage) * b * (1 + 0.2 * Math.sin(e + b)));
                r.put("iboe_cos_b" + b, (stage == 3 ? 0.2 : 0.6) + 0.02 * b + 0.03 * Math.cos(e * 0.7 + b));
            }
            out.add(r);
        }
        return out;
    }
}
