package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Without a GPU: the CUDA sources, the NVRTC source set and the Java kernel table agree — same
 * files, same kernels, same parameter lists — and the sources include nothing NVRTC lacks.
 */
class KernelSourcesTest {
    static final Path SOURCES = Path.of("src/main/cuda");
    private static final Pattern KERNEL = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern INCLUDE = Pattern.compile("(?m)^\\s*#\\s*include\\s+(\\S+)");

    /** symbol → (file, signature tokens) parsed from every .cu file. */
    static Map<String, String[]> kernelsInSources() throws IOException {
        Map<String, String[]> found = new TreeMap<>();
        for (String file : sourceFiles()) {
            if (!file.endsWith(".cu")) continue;
            String text = Files.readString(SOURCES.resolve(file));
            Matcher m = KERNEL.matcher(text);
            while (m.find()) {
                String previous = found.containsKey(m.group(1)) ? found.get(m.group(1))[0] : null;
                assertEquals(null, previous, "kernel " + m.group(1) + " is defined in " + previous + " and " + file);
                found.put(m.group(1), new String[] {file, signature(m.group(2))});
            }
        }
        return found;
    }

    /** "const float* x, float c, StridedLayout l, i64 n" → "ptr f32 layout i64". */
    static String signature(String params) {
        List<String> out = new ArrayList<>();
        for (String p : params.split(",")) {
            String t = p.trim().replaceAll("\\s+", " ");
            if (t.isEmpty()) continue;
            String type = t.contains("*") ? "ptr"
                    : t.startsWith("StridedLayout") ? "layout"
                    : t.startsWith("i64") || t.startsWith("long long") ? "i64"
                    : t.startsWith("int") ? "i32"
                    : t.startsWith("float") ? "f32"
                    : t.startsWith("double") ? "f64"
                    : "unknown(" + t + ")";
            out.add(type);
        }
        return String.join(" ", out);
    }

    static List<String> sourceFiles() throws IOException {
        try (Stream<Path> s = Files.list(SOURCES)) {
            return s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".cu") || f.endsWith(".cuh")).sorted().toList();
        }
    }

    @Test
    void nvrtcSourceSetIsExactlyTheFilesOfSrcMainCuda() throws IOException {
        assertEquals(new TreeSet<>(sourceFiles()), new TreeSet<>(KernelSources.FILES),
                "KernelSources.FILES (what NVRTC compiles) must list exactly the files of src/main/cuda");
    }

    @Test
    void everySourceIsPackagedForNvrtc() {
        for (String f : KernelSources.FILES) {
            assertFalse(KernelSources.read(f).isBlank(), f + " is empty in the jar");
        }
    }

    @Test
    void theUnitySourceIncludesEveryKernelFileOnce() throws IOException {
        String unity = KernelSources.unitySource();
        for (String f : sourceFiles()) {
            int count = unity.split("#include \"" + Pattern.quote(f) + "\"", -1).length - 1;
            assertEquals(f.endsWith(".cu") ? 1 : 0, count, f + " in the unity source:\n" + unity);
        }
    }

    @Test
    void javaKernelTableMatchesTheSources() throws IOException {
        Map<String, String[]> sources = kernelsInSources();
        Map<Kernel, String> problems = new EnumMap<>(Kernel.class);
        for (Kernel k : Kernel.values()) {
            String[] s = sources.remove(k.symbol());
            if (s == null) problems.put(k, "not defined in any .cu file");
            else if (!s[0].equals(k.file)) problems.put(k, "defined in " + s[0] + ", the table says " + k.file);
            else if (!s[1].equals(k.signature)) problems.put(k, "takes (" + s[1] + "), the table says (" + k.signature + ")");
        }
        assertTrue(problems.isEmpty(), "Kernel table vs src/main/cuda: " + problems);
        assertTrue(sources.isEmpty(), "kernels in src/main/cuda missing from the Kernel table: " + sources.keySet());
    }

    @Test
    void sourcesIncludeOnlyTheSharedHeader() throws IOException {
        // NVRTC has no system headers: a kernel file may include common.cuh and nothing else
        for (String f : sourceFiles()) {
            Matcher m = INCLUDE.matcher(Files.readString(SOURCES.resolve(f)));
            while (m.find()) assertEquals("\"common.cuh\"", m.group(1), f + " includes " + m.group(1));
        }
    }

    @Test
    void everyKernelFileStartsWithItsMathAndLaunchComment() throws IOException {
        for (String f : sourceFiles()) {
            String text = Files.readString(SOURCES.resolve(f));
            assertTrue(text.startsWith("//"), f + " must open with a comment on its math and layout");
            if (f.endsWith(".cu")) assertTrue(text.contains("Launch"), f + ": say how blocks and grids are chosen (a 'Launch:' note)");
        }
    }
}
