package org.stablekd.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Reads the IDX files of MNIST and Fashion-MNIST, gzip-compressed or raw.
 *
 * <pre>
 * images: int32 magic 0x00000803 | int32 count | int32 rows | int32 cols | count·rows·cols uint8, row-major
 * labels: int32 magic 0x00000801 | int32 count | count uint8 labels
 * </pre>
 * Integers are big-endian. Images become (1, rows, cols). The two files must hold the same count,
 * every label must be a valid class, and nothing may follow the last record.
 */
public final class IdxReader {
    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int LABELS_MAGIC = 0x00000801;
    private static final int IMAGES_HEADER = 16;
    private static final int LABELS_HEADER = 8;
    private static final int MAX_SIDE = 4096;

    public static final List<String> FASHION_MNIST_CLASSES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    public static final String FASHION_MNIST_HINT = "reinstall dataset-fashion-mnist (apt-get install --reinstall dataset-fashion-mnist)";
    public static final String GENERIC_HINT = "fetch the dataset files again";

    private IdxReader() {}

    /**
     * Fashion-MNIST from its standard file names in {@code dir} ({@code train-images-idx3-ubyte.gz},
     * {@code t10k-labels-idx1-ubyte.gz}, …; the uncompressed names work too). On these machines the
     * files are in {@code /usr/share/datasets/fashion-mnist/}.
     */
    public static Dataset fashionMnist(Path dir, Split split) throws IOException {
        return standard(dir, split, "fashion-mnist", FASHION_MNIST_CLASSES, FASHION_MNIST_HINT);
    }

    /** MNIST from its standard file names in {@code dir}. */
    public static Dataset mnist(Path dir, Split split) throws IOException {
        return standard(dir, split, "mnist", Dataset.numberedClasses(10), GENERIC_HINT);
    }

