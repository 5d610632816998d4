package org.stablekd.data;

import java.io.IOException;

/**
 * Where a {@link Dataset}'s images live: uint8 pixels, each image (C, H, W) row-major, all of one
 * {@link ImageShape}. {@link InMemoryImages} holds them decoded; {@link LazyImageFiles} decodes a
 * file on each read. Implementations are safe to read from several threads at once.
 */
public interface ImageStore {
    int size();

    ImageShape shape();

    /** Copies image {@code index} into {@code dst[offset, offset + shape().numel())}. */
    void read(int index, byte[] dst, int offset) throws IOException;

    /** A store of the images at {@code indices}, in that order. */
    ImageStore select(int[] indices);
}
