package org.stablekd.data;

/**
 * Antialiased bilinear resampling of float planes, with Pillow's conventions (which torchvision's
 * {@code Resize} and {@code RandomResizedCrop} follow, antialias on): pixel centers at +0.5, and a
 * triangle filter widened by the scale when shrinking, so every source pixel contributes. Enlarging
 * is plain bilinear; a scale of 1 is an exact copy. Separable: a horizontal pass into a temporary
 * buffer, then a vertical pass.
 */
final class Resample {
    private Resample() {}

    /**
     * The filter of one axis: output position {@code o} (of {@code outFrom .. outFrom+count}) reads
     * {@code taps[o]} input positions from {@code first[o]} with {@code weights[o·maxTaps + k]}.
     */
    static final class Taps {
        final int count;
        final int[] first;
        final int[] taps;
        final float[] weights;
        final int maxTaps;

        private Taps(int count, int maxTaps) {
            this.count = count;
            this.maxTaps = maxTaps;
            this.first = new int[count];
            this.taps = new int[count];
            this.weights = new float[count * maxTaps];
        }

        int lowest() {
            return first[0];
        }

        /** One past the highest input position read. */
        int highest() {
            int hi = 0;
            for (int o = 0; o < count; o++) hi = Math.max(hi, first[o] + taps[o]);
            return hi;
        }
    }

    /**
     * Taps for resizing the input range {@code [boxStart, boxStart + boxLength)} of an axis of
     * {@code inSize} pixels to {@code outSize} pixels, for the outputs {@code outFrom .. outFrom+count}
     * (a window, so a center crop of a resize computes only what it keeps).
     */
    static Taps taps(double boxStart, double boxLength, int inSize, int outSize, int outFrom, int count) {
        double scale = boxLength / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filterScale; // the triangle filter has radius 1
        int maxTaps = (int) Math.ceil(support) * 2 + 1;
        Taps t = new Taps(count, maxTaps);
        for (int i = 0; i < count; i++) {
            double center = boxStart + (outFrom + i + 0.5) * scale;
            int lo = Math.max((int) Math.floor(center - support + 0.5), 0);
            int hi = Math.min((int) Math.floor(center + support + 0.5), inSize);
            int n = Math.min(Math.max(hi - lo, 0), maxTaps);
            int at = i * maxTaps;
            double sum = 0;
            for (int k = 0; k < n; k++) {
                double x = (lo + k - center + 0.5) / filterScale;
                double w = Math.max(0, 1 - Math.abs(x));
                t.weights[at + k] = (float) w;
                sum += w;
            }
            for (int k = 0; k < n; k++) t.weights[at + k] = sum == 0 ? 0 : (float) (t.weights[at + k] / sum);
            t.first[i] = lo;
            t.taps[i] = n;
        }
        return t;
    }

    /**
     * {@code src} (channels, inH, inW) → {@code dst} (channels, ty.count, tx.count). {@code tmp} needs
     * {@code channels · (ty.highest() - ty.lowest()) · tx.count} floats.
     */
    static void apply(float[] src, int channels, int inH, int inW, Taps ty, Taps tx, float[] tmp, float[] dst) {
        int rowLo = ty.lowest(), rowHi = ty.highest();
        int rows = rowHi - rowLo, outW = tx.count, outH = ty.count;
        // horizontal: tmp (c, rows, outW)
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < rows; y++) {
                int in = (c * inH + rowLo + y) * inW;
                int out = (c * rows + y) * outW;
                for (int x = 0; x < outW; x++) {
                    int from = in + tx.first[x], wAt = x * tx.maxTaps;
                    float acc = 0;
                    for (int k = 0; k < tx.taps[x]; k++) acc += src[from + k] * tx.weights[wAt + k];
                    tmp[out + x] = acc;
                }
            }
        }
        // vertical: dst (c, outH, outW)
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < outH; y++) {
                int out = (c * outH + y) * outW;
                int wAt = y * ty.maxTaps;
                for (int x = 0; x < outW; x++) dst[out + x] = 0;
                for (int k = 0; k < ty.taps[y]; k++) {
                    float w = ty.weights[wAt + k];
                    int in = (c * rows + ty.first[y] + k - rowLo) * outW;
                    for (int x = 0; x < outW; x++) dst[out + x] += tmp[in + x] * w;
                }
            }
        }
    }
}
