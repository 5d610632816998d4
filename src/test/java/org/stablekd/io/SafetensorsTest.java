package org.stablekd.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;
import static org.stablekd.testing.Close.assertCloseAllowingNonFinite;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

class SafetensorsTest {
    @TempDir
    Path dir;

    // ---------------------------------------------------------------- round trips

    @Test
    void roundTripKeepsOrderDtypesValuesAndMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("conv1.weight", Tensor.of(floats(2 * 3 * 3 * 3), 2, 3, 3, 3));
        tensors.put("bn1.running_var", Tensor.ofDoubles(new double[] {1 / 3.0, -1e300, Double.MIN_VALUE}, 3));
        tensors.put("labels", Tensor.ofInts(new int[] {Integer.MIN_VALUE, 0, 7, Integer.MAX_VALUE}, 4));
        tensors.put("a.scalar", Tensor.scalar(DType.F32, 42));
        tensors.put("empty", Tensor.zeros(DType.F32, 0, 4));
        tensors.put("transposed", Tensor.of(floats(6), 2, 3).permuteView(1, 0)); // strided: written row-major
        Map<String, String> meta = Map.of("model", "resnet20", "note", "ünïcödé ✓");
        Path file = dir.resolve("ckpt.safetensors");

        Safetensors.write(file, tensors, meta);
        TensorFile back = Safetensors.read(file);

        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()), "header order is kept");
        for (var kv : tensors.entrySet()) {
            Tensor read = back.tensors().get(kv.getKey());
            assertEquals(kv.getValue().dtype(), read.dtype(), kv.getKey() + " dtype");
            assertClose(read, kv.getValue(), Tolerance.EXACT, kv.getKey());
        }
        assertEquals(meta, back.metadata());
        assertEquals(meta, Safetensors.metadata(file));
        assertEquals(0, (8 + headerLength(file)) % 8, "data section starts 8-byte aligned");
    }

    @Test
    void halfPrecisionTensorsAreWrittenAsSuchAndReadBackAsF32() throws IOException {
        Tensor f16 = Tensor.empty(DType.F16, 4), bf16 = Tensor.empty(DType.BF16, 4);
        double[] values = {1 / 3.0, -2.5, 65504, 1e-7};
        for (int i = 0; i < 4; i++) {
            f16.setFlat(i, values[i]);
            bf16.setFlat(i, values[i]);
        }
        Path file = dir.resolve("half.safetensors");
        Safetensors.write(file, Map.of("h", f16), Map.of());
        assertTrue(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).contains("\"dtype\":\"F16\""));
        Tensor back = Safetensors.read(file).tensors().get("h");
        assertEquals(DType.F32, back.dtype());
        assertClose(back, f16, Tolerance.EXACT, "F16 widened to F32");

        Safetensors.write(file, Map.of("b", bf16), Map.of());
        assertClose(Safetensors.read(file).tensors().get("b"), bf16, Tolerance.EXACT, "BF16 widened to F32");
    }

    @Test
    void fileWithoutTensors() throws IOException {
        Path file = dir.resolve("meta-only.safetensors");
        Safetensors.write(file, Map.of(), Map.of("epoch", "3"));
        TensorFile back = Safetensors.read(file);
        assertTrue(back.tensors().isEmpty());
        assertEquals(Map.of("epoch", "3"), back.metadata());
    }

    @Test
    void writeReplacesTheFileAtomicallyAndLeavesNoTemporaries() throws IOException {
        Path file = dir.resolve("w.safetensors");
        Safetensors.write(file, Map.of("x", Tensor.of(new float[] {1, 2}, 2)), Map.of("v", "1"));
        Safetensors.write(file, Map.of("y", Tensor.of(new float[] {3}, 1)), Map.of("v", "2"));
        assertEquals(Map.of("v", "2"), Safetensors.metadata(file));
        assertEquals(List.of("y"), List.copyOf(Safetensors.read(file).tensors().keySet()));

        // a write that fails keeps the previous file and leaves nothing behind
        assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(file, Map.of("__metadata__", Tensor.of(new float[] {1}, 1)), Map.of()));
        assertEquals(Map.of("v", "2"), Safetensors.metadata(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    // ---------------------------------------------------------------- a file from an independent writer

    @Test
    void readsTheFileWrittenByThePythonFixtureWriter() throws IOException, URISyntaxException {
        Path file = Path.of(getClass().getResource("/golden/io-v1/dtypes.safetensors").toURI());
        TensorFile f = Safetensors.read(file);
        Map<String, Tensor> t = f.tensors();

        assertEquals(List.of("f32", "f64", "f16", "f16_as_f32", "bf16", "bf16_as_f32", "i32", "i64", "i64_as_i32", "scalar", "empty"),
                List.copyOf(t.keySet()));
        assertEquals("stablekd-golden-io-v1", f.metadata().get("format"));

        assertCloseAllowingNonFinite(t.get("f32"), Tensor.of(new float[] {1.5f, -2.25f, 3e-8f, Float.POSITIVE_INFINITY, -0f, 1e30f}, 2, 3), Tolerance.EXACT, "f32");
        assertClose(t.get("f64"), Tensor.ofDoubles(new double[] {1 / 3.0, -1e300, Double.MIN_VALUE}, 3), Tolerance.EXACT, "f64");
        assertEquals(DType.F64, t.get("f64").dtype());
        // PyTorch's own widening is the expectation: subnormals, ±0, ±inf and NaN included
        assertEquals(DType.F32, t.get("f16").dtype());
        assertCloseAllowingNonFinite(t.get("f16"), t.get("f16_as_f32"), Tolerance.EXACT, "F16 -> F32");
        assertEquals(DType.F32, t.get("bf16").dtype());
        assertCloseAllowingNonFinite(t.get("bf16"), t.get("bf16_as_f32"), Tolerance.EXACT, "BF16 -> F32");
        assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 7}, t.get("i32").toIntArray());
        assertEquals(DType.I32, t.get("i64").dtype());
        assertArrayEquals(t.get("i64_as_i32").toIntArray(), t.get("i64").toIntArray());
        assertEquals(Shape.scalar(), t.get("scalar").shape());
        assertEquals(42.0, t.get("scalar").item());
        assertEquals(Shape.of(0, 3), t.get("empty").shape());
    }

    // ---------------------------------------------------------------- malformed files: one clear message each

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path file = Files.write(dir.resolve("tiny.safetensors"), new byte[] {1, 2, 3, 4, 5});
        assertBad(file, "5 bytes, shorter than the 8-byte header length");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path file = raw("long.safetensors", 1000, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertBad(file, "header length 1000 runs past the end of the file (10 bytes)");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        assertBad(raw("huge.safetensors", -1L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 18446744073709551615 is absurd");
        assertBad(raw("big.safetensors", 1L << 40, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 1099511627776 is absurd");
    }

    @Test
    void malformedJson() throws IOException {
        assertBad(file("broken.safetensors", "{\"a\": {\"dtype\": \"F32\",", 0), "the header is not valid JSON");
        assertBad(file("array.safetensors", "[1, 2]", 0), "the header must be a JSON object");
        assertBad(file("dup.safetensors", entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8), 8),
                "not valid JSON", "Duplicate field 'a'");
        assertBad(file("trailing.safetensors", "{} {}", 0), "not valid JSON");
    }

    @Test
    void unknownDtype() throws IOException {
        assertBad(file("q4.safetensors", entry("conv1.weight", "Q4_0", "[2]", 0, 2), 2),
                "tensor 'conv1.weight' has dtype 'Q4_0', which stablekd does not read (it reads F32, F64, F16, BF16, I32, I64)");
        assertBad(file("u8.safetensors", entry("img", "U8", "[2]", 0, 2), 2), "tensor 'img' has dtype 'U8'");
    }

    @Test
    void shapeAndOffsetsDisagree() throws IOException {
        assertBad(file("span.safetensors", entry("fc.weight", "F32", "[2, 3]", 0, 20), 24),
                "tensor 'fc.weight': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] span 20");
    }

    @Test
    void badShapesAndOffsets() throws IOException {
        assertBad(file("neg.safetensors", entry("w", "F32", "[-1]", 0, 4), 4), "tensor 'w': shape [-1] has -1 at position 0");
        assertBad(file("frac.safetensors", entry("w", "F32", "[1.5]", 0, 4), 4), "tensor 'w': shape [1.5]");
        assertBad(file("back.safetensors", entry("w", "F32", "[1]", 8, 4), 8), "tensor 'w': data_offsets [8, 4] end before they begin");
        assertBad(file("three.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8),
                "tensor 'w': data_offsets must be [begin, end]");
        assertBad(file("nooffsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 8), "tensor 'w' lacks \"data_offsets\"");
        assertBad(file("meta.safetensors", "{\"__metadata__\":{\"epoch\":3}}", 0), "metadata 'epoch' must be a string");
    }

    @Test
    void offsetsOutsideTheDataSection() throws IOException {
        Path file = file("weights.safetensors", entry("conv1.weight", "F32", "[16, 3, 3, 3]", 0, 1728), 1200);
        assertBad(file, "tensor 'conv1.weight' data_offsets [0, 1728] exceed the data section (1200 bytes); the file is truncated or corrupt");
    }

    @Test
    void overlappingTensors() throws IOException {
        assertBad(file("overlap.safetensors", entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[4]", 8, 24), 24),
                "tensors 'a' [0, 16] and 'b' [8, 24] overlap");
    }

    @Test
    void truncatedData() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        Safetensors.write(file, Map.of("fc.bias", Tensor.of(floats(10), 10)), Map.of());
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(whole, whole.length - 3));
        assertBad(file, "tensor 'fc.bias' data_offsets [0, 40] exceed the data section (37 bytes); the file is truncated");
    }

    @Test
    void i64BeyondTheI32Range() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(3).putLong(1L << 40);
        Path file = raw("labels.safetensors", -2, ("{" + entry("labels", "I64", "[2]", 0, 16) + "}").getBytes(StandardCharsets.UTF_8), data.array());
        assertBad(file, "tensor 'labels' (I64) holds 1099511627776 at element 1, outside the I32 range");
    }

    // ---------------------------------------------------------------- helpers

    private static float[] floats(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i - n / 2f) * 0.37f;
        return v;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    /** A file whose header is {@code json} (braces added unless it already is a JSON value) and {@code dataBytes} zero bytes. */
    private Path file(String name, String json, int dataBytes) throws IOException {
        String text = json.startsWith("{") || json.startsWith("[") ? json : "{" + json + "}";
        return raw(name, -2, text.getBytes(StandardCharsets.UTF_8), new byte[dataBytes]);
    }

    /** Length field {@code headerLength} (−2: the real length), then {@code header} and {@code data}. */
    private Path raw(String name, long headerLength, byte[] header, byte[] data) throws IOException {
        long len = headerLength == -2 ? header.length : headerLength;
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(len).put(header).put(data);
        return Files.write(dir.resolve(name), b.array());
    }

    private static long headerLength(Path file) throws IOException {
        byte[] first = Files.readAllBytes(file);
        return ByteBuffer.wrap(first, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Reading fails with one message that starts with the file and contains each fragment. */
    private static void assertBad(Path file, String... fragments) {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(file));
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file + ": "), "message should start with the file: " + msg);
        for (String f : fragments) assertTrue(msg.contains(f), "message should contain \"" + f + "\": " + msg);
        assertEquals(file, e.file());
    }
}
