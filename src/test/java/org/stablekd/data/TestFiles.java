package org.stablekd.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Small dataset files generated for the tests (no test reads the real datasets). */
final class TestFiles {
    private TestFiles() {}

    /** Pixel j of image i in the generated sets: distinct enough to catch any mix-up. */
    static int pixel(int image, int j) {
        return (image * 31 + j * 7) & 0xFF;
    }

    static byte[] idxImages(int count, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + count * rows * cols);
        b.putInt(IdxReader.IMAGES_MAGIC).putInt(count).putInt(rows).putInt(cols);
        for (int i = 0; i < count; i++) for (int j = 0; j < rows * cols; j++) b.put((byte) pixel(i, j));
        return b.array();
    }

    static byte[] idxLabels(int[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(IdxReader.LABELS_MAGIC).putInt(labels.length);
        for (int l : labels) b.put((byte) l);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    static Path write(Path file, byte[] data) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, data);
    }

    /** CIFAR records: labelBytes label bytes (coarse, fine for CIFAR-100) then 3072 pixels. */
    static byte[] cifar(int[] coarse, int[] fine, int firstImage) {
        int labelBytes = coarse == null ? 1 : 2;
        ByteBuffer b = ByteBuffer.allocate(fine.length * (labelBytes + 3072));
        for (int i = 0; i < fine.length; i++) {
            if (coarse != null) b.put((byte) coarse[i]);
            b.put((byte) fine[i]);
            for (int j = 0; j < 3072; j++) b.put((byte) pixel(firstImage + i, j));
        }
        return b.array();
    }

    /** An RGB image whose pixel (y, x) is (r, g, b) = pattern(y, x). */
    static BufferedImage rgb(int w, int h, int seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgbAt(seed, y, x));
        return img;
    }

    static int rgbAt(int seed, int y, int x) {
        int r = (seed * 40 + y * 13 + x) & 0xFF, g = (y * 5 + x * 17) & 0xFF, b = (seed + x * y) & 0xFF;
        return r << 16 | g << 8 | b;
    }

    static BufferedImage gray(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.getRaster().setSample(x, y, 0, (y * 29 + x * 3) & 0xFF);
        return img;
    }

    static Path writeImage(Path file, BufferedImage img, String format) throws IOException {
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(img, format, file.toFile())) throw new IOException("no writer for " + format);
        return file;
    }

    /** An in-memory dataset of {@code count} images (c, h, w) whose pixels encode the index; labels i % classes. */
    static Dataset synthetic(int count, ImageShape shape, int classes) {
        InMemoryImages images = new InMemoryImages(count, shape);
        byte[] img = new byte[shape.numel()];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < img.length; j++) img[j] = (byte) pixel(i, j);
            img[0] = (byte) (i & 0xFF); // the index, readable back from an untransformed image
            if (img.length > 1) img[1] = (byte) (i >> 8);
            images.write(i, img, 0);
            labels[i] = i % classes;
        }
        return new Dataset("synthetic", images, labels, Dataset.numberedClasses(classes));
    }

    static List<String> classes(int n) {
        return Dataset.numberedClasses(n);
    }
}
