package org.stablekd.testing;

import java.util.LinkedHashSet;
import java.util.Set;
import org.opentest4j.AssertionFailedError;
import org.stablekd.io.TensorFile;
import org.stablekd.tensor.Tensor;

/**
 * A golden fixture file's tensors and metadata attributes with a record of what the replay read,
 * so {@link #assertAllUsed} fails on an expectation a test silently skipped. Shared by the op
 * fixtures ({@code golden.GoldenFixture}) and the training-step fixtures ({@code models.StepFixture}).
 */
public final class FixtureFile {
    private final String name;
    private final TensorFile contents;
    private final Set<String> unusedTensors;
    private final Set<String> unusedAttrs;

    /** {@code descriptive}: metadata keys that describe the file and are not attributes to replay. */
    public FixtureFile(String name, TensorFile contents, Set<String> descriptive) {
        this.name = name;
        this.contents = contents;
        this.unusedTensors = new LinkedHashSet<>(contents.tensors().keySet());
        this.unusedAttrs = new LinkedHashSet<>(contents.metadata().keySet());
        unusedAttrs.removeAll(descriptive);
    }

    // ---------------------------------------------------------------- tensors

    /** The stored tensor {@code key}, marked used. */
    public Tensor tensor(String key) {
        Tensor t = contents.tensors().get(key);
        if (t == null) throw fail("lacks tensor '" + key + "'");
        unusedTensors.remove(key);
        return t;
    }

    /** The stored tensor {@code key} or null, marked used when present. */
    public Tensor optionalTensor(String key) {
        return has(key) ? tensor(key) : null;
    }

    /** The stored tensor {@code key} without marking it used (for scales and lookups, not expectations). */
    public Tensor peek(String key) {
        Tensor t = contents.tensors().get(key);
        if (t == null) throw fail("lacks tensor '" + key + "'");
        return t;
    }

    public boolean has(String key) {
        return contents.tensors().containsKey(key);
    }

    /** Keys of the stored tensors that start with {@code prefix}, in file order. */
    public Set<String> keysStartingWith(String prefix) {
        Set<String> out = new LinkedHashSet<>();
        for (String k : contents.tensors().keySet()) if (k.startsWith(prefix)) out.add(k);
        return out;
    }

    // ---------------------------------------------------------------- attributes (metadata strings)

    /** A descriptive metadata entry (not marked; fails when absent). */
    public String metadata(String key) {
        String v = contents.metadata().get(key);
        if (v == null) throw fail("has no '" + key + "' metadata");
        return v;
    }

    public String attr(String key) {
        String v = contents.metadata().get(key);
        if (v == null) throw fail("lacks attribute '" + key + "'");
        unusedAttrs.remove(key);
        return v;
    }

    public int intAttr(String key) {
        return Integer.parseInt(attr(key));
    }

    public double doubleAttr(String key) {
        return Double.parseDouble(attr(key));
    }

    public boolean boolAttr(String key) {
        String v = attr(key);
        if (!v.equals("true") && !v.equals("false")) throw fail("attribute '" + key + "' = '" + v + "' is not true/false");
        return v.equals("true");
    }

    /** An "h,w" pair. */
    public int[] pairAttr(String key) {
        String[] parts = attr(key).split(",");
        if (parts.length != 2) throw fail("attribute '" + key + "' = '" + String.join(",", parts) + "' is not an h,w pair");
        return new int[] {Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim())};
    }

    // ---------------------------------------------------------------- checks

    /** Fails if some tensor or attribute was never read: the replay would ignore it. {@code hint} ends the message. */
    public void assertAllUsed(String hint) {
        if (!unusedTensors.isEmpty() || !unusedAttrs.isEmpty()) {
            throw fail("the replay ignored tensors " + unusedTensors + " and attributes " + unusedAttrs + hint);
        }
    }

    public AssertionFailedError fail(String problem) {
        return new AssertionFailedError("golden fixture " + name + ": " + problem);
    }
}
