package org.stablekd.data;

import java.util.Arrays;
import org.stablekd.tensor.Rng;

/**
 * Per-channel {@code (x - mean[c]) / std[c]}, in place (torchvision {@code Normalize}). One mean and
 * std may serve every channel (e.g. Fashion-MNIST repeated to 3 channels).
 */
public final class Normalize implements Transform {
    /** The CIFAR-100 KD benchmark's values (docs/design.md, Augmentation and normalization). */
    public static final Normalize CIFAR100 = new Normalize(new float[] {0.5071f, 0.4867f, 0.4408f}, new float[] {0.2675f, 0.2565f, 0.2761f});
    public static final Normalize CIFAR10 = new Normalize(new float[] {0.4914f, 0.4822f, 0.4465f}, new float[] {0.2470f, 0.2435f, 0.2616f});
    public static final Normalize IMAGENET = new Normalize(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
    /** Fashion-MNIST train set: mean 0.2860, std 0.3530 (of x / 255). */
    public static final Normalize FASHION_MNIST = new Normalize(new float[] {0.2860f}, new float[] {0.3530f});

    private final float[] mean, std;

    public Normalize(float[] mean, float[] std) {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("Normalize needs as many means as stds (one, or one per channel): " + Arrays.toString(mean) + " / " + Arrays.toString(std));
        }
        for (float s : std) if (!(s > 0)) throw new IllegalArgumentException("Normalize: std must be positive, got " + Arrays.toString(std));
        this.mean = mean.clone();
        this.std = std.clone();
    }

    /** Mean and std of each channel over a whole dataset, of x / 255 (the stds are population stds). */
    public static Normalize fromDataset(Dataset ds) throws java.io.IOException {
        ImageShape s = ds.shape();
        int plane = s.height() * s.width();
        double[] sum = new double[s.channels()], sumSq = new double[s.channels()];
        byte[] img = new byte[s.numel()];
        for (int i = 0; i < ds.size(); i++) {
            ds.readImage(i, img, 0);
            for (int c = 0; c < s.channels(); c++) {
                long a = 0, b = 0;
                for (int k = c * plane; k < (c + 1) * plane; k++) {
                    int v = img[k] & 0xFF;
                    a += v;
                    b += v * v;
                }
                sum[c] += a;
                sumSq[c] += b;
            }
        }
        float[] m = new float[s.channels()], sd = new float[s.channels()];
        double n = (double) ds.size() * plane;
        for (int c = 0; c < s.channels(); c++) {
            double mu = sum[c] / n;
            m[c] = (float) (mu / 255);
            sd[c] = (float) (Math.sqrt(Math.max(0, sumSq[c] / n - mu * mu)) / 255);
            if (!(sd[c] > 0)) throw new IllegalArgumentException(ds.name() + ": channel " + c + " is constant (" + mu + "), its std 0 cannot normalize");
        }
        return new Normalize(m, sd);
    }

    public float[] mean() { return mean.clone(); }
    public float[] std() { return std.clone(); }

    @Override
    public ImageShape outputShape(ImageShape in) {
        if (mean.length != 1 && mean.length != in.channels()) {
            throw new IllegalArgumentException(this + " has " + mean.length + " channel values but the image is " + in);
        }
        return in;
    }

    @Override
    public void apply(ImageBuffer image, Rng rng) {
        float[] d = image.data();
        int plane = image.height() * image.width();
        for (int c = 0; c < image.channels(); c++) {
            float m = mean[mean.length == 1 ? 0 : c], s = std[std.length == 1 ? 0 : c];
            for (int i = c * plane, end = i + plane; i < end; i++) d[i] = (d[i] - m) / s;
        }
    }

    @Override
    public String toString() {
        return "Normalize(mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std) + ")";
    }
}
