package org.stablekd.data;

import org.stablekd.tensor.Tensor;

/**
 * One batch from a {@link Loader}: {@code images} (B, C, H, W) F32 and {@code labels} (B) I32,
 * views of one of the loader's preallocated off-heap buffers (B is the batch size, or less for
 * the last batch).
 *
 * <p>Release the batch when the step is done with it ({@link #release()}, or try-with-resources):
 * the buffer then goes back to the loader and is refilled. After release the accessors here throw
 * {@link IllegalStateException}; a tensor taken from the batch earlier must not be used any more
 * either — its memory is being overwritten with a later batch (that cannot be detected; copy what
 * must outlive the step). After {@link Loader#close()} the buffers are freed and using such a
 * tensor throws.
 */
public final class Batch implements AutoCloseable {
    private final Loader loader;
    private final Loader.Slot slot;
    private final Tensor images, labels;
    private final int epoch, index;
    private final int[] sampleIndices;
    private final int globalSize;
    private volatile boolean released;

    Batch(Loader loader, Loader.Slot slot, int epoch, int index, int[] sampleIndices, int globalSize) {
        this.globalSize = globalSize;
        this.loader = loader;
        this.slot = slot;
        this.epoch = epoch;
        this.index = index;
        this.sampleIndices = sampleIndices;
        int b = sampleIndices.length;
        this.images = b == slot.images.dim(0) ? slot.images : slot.images.narrowView(0, 0, b);
        this.labels = b == slot.labels.dim(0) ? slot.labels : slot.labels.narrowView(0, 0, b);
    }

    /** (B, C, H, W) F32. */
    public Tensor images() {
        check();
        return images;
    }

    /** (B) I32 class labels. */
    public Tensor labels() {
        check();
        return labels;
    }

    /** B: samples in this batch. */
    public int size() {
        return sampleIndices.length;
    }

    /** Samples of this batch over all ranks (equals {@link #size()} without data parallelism). */
    public int globalSize() {
        return globalSize;
    }

    public int epoch() {
        return epoch;
    }

    /** Position of this batch in its epoch (0-based). */
    public int index() {
        return index;
    }

    /** The dataset indices of the samples, in batch order. */
    public int[] sampleIndices() {
        return sampleIndices.clone();
    }

    public boolean isReleased() {
        return released;
    }

    /** Gives the buffer back to the loader. Idempotent. */
    public void release() {
        if (released) return;
        released = true;
        loader.giveBack(slot);
    }

    @Override
    public void close() {
        release();
    }

    Loader.Slot slot() {
        return slot;
    }

    private void check() {
        if (released) {
            throw new IllegalStateException("batch " + index + " of epoch " + epoch + " was used after release(); its buffer is being refilled with a later batch");
        }
    }

    @Override
    public String toString() {
        return "Batch(epoch " + epoch + ", index " + index + ", " + size() + " samples" + (released ? ", released)" : ")");
    }
}
