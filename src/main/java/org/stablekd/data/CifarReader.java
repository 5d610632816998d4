package org.stablekd.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the binary version of CIFAR-10 and CIFAR-100. A file is a sequence of fixed-size records:
 *
 * <pre>
 * CIFAR-10  (data_batch_1..5.bin, test_batch.bin): label (1 byte) | 3072 pixels
 * CIFAR-100 (train.bin, test.bin):                 coarse label | fine label | 3072 pixels
 * pixels: 1024 red, 1024 green, 1024 blue, each 32×32 row-major — already (C, H, W)
 * </pre>
 * CIFAR-100 uses the fine labels (100 classes). Class names come from {@code batches.meta.txt} /
 * {@code fine_label_names.txt} next to the data when present.
 */
public final class CifarReader {
    public static final ImageShape SHAPE = new ImageShape(3, 32, 32);
    private static final int PIXELS = 3072;
    public static final String HINT = "the file is incomplete or damaged; download and unpack the CIFAR binary version again";

    public static final List<String> CIFAR10_CLASSES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    /** Which of the two layouts. */
    public enum Variant {
        CIFAR10(1, 10, "cifar-10-batches-bin"),
        CIFAR100(2, 100, "cifar-100-binary");

        final int labelBytes;
        final int classes;
        final String folder;

        Variant(int labelBytes, int classes, String folder) {
            this.labelBytes = labelBytes;
            this.classes = classes;
            this.folder = folder;
        }

        int recordBytes() {
            return labelBytes + PIXELS;
        }
    }

    private CifarReader() {}

    /** CIFAR-10 from {@code dir} ({@code cifar-10-batches-bin} or the folder holding it). */
    public static Dataset cifar10(Path dir, Split split) throws IOException {
        Path d = unpacked(dir, Variant.CIFAR10);
        List<Path> files = new ArrayList<>();
        if (split == Split.TRAIN) {
            for (int i = 1; i <= 5; i++) files.add(d.resolve("data_batch_" + i + ".bin"));
        } else {
            files.add(d.resolve("test_batch.bin"));
        }
        List<String> names = namesFile(d.resolve("batches.meta.txt"), 10);
        return read(Variant.CIFAR10, files, "cifar10-" + split.name().toLowerCase(), names != null ? names : CIFAR10_CLASSES);
    }

    /** CIFAR-100 (fine labels) from {@code dir} ({@code cifar-100-binary} or the folder holding it). */
    public static Dataset cifar100(Path dir, Split split) throws IOException {
        Path d = unpacked(dir, Variant.CIFAR100);
        Path file = d.resolve(split == Split.TRAIN ? "train.bin" : "test.bin");
        List<String> names = namesFile(d.resolve("fine_label_names.txt"), 100);
        return read(Variant.CIFAR100, List.of(file), "cifar100-" + split.name().toLowerCase(), names != null ? names : Dataset.numberedClasses(100));
    }

    private static Path unpacked(Path dir, Variant v) {
        Path inner = dir.resolve(v.folder);
        return Files.isDirectory(inner) ? inner : dir;
    }

    /** One class name per non-blank line, or null when the file is absent or has the wrong count. */
    private static List<String> namesFile(Path file, int count) throws IOException {
        if (!Files.isRegularFile(file)) return null;
        List<String> names = Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        return names.size() == count ? names : null;
    }

    /** Reads and concatenates the records of {@code files}, in order. */
    public static Dataset read(Variant variant, List<Path> files, String name, List<String> classNames) throws IOException {
        List<byte[]> contents = new ArrayList<>();
        int total = 0;
        for (Path f : files) {
            byte[] data = readWhole(f, variant.recordBytes());
            checkRecords(variant, f, data);
            contents.add(data);
            total = Math.addExact(total, data.length / variant.recordBytes());
        }
        InMemoryImages images = new InMemoryImages(total, SHAPE);
        int[] labels = new int[total];
        int i = 0;
        for (byte[] data : contents) {
            for (int r = 0; r < data.length / variant.recordBytes(); r++, i++) {
                int at = r * variant.recordBytes();
                labels[i] = data[at + variant.labelBytes - 1] & 0xFF; // the last label byte: fine for CIFAR-100
                images.write(i, data, at + variant.labelBytes);
            }
        }
        return new Dataset(name, images, labels, classNames);
    }

    /** The whole (decompressed) file. */
    private static byte[] readWhole(Path file, int recordBytes) throws IOException {
        try (TrackedInput in = TrackedInput.open(file, HINT)) {
            // One byte more than a raw file's size, so a full read ends with a short fill.
            long guess = in.gzip ? 1 << 20 : Files.size(file) + 1;
            byte[] buf = new byte[(int) Math.min(Integer.MAX_VALUE - 8, guess)];
            int n = 0;
            while (true) {
                n += in.fill(buf, n, buf.length - n, p -> "record " + p / recordBytes);
                if (n < buf.length) return Arrays.copyOf(buf, n);
                if (buf.length == Integer.MAX_VALUE - 8) throw new DatasetFormatException(in.name() + ": larger than 2 GB; not a CIFAR file");
                buf = Arrays.copyOf(buf, (int) Math.min(Integer.MAX_VALUE - 8, 2L * buf.length));
            }
        }
    }

    /** Whole records only, and labels in range. */
    private static void checkRecords(Variant v, Path file, byte[] data) throws DatasetFormatException {
        String f = TrackedInput.name(file);
        int rec = v.recordBytes();
        String layout = v.labelBytes == 1 ? "1 label byte + 3072 pixels" : "coarse label byte + fine label byte + 3072 pixels";
        if (data.length == 0) {
            throw new DatasetFormatException(f + ": the file is empty; " + HINT);
        }
        if (data.length % rec != 0) {
            int whole = data.length / rec;
            throw new DatasetFormatException(f + ": truncated at byte " + data.length + " in record " + whole + " (records are " + rec + " bytes: "
                    + layout + "; the file holds " + whole + " whole records and " + data.length % rec + " bytes more); " + HINT);
        }
        for (int r = 0; r < data.length / rec; r++) {
            int at = r * rec;
            if (v == Variant.CIFAR100) {
                int coarse = data[at] & 0xFF;
                if (coarse >= 20) {
                    throw new DatasetFormatException(f + ": coarse label " + coarse + " of record " + r + " (byte " + at + ") is outside 0..19; "
                            + "the file is damaged or not a CIFAR-100 binary file");
                }
            }
            int label = data[at + v.labelBytes - 1] & 0xFF;
            if (label >= v.classes) {
                String guess = v == Variant.CIFAR10 ? "; is this a CIFAR-100 file (2 label bytes per record)?" : "; the file is damaged or not a CIFAR-100 binary file";
                throw new DatasetFormatException(f + ": label " + label + " of record " + r + " (byte " + (at + v.labelBytes - 1) + ") is outside 0.."
                        + (v.classes - 1) + guess);
            }
        }
    }
}
