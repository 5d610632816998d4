package org.stablekd.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.tensor.Shape;

/** The README's predictor example, extracted between its markers, compiles and runs as written. */
class ReadmeExampleTest {
    @Test
    void theReadmePredictorExampleCompilesAndRuns(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int a = readme.indexOf("<!-- predictor-example -->"), b = readme.indexOf("<!-- /predictor-example -->");
        assertTrue(a >= 0 && b > a, "README.md has the predictor example markers");
        String block = readme.substring(a, b);
        String code = block.substring(block.indexOf("```java") + 7, block.lastIndexOf("```"));
        long lines = code.lines().filter(l -> !l.isBlank() && !l.startsWith("import")).count();
        assertTrue(lines <= 12, "the example stays short: " + lines + " lines");
        Path src = dir.resolve("Classify.java");
        Files.writeString(src, code);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, null, err, "-d", dir.toString(), "-cp", System.getProperty("java.class.path"), src.toString());
        assertEquals(0, rc, "javac: " + err);
        Path weights = PredictorTest.trainedWeights(dir, "resnet8", Shape.of(1, 32, 32), 10);
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader cl = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true));
            cl.loadClass("Classify").getMethod("main", String[].class).invoke(null, (Object) new String[] {weights.toString()});
        } finally {
            System.setOut(old);
        }
        assertTrue(out.toString().startsWith("classes "), "the example printed: " + out);
        assertTrue(out.toString().contains(" of 10; logit "), out.toString());
        List.of(out.toString()).forEach(old::print);
    }
}
