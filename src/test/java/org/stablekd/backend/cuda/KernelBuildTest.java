package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Without a GPU, where nvcc exists (CI has nvcc 13): the fatbin the build made is on the class path
 * and holds every kernel for sm_80 and sm_90 plus compute_90 PTX, and every .cu file compiles on
 * its own. Skipped with a message where nvcc is absent.
 */
class KernelBuildTest {

    static Optional<Path> nvcc() {
        String env = System.getenv("NVCC");
        if (env != null && Files.isExecutable(Path.of(env))) return Optional.of(Path.of(env));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "nvcc");
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        Path p = Path.of("/usr/local/cuda/bin/nvcc");
        return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }

    private static Path requireNvcc() {
        Optional<Path> n = nvcc();
        Assumptions.assumeTrue(n.isPresent(), "nvcc not found (PATH, $NVCC, /usr/local/cuda/bin): the build made no fatbin, nothing to check");
        return n.get();
    }

    /** How often {@code needle} occurs in {@code hay}. */
    private static int count(byte[] hay, byte[] needle) {
        int n = 0;
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            n++;
        }
        return n;
    }

    @Test
    void fatbinHoldsEveryKernelForSm80AndSm90PlusPtx() {
        requireNvcc();
        byte[] fatbin = KernelSources.fatbin();
        assertNotNull(fatbin, "nvcc is present but the jar has no " + KernelSources.FATBIN_RESOURCE
                + "; native/build-kernels.sh should have made it (was the build run with -Dstablekd.skipKernels=true?)");
        // the PTX for compute_90 is kept as text (--no-compress)
        assertTrue(count(fatbin, ".target sm_90".getBytes(StandardCharsets.US_ASCII)) >= 1, "no compute_90 PTX in the fatbin");
        List<String> missing = new ArrayList<>();
        for (Kernel k : Kernel.values()) {
            boolean ptx = count(fatbin, (".entry " + k.symbol() + "(").getBytes(StandardCharsets.US_ASCII)) == 1;
            // each cubin's ELF string table holds the symbol NUL-terminated: one per architecture
            int cubins = count(fatbin, ("\0" + k.symbol() + "\0").getBytes(StandardCharsets.US_ASCII));
            if (!ptx || cubins < 2) missing.add(k.symbol() + " (ptx " + ptx + ", cubins " + cubins + ")");
        }
        assertTrue(missing.isEmpty(), "kernels missing from the fatbin: " + missing);
    }

    @Test
    void everyKernelFileCompilesAlone() throws IOException, InterruptedException {
        Path nvcc = requireNvcc();
        Path out = Files.createTempDirectory("stablekd-ptx");
        List<String> cmd = new ArrayList<>(List.of(nvcc.toString(), "-ptx", "-arch=compute_90", "-std=c++17",
                "-Werror", "all-warnings", "-I", KernelSourcesTest.SOURCES.toString(), "-odir", out.toString()));
        for (String f : KernelSourcesTest.sourceFiles()) if (f.endsWith(".cu")) cmd.add(KernelSourcesTest.SOURCES.resolve(f).toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "nvcc took more than 5 minutes");
        assertTrue(p.exitValue() == 0, "nvcc failed on a kernel file compiled alone:\n" + log);
    }
}
