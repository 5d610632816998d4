package org.stablekd.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.stablekd.distill.MethodSpec;
import org.stablekd.optim.LrSpec;
import org.stablekd.tensor.Shape;

/**
 * A distillation experiment as a file (YAML or JSON): data, teacher (zoo name + weights), student,
 * the optimizer, epochs, and one or more methods with their parameters. {@code stablekd distill}
 * runs one method of it, {@code stablekd compare} all of them into one report. See
 * {@code docs/experiments/*.yaml} for complete examples; every key is listed in {@link #KEYS}.
 */
public record Experiment(String name, String data, double dataFraction, Shape input, String teacher, Path teacherWeights,
                         String student, int epochs, int batch, LrSpec lr, double momentum, double weightDecay, boolean nesterov,
                         long seed, Path out, int iboeWindow, String augment, List<MethodSpec> methods,
                         List<Long> seeds, int validation) {

    /** The seed the validation images are drawn with: one split for every run seed and method. */
    public static final long VALIDATION_SEED = 0;

    static final Set<String> KEYS = Set.of("name", "data", "data_fraction", "input", "teacher", "student", "epochs", "batch",
            "optimizer", "seed", "out", "iboe_window", "augment", "methods", "method",
            "seeds", "validation");
    static final Set<String> OPTIMIZER_KEYS = Set.of("lr", "schedule", "milestones", "momentum", "weight_decay", "nesterov", "warmup");

    /** Reads an experiment file; {@code .json} as JSON, anything else as YAML. Every problem names the file and the key. */
    public static Experiment load(Path file) throws IOException {
        if (!Files.exists(file)) throw new IllegalArgumentException("experiment file " + file + " does not exist");
        ObjectMapper mapper = file.toString().endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
        JsonNode root;
        try {
            root = mapper.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(file + ": not valid " + (file.toString().endsWith(".json") ? "JSON" : "YAML") + ": "
                    + e.getOriginalMessage() + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": the experiment must be a mapping of keys");
        try {
            return parse(root, file);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    static Experiment parse(JsonNode root, Path file) {
        unknown(root, KEYS, "top level");
        JsonNode t = root.path("teacher"), s = root.path("student"), opt = root.path("optimizer");
        if (!opt.isMissingNode()) unknown(opt, OPTIMIZER_KEYS, "optimizer");
        String teacherModel = t.isTextual() ? t.asText() : t.path("model").asText(null);
        String teacherWeights = t.isObject() ? t.path("weights").asText(null) : null;
        String studentModel = s.isTextual() ? s.asText() : s.path("model").asText(null);
        if (studentModel == null) throw new IllegalArgumentException("'student' (a zoo model name) is required");
        int epochs = root.path("epochs").asInt(15);
        List<MethodSpec> methods = new ArrayList<>();
        JsonNode ms = root.has("methods") ? root.get("methods") : root.get("method");
        if (ms == null) throw new IllegalArgumentException("no 'methods' (or 'method') given");
        if (!ms.isArray()) ms = new ObjectMapper().createArrayNode().add(ms);
        for (JsonNode m : ms) methods.add(methodSpec(m));
        List<String> labels = methods.stream().map(MethodSpec::label).toList();
        if (labels.stream().distinct().count() != labels.size()) throw new IllegalArgumentException("method labels must differ: " + labels);
        String schedule = opt.path("schedule").asText("multistep");
        double[] fractions = LrSpec.CIFAR_FRACTIONS;
        if (opt.has("milestones")) {
            JsonNode mi = opt.get("milestones");
            fractions = new double[mi.size()];
            for (int i = 0; i < fractions.length; i++) fractions[i] = mi.get(i).asDouble() / epochs;
        }
        LrSpec lr = new LrSpec(schedule, opt.path("lr").asDouble(0.05), fractions, opt.path("warmup").asDouble(0));
        String name = root.path("name").asText(file.getFileName().toString().replaceFirst("\\.(ya?ml|json)$", ""));
        return new Experiment(name, root.path("data").asText("fashion-mnist"), root.path("data_fraction").asDouble(1.0),
                root.has("input") ? parseShape(root.get("input").asText()) : null, teacherModel,
                teacherWeights == null ? null : Path.of(teacherWeights), studentModel, epochs, root.path("batch").asInt(64), lr,
                opt.path("momentum").asDouble(0.9), opt.path("weight_decay").asDouble(5e-4), opt.path("nesterov").asBoolean(false),
                root.path("seed").asLong(0), Path.of(root.path("out").asText("runs/" + name)), root.path("iboe_window").asInt(0),
                root.path("augment").asText("none"), List.copyOf(methods), seeds(root.get("seeds")), root.path("validation").asInt(0));
    }

    /** {@code seeds: [0, 1, 2]}: null when absent (one run per method, with {@code seed}). */
    private static List<Long> seeds(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (!n.isArray() || n.isEmpty()) throw new IllegalArgumentException("'seeds' must be a non-empty list of integers, e.g. seeds: [0, 1, 2]");
        List<Long> out = new ArrayList<>();
        for (JsonNode k : n) {
            if (!k.canConvertToLong() || !k.isIntegralNumber()) throw new IllegalArgumentException("'seeds' must hold integers, got " + k);
            if (out.contains(k.asLong())) throw new IllegalArgumentException("'seeds' lists " + k + " twice");
            out.add(k.asLong());
        }
        return List.copyOf(out);
    }

    /** The seeds to run: {@code seeds} when given, else the single {@code seed}. */
    public List<Long> runSeeds() {
        return seeds != null ? seeds : List.of(seed);
    }

    /** Where a method's run writes: OUT/LABEL, or OUT/LABEL/seed-K when the experiment lists seeds. */
    public Path runDir(String label, long runSeed) {
        return seeds != null ? out.resolve(label).resolve("seed-" + runSeed) : out.resolve(label);
    }

    private static MethodSpec methodSpec(JsonNode m) {
        if (m.isTextual()) return new MethodSpec(m.asText(), m.asText(), Map.of());
        if (!m.isObject() || !m.has("method")) throw new IllegalArgumentException("each method is a name or a mapping with 'method:' (and optional 'label:'), got " + m);
        Map<String, JsonNode> params = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().equals("method") && !e.getKey().equals("label")) params.put(e.getKey(), e.getValue());
        }
        String method = m.get("method").asText();
        return new MethodSpec(m.path("label").asText(method), method, params);
    }

    private static void unknown(JsonNode node, Set<String> keys, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k)) throw new IllegalArgumentException("unknown key '" + k + "' at " + where + "; the keys are " + new java.util.TreeSet<>(keys));
        }
    }

    public static Shape parseShape(String v) {
        String[] p = v.toLowerCase().split("x");
        if (p.length != 3) throw new IllegalArgumentException("input '" + v + "' is not CxHxW (e.g. 1x32x32)");
        return Shape.of(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()), Integer.parseInt(p[2].trim()));
    }

    /** The method with this label (or the only one when label is null). */
    public MethodSpec method(String label) {
        if (label == null) {
            if (methods.size() == 1) return methods.get(0);
            throw new IllegalArgumentException("the experiment has several methods " + methods.stream().map(MethodSpec::label).toList() + "; pick one with --method");
        }
        return methods.stream().filter(m -> m.label().equals(label)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no method labelled '" + label + "'; the experiment has " + methods.stream().map(MethodSpec::label).toList()));
    }
}
