package org.stablekd.golden;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.opentest4j.AssertionFailedError;
import org.stablekd.io.Safetensors;
import org.stablekd.io.TensorFile;
import org.stablekd.tensor.Tensor;

/**
 * One golden fixture file (see scripts/golden/make_op_fixtures.py for the layout): typed access
 * to its tensors and attributes that records what the replay used, so {@link #assertAllUsed}
 * can fail on a tensor or attribute the test never looked at — an expectation silently skipped.
 */
final class GoldenFixture {
    /** Metadata every fixture has that is not an attribute of the op. */
    private static final Set<String> DESCRIPTIVE = Set.of("format", "case", "op", "description", "torch_version", "seed");

    private final Path file;
    private final TensorFile contents;
    private final Set<String> unusedTensors;
    private final Set<String> unusedAttrs;
    /** The leaves made from {@code input.*}, by argument name. */
    private final Map<String, Tensor> leaves = new LinkedHashMap<>();

    GoldenFixture(Path file) throws IOException {
        this.file = file;
        this.contents = Safetensors.read(file);
        this.unusedTensors = new LinkedHashSet<>(contents.tensors().keySet());
        this.unusedAttrs = new LinkedHashSet<>(contents.metadata().keySet());
        unusedAttrs.removeAll(DESCRIPTIVE);
    }

    String caseName() { return meta("case"); }
    String op() { return meta("op"); }
    String format() { return meta("format"); }
    Path file() { return file; }

    private String meta(String key) {
        String v = contents.metadata().get(key);
        if (v == null) throw fail("has no '" + key + "' metadata");
        return v;
    }

    // ---------------------------------------------------------------- tensors

    /**
     * The input {@code name} ({@code input.<name>}) as a leaf tensor, requiring a gradient when
     * the fixture holds {@code grad.<name>}. The same leaf on every call.
     */
    Tensor input(String name) {
        Tensor leaf = optionalInput(name);
        if (leaf == null) throw fail("lacks tensor 'input." + name + "'");
        return leaf;
    }

    /** Like {@link #input} but null when the fixture has no such input (an optional bias). */
    Tensor optionalInput(String name) {
        Tensor leaf = leaves.get(name);
        if (leaf != null) return leaf;
        Tensor t = contents.tensors().get("input." + name);
        if (t == null) return null;
        unusedTensors.remove("input." + name);
        if (contents.tensors().containsKey("grad." + name)) t.requiresGrad(true);
        leaves.put(name, t);
        return t;
    }

    Map<String, Tensor> leaves() { return leaves; }

    /** An expected tensor ({@code output}, {@code grad_out}, {@code grad.x}, ...), marked used. */
    Tensor expected(String key) {
        Tensor t = contents.tensors().get(key);
        if (t == null) throw fail("lacks tensor '" + key + "'");
        unusedTensors.remove(key);
        return t;
    }

    /** Keys of the fixture's tensors that start with {@code prefix} (e.g. every {@code grad.}). */
    Set<String> keysStartingWith(String prefix) {
        Set<String> out = new LinkedHashSet<>();
        for (String k : contents.tensors().keySet()) if (k.startsWith(prefix)) out.add(k);
        return out;
    }

    // ---------------------------------------------------------------- attributes (metadata strings)

    String attr(String key) {
        String v = contents.metadata().get(key);
        if (v == null) throw fail("lacks attribute '" + key + "'");
        unusedAttrs.remove(key);
        return v;
    }

    int intAttr(String key) {
        return Integer.parseInt(attr(key));
    }

    double doubleAttr(String key) {
        return Double.parseDouble(attr(key));
    }

    boolean boolAttr(String key) {
        String v = attr(key);
        if (!v.equals("true") && !v.equals("false")) throw fail("attribute '" + key + "' = '" + v + "' is not true/false");
        return v.equals("true");
    }

    /** An "h,w" pair. */
    int[] pairAttr(String key) {
        String[] parts = attr(key).split(",");
        if (parts.length != 2) throw fail("attribute '" + key + "' = '" + String.join(",", parts) + "' is not an h,w pair");
        return new int[] {Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim())};
    }

    /** Fails if some tensor or attribute of the fixture was never read: the replay would ignore it. */
    void assertAllUsed() {
        if (!unusedTensors.isEmpty() || !unusedAttrs.isEmpty()) {
            throw fail("the replay ignored tensors " + unusedTensors + " and attributes " + unusedAttrs
                    + "; teach OpGoldenTest what they mean");
        }
    }

    AssertionFailedError fail(String problem) {
        return new AssertionFailedError("golden fixture " + file.getFileName() + ": " + problem);
    }
}
