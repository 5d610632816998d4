package org.stablekd.models;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.io.Safetensors;
import org.stablekd.io.TensorFile;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;

/**
 * The model fixtures written by scripts/golden/make_model_fixtures.py
 * (src/test/resources/golden/models-v1; see the script for the format of each file).
 */
final class ModelFixtures {
    static final String DIR = "golden/models-v1";

    private ModelFixtures() {}

    static Path path(String relative) {
        URL url = ModelFixtures.class.getClassLoader().getResource(DIR + "/" + relative);
        if (url == null) {
            throw new IllegalStateException("missing fixture src/test/resources/" + DIR + "/" + relative
                    + "; regenerate with /usr/bin/python3 scripts/golden/make_model_fixtures.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Rows of a CSV without quotes inside fields (the script quotes only shapes), header skipped. */
    static List<Map<String, String>> csv(String relative) {
        List<String> lines = lines(relative);
        String[] header = lines.getFirst().split(",");
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            List<String> fields = splitCsv(line);
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < header.length; i++) row.put(header[i], fields.get(i));
            rows.add(row);
        }
        return rows;
    }

    private static List<String> splitCsv(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char ch : line.toCharArray()) {
            if (ch == '"') quoted = !quoted;
            else if (ch == ',' && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else cur.append(ch);
        }
        out.add(cur.toString());
        return out;
    }

    static List<String> lines(String relative) {
        try {
            return Files.readAllLines(path(relative)).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads a safetensors fixture into host tensors that outlive any open scope. */
    static TensorFile tensors(String relative) {
        try (Restore _ = Scope.suspend()) {
            return Safetensors.read(path(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "(2,16,32,32)" → Shape. */
    static Shape parseShape(String s) {
        String inner = s.substring(1, s.length() - 1);
        if (inner.endsWith(",")) inner = inner.substring(0, inner.length() - 1);
        if (inner.isEmpty()) return Shape.scalar();
        String[] parts = inner.split(",");
        int[] dims = new int[parts.length];
        for (int i = 0; i < parts.length; i++) dims[i] = Integer.parseInt(parts[i]);
        return Shape.of(dims);
    }
}
