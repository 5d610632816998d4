package org.stablekd.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.distill.AT;
import org.stablekd.ops.Conv;
import org.stablekd.ops.Dense;
import org.stablekd.ops.Distill;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Norm;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/**
 * Replays every PyTorch golden fixture (src/test/resources/golden/ops-v1, written by
 * scripts/golden/make_op_fixtures.py) on the {@code ref} and the {@code cpu} backend: the output,
 * the gradient of every input that has one in the fixture, and in-place state (BN running
 * statistics) must match within {@link Tolerance#GOLDEN_F32}. One dynamic test per file and
 * backend; a file whose op this class cannot replay fails, as does one with a tensor or attribute
 * the replay did not use.
 */
class OpGoldenTest {
    static final String DIR = "golden/ops-v1";
    static final String FORMAT = "stablekd-golden-ops-v1";

    /** How to run each fixture op on our engine: the forward from the fixture's inputs and attributes. */
    static final Map<String, Function<GoldenFixture, Tensor>> OPS = Map.ofEntries(
            Map.entry("conv2d", f -> {
                int[] stride = f.pairAttr("stride"), pad = f.pairAttr("padding");
                return Conv.conv2d(f.input("x"), f.input("weight"), f.optionalInput("bias"),
                        stride[0], stride[1], pad[0], pad[1], f.intAttr("groups"));
            }),
            Map.entry("linear", f -> Dense.linear(f.input("x"), f.input("weight"), f.optionalInput("bias"))),
            Map.entry("batch_norm", f -> Norm.batchNorm(f.input("x"), f.input("weight"), f.input("bias"),
                    f.input("running_mean"), f.input("running_var"), f.boolAttr("training"), f.doubleAttr("momentum"), f.doubleAttr("eps"))),
            Map.entry("max_pool2d", f -> Pool.maxPool2d(f.input("x"), f.intAttr("kernel_size"), f.intAttr("stride"),
                    f.intAttr("padding"), f.boolAttr("ceil_mode"))),
            Map.entry("avg_pool2d", f -> {
                if (!f.boolAttr("count_include_pad")) throw f.fail("our avg_pool2d only has count_include_pad=True");
                return Pool.avgPool2d(f.input("x"), f.intAttr("kernel_size"), f.intAttr("stride"), f.intAttr("padding"), f.boolAttr("ceil_mode"));
            }),
            Map.entry("global_avg_pool", f -> Pool.globalAvgPool(f.input("x"))),
            Map.entry("softmax", f -> Losses.softmax(f.input("x"), f.doubleAttr("temperature"))),
            Map.entry("log_softmax", f -> Losses.logSoftmax(f.input("x"), f.doubleAttr("temperature"))),
            Map.entry("cross_entropy", f -> Losses.crossEntropy(f.input("logits"), f.input("labels"), f.doubleAttr("label_smoothing"))),
            Map.entry("kd_loss", f -> Losses.kdLoss(f.input("student"), f.input("teacher"), f.doubleAttr("temperature"))),
            Map.entry("mse_loss", f -> Losses.mse(f.input("input"), f.input("target"))),
            Map.entry("dkd_loss", f -> Distill.dkdLoss(f.input("student"), f.input("teacher"), f.input("labels"),
                    f.doubleAttr("alpha"), f.doubleAttr("beta"), f.doubleAttr("temperature"))),
            Map.entry("attention_map", f -> Distill.attentionMap(f.input("x"))),
            // not an op: RepDistiller's at_loss of one feature pair (pooling + two maps + MSE), AT's building block
            Map.entry("at_loss", f -> AT.pairLoss(f.input("student"), f.input("teacher"))));

    static List<Backend> backends() {
        return List.of(Backends.ref(), Backends.cpu());
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureOnEveryBackend() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : GoldenFixtures.list(DIR)) {
            String name = file.getFileName().toString().replace(".safetensors", "");
            for (Backend backend : backends()) {
                tests.add(DynamicTest.dynamicTest(name + " [" + backend.name() + "]", () -> replay(file, backend)));
            }
        }
        return tests.stream();
    }

    /** The fixture set is not empty and exercises every op this test knows how to replay. */
    @Test
    void fixturesCoverEveryReplayableOp() throws IOException {
        List<Path> files = GoldenFixtures.list(DIR);
        assertFalse(files.isEmpty(), "no fixtures in " + DIR + "; run scripts/golden/make_op_fixtures.py");
        Set<String> seen = new TreeSet<>();
        for (Path file : files) seen.add(new GoldenFixture(file).op());
        assertEquals(new TreeSet<>(OPS.keySet()), seen, "ops replayed vs ops with a fixture");
    }

    static void replay(Path file, Backend backend) throws IOException {
        try (Scope _ = Scope.open(); Restore _ = Backends.use(backend)) {
            GoldenFixture f = new GoldenFixture(file);
            String what = f.caseName() + " [" + backend.name() + "]";
            if (!f.format().equals(FORMAT)) throw f.fail("format '" + f.format() + "', this test reads " + FORMAT);
            if (!file.getFileName().toString().equals(f.caseName() + ".safetensors")) throw f.fail("case '" + f.caseName() + "' differs from its file name");
            Function<GoldenFixture, Tensor> forward = OPS.get(f.op());
            if (forward == null) {
                throw f.fail("op '" + f.op() + "' is unknown to OpGoldenTest; add it to OpGoldenTest.OPS (known: " + new TreeSet<>(OPS.keySet()) + ")");
            }

            Tensor out = forward.apply(f);
            assertClose(out, f.expected("output"), Tolerance.GOLDEN_F32, what + " output");

            Set<String> gradKeys = f.keysStartingWith("grad.");
            assertFalse(gradKeys.isEmpty(), what + ": a fixture checks at least one gradient");
            Autograd.backward(out, f.expected("grad_out"));
            for (String key : gradKeys) {
                String arg = key.substring("grad.".length());
                Tensor leaf = f.leaves().get(arg);
                if (leaf == null) throw f.fail("has '" + key + "' but the op never took input '" + arg + "'");
                assertTrue(leaf.grad() != null, what + ": no gradient reached input '" + arg + "'");
                assertClose(leaf.grad(), f.expected(key), Tolerance.GOLDEN_F32, what + " gradient of " + arg);
            }
            for (String key : f.keysStartingWith("after.")) {
                String arg = key.substring("after.".length());
                Tensor state = f.leaves().get(arg);
                if (state == null) throw f.fail("has '" + key + "' but the op never took input '" + arg + "'");
                assertClose(state, f.expected(key), Tolerance.GOLDEN_F32, what + " " + arg + " after the op");
            }
            f.assertAllUsed();
        }
    }
}
