package org.stablekd.data;

import org.stablekd.tensor.Rng;

/**
 * torchvision {@code RandomResizedCrop(size, scale=(0.08, 1), ratio=(3/4, 4/3))}: up to 10 tries
 * to draw a box of area {@code uniform(scale) · H·W} and aspect {@code exp(uniform(log ratio))}
 * (sides rounded half-to-even) that fits; then its position (top, left) uniformly. If no try
 * fits, the whole image clamped to the ratio range, centered. The box is resized to
 * {@code size × size} by antialiased bilinear ({@link Resample}, Pillow's filter). Same
 * algorithm as torchvision; the random streams differ, so the crops do too.
 */
public final class RandomResizedCrop implements Transform {
    private final int size;
    private final double scaleMin, scaleMax, logRatioMin, logRatioMax, ratioMin, ratioMax;

    public RandomResizedCrop(int size) {
        this(size, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0);
    }

    public RandomResizedCrop(int size, double scaleMin, double scaleMax, double ratioMin, double ratioMax) {
        if (size <= 0 || !(0 < scaleMin && scaleMin <= scaleMax) || !(0 < ratioMin && ratioMin <= ratioMax)) {
            throw new IllegalArgumentException("RandomResizedCrop(" + size + ", scale (" + scaleMin + ", " + scaleMax + "), ratio (" + ratioMin + ", " + ratioMax + "))");
        }
        this.size = size;
        this.scaleMin = scaleMin;
        this.scaleMax = scaleMax;
        this.ratioMin = ratioMin;
        this.ratioMax = ratioMax;
        this.logRatioMin = Math.log(ratioMin);
        this.logRatioMax = Math.log(ratioMax);
    }

    @Override
    public ImageShape outputShape(ImageShape in) {
        return new ImageShape(in.channels(), size, size);
    }

    /** The box as {top, left, height, width}, drawn from {@code rng}. */
    int[] box(int imageH, int imageW, Rng rng) {
        double area = (double) imageH * imageW;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (scaleMin + (scaleMax - scaleMin) * rng.nextDouble());
            double aspect = Math.exp(logRatioMin + (logRatioMax - logRatioMin) * rng.nextDouble());
            int w = (int) Math.rint(Math.sqrt(target * aspect));
            int h = (int) Math.rint(Math.sqrt(target / aspect));
            if (0 < w && w <= imageW && 0 < h && h <= imageH) {
                int top = rng.nextInt(imageH - h + 1);
                int left = rng.nextInt(imageW - w + 1);
                return new int[] {top, left, h, w};
            }
        }
        double inRatio = (double) imageW / imageH;
        int w, h;
        if (inRatio < ratioMin) {
            w = imageW;
            h = (int) Math.rint(w / ratioMin);
        } else if (inRatio > ratioMax) {
            h = imageH;
            w = (int) Math.rint(h * ratioMax);
        } else {
            w = imageW;
            h = imageH;
        }
        return new int[] {(imageH - h) / 2, (imageW - w) / 2, h, w};
    }

    @Override
    public void apply(ImageBuffer image, Rng rng) {
        int c = image.channels(), inH = image.height(), inW = image.width();
        int[] b = box(inH, inW, rng);
        Resample.Taps ty = Resample.taps(b[0], b[2], inH, size, 0, size);
        Resample.Taps tx = Resample.taps(b[1], b[3], inW, size, 0, size);
        float[] tmp = image.temp(c * (ty.highest() - ty.lowest()) * size);
        Resample.apply(image.data(), c, inH, inW, ty, tx, tmp, image.output(c * size * size));
        image.swap(c, size, size);
    }

    @Override
    public String toString() {
        return "RandomResizedCrop(" + size + ", scale (" + scaleMin + ", " + scaleMax + "), ratio (" + ratioMin + ", " + ratioMax + "))";
    }
}
