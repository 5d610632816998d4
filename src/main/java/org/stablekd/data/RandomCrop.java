package org.stablekd.data;

import org.stablekd.tensor.Rng;

/**
 * torchvision {@code RandomCrop(size, padding)}: zero-pad every side by {@code padding}, then cut a
 * {@code height × width} window at a uniform position (top first, then left; each
 * {@code rng.nextInt(padded - size + 1)}). The pad is never materialised: the window reads zeros
 * outside the image.
 */
public final class RandomCrop implements Transform {
    private final int height, width, padding;

    public RandomCrop(int size, int padding) {
        this(size, size, padding);
    }

    public RandomCrop(int height, int width, int padding) {
        if (height <= 0 || width <= 0 || padding < 0) throw new IllegalArgumentException("RandomCrop(" + height + "×" + width + ", padding " + padding + ")");
        this.height = height;
        this.width = width;
        this.padding = padding;
    }

    @Override
    public ImageShape outputShape(ImageShape in) {
        if (in.height() + 2 * padding < height || in.width() + 2 * padding < width) {
            throw new IllegalArgumentException(this + " needs an image of at least " + (height - 2 * padding) + "×" + (width - 2 * padding) + ", got " + in);
        }
        return new ImageShape(in.channels(), height, width);
    }

    @Override
    public void apply(ImageBuffer image, Rng rng) {
        int top = rng.nextInt(image.height() + 2 * padding - height + 1) - padding;
        int left = rng.nextInt(image.width() + 2 * padding - width + 1) - padding;
        image.window(top, left, height, width);
    }

    @Override
    public String toString() {
        return "RandomCrop(" + height + "×" + width + ", padding " + padding + ")";
    }
}