    private static Dataset standard(Path dir, Split split, String name, List<String> classes, String hint) throws IOException {
        String prefix = split == Split.TRAIN ? "train" : "t10k";
        Path images = existingVariant(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
        Path labels = existingVariant(dir.resolve(prefix + "-labels-idx1-ubyte.gz"));
        return read(images, labels, name + "-" + split.name().toLowerCase(), classes, hint);
    }

    /** {@code x.gz} if it exists, else {@code x} if that exists, else {@code x.gz} (to name in the error). */
    private static Path existingVariant(Path gz) {
        if (Files.exists(gz)) return gz;
        String s = gz.getFileName().toString();
        Path raw = gz.resolveSibling(s.substring(0, s.length() - 3));
        return Files.exists(raw) ? raw : gz;
    }

    /**
     * Reads an image file and its label file into a dataset.
     *
     * @param hint what to tell the user when a file is damaged (e.g. how to reinstall it)
     */
    public static Dataset read(Path imagesFile, Path labelsFile, String name, List<String> classNames, String hint) throws IOException {
        InMemoryImages images = readImages(imagesFile, hint);
        int[] labels = readLabels(labelsFile, classNames.size(), hint);
        if (labels.length != images.size()) {
            throw new DatasetFormatException(TrackedInput.name(imagesFile) + " holds " + images.size() + " images but "
                    + TrackedInput.name(labelsFile) + " holds " + labels.length + " labels; the two files do not belong together");
        }
        return new Dataset(name, images, labels, classNames);
    }

    /** The images of an IDX image file, each (1, rows, cols). */
    public static InMemoryImages readImages(Path file, String hint) throws IOException {
        try (TrackedInput in = TrackedInput.open(file, hint)) {
            String f = in.name();
            int magic = in.readInt("magic");
            if (magic != IMAGES_MAGIC) {
                String why = magic == LABELS_MAGIC ? "this is an IDX label file; were the image and label files swapped?"
                        : "not an IDX image file (uint8, 3 dimensions)";
                throw new DatasetFormatException(String.format("%s: bad magic 0x%08X at byte 0, expected 0x%08X: %s", f, magic, IMAGES_MAGIC, why));
            }
            int count = in.readInt("image count");
            int rows = in.readInt("rows");
            int cols = in.readInt("columns");
            if (count < 0 || rows <= 0 || cols <= 0 || rows > MAX_SIDE || cols > MAX_SIDE) {
                throw new DatasetFormatException(f + ": impossible header dimensions " + count + " images of " + rows + "×" + cols
                        + " (bytes 4..15); the header is damaged — " + hint);
            }
            int imageBytes = rows * cols;
            long expected = IMAGES_HEADER + (long) count * imageBytes;
            String layout = "a 16-byte header and " + count + " images of " + rows + "×" + cols;
            checkSize(in, expected, p -> "image " + (p - IMAGES_HEADER) / imageBytes + " of " + count, layout, hint);
            InMemoryImages images = new InMemoryImages(count, new ImageShape(1, rows, cols));
            // Read chunk by chunk straight into the store.
            for (int k = 0; k < images.chunkCount(); k++) {
                byte[] chunk = images.chunk(k);
                long first = (long) k * images.imagesPerChunk();
                int got = in.fill(chunk, 0, chunk.length, p -> "image " + (p - IMAGES_HEADER) / imageBytes);
                if (got < chunk.length) {
                    long at = in.position();
                    throw new DatasetFormatException(f + ": truncated at " + in.at(at) + " in image " + (first + got / imageBytes) + " of " + count
                            + " (expected " + expected + " bytes: " + layout + "); the file is incomplete — " + hint);
                }
            }
            if (!in.atEnd(p -> "after the last image")) {
                throw new DatasetFormatException(f + ": data continues after the last image (byte " + expected + "), but the header says "
                        + count + " images of " + rows + "×" + cols + "; the header or the file is damaged — " + hint);
            }
            return images;
        }
    }

    /** The labels of an IDX label file, each checked against {@code numClasses}. */
    public static int[] readLabels(Path file, int numClasses, String hint) throws IOException {
        try (TrackedInput in = TrackedInput.open(file, hint)) {
            String f = in.name();
            int magic = in.readInt("magic");
            if (magic != LABELS_MAGIC) {
                String why = magic == IMAGES_MAGIC ? "this is an IDX image file; were the image and label files swapped?"
                        : "not an IDX label file (uint8, 1 dimension)";
                throw new DatasetFormatException(String.format("%s: bad magic 0x%08X at byte 0, expected 0x%08X: %s", f, magic, LABELS_MAGIC, why));
            }
            int count = in.readInt("label count");
            if (count < 0) {
                throw new DatasetFormatException(f + ": impossible label count " + count + " (bytes 4..7); the header is damaged — " + hint);
            }
            long expected = LABELS_HEADER + (long) count;
            String layout = "an 8-byte header and " + count + " labels";
            checkSize(in, expected, p -> "label " + (p - LABELS_HEADER) + " of " + count, layout, hint);
            byte[] raw = new byte[count];
            int got = in.fill(raw, 0, count, p -> "label " + (p - LABELS_HEADER));
            if (got < count) {
                throw new DatasetFormatException(f + ": truncated at " + in.at(in.position()) + " in label " + got + " of " + count
                        + " (expected " + expected + " bytes: " + layout + "); the file is incomplete — " + hint);
            }
            if (!in.atEnd(p -> "after the last label")) {
                throw new DatasetFormatException(f + ": data continues after the last label (byte " + expected + "), but the header says "
                        + count + " labels; the header or the file is damaged — " + hint);
            }
            int[] labels = new int[count];
            for (int i = 0; i < count; i++) {
                labels[i] = raw[i] & 0xFF;
                if (labels[i] >= numClasses) {
                    throw new DatasetFormatException(f + ": label " + labels[i] + " of record " + i + " (byte " + (LABELS_HEADER + i)
                            + ") is outside 0.." + (numClasses - 1) + "; the file is damaged or not for this dataset — " + hint);
                }
            }
            return labels;
        }
    }

    /**
     * Before allocating what the header claims: a raw file must be at least that long (so a damaged
     * header cannot ask for gigabytes), and the claim must fit the heap.
     */
    private static void checkSize(TrackedInput in, long expected, LongFunction<String> record, String layout, String hint) throws IOException {
        if (!in.gzip) {
            long size = Files.size(in.file);
            if (size < expected) {
                throw new DatasetFormatException(in.name() + ": truncated at byte " + size + " in " + record.apply(size) + " (expected " + expected
                        + " bytes: " + layout + "); the file is incomplete — " + hint);
            }
        }
        if (expected > Runtime.getRuntime().maxMemory()) {
            throw new DatasetFormatException(in.name() + ": the header promises " + expected + " bytes, more than the whole heap ("
                    + Runtime.getRuntime().maxMemory() + "); the header is damaged — " + hint);
        }
    }
}
