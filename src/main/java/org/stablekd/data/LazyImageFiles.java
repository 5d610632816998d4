package org.stablekd.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Images that stay on disk and are decoded at each read (by the loader's threads): for image
 * folders too large to hold decoded (ImageNet). A file that does not decode fails the read with a
 * {@link DatasetFormatException} naming it.
 */
public final class LazyImageFiles implements ImageStore {
    private final Path[] files;
    private final ImageFileDecoder decoder;

    public LazyImageFiles(Path[] files, ImageFileDecoder decoder) {
        this.files = files.clone();
        this.decoder = Objects.requireNonNull(decoder);
    }

    @Override
    public int size() {
        return files.length;
    }

    @Override
    public ImageShape shape() {
        return decoder.shape();
    }

    public Path file(int index) {
        return files[index];
    }

    @Override
    public void read(int index, byte[] dst, int offset) throws DatasetFormatException {
        decoder.decode(files[Objects.checkIndex(index, files.length)], dst, offset);
    }

    @Override
    public LazyImageFiles select(int[] indices) {
        Path[] picked = new Path[indices.length];
        for (int i = 0; i < indices.length; i++) picked[i] = files[Objects.checkIndex(indices[i], files.length)];
        return new LazyImageFiles(picked, decoder);
    }
}
