package org.stablekd.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Appends one JSON object per epoch to {@code metrics.jsonl}. */
public final class MetricsLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;

    public MetricsLog(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    public void append(Map<String, Object> record) throws IOException {
        String line = JSON.writeValueAsString(record) + "\n";
        Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** On resume: drops the records of epochs ≥ {@code fromEpoch} (written after the checkpoint resumed from). */
    public void truncateFrom(int fromEpoch) throws IOException {
        if (!Files.exists(file)) return;
        List<String> keep = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            Map<?, ?> rec = JSON.readValue(line, Map.class);
            Object e = rec.get("epoch");
            if (e instanceof Number num && num.intValue() >= fromEpoch) continue;
            keep.add(line);
        }
        Files.write(file, keep, StandardCharsets.UTF_8);
    }

    /** All records (for reports). */
    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            @SuppressWarnings("unchecked")
            Map<String, Object> rec = JSON.readValue(line, LinkedHashMap.class);
            out.add(rec);
        }
        return out;
    }
}
