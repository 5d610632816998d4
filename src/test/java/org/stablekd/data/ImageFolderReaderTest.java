package org.stablekd.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderReaderTest {
    @TempDir Path dir;

    /** train/<class>/… with lossless PNGs of w × h, plus noise the reader must skip. */
    private Path tree(int w, int h) throws IOException {
        Path root = dir.resolve("train");
        TestFiles.writeImage(root.resolve("n02_dog/b.png"), TestFiles.rgb(w, h, 2), "png");
        TestFiles.writeImage(root.resolve("n02_dog/a.png"), TestFiles.rgb(w, h, 1), "png");
        TestFiles.writeImage(root.resolve("n01_cat/z.PNG"), TestFiles.rgb(w, h, 3), "png");
        Files.writeString(root.resolve("n01_cat/notes.txt"), "not an image");
        TestFiles.writeImage(root.resolve("n01_cat/.hidden.png"), TestFiles.rgb(w, h, 9), "png");
        Files.writeString(root.resolve("README"), "a file at class level is skipped");
        return root;
    }

    @Test
    void sortedClassesAndFilesExactPixelsWithoutResize() throws IOException {
        Dataset ds = ImageFolderReader.read(tree(6, 6), 6, 6, 2);
        assertEquals(List.of("n01_cat", "n02_dog"), ds.classNames());
        assertArrayEquals(new int[] {0, 1, 1}, ds.labels());
        assertEquals(new ImageShape(3, 6, 6), ds.shape());
        int[] seeds = {3, 1, 2}; // z.PNG, then a.png, b.png
        byte[] img = new byte[3 * 36];
        for (int i = 0; i < 3; i++) {
            ds.readImage(i, img, 0);
            for (int y = 0; y < 6; y++) {
                for (int x = 0; x < 6; x++) {
                    int rgb = TestFiles.rgbAt(seeds[i], y, x);
                    assertEquals((rgb >> 16) & 0xFF, img[y * 6 + x] & 0xFF);
                    assertEquals((rgb >> 8) & 0xFF, img[36 + y * 6 + x] & 0xFF);
                    assertEquals(rgb & 0xFF, img[72 + y * 6 + x] & 0xFF);
                }
            }
        }
        assertTrue(ds.name().endsWith("/train"), ds.name());
    }

    @Test
    void centerCropOfTheLongerSide() throws IOException {
        // 10 wide × 6 high, shorter side already 6: a pure center crop of columns 2..7.
        Dataset ds = ImageFolderReader.read(tree(10, 6), 6, 6, 1);
        byte[] img = new byte[3 * 36];
        ds.readImage(1, img, 0); // a.png, seed 1
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) assertEquals((TestFiles.rgbAt(1, y, x + 2) >> 16) & 0xFF, img[y * 6 + x] & 0xFF);
        }
    }

    @Test
    void resizeShorterSideKeepsAConstantImageConstant() throws IOException {
        BufferedImage flat = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 30; y++) for (int x = 0; x < 40; x++) flat.setRGB(x, y, 0x10A0F0);
        TestFiles.writeImage(dir.resolve("d/c/flat.png"), flat, "png");
        Dataset ds = ImageFolderReader.read(dir.resolve("d"), 12, 8, 1);
        byte[] img = new byte[3 * 64];
        ds.readImage(0, img, 0);
        for (int i = 0; i < 64; i++) {
            assertEquals(0x10, img[i] & 0xFF);
            assertEquals(0xA0, img[64 + i] & 0xFF);
            assertEquals(0xF0, img[128 + i] & 0xFF);
        }
    }

    @Test
    void downscaleAveragesLikePillow() throws IOException {
        // Columns alternate 0 / 200, 8 wide → 4 wide. Pillow's antialiased bilinear: output x has
        // centre 2x + 1 in input pixels, a triangle of radius 2, inputs at i + 0.5. Inner outputs read
        // 4 inputs with weights 1/4, 3/4, 3/4, 1/4 (÷2) → (200·1/4 + 200·3/4) / 2 = 100; border outputs
        // lose one tap: output 0 reads 0, 200, 0 with .75, .75, .25 → 150 / 1.75 = 85.7; output 3
        // reads 200, 0, 200 with .25, .75, .75 → 200 / 1.75 = 114.3.
        BufferedImage stripes = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) stripes.getRaster().setSample(x, y, 0, x % 2 == 0 ? 0 : 200);
        TestFiles.writeImage(dir.resolve("d/c/s.png"), stripes, "png");
        Dataset ds = ImageFolderReader.read(dir.resolve("d"), 4, 4, 1);
        byte[] img = new byte[3 * 16];
        ds.readImage(0, img, 0);
        int[] expected = {86, 100, 100, 114};
        for (int x = 0; x < 4; x++) assertEquals(expected[x], img[x] & 0xFF, "column " + x);
    }

    @Test
    void grayscaleBecomesThreeEqualChannels() throws IOException {
        TestFiles.writeImage(dir.resolve("g/c/gray.png"), TestFiles.gray(5, 5), "png");
        Dataset ds = ImageFolderReader.read(dir.resolve("g"), 5, 5, 1);
        byte[] img = new byte[75];
        ds.readImage(0, img, 0);
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 5; x++) {
                int v = (y * 29 + x * 3) & 0xFF;
                for (int c = 0; c < 3; c++) assertEquals(v, img[c * 25 + y * 5 + x] & 0xFF);
            }
        }
    }

    @Test
    void jpegDecodesApproximately() throws IOException {
        BufferedImage flat = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) flat.setRGB(x, y, 0x804020);
        TestFiles.writeImage(dir.resolve("j/c/x.JPEG"), flat, "jpg");
        Dataset ds = ImageFolderReader.read(dir.resolve("j"), 16, 16, 1);
        byte[] img = new byte[3 * 256];
        ds.readImage(0, img, 0);
        assertEquals(0x80, img[100] & 0xFF, 4);
        assertEquals(0x40, img[256 + 100] & 0xFF, 4);
        assertEquals(0x20, img[512 + 100] & 0xFF, 4);
    }

    @Test
    void lazyDecodesTheSameImages() throws IOException {
        Path root = tree(9, 7);
        Dataset eager = ImageFolderReader.read(root, 7, 5, 2);
        Dataset lazy = ImageFolderReader.lazy(root, 7, 5);
        assertInstanceOf(LazyImageFiles.class, lazy.images());
        assertArrayEquals(eager.labels(), lazy.labels());
        byte[] a = new byte[75], b = new byte[75];
        for (int i = 0; i < eager.size(); i++) {
            eager.readImage(i, a, 0);
            lazy.readImage(i, b, 0);
            assertArrayEquals(a, b);
        }
    }

    @Test
    void undecodableImageIsNamed() throws IOException {
        Path root = tree(6, 6);
        Path bad = TestFiles.write(root.resolve("n02_dog/c.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H'});
        TestFiles.write(root.resolve("n02_dog/d.jpg"), "plain text, not a JPEG".getBytes());
        var e = assertThrows(DatasetFormatException.class, () -> ImageFolderReader.read(root, 6, 6, 2));
        assertTrue(e.getMessage().startsWith(bad + ": cannot be decoded as an image"), e.getMessage()); // the first bad file in order
        Dataset lazy = ImageFolderReader.lazy(root, 6, 6); // lazy: listing succeeds, the read fails
        var l = assertThrows(DatasetFormatException.class, () -> lazy.readImage(4, new byte[108], 0));
        assertTrue(l.getMessage().startsWith(root.resolve("n02_dog/d.jpg") + ": cannot be decoded as an image"), l.getMessage());
    }

    @Test
    void emptyTreesAreErrors() throws IOException {
        Files.createDirectories(dir.resolve("e/empty_class"));
        var e = assertThrows(DatasetFormatException.class, () -> ImageFolderReader.read(dir.resolve("e"), 8, 8, 1));
        assertTrue(e.getMessage().contains("empty_class: class folder without images"), e.getMessage());
        Files.createDirectories(dir.resolve("none"));
        var none = assertThrows(DatasetFormatException.class, () -> ImageFolderReader.read(dir.resolve("none"), 8, 8, 1));
        assertTrue(none.getMessage().contains("no class subfolders"), none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageFolderReader.read(tree(6, 6), 4, 6, 1)); // crop larger than the resize
    }
}
