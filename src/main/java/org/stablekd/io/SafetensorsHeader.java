package org.stablekd.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file: one {@link Entry} per tensor, in
 * header order, and the string metadata. Every check a reader needs before touching the data
 * section happens here, so a bad file fails with one message naming the file and the tensor.
 */
record SafetensorsHeader(List<Entry> entries, Map<String, String> metadata) {
    static final String METADATA_KEY = "__metadata__";

    /** One tensor: its dtype in the file, shape and byte range within the data section. */
    record Entry(String name, FileDType dtype, int[] shape, long begin, long end) {
        long numel() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        String offsets() {
            return "[" + begin + ", " + end + "]";
        }
    }

    static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    /**
     * Parses {@code json} and checks it against a data section of {@code dataBytes} bytes:
     * known dtypes, shapes that match their byte ranges, ranges inside the section and disjoint.
     */
    static SafetensorsHeader parse(Path file, byte[] json, long dataBytes) throws SafetensorsFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) { // from an in-memory array: always a parse error
            String why = e instanceof JacksonException je ? je.getOriginalMessage() + locationOf(je) : e.getMessage();
            throw new SafetensorsFormatException(file, "the header is not valid JSON (" + why + "); the file is corrupt or not safetensors");
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(file, "the header must be a JSON object {name: {dtype, shape, data_offsets}, ...}, found "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase()));
        }
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                entries.add(readEntry(file, field.getKey(), field.getValue()));
            }
        }
        checkRanges(file, entries, dataBytes);
        return new SafetensorsHeader(entries, metadata);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) throws SafetensorsFormatException {
        if (!node.isObject()) {
            throw new SafetensorsFormatException(file, "'__metadata__' must be an object of strings, found " + node.getNodeType().toString().toLowerCase());
        }
        for (Map.Entry<String, JsonNode> kv : node.properties()) {
            if (!kv.getValue().isTextual()) {
                throw new SafetensorsFormatException(file, "metadata '" + kv.getKey() + "' must be a string, found " + kv.getValue());
            }
            out.put(kv.getKey(), kv.getValue().textValue());
        }
    }

    private static Entry readEntry(Path file, String name, JsonNode node) throws SafetensorsFormatException {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafetensorsFormatException(file, where + " must be an object {dtype, shape, data_offsets}, found " + node);
        }
        JsonNode dtypeNode = node.get("dtype"), shapeNode = node.get("shape"), offsetsNode = node.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offsetsNode == null) {
            throw new SafetensorsFormatException(file, where + " lacks " + (dtypeNode == null ? "\"dtype\"" : shapeNode == null ? "\"shape\"" : "\"data_offsets\""));
        }
        if (!dtypeNode.isTextual()) throw new SafetensorsFormatException(file, where + ": dtype must be a string, found " + dtypeNode);
        FileDType dtype = FileDType.parse(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafetensorsFormatException(file, where + " has dtype '" + dtypeNode.textValue()
                    + "', which stablekd does not read (it reads " + FileDType.supportedList() + ")");
        }
        if (!shapeNode.isArray()) throw new SafetensorsFormatException(file, where + ": shape must be an array of sizes, found " + shapeNode);
        int[] shape = new int[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToInt() || !d.isIntegralNumber() || d.intValue() < 0) {
                throw new SafetensorsFormatException(file, where + ": shape " + shapeNode + " has " + d + " at position " + i
                        + "; sizes must be integers in [0, " + Integer.MAX_VALUE + "]");
            }
            shape[i] = d.intValue();
        }
        if (!offsetsNode.isArray() || offsetsNode.size() != 2
                || !isNonNegativeLong(offsetsNode.get(0)) || !isNonNegativeLong(offsetsNode.get(1))) {
            throw new SafetensorsFormatException(file, where + ": data_offsets must be [begin, end] with non-negative integers, found " + offsetsNode);
        }
        long begin = offsetsNode.get(0).longValue(), end = offsetsNode.get(1).longValue();
        if (begin > end) throw new SafetensorsFormatException(file, where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        Entry e = new Entry(name, dtype, shape, begin, end);
        long expected;
        try {
            expected = 1;
            for (int d : shape) expected = Math.multiplyExact(expected, d);
            expected = Math.multiplyExact(expected, dtype.bytes);
        } catch (ArithmeticException overflow) {
            throw new SafetensorsFormatException(file, where + ": shape " + Arrays.toString(shape) + " is too large");
        }
        if (expected != end - begin) {
            throw new SafetensorsFormatException(file, where + ": shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expected
                    + " bytes but data_offsets " + e.offsets() + " span " + (end - begin));
        }
        return e;
    }

    private static boolean isNonNegativeLong(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0;
    }

    /** Each byte range inside the data section, and no two overlapping. */
    private static void checkRanges(Path file, List<Entry> entries, long dataBytes) throws SafetensorsFormatException {
        for (Entry e : entries) {
            if (e.end() > dataBytes) {
                throw new SafetensorsFormatException(file, "tensor '" + e.name() + "' data_offsets " + e.offsets()
                        + " exceed the data section (" + dataBytes + " bytes); the file is truncated or corrupt");
            }
        }
        List<Entry> byStart = new ArrayList<>(entries);
        byStart.removeIf(e -> e.begin() == e.end()); // empty tensors occupy no bytes
        byStart.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byStart.size(); i++) {
            Entry a = byStart.get(i - 1), b = byStart.get(i);
            if (b.begin() < a.end()) {
                throw new SafetensorsFormatException(file, "tensors '" + a.name() + "' " + a.offsets() + " and '" + b.name() + "' "
                        + b.offsets() + " overlap in the data section; the file is corrupt");
            }
        }
    }

    private static String locationOf(JacksonException e) {
        var loc = e.getLocation();
        return loc == null || loc.getByteOffset() < 0 ? "" : " at header byte " + loc.getByteOffset();
    }
}
