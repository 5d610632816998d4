package org.stablekd.data;

/** The (C, H, W) of one image. */
public record ImageShape(int channels, int height, int width) {
    public ImageShape {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("an image needs positive channels, height and width, got " + channels + "×" + height + "×" + width);
        }
    }

    /** Elements of one image: C·H·W. */
    public int numel() {
        return Math.multiplyExact(Math.multiplyExact(channels, height), width);
    }

    @Override
    public String toString() {
        return channels + "×" + height + "×" + width;
    }
}
