package org.stablekd.data;

import org.stablekd.tensor.Rng;

/**
 * torchvision {@code CenterCrop}: the central {@code height × width} window; offsets
 * {@code round((H - h) / 2)} with Python's round-half-to-even. A side shorter than the crop is
 * zero-padded ({@code (h - H) / 2} above, the rest below).
 */
public final class CenterCrop implements Transform {
    private final int height, width;

    public CenterCrop(int size) {
        this(size, size);
    }

    public CenterCrop(int height, int width) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("CenterCrop(" + height + "×" + width + ")");
        this.height = height;
        this.width = width;
    }

    @Override
    public ImageShape outputShape(ImageShape in) {
        return new ImageShape(in.channels(), height, width);
    }

    @Override
    public void apply(ImageBuffer image, Rng rng) {
        image.window(offset(image.height(), height), offset(image.width(), width), height, width);
    }

    static int offset(int in, int out) {
        return in >= out ? (int) Math.rint((in - out) / 2.0) : -((out - in) / 2);
    }

    @Override
    public String toString() {
        return "CenterCrop(" + height + "×" + width + ")";
    }
}
