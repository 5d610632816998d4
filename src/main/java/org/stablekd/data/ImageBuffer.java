package org.stablekd.data;

/**
 * One image on its way through the transforms: floats (C, H, W) row-major in {@link #data()}, with
 * a spare array of the same kind for transforms that cannot work in place. A loader thread keeps one
 * ImageBuffer and reuses it for every image, so the arrays grow to the largest size once and
 * transforms allocate nothing.
 *
 * <p>Images enter as uint8 and leave {@link #loadUint8} as floats in [0, 1] (x / 255, torchvision's
 * {@code ToTensor}).
 */
public final class ImageBuffer {
    private static final float[] UNIT = new float[256];

    static {
        for (int i = 0; i < 256; i++) UNIT[i] = i / 255f;
    }

    private float[] data = new float[0];
    private float[] spare = new float[0];
    private float[] temp = new float[0];
    private int channels, height, width;

    public int channels() { return channels; }
    public int height() { return height; }
    public int width() { return width; }
    public int numel() { return channels * height * width; }
    public ImageShape shape() { return new ImageShape(channels, height, width); }

    /** The current image: the first {@link #numel()} floats. */
    public float[] data() {
        return data;
    }

    /** Sets the image from uint8 {@code src[offset ..]} of {@code shape}, as x / 255. */
    public void loadUint8(byte[] src, int offset, ImageShape shape) {
        int n = shape.numel();
        float[] d = reserve(n);
        for (int i = 0; i < n; i++) d[i] = UNIT[src[offset + i] & 0xFF];
        channels = shape.channels();
        height = shape.height();
        width = shape.width();
    }

    /** Sets the image from floats (tests, and callers that already have floats). */
    public void load(float[] src, ImageShape shape) {
        int n = shape.numel();
        System.arraycopy(src, 0, reserve(n), 0, n);
        channels = shape.channels();
        height = shape.height();
        width = shape.width();
    }

    private float[] reserve(int n) {
        if (data.length < n) data = new float[n];
        return data;
    }

    /** The spare array, at least {@code n} long: a transform writes its result here, then calls {@link #swap}. */
    public float[] output(int n) {
        if (spare.length < n) spare = new float[n];
        return spare;
    }

    /** A scratch array of at least {@code n} floats (e.g. between the passes of a resize). */
    public float[] temp(int n) {
        if (temp.length < n) temp = new float[n];
        return temp;
    }

    /** The spare array (just written by a transform) becomes the image, of the given shape. */
    public void swap(int channels, int height, int width) {
        float[] t = data;
        data = spare;
        spare = t;
        this.channels = channels;
        this.height = height;
        this.width = width;
    }

    /** A copy of the current image (tests). */
    public float[] toArray() {
        return java.util.Arrays.copyOf(data, numel());
    }

    /**
     * Copies the window of the current image whose top-left corner is at {@code (top, left)} (may be
     * negative or reach past the edge) into an {@code outH × outW} image; outside pixels are 0. The
     * common core of crop, pad and center crop.
     */
    void window(int top, int left, int outH, int outW) {
        int c = channels, h = height, w = width;
        float[] out = output(c * outH * outW);
        float[] in = data;
        int x0 = Math.max(0, -left), x1 = Math.min(outW, w - left); // output columns that land inside the input
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < outH; y++) {
                int o = (ch * outH + y) * outW;
                int sy = y + top;
                if (sy < 0 || sy >= h || x1 <= x0) {
                    java.util.Arrays.fill(out, o, o + outW, 0f);
                    continue;
                }
                java.util.Arrays.fill(out, o, o + x0, 0f);
                System.arraycopy(in, (ch * h + sy) * w + left + x0, out, o + x0, x1 - x0);
                java.util.Arrays.fill(out, o + Math.max(x1, x0), o + outW, 0f);
            }
        }
        swap(c, outH, outW);
    }
}
