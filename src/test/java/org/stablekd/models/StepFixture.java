package org.stablekd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.opentest4j.AssertionFailedError;
import org.stablekd.io.Safetensors;
import org.stablekd.io.TensorFile;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.FixtureFile;
import org.stablekd.testing.Tolerance;

/**
 * One training-step fixture of golden/steps-v1 (written by scripts/golden/make_step_fixtures.py;
 * see the script for the layout). A tensor of at most {@code full_max} elements is stored whole;
 * a larger one as {@code samples} elements of its flattened form at indices (k·{@code sample_prime})
 * mod n, plus {@code stats.<key>} = [RMS, max |x|] of the whole tensor. {@link #compare} replays
 * either form against a whole tensor of ours. Reading records what was used, so
 * {@link #assertAllUsed} fails on an expectation no test looked at.
 */
final class StepFixture {
    static final String DIR = "golden/steps-v1";

    private final String file;
    private final FixtureFile f;
    private final int fullMax, samples;
    private final long prime;
    /** The largest comparison seen, relative to the scale it was measured against, by key prefix. */
    private final Map<String, Double> worst = new LinkedHashMap<>();

    private StepFixture(String file, TensorFile contents) {
        this.file = file;
        this.f = new FixtureFile(DIR + "/" + file, contents, Set.of("format", "case", "torch_version", "computed_in", "kink_margin"));
        this.fullMax = intAttr("full_max");
        this.samples = intAttr("samples");
        this.prime = Long.parseLong(attr("sample_prime"));
        assertEquals("stablekd-golden-steps-v1", f.metadata("format"), file + " format");
    }

