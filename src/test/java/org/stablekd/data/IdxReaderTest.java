package org.stablekd.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir Path dir;

    private static final int[] LABELS = {3, 1, 4, 1, 5, 9, 2, 6, 5};

    private Dataset readPair(byte[] images, byte[] labels) throws IOException {
        return IdxReader.read(TestFiles.write(dir.resolve("img"), images), TestFiles.write(dir.resolve("lbl"), labels),
                "t", TestFiles.classes(10), "HINT");
    }

    private DatasetFormatException fails(byte[] images, byte[] labels) {
        return assertThrows(DatasetFormatException.class, () -> readPair(images, labels));
    }

    private void checkContent(Dataset ds, int rows, int cols) throws IOException {
        assertEquals(LABELS.length, ds.size());
        assertEquals(new ImageShape(1, rows, cols), ds.shape());
        assertArrayEquals(LABELS, ds.labels());
        byte[] img = new byte[rows * cols];
        for (int i = 0; i < ds.size(); i++) {
            ds.readImage(i, img, 0);
            for (int j = 0; j < img.length; j++) assertEquals(TestFiles.pixel(i, j), img[j] & 0xFF, "image " + i + " pixel " + j);
        }
    }

    @Test
    void readsRawFiles() throws IOException {
        checkContent(readPair(TestFiles.idxImages(9, 5, 4), TestFiles.idxLabels(LABELS)), 5, 4);
    }

    @Test
    void readsGzipByContentNotName() throws IOException {
        checkContent(readPair(TestFiles.gzip(TestFiles.idxImages(9, 5, 4)), TestFiles.gzip(TestFiles.idxLabels(LABELS))), 5, 4);
    }

    @Test
    void fashionMnistStandardNames() throws IOException {
        TestFiles.write(dir.resolve("t10k-images-idx3-ubyte.gz"), TestFiles.gzip(TestFiles.idxImages(9, 28, 28)));
        TestFiles.write(dir.resolve("t10k-labels-idx1-ubyte"), TestFiles.idxLabels(LABELS)); // raw name works too
        Dataset ds = IdxReader.fashionMnist(dir, Split.TEST);
        checkContent(ds, 28, 28);
        assertEquals("fashion-mnist-test", ds.name());
        assertEquals("Ankle boot", ds.classNames().get(9));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> IdxReader.fashionMnist(dir, Split.TRAIN));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz") && e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void truncatedGzipNamesFileByteAndImage() throws IOException {
        byte[] full = TestFiles.gzip(TestFiles.idxImages(9, 5, 4));
        TestFiles.write(dir.resolve("train-images-idx3-ubyte.gz"), Arrays.copyOf(full, full.length / 2));
        TestFiles.write(dir.resolve("train-labels-idx1-ubyte.gz"), TestFiles.gzip(TestFiles.idxLabels(LABELS)));
        var e = assertThrows(DatasetFormatException.class, () -> IdxReader.fashionMnist(dir, Split.TRAIN));
        String m = e.getMessage();
        assertTrue(m.startsWith("train-images-idx3-ubyte.gz: truncated at byte "), m);
        assertTrue(m.contains("of the decompressed data in image ") && m.contains("(expected 196 bytes: a 16-byte header and 9 images of 5×4)"), m);
        assertTrue(m.contains("the file is incomplete — reinstall dataset-fashion-mnist"), m);
    }

    @Test
    void truncatedRawImagesNameTheImage() {
        byte[] full = TestFiles.idxImages(9, 5, 4);
        var e = fails(Arrays.copyOf(full, 16 + 6 * 20 + 7), TestFiles.idxLabels(LABELS));
        assertEquals("img: truncated at byte 143 in image 6 of 9 (expected 196 bytes: a 16-byte header and 9 images of 5×4); the file is incomplete — HINT",
                e.getMessage());
    }

    @Test
    void truncatedHeader() {
        var e = fails(Arrays.copyOf(TestFiles.idxImages(9, 5, 4), 10), TestFiles.idxLabels(LABELS));
        assertTrue(e.getMessage().startsWith("img: truncated at byte 10 while reading the header field 'rows'"), e.getMessage());
    }

    @Test
    void truncatedLabels() {
        byte[] labels = TestFiles.idxLabels(LABELS);
        var e = fails(TestFiles.idxImages(9, 5, 4), Arrays.copyOf(labels, labels.length - 2));
        assertTrue(e.getMessage().startsWith("lbl: truncated at byte 15 in label 7 of 9"), e.getMessage());
    }

    @Test
    void badMagic() {
        byte[] images = TestFiles.idxImages(9, 5, 4);
        images[3] = 0x02;
        var e = fails(images, TestFiles.idxLabels(LABELS));
        assertTrue(e.getMessage().startsWith("img: bad magic 0x00000802 at byte 0, expected 0x00000803"), e.getMessage());
        var swapped = fails(TestFiles.idxLabels(LABELS), TestFiles.idxImages(9, 5, 4));
        assertTrue(swapped.getMessage().contains("were the image and label files swapped?"), swapped.getMessage());
    }

    @Test
    void impossibleDims() {
        byte[] images = TestFiles.idxImages(9, 5, 4);
        ByteBuffer.wrap(images).putInt(8, 0); // rows = 0
        var e = fails(images, TestFiles.idxLabels(LABELS));
        assertTrue(e.getMessage().startsWith("img: impossible header dimensions 9 images of 0×4"), e.getMessage());
        ByteBuffer.wrap(images).putInt(8, 5).putInt(4, 1_000_000); // a count the file does not hold
        var big = fails(images, TestFiles.idxLabels(LABELS));
        assertTrue(big.getMessage().startsWith("img: truncated at byte 196 in image 9 of 1000000"), big.getMessage());
    }

    @Test
    void extraDataAfterLastImage() {
        byte[] images = Arrays.copyOf(TestFiles.idxImages(9, 5, 4), 196 + 3);
        var e = fails(images, TestFiles.idxLabels(LABELS));
        assertTrue(e.getMessage().startsWith("img: data continues after the last image (byte 196)"), e.getMessage());
    }

    @Test
    void countsMustMatch() {
        var e = fails(TestFiles.idxImages(8, 5, 4), TestFiles.idxLabels(LABELS));
        assertEquals("img holds 8 images but lbl holds 9 labels; the two files do not belong together", e.getMessage());
    }

    @Test
    void labelOutOfRange() {
        int[] bad = LABELS.clone();
        bad[4] = 12;
        var e = fails(TestFiles.idxImages(9, 5, 4), TestFiles.idxLabels(bad));
        assertTrue(e.getMessage().startsWith("lbl: label 12 of record 4 (byte 12) is outside 0..9"), e.getMessage());
    }

    @Test
    void damagedGzipData() throws IOException {
        byte[] gz = TestFiles.gzip(TestFiles.idxImages(200, 28, 28));
        for (int i = 40; i < 60; i++) gz[i] ^= 0x5A; // scramble the deflate stream
        var e = fails(gz, TestFiles.idxLabels(new int[200]));
        assertTrue(e.getMessage().startsWith("img: "), e.getMessage());
        assertTrue(e.getMessage().contains("HINT"), e.getMessage());
    }
}
