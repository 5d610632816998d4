package org.stablekd.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.io.Safetensors;
import org.stablekd.tensor.Tensor;

/**
 * Data-parallel training over real MPI: {@code mpirun -np 2} on localhost, each rank a JVM running
 * {@link DistRun}. Needs Open MPI (Debian openmpi-bin, libopenmpi-dev; .ci/run and scripts/test
 * install it); without mpirun these tests are skipped with that reason.
 *
 * <p>Tolerance for "2 ranks with global batch B = 1 rank with batch B" (no BatchNorm, or sync BN):
 * the ranks' half-batch gradients are summed in another order than one rank's whole-batch sums,
 * so the weights differ by float rounding, grown over 14 SGD steps: 1e-5 relative to the
 * largest weight of the tensor (measured on 2026-12-05: 8.6e-8 at most).
 */
class DataParallelTrainingTest {
    static final double TOL = 1e-5;
    static String mpirun;

    @BeforeAll
    static void findMpirun() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            // called by name: an absolute /usr/bin/mpirun makes Open MPI take "/" as its install prefix and refuse
            if (Files.isExecutable(Path.of(dir, "mpirun"))) mpirun = "mpirun";
        }
        Assumptions.assumeTrue(mpirun != null, "mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev) to run the distributed tests");
    }

    /** The command line of one rank (a JVM like this one running DistRun). */
    static List<String> java(Path out, String... keys) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss4m",
                "-Dstablekd.threads=1", "-cp", System.getProperty("java.class.path"), DistRun.class.getName(), "out=" + out));
        cmd.addAll(List.of(keys));
        return cmd;
    }

    static Process start(int ranks, Path out, Path log, String... keys) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (ranks > 0) cmd.addAll(List.of(mpirun, "--allow-run-as-root", "--oversubscribe", "-np", Integer.toString(ranks)));
        cmd.addAll(java(out, keys));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMPI_MCA_btl", "self,vader");   // localhost only: no network probing
        return pb.start();
    }

    /** Runs DistRun on {@code ranks} ranks (0: a plain JVM, no mpirun) and returns its output; fails on a non-zero exit. */
    static String run(int ranks, Path out, String... keys) throws Exception {
        Path log = Files.createTempFile("distrun", ".log");
        Process p = start(ranks, out, log, keys);
        boolean done = p.waitFor(150, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String text = Files.readString(log);
        assertTrue(done, "the run did not finish in 150 s:\n" + text);
        assertEquals(0, p.exitValue(), "exit code; output:\n" + text);
        return text;
    }

    static Map<String, Tensor> state(Path out, int rank) throws IOException {
        return Safetensors.read(out.resolve("state-" + rank + ".safetensors")).tensors();
    }

    /** max |a-b| / max(|b|, 1e-6) over each tensor; fails on NaN (no comparison passes on NaN). */
    static void assertClose(Map<String, Tensor> a, Map<String, Tensor> b, double tol) {
        assertEquals(b.keySet(), a.keySet());
        for (String k : b.keySet()) {
            Tensor x = a.get(k), y = b.get(k);
            double maxAbs = 1e-6, maxDiff = 0;
            for (long i = 0; i < y.numel(); i++) {
                double u = x.getFlat(i), v = y.getFlat(i);
                assertTrue(Double.isFinite(u) && Double.isFinite(v), k + "[" + i + "] is not finite: " + u + " vs " + v);
                maxAbs = Math.max(maxAbs, Math.abs(v));
                maxDiff = Math.max(maxDiff, Math.abs(u - v));
            }
            assertTrue(maxDiff / maxAbs <= tol, k + ": max difference " + maxDiff + " is more than " + tol + " of its largest value " + maxAbs);
        }
    }

    static void assertBitEqual(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertEquals(b.keySet(), a.keySet());
        for (String k : b.keySet()) {
            Tensor x = a.get(k), y = b.get(k);
            for (long i = 0; i < y.numel(); i++) {
                assertEquals(Double.doubleToRawLongBits(y.getFlat(i)), Double.doubleToRawLongBits(x.getFlat(i)), k + "[" + i + "] differs");
            }
        }
    }

    @Test
    void twoRanksKeepIdenticalParametersAndStatistics(@TempDir Path dir) throws Exception {
        String log = run(2, dir, "epochs=2", "bn=true", "check=1");
        assertTrue(log.contains("data-parallel over 2 ranks"), log);
        assertTrue(log.contains("parameters compared every 1 steps"), log);
        // per-rank BatchNorm: the ranks normalised different halves, yet weights and (averaged) statistics agree bit for bit
        assertBitEqual(state(dir, 1), state(dir, 0));
        assertTrue(Files.exists(dir.resolve("run/checkpoint.safetensors")), "rank 0 writes the checkpoint");
        assertEquals(2, Files.readAllLines(dir.resolve("run/metrics.jsonl")).size(), "one metrics line per epoch, from rank 0 alone");
    }

    @Test
    void kdAndStableKdKeepIdenticalParametersOnTwoRanks(@TempDir Path dir) throws Exception {
        String kd = run(2, dir.resolve("kd"), "epochs=2", "method=kd", "check=1");
        assertTrue(kd.contains("parameters compared every 1 steps") && kd.contains("epoch 2/2"), kd);
        assertBitEqual(state(dir.resolve("kd"), 1), state(dir.resolve("kd"), 0));
        // StableKD: decomposition into the net's two blocks, then end-to-end KD (frozen modules, stage changes)
        String skd = run(2, dir.resolve("skd"), "epochs=3", "method=stablekd", "check=1");
        assertTrue(skd.contains("(decomposition)") && skd.contains("(end-to-end KD)") && skd.contains("epoch 3/3"), skd);
        assertBitEqual(state(dir.resolve("skd"), 1), state(dir.resolve("skd"), 0));
    }

    @Test
    void onADeviceTheRanksAllReduceThroughTheHostAndTrainAsOnTheCpu(@TempDir Path dir) throws Exception {
        // the simulated device runs the CPU's kernels behind a device boundary: same bits as the host run
        String log = run(2, dir.resolve("sim"), "epochs=2", "bn=true", "check=1", "device=sim");
        assertTrue(log.contains("all-reduced after backward"), "no communication thread on a device: " + log);
        run(2, dir.resolve("cpu"), "epochs=2", "bn=true");
        assertBitEqual(state(dir.resolve("sim"), 1), state(dir.resolve("sim"), 0));
        assertBitEqual(state(dir.resolve("sim"), 0), state(dir.resolve("cpu"), 0));
    }

    @Test
    void twoRanksWithGlobalBatchBMatchOneRankWithBatchB(@TempDir Path dir) throws Exception {
        run(0, dir.resolve("one"), "epochs=2", "bn=false");
        run(2, dir.resolve("two"), "epochs=2", "bn=false");
        assertClose(state(dir.resolve("two"), 0), state(dir.resolve("one"), 0), TOL);
        // and training moved the weights: the comparison is not between two copies of the initial state
        run(0, dir.resolve("zero"), "epochs=0", "bn=false");
        Tensor w0 = state(dir.resolve("zero"), 0).get("fc.weight"), w2 = state(dir.resolve("one"), 0).get("fc.weight");
        double moved = 0;
        for (long i = 0; i < w0.numel(); i++) moved = Math.max(moved, Math.abs(w0.getFlat(i) - w2.getFlat(i)));
        assertTrue(moved > 100 * TOL, "training changed fc.weight by only " + moved);
    }

    @Test
    void withSyncBatchNormTwoRanksMatchOneRankWithBatchNormToo(@TempDir Path dir) throws Exception {
        run(0, dir.resolve("one"), "epochs=2", "bn=true");
        String log = run(2, dir.resolve("two"), "epochs=2", "bn=true", "syncbn=true");
        assertTrue(log.contains("BatchNorm over the global batch (1 layers)") && log.contains("all-reduced after backward"), log);
        // weights and running statistics: one process's BatchNorm over the whole batch, up to summation order
        assertClose(state(dir.resolve("two"), 0), state(dir.resolve("one"), 0), TOL);
        assertBitEqual(state(dir.resolve("two"), 1), state(dir.resolve("two"), 0));
        // without sync the halves' statistics differ from the whole batch's: the same comparison fails
        run(2, dir.resolve("per-rank"), "epochs=2", "bn=true");
        assertThrows(AssertionError.class, () -> assertClose(state(dir.resolve("per-rank"), 0), state(dir.resolve("one"), 0), TOL));
    }

    @Test
    void aCheckpointOfTwoRanksResumesOnOneAndViceVersa(@TempDir Path dir) throws Exception {
        run(0, dir.resolve("ref"), "epochs=2", "bn=false");
        // 2 ranks for epoch 1, then 1 rank for epoch 2
        run(2, dir.resolve("a"), "epochs=1", "bn=false");
        String resumed = run(0, dir.resolve("a"), "epochs=2", "bn=false", "resume=true");
        assertTrue(resumed.contains("resuming distnet"), resumed);
        assertClose(state(dir.resolve("a"), 0), state(dir.resolve("ref"), 0), TOL);
        // 1 rank for epoch 1, then 2 ranks for epoch 2
        run(0, dir.resolve("b"), "epochs=1", "bn=false");
        resumed = run(2, dir.resolve("b"), "epochs=2", "bn=false", "resume=true");
        assertTrue(resumed.contains("resuming distnet"), resumed);
        assertClose(state(dir.resolve("b"), 0), state(dir.resolve("ref"), 0), TOL);
        assertBitEqual(state(dir.resolve("b"), 1), state(dir.resolve("b"), 0));
        assertEquals(2, Files.readAllLines(dir.resolve("b/run/metrics.jsonl")).size());
    }

    @Test
    void aKilledRankStopsTheJobAndItsLastCheckpointResumes(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("killed.log");
        Process job = start(2, dir, log, "epochs=400", "bn=true", "sleep=20");
        Path ckpt = dir.resolve("run/checkpoint.safetensors");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!(Files.exists(ckpt) && Files.exists(dir.resolve("pid-1"))) && System.nanoTime() < deadline && job.isAlive()) Thread.sleep(100);
        assertTrue(Files.exists(ckpt), "no checkpoint within 90 s:\n" + Files.readString(log));
        long pid = Long.parseLong(Files.readString(dir.resolve("pid-1")).trim());
        long t0 = System.nanoTime();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();   // SIGKILL: no chance to say goodbye
        boolean stopped = job.waitFor(30, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!stopped) job.destroyForcibly().waitFor();
        String text = Files.readString(log);
        assertTrue(stopped, "the job still ran 30 s after rank 1 was killed:\n" + text);
        assertTrue(seconds < 10, "the job took " + seconds + " s to stop");
        assertTrue(text.contains("rank 1") && text.contains("signal 9"), "the output names neither the rank nor the signal:\n" + text);
        assertTrue(job.exitValue() != 0, "a killed job must not exit 0");
        // the checkpoint on disk is whole (atomic writes) and the job resumes from it
        int next = Integer.parseInt(Safetensors.metadata(ckpt).get("next_epoch"));
        assertTrue(next >= 1, "checkpoint epoch " + next);
        String resumed = run(2, dir, "epochs=" + (next + 1), "bn=true", "resume=true");
        assertTrue(resumed.contains("resuming distnet from") && resumed.contains("at epoch " + (next + 1)), resumed);
        assertEquals(Integer.toString(next + 1), Safetensors.metadata(ckpt).get("next_epoch"));
        assertBitEqual(state(dir, 1), state(dir, 0));
    }

    @Test
    void aRankThatFailsEndsTheJobWithItsMessage(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("failed.log");
        Process job = start(2, dir, log, "epochs=50", "fail=1");
        boolean stopped = job.waitFor(60, TimeUnit.SECONDS);
        if (!stopped) job.destroyForcibly().waitFor();
        String text = Files.readString(log);
        assertTrue(stopped, "rank 0 still waited 60 s after rank 1 failed:\n" + text);
        assertTrue(job.exitValue() != 0, "a failed job must not exit 0");
        assertTrue(text.contains("rank 1: java.lang.IllegalStateException: this rank was told to fail"), text);
    }
}
