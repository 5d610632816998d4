package org.stablekd.data;

import org.stablekd.tensor.Rng;

/**
 * Zero-pads an image to {@code height × width}, centered ({@code (h - H) / 2} above and left, the
 * rest below and right): Fashion-MNIST 28×28 → 32×32 puts 2 zeros on every side. An image larger than
 * the target is an error (use a crop).
 */
public final class PadToSize implements Transform {
    private final int height, width;

    public PadToSize(int height, int width) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("PadToSize(" + height + "×" + width + ")");
        this.height = height;
        this.width = width;
    }

    @Override
    public ImageShape outputShape(ImageShape in) {
        if (in.height() > height || in.width() > width) throw new IllegalArgumentException(this + " cannot pad a larger image " + in);
        return new ImageShape(in.channels(), height, width);
    }

    @Override
    public void apply(ImageBuffer image, Rng rng) {
        if (image.height() == height && image.width() == width) return;
        image.window(-((height - image.height()) / 2), -((width - image.width()) / 2), height, width);
    }

    @Override
    public String toString() {
        return "PadToSize(" + height + "×" + width + ")";
    }
}
