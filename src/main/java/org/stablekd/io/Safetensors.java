package org.stablekd.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.tensor.Tensor;

/**
 * Reads and writes the safetensors format (checkpoints, golden fixtures): an 8-byte
 * little-endian header length N, N bytes of JSON
 * {@code {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}},
 * then the little-endian data section the offsets index.
 *
 * <p>Reading accepts F32, F64, I32, F16, BF16 and I64: F16 and BF16 widen to F32, I64 narrows
 * to I32 (an out-of-range value is an error). Writing stores each tensor in its own dtype.
 * Tensors read are host tensors owned by the current {@code Scope}, if any.
 *
 * <p>Like the reference implementation, a reader rejects overlapping byte ranges; unlike it,
 * gaps between tensors are tolerated (nothing is lost by skipping bytes no tensor claims).
 *
 * <p>Every problem with a file is a {@link SafetensorsFormatException} naming the file and,
 * where it applies, the tensor and its offsets.
 */
public final class Safetensors {
    /** The format's own limit on the header (safetensors rejects larger ones as a denial of service). */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private Safetensors() {}

    /** Every tensor (in header order) and the metadata of {@code file}. */
    public static TensorFile read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            byte[] json = readHeaderBytes(file, ch, size);
            long dataStart = 8 + json.length;
            SafetensorsHeader header = SafetensorsHeader.parse(file, json, size - dataStart);
            MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, dataStart, size - dataStart, arena);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (SafetensorsHeader.Entry e : header.entries()) {
                tensors.put(e.name(), TensorCodec.decode(file, e, data.asSlice(e.begin(), e.end() - e.begin())));
            }
            return new TensorFile(tensors, header.metadata());
        }
    }

    /** The metadata of {@code file} (empty if it has none), reading only the header. */
    public static Map<String, String> metadata(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            byte[] json = readHeaderBytes(file, ch, size);
            return SafetensorsHeader.parse(file, json, size - 8 - json.length).metadata();
        }
    }

    /**
     * Writes {@code tensors} (host tensors, any layout) in map order with {@code metadata}.
     * Atomic: the file is written beside {@code file} under a temporary name and renamed over
     * it, so a reader never sees a half-written checkpoint and a crash leaves the old one.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        List<SafetensorsHeader.Entry> entries = layout(tensors);
        byte[] json = headerJson(entries, metadata);
        long dataBytes = entries.isEmpty() ? 0 : entries.getLast().end();
        long total = 8 + json.length + dataBytes;

        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 Arena arena = Arena.ofConfined()) {
                var out = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
                out.set(TensorCodec.U64_LE, 0, json.length);
                MemorySegment.copy(json, 0, out, TensorCodec.BYTE, 8, json.length);
                MemorySegment data = out.asSlice(8 + json.length);
                int i = 0;
                for (Tensor t : tensors.values()) {
                    SafetensorsHeader.Entry e = entries.get(i++);
                    TensorCodec.encode(t, data.asSlice(e.begin(), e.end() - e.begin()));
                }
                out.force();
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(file + ": cannot replace the file atomically on this file system (" + e.getMessage() + ")", e);
            }
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    /** Reads and bounds-checks the header length, then the header bytes. */
    private static byte[] readHeaderBytes(Path file, FileChannel ch, long size) throws IOException {
        if (size < 8) {
            throw new SafetensorsFormatException(file, "the file is " + size + " bytes, shorter than the 8-byte header length; it is not a safetensors file");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        // n is an unsigned u64: a negative long is a length beyond 2^63
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(file, "header length " + Long.toUnsignedString(n) + " is absurd (the format allows at most "
                    + MAX_HEADER_BYTES + " bytes); the file is corrupt or not safetensors");
        }
        if (n > size - 8) {
            throw new SafetensorsFormatException(file, "header length " + n + " runs past the end of the file (" + size
                    + " bytes); the file is truncated or not safetensors");
        }
        ByteBuffer json = ByteBuffer.allocate((int) n);
        readFully(ch, json, 8);
        return json.array();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position + buf.position());
            if (r < 0) throw new IOException("unexpected end of file at byte " + (position + buf.position()));
        }
    }

    /** Byte ranges for the tensors, back to back in map order; checks names and devices. */
    private static List<SafetensorsHeader.Entry> layout(Map<String, Tensor> tensors) {
        List<SafetensorsHeader.Entry> entries = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> kv : tensors.entrySet()) {
            String name = kv.getKey();
            Tensor t = kv.getValue();
            if (name == null || name.isEmpty() || name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("safetensors: '" + name + "' cannot name a tensor");
            }
            if (t == null) throw new IllegalArgumentException("safetensors: tensor '" + name + "' is null");
            if (!t.device().isHost()) {
                throw new IllegalArgumentException("safetensors: tensor '" + name + "' is on " + t.device() + "; copy it to the host before writing (org.stablekd.backend.Transfers.toHost)");
            }
            FileDType dtype = FileDType.of(t.dtype());
            long bytes = t.numel() * dtype.bytes;
            entries.add(new SafetensorsHeader.Entry(name, dtype, t.shape().dims(), offset, offset + bytes));
            offset += bytes;
        }
        return entries;
    }

    /** The JSON header, padded with spaces so the data section starts 8-byte aligned (as the reference writer does). */
    private static byte[] headerJson(List<SafetensorsHeader.Entry> entries, Map<String, String> metadata) {
        ObjectNode root = SafetensorsHeader.JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach((k, v) -> {
                if (k == null || v == null) throw new IllegalArgumentException("safetensors: metadata entry " + k + " = " + v + " is null");
                meta.put(k, v);
            });
        }
        for (SafetensorsHeader.Entry e : entries) {
            ObjectNode n = root.putObject(e.name());
            n.put("dtype", e.dtype().name());
            var shape = n.putArray("shape");
            for (int d : e.shape()) shape.add(d);
            n.putArray("data_offsets").add(e.begin()).add(e.end());
        }
        byte[] raw;
        try {
            raw = SafetensorsHeader.JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a safetensors header", e);
        }
        int padded = (raw.length + 7) & ~7;
        byte[] out = new byte[padded];
        System.arraycopy(raw, 0, out, 0, raw.length);
        for (int i = raw.length; i < padded; i++) out[i] = ' ';
        return out;
    }
}
