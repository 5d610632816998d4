package org.stablekd.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertBitIdentical;
import static org.stablekd.testing.Close.assertClose;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.io.Safetensors;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/**
 * Synchronized BatchNorm over real MPI: {@code mpirun -np 2} JVMs ({@link SyncBatchNormRank})
 * holding 3 and 5 of 8 samples match ordinary BatchNorm on all 8 in this JVM, as
 * {@link SyncBatchNormTest} does with two threads. Skipped where mpirun is missing.
 */
class SyncBatchNormMpiTest {

    @Test
    void twoMpiRanksEqualTheWholeBatch(@TempDir Path out) throws Exception {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            found |= Files.isExecutable(Path.of(dir, "mpirun"));
        }
        Assumptions.assumeTrue(found, "mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev) to run the distributed tests");
        // mpirun by name: an absolute /usr/bin/mpirun makes Open MPI take "/" as its install prefix
        List<String> cmd = new ArrayList<>(List.of("mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2",
                ProcessHandle.current().info().command().orElse("java"), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-ea", "-Dstablekd.poison=true", "-Dstablekd.threads=1",
                "-cp", System.getProperty("java.class.path"), SyncBatchNormRank.class.getName(), out.toString()));
        Path log = out.resolve("log.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMPI_MCA_btl", "self,vader");   // localhost only: no network probing
        Process p = pb.start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String text = Files.readString(log);
        assertTrue(done, "mpirun did not finish in 120 s:\n" + text);
        assertEquals(0, p.exitValue(), "exit code; output:\n" + text);

        Map<String, Tensor> r0 = Safetensors.read(out.resolve("rank-0.safetensors")).tensors();
        Map<String, Tensor> r1 = Safetensors.read(out.resolve("rank-1.safetensors")).tensors();
        Tolerance tol = Tolerance.SYNC_BN_VS_WHOLE_BATCH;
        for (boolean relu : new boolean[] {false, true}) {
            SyncBatchNormTest.Result whole = SyncBatchNormTest.train(SyncBatchNormTest.batchNorm(), 0, SyncBatchNormTest.N, relu);
            String k = relu ? "relu." : "bn.";
            assertClose(SyncBatchNormTest.concat(f(r0, k + "y"), f(r1, k + "y")), whole.y(), tol, k + "output");
            assertClose(SyncBatchNormTest.concat(f(r0, k + "dx"), f(r1, k + "dx")), whole.dx(), tol, k + "input gradient");
            assertClose(SyncBatchNormTest.add(f(r0, k + "dgamma"), f(r1, k + "dgamma")), whole.dgamma(), tol, k + "weight gradient (sum)");
            assertClose(SyncBatchNormTest.add(f(r0, k + "dbeta"), f(r1, k + "dbeta")), whole.dbeta(), tol, k + "bias gradient (sum)");
            assertClose(f(r0, k + "running_mean"), whole.runMean(), tol, k + "running mean");
            assertClose(f(r0, k + "running_var"), whole.runVar(), tol, k + "running variance");
            assertBitIdentical(f(r0, k + "running_mean"), f(r1, k + "running_mean"), k + "running mean, rank 0 against rank 1");
            assertBitIdentical(f(r0, k + "running_var"), f(r1, k + "running_var"), k + "running variance, rank 0 against rank 1");
        }
    }

    private static float[] f(Map<String, Tensor> m, String key) {
        Tensor t = m.get(key);
        assertTrue(t != null, "no " + key + " in " + m.keySet());
        return t.toFloatArray();
    }
}
