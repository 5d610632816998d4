package org.stablekd.data;

import java.util.Objects;

/**
 * Decoded uint8 images kept on the heap. Layout: image i is {@code shape.numel()} bytes (C, H, W)
 * row-major, stored in chunk {@code i / imagesPerChunk} at byte {@code (i % imagesPerChunk) · numel}.
 * Chunks keep each array under 1 GiB, so a store can exceed the 2 GiB limit of one Java array
 * (Imagewoof at 256 px is about 2.5 GB).
 */
public final class InMemoryImages implements ImageStore {
    private static final long MAX_CHUNK_BYTES = 1L << 30;

    private final ImageShape shape;
    private final int size;
    private final int imagesPerChunk;
    private final byte[][] chunks;

    /** An all-zero store of {@code size} images, to be filled through {@link #chunk}/{@link #write}. */
    public InMemoryImages(int size, ImageShape shape) {
        if (size < 0) throw new IllegalArgumentException("negative image count " + size);
        this.shape = Objects.requireNonNull(shape);
        this.size = size;
        int bytes = shape.numel();
        this.imagesPerChunk = (int) Math.max(1, MAX_CHUNK_BYTES / bytes);
        int nChunks = size == 0 ? 0 : (size - 1) / imagesPerChunk + 1;
        this.chunks = new byte[nChunks][];
        for (int k = 0; k < nChunks; k++) {
            int images = Math.min(imagesPerChunk, size - k * imagesPerChunk);
            chunks[k] = new byte[images * bytes];
        }
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public ImageShape shape() {
        return shape;
    }

    int chunkCount() {
        return chunks.length;
    }

    /** The raw array of chunk {@code k} (readers fill it in place). */
    byte[] chunk(int k) {
        return chunks[k];
    }

    int imagesPerChunk() {
        return imagesPerChunk;
    }

    @Override
    public void read(int index, byte[] dst, int offset) {
        Objects.checkIndex(index, size);
        int bytes = shape.numel();
        System.arraycopy(chunks[index / imagesPerChunk], (index % imagesPerChunk) * bytes, dst, offset, bytes);
    }

    /** Sets image {@code index} from {@code src[offset, offset + numel)}. */
    public void write(int index, byte[] src, int offset) {
        Objects.checkIndex(index, size);
        int bytes = shape.numel();
        System.arraycopy(src, offset, chunks[index / imagesPerChunk], (index % imagesPerChunk) * bytes, bytes);
    }

    /** Image {@code index} as a new array (tests and inspection; the loader reads into its own buffer). */
    public byte[] image(int index) {
        byte[] out = new byte[shape.numel()];
        read(index, out, 0);
        return out;
    }

    @Override
    public InMemoryImages select(int[] indices) {
        InMemoryImages out = new InMemoryImages(indices.length, shape);
        int bytes = shape.numel();
        for (int i = 0; i < indices.length; i++) {
            int src = Objects.checkIndex(indices[i], size);
            System.arraycopy(chunks[src / imagesPerChunk], (src % imagesPerChunk) * bytes,
                    out.chunks[i / out.imagesPerChunk], (i % out.imagesPerChunk) * bytes, bytes);
        }
        return out;
    }
}
