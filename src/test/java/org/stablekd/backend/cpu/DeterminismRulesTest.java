package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.Restore;
import org.stablekd.testing.TrainingStepRun;

/**
 * Note [Determinism]: a run is bit-identical for the same seed and thread count. Checked directly: a whole training
 * step (forward, loss, backward, SGD over the parameter slab, BatchNorm running statistics) run twice on each host
 * backend, here and, since {@link Parallel}'s pool size is fixed per JVM ({@code -Dstablekd.threads}), in a child JVM
 * with another thread count. And one source rule behind it: floating-point lane reductions with an unspecified order
 * (reduceLanes ADD/MUL) make a kernel's result depend on JIT timing, so CPU kernels sum lanes in a fixed order
 * (Simd.sumLanes). MIN/MAX reductions are exact and allowed.
 */
class DeterminismRulesTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ref", "cpu"})
    void aTrainingStepRunTwiceIsBitIdentical(String backend) {
        Map<String, float[]> first, second;
        try (Restore r = Backends.use(Backends.named(backend))) {
            first = TrainingStepRun.resnet8();
            second = TrainingStepRun.resnet8();
        }
        TrainingStepRun.assertBitIdentical(first, second, backend + " backend" + (backend.equals("cpu") ? ", " + Parallel.threads() + " threads" : ""));
        // The steps did train: the parameters moved and BatchNorm saw both batches.
        assertFalse(Arrays.equals(first.get("initial parameters"), first.get("parameters")), "SGD moved the parameters");
        assertEquals(TrainingStepRun.STEPS, first.get("buffer bn1.num_batches_tracked")[0], "BN counted the steps");
        assertTrue(first.get("buffer bn1.running_var")[0] != 1f, "BN running variance updated");
    }

    /**
     * The cpu backend with one more pool thread than this JVM has (other chunk boundaries, other conv paths), run twice
     * in a child JVM. Only the same thread count is promised (1 and 2 threads give different bits).
     */
    @Test
    void aTrainingStepRunTwiceIsBitIdenticalWithAnotherThreadCount() throws Exception {
        int threads = Parallel.threads() + 1;
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent") && !a.startsWith("-Xrunjdwp") && !a.startsWith("-Dstablekd.threads")) cmd.add(a);
        }
        cmd.addAll(List.of("-Dstablekd.threads=" + threads, "-cp", System.getProperty("java.class.path"), TrainingStepRun.class.getName(), "cpu"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();   // prints a line or two: the pipe never fills
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish in 120 s: " + cmd);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.startsWith("WARNING: Using incubator modules")).collect(Collectors.joining("\n"));
        assertEquals(0, p.exitValue(), "child JVM (" + threads + " threads): " + out);
        assertTrue(out.contains("bit-identical: cpu backend, " + threads + " threads"), out);
    }

    @Test
    void noUnorderedFloatLaneReductionsInCpuKernels() throws Exception {
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("src/main/java/org/stablekd/backend/cpu"))) {
            for (Path f : files.toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    String l = lines.get(i);
                    if (l.trim().startsWith("*") || l.trim().startsWith("//")) continue;
                    if (l.contains("reduceLanes(VectorOperators.ADD") || l.contains("reduceLanes(VectorOperators.MUL")
                            || l.contains("reduceLanes(ADD") || l.contains("reduceLanes(MUL")) {
                        offenders.add(f.getFileName() + ":" + (i + 1));
                    }
                }
            }
        }
        assertTrue(offenders.isEmpty(), "unordered float lane reductions (use Simd.sumLanes): " + offenders);
    }
}
