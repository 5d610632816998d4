package org.stablekd.golden;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.opentest4j.AssertionFailedError;
import org.stablekd.io.Safetensors;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.FixtureFile;

/**
 * One golden fixture file (see scripts/golden/make_op_fixtures.py for the layout): the op's inputs
 * as leaves and its expected tensors, read through a {@link FixtureFile} that records what the
 * replay used, so {@link #assertAllUsed} can fail on a tensor or attribute the test never looked
 * at — an expectation silently skipped.
 */
final class GoldenFixture {
    /** Metadata every fixture has that is not an attribute of the op. */
    private static final Set<String> DESCRIPTIVE = Set.of("format", "case", "op", "description", "torch_version", "seed");

    private final Path file;
    private final FixtureFile f;
    /** The leaves made from {@code input.*}, by argument name. */
    private final Map<String, Tensor> leaves = new LinkedHashMap<>();

    GoldenFixture(Path file) throws IOException {
        this.file = file;
        this.f = new FixtureFile(file.getFileName().toString(), Safetensors.read(file), DESCRIPTIVE);
    }

    String caseName() { return f.metadata("case"); }
    String op() { return f.metadata("op"); }
    String format() { return f.metadata("format"); }
    Path file() { return file; }

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
        Tensor t = f.optionalTensor("input." + name);
        if (t == null) return null;
        if (f.has("grad." + name)) t.requiresGrad(true);
        leaves.put(name, t);
        return t;
    }

    Map<String, Tensor> leaves() { return leaves; }

    /** An expected tensor ({@code output}, {@code grad_out}, {@code grad.x}, ...), marked used. */
    Tensor expected(String key) {
        return f.tensor(key);
    }

    /** Keys of the fixture's tensors that start with {@code prefix} (e.g. every {@code grad.}). */
    Set<String> keysStartingWith(String prefix) {
        return f.keysStartingWith(prefix);
    }

    // ---------------------------------------------------------------- attributes (metadata strings)

    String attr(String key) { return f.attr(key); }
    int intAttr(String key) { return f.intAttr(key); }
    double doubleAttr(String key) { return f.doubleAttr(key); }
    boolean boolAttr(String key) { return f.boolAttr(key); }
    /** An "h,w" pair. */
    int[] pairAttr(String key) { return f.pairAttr(key); }

    /** Fails if some tensor or attribute of the fixture was never read: the replay would ignore it. */
    void assertAllUsed() {
        f.assertAllUsed("; teach OpGoldenTest what they mean");
    }

    AssertionFailedError fail(String problem) {
        return f.fail(problem);
    }
}
