package org.stablekd.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The per-epoch records of one run ({@code metrics.jsonl}, one JSON object per epoch, as
 * {@code train.MetricsLog} writes them) and what reports read from them. Reading is lenient: a
 * line that does not parse (e.g. the half-written last line of a run that was killed) is skipped
 * and noted in {@link #problems()}; a value may be a number or a string such as "NaN".
 */
public final class RunMetrics {
    /** {@code train_*} keys that are not loss terms (nor is any {@code train_top*}: accuracies such as StableKD's {@code train_top1_last_group_on_teacher_features}). */
    private static final Set<String> NOT_LOSS_TERMS = Set.of("train_loss", "train_top1", "train_top5", "train_images_per_s");
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private final RunRef ref;
    private final List<Map<String, Object>> records;
    private final List<String> problems;

    RunMetrics(RunRef ref, List<Map<String, Object>> records, List<String> problems) {
        this.ref = ref;
        this.records = List.copyOf(records);
        this.problems = List.copyOf(problems);
    }

    /** Reads {@code metrics.jsonl} of the run folder; throws when the folder has none. */
    public static RunMetrics load(RunRef ref) throws IOException {
        Path file = ref.dir().resolve("metrics.jsonl");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("run '" + ref.label() + "': " + ref.dir() + " has no metrics.jsonl (is it a run folder?)");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> rec = JSON.readValue(line, LinkedHashMap.class);
                out.add(rec);
            } catch (JsonProcessingException e) {
                problems.add(file + " line " + (i + 1) + " is not a JSON object and was skipped"
                        + (i == lines.size() - 1 ? " (a run stopped while writing it?)" : ""));
            }
        }
        return new RunMetrics(ref, out, problems);
    }

    public RunRef ref() { return ref; }
    public String label() { return ref.label(); }
    public List<Map<String, Object>> records() { return records; }
    public List<String> problems() { return problems; }

    public boolean isEmpty() {
        return records.isEmpty();
    }

    /** A record's value for {@code key} as a double: numbers and numeric strings ("NaN", "1e-3"); NaN otherwise. */
    static double number(Map<String, Object> rec, String key) {
        Object v = rec.get(key);
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.strip());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    /** The epoch of a record (1-based, as the trainer writes it), or NaN. */
    static double epoch(Map<String, Object> rec) {
        return number(rec, "epoch");
    }

    /** {@code key} over epochs, finite values only; named {@code name}. */
    public Charts.Series series(String key, String name) {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (Map<String, Object> r : records) {
            double e = epoch(r), v = number(r, key);
            if (Double.isFinite(e) && Double.isFinite(v)) {
                x.add(e);
                y.add(v);
            }
        }
        return new Charts.Series(name, x, y);
    }

    /** The last record's string value of {@code key} (e.g. "method"), or null. */
    public String lastString(String key) {
        for (int i = records.size() - 1; i >= 0; i--) {
            Object v = records.get(i).get(key);
            if (v != null) return v.toString();
        }
        return null;
    }

    /**
     * The loss terms logged per epoch — {@code train_<term>} keys other than the totals, rates and
     * accuracies ({@code train_ce}, {@code train_kd}, StableKD's {@code train_b1.mse}, {@code train_b3-4.kd}…)
     * — as term names without the prefix, in order of first appearance.
     */
    public List<String> lossTerms() {
        Set<String> terms = new LinkedHashSet<>();
        for (Map<String, Object> r : records) {
            for (String k : r.keySet()) {
                if (k.startsWith("train_") && !NOT_LOSS_TERMS.contains(k) && !k.startsWith("train_top") && Double.isFinite(number(r, k))) {
                    terms.add(k.substring(6));
                }
            }
        }
        return List.copyOf(terms);
    }

    /**
     * The blocks with an IBOE diagnostic {@code iboe_<metric>_<block>} ({@code metric} "snr" or
     * "cos"), in natural order (b2 before b10).
     */
    public List<String> iboeBlocks(String metric) {
        String prefix = "iboe_" + metric + "_";
        Set<String> blocks = new TreeSet<>(NATURAL);
        for (Map<String, Object> r : records) {
            for (String k : r.keySet()) if (k.startsWith(prefix) && k.length() > prefix.length()) blocks.add(k.substring(prefix.length()));
        }
        return List.copyOf(blocks);
    }

    /** One StableKD stage: its number, first and last epoch, and the groups it trained (as logged). */
    public record Stage(int number, int firstEpoch, int lastEpoch, String groups) {}

    /** Consecutive epochs with the same {@code stage} value; empty when the run logs no stages. */
    public List<Stage> stages() {
        List<Stage> out = new ArrayList<>();
        int stage = Integer.MIN_VALUE, first = 0, last = 0;
        String groups = null;
        for (Map<String, Object> r : records) {
            double s = number(r, "stage"), e = epoch(r);
            if (!Double.isFinite(s) || !Double.isFinite(e)) continue;
            if ((int) s != stage) {
                if (stage != Integer.MIN_VALUE) out.add(new Stage(stage, first, last, groups));
                stage = (int) s;
                first = (int) e;
                Object g = r.get("groups");
                groups = g == null ? null : g.toString();
            }
            last = (int) e;
        }
        if (stage != Integer.MIN_VALUE) out.add(new Stage(stage, first, last, groups));
        return out;
    }

    /** Compares strings with digit runs as numbers: "b2" < "b10", "b1-2" < "b1-10". */
    static final Comparator<String> NATURAL = (a, b) -> {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i), cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i, sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) i++;
                while (j < b.length() && Character.isDigit(b.charAt(j))) j++;
                int c = new java.math.BigInteger(a.substring(si, i)).compareTo(new java.math.BigInteger(b.substring(sj, j)));
                if (c != 0) return c;
            } else {
                if (ca != cb) return Character.compare(ca, cb);
                i++;
                j++;
            }
        }
        int c = Integer.compare(a.length() - i, b.length() - j);
        return c != 0 ? c : a.compareTo(b);   // "b01" and "b1" stay apart
    };
}
