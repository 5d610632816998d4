package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Source rules behind Note [Determinism]: floating-point lane reductions with an unspecified order
 * (reduceLanes ADD/MUL) make a kernel's result depend on JIT timing, so CPU kernels sum lanes in a
 * fixed order (Simd.sumLanes). MIN/MAX reductions are exact and allowed.
 */
class DeterminismRulesTest {
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
