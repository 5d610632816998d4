package org.stablekd.data;

import org.stablekd.tensor.Rng;

/** A 1-channel image repeated into {@code channels} identical channels (grayscale for an RGB model). */
public final class RepeatChannels implements Transform {
    private final int channels;

    public RepeatChannels(int channels) {
        if (channels < 1) throw new IllegalArgumentException("RepeatChannels(" + channels + ")");
        this.channels = channels;
    }

    @Override
    public ImageShape outputShape(ImageShape in) {
        if (in.channels() == channels) return in;
        if (in.channels() != 1) throw new IllegalArgumentException(this + " repeats a 1-channel image, got " + in);
        return new ImageShape(channels, in.height(), in.width());
    }

    @Override
    public void apply(ImageBuffer image, Rng rng) {
        if (image.channels() == channels) return;
        int plane = image.height() * image.width();
        float[] out = image.output(channels * plane);
        for (int c = 0; c < channels; c++) System.arraycopy(image.data(), 0, out, c * plane, plane);
        image.swap(channels, image.height(), image.width());
    }

    @Override
    public String toString() {
        return "RepeatChannels(" + channels + ")";
    }
}
