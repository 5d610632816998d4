package org.stablekd.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarReaderTest {
    @TempDir Path dir;

    private static void checkImage(Dataset ds, int i, int generatedAs) throws IOException {
        byte[] img = new byte[3072];
        ds.readImage(i, img, 0);
        for (int j = 0; j < 3072; j++) assertEquals(TestFiles.pixel(generatedAs, j), img[j] & 0xFF, "image " + i + " pixel " + j);
    }

    @Test
    void cifar10ConcatenatesTheFiveBatchesInOrder() throws IOException {
        Path d = dir.resolve("cifar-10-batches-bin");
        for (int b = 1; b <= 5; b++) {
            TestFiles.write(d.resolve("data_batch_" + b + ".bin"), TestFiles.cifar(null, new int[] {b, 9 - b}, 10 * b));
        }
        TestFiles.write(d.resolve("test_batch.bin"), TestFiles.cifar(null, new int[] {7, 0, 3}, 100));
        Dataset train = CifarReader.cifar10(dir, Split.TRAIN); // the parent folder works too
        assertEquals(10, train.size());
        assertEquals(new ImageShape(3, 32, 32), train.shape());
        assertArrayEquals(new int[] {1, 8, 2, 7, 3, 6, 4, 5, 5, 4}, train.labels());
        checkImage(train, 0, 10);
        checkImage(train, 3, 21);
        checkImage(train, 9, 51);
        assertEquals(List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"), train.classNames());
        Dataset test = CifarReader.cifar10(d, Split.TEST);
        assertArrayEquals(new int[] {7, 0, 3}, test.labels());
        checkImage(test, 2, 102);
    }

    @Test
    void cifar100UsesFineLabelsAndNamesFile() throws IOException {
        Path d = dir.resolve("cifar-100-binary");
        TestFiles.write(d.resolve("train.bin"), TestFiles.cifar(new int[] {19, 0, 4}, new int[] {99, 42, 7}, 0));
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < 100; i++) names.append("class").append(i).append('\n');
        Files.writeString(d.resolve("fine_label_names.txt"), names);
        Dataset ds = CifarReader.cifar100(d, Split.TRAIN);
        assertArrayEquals(new int[] {99, 42, 7}, ds.labels());
        assertEquals(100, ds.numClasses());
        assertEquals("class42", ds.classNames().get(42));
        checkImage(ds, 1, 1);
    }

    @Test
    void truncatedRecord() throws IOException {
        byte[] data = TestFiles.cifar(null, new int[] {1, 2, 3}, 0);
        Path f = TestFiles.write(dir.resolve("data_batch_1.bin"), Arrays.copyOf(data, 2 * 3073 + 100));
        var e = assertThrows(DatasetFormatException.class, () -> CifarReader.read(CifarReader.Variant.CIFAR10, List.of(f), "c", CifarReader.CIFAR10_CLASSES));
        assertTrue(e.getMessage().startsWith("data_batch_1.bin: truncated at byte 6246 in record 2 (records are 3073 bytes: 1 label byte + 3072 pixels;"),
                e.getMessage());
    }

    @Test
    void labelOutOfRangeSuggestsTheOtherVariant() throws IOException {
        Path f = TestFiles.write(dir.resolve("data_batch_1.bin"), TestFiles.cifar(null, new int[] {1, 57}, 0));
        var e = assertThrows(DatasetFormatException.class, () -> CifarReader.read(CifarReader.Variant.CIFAR10, List.of(f), "c", CifarReader.CIFAR10_CLASSES));
        assertEquals("data_batch_1.bin: label 57 of record 1 (byte 3073) is outside 0..9; is this a CIFAR-100 file (2 label bytes per record)?", e.getMessage());
        Path g = TestFiles.write(dir.resolve("train.bin"), TestFiles.cifar(new int[] {3, 25}, new int[] {1, 2}, 0));
        var e100 = assertThrows(DatasetFormatException.class, () -> CifarReader.read(CifarReader.Variant.CIFAR100, List.of(g), "c", TestFiles.classes(100)));
        assertTrue(e100.getMessage().startsWith("train.bin: coarse label 25 of record 1 (byte 3074) is outside 0..19"), e100.getMessage());
    }

    @Test
    void emptyAndMissingFiles() throws IOException {
        Path f = TestFiles.write(dir.resolve("test_batch.bin"), new byte[0]);
        var e = assertThrows(DatasetFormatException.class, () -> CifarReader.cifar10(dir, Split.TEST));
        assertTrue(e.getMessage().startsWith("test_batch.bin: the file is empty"), e.getMessage());
        Files.delete(f);
        var missing = assertThrows(IOException.class, () -> CifarReader.cifar10(dir, Split.TEST));
        assertTrue(missing.getMessage().contains("test_batch.bin"), missing.getMessage());
    }
}