    static StepFixture load(String name) {
        URL url = StepFixture.class.getClassLoader().getResource(DIR + "/" + name);
        if (url == null) {
            throw new IllegalStateException("missing fixture src/test/resources/" + DIR + "/" + name
                    + "; regenerate with /usr/bin/python3 scripts/golden/make_step_fixtures.py");
        }
        try (Restore _ = Scope.suspend()) {
            return new StepFixture(name, Safetensors.read(Path.of(url.toURI())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The fixture's input batch: element i of the flattened (n,c,h,w) tensor is
     * {@link ModelFill#uniform}(fnv1a64(name), i) (make_model_fixtures.py's hash_uniform) for the
     * name in attribute {@code input_name}, a multiple of 2^-23 in [-1, 1), so exact in float.
     * The generator picks the name ("input", "input.1", ...) that keeps every ReLU and max-pool
     * decision of the differentiated forwards well away from its kink (see KinkMonitor there).
     */
    Tensor input(int n, int c, int h, int w) {
        long seed = ModelFill.fnv1a64(attr("input_name"));
        float[] v = new float[n * c * h * w];
        for (int i = 0; i < v.length; i++) v[i] = (float) ModelFill.uniform(seed, i);
        try (Restore _ = Scope.suspend()) {
            return Tensor.of(v, n, c, h, w);
        }
    }

    // ---------------------------------------------------------------- attributes

    String attr(String key) { return f.attr(key); }
    int intAttr(String key) { return f.intAttr(key); }
    double doubleAttr(String key) { return f.doubleAttr(key); }
    boolean boolAttr(String key) { return f.boolAttr(key); }

    // ---------------------------------------------------------------- tensors

    /** A stored tensor, marked used. */
    Tensor tensor(String key) {
        return f.tensor(key);
    }

    boolean has(String key) {
        return f.has(key);
    }

    /** Keys of stored tensors (not their stats) that start with {@code prefix}, the prefix removed. */
    Set<String> names(String prefix) {
        Set<String> out = new LinkedHashSet<>();
        for (String k : f.keysStartingWith(prefix)) out.add(k.substring(prefix.length()));
        return out;
    }

    /** max |x| of the whole stored tensor {@code key} (from its stats when it is sampled). */
    double maxAbs(String key) {
        if (has("stats." + key)) return f.peek("stats." + key).getFlat(1);
        double m = 0;
        for (double v : f.peek(key).toDoubleArray()) m = Math.max(m, Math.abs(v));
        return m;
    }

    /** A stored scalar (a loss) against ours. */
    void compareScalar(String key, double actual, Tolerance tol, String what) {
        Tensor e = tensor(key);
        Close.assertClose(new double[] {actual}, new double[] {e.item()}, tol, what + " (" + key + ")");
        note(key, Math.abs(actual - e.item()) / Math.max(Math.abs(e.item()), Double.MIN_NORMAL));
    }

    /**
     * Our whole tensor against {@code key}: elementwise within {@code tol.atScale(scale)} when
     * stored whole, else the samples at that tolerance and the [RMS, max |x|] of ours against the
     * stored ones at the same tolerance (both are within any bound every element is within).
     */
    void compare(String key, Tensor actual, Tolerance tol, double scale, String what) {
        Tensor expected = tensor(key);
        if (expected.dtype() == DType.I32) { // num_batches_tracked: a count, exactly
            Close.assertClose(actual, expected, Tolerance.EXACT, file + " " + what + " (" + key + ")");
            return;
        }
        Tolerance t = tol.atScale(scale);
        String label = file + " " + what + " (" + key + ", scale " + String.format("%.3g", scale) + ")";
        if (actual.numel() <= fullMax) {
            Close.assertClose(actual, expected, t, label);
            noteDiff(key, actual.toDoubleArray(), expected.toDoubleArray(), scale);
            return;
        }
        double[] all = actual.toDoubleArray();
        long n = all.length;
        if (expected.numel() != samples) throw fail("'" + key + "' has " + expected.numel() + " values; a sampled tensor has " + samples);
        double[] mine = new double[samples];
        for (int k = 0; k < samples; k++) mine[k] = all[(int) Math.floorMod(k * prime, n)];
        Close.assertClose(mine, expected.toDoubleArray(), t, label + " samples");
        double sumSq = 0, max = 0;
        for (double v : all) {
            sumSq += v * v;
            max = Math.max(max, Math.abs(v));
        }
        double[] stats = {Math.sqrt(sumSq / n), max};
        double[] expectedStats = tensor("stats." + key).toDoubleArray();
        // the RMS is a sum taken in another order: at least 1e-12 relative even when comparing exactly
        Close.assertClose(stats, expectedStats, new Tolerance(t.atol(), Math.max(t.rtol(), 1e-12)), label + " [RMS, max |x|] of all " + n);
        noteDiff(key, mine, expected.toDoubleArray(), scale);
        noteDiff(key, stats, expectedStats, scale);
    }

    private void noteDiff(String key, double[] a, double[] e, double scale) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - e[i]));
        note(key, m / scale);
        if (Boolean.getBoolean("stablekd.golden.verbose")) System.out.printf("DIFF %s %s %.3g (scale %.3g)%n", file, key, m / scale, scale);
    }

    private void note(String key, double relative) {
        String rest = key.replaceFirst("^step\\d\\.", "");
        String kind = rest.equals("grad.input") ? rest : rest.split("\\.", 2)[0];
        worst.merge(kind, relative, Math::max);
    }

    /**
     * Every tensor under {@code prefix} (e.g. {@code step1.grad.}) against ours by name; the names
     * must be the same sets. Each is compared at {@code tol.atScale(scale)} with scale = max(max |x|
     * of that tensor, {@code floor}·the largest max |x| under the prefix): float32 errors of a
     * gradient are relative to the gradients flowing through the network, so a structurally zero
     * one (a bias before a train-mode BatchNorm: exactly 0, about 1e-17 in float64) gets the floor.
     */
    void compareAll(String prefix, Map<String, Tensor> actual, Tolerance tol, double floor, String what) {
        Set<String> stored = names(prefix);
        if (!stored.equals(actual.keySet())) {
            Set<String> missing = new LinkedHashSet<>(actual.keySet());
            missing.removeAll(stored);
            Set<String> extra = new LinkedHashSet<>(stored);
            extra.removeAll(actual.keySet());
            throw fail(prefix + "*: no expectation for " + missing + "; nothing of ours for " + extra);
        }
        double largest = 0;
        for (String name : stored) largest = Math.max(largest, maxAbs(prefix + name));
        for (var e : actual.entrySet()) {
            String key = prefix + e.getKey();
            compare(key, e.getValue(), tol, Math.max(maxAbs(key), floor * largest), what + " " + e.getKey());
        }
    }

    /** Largest difference seen per kind of tensor (grad, param, momentum, buffer, loss), relative to its scale. */
    String worstDifferences() {
        StringBuilder sb = new StringBuilder(file + ": max |ours − PyTorch| / scale:");
        worst.forEach((k, v) -> sb.append(String.format(" %s %.2g", k, v)));
        return sb.toString();
    }

    /** Fails if some tensor or attribute of the fixture was never read: the replay would ignore it. */
    void assertAllUsed() {
        f.assertAllUsed("");
    }

    AssertionFailedError fail(String problem) {
        return f.fail(problem);
    }
}
