package org.stablekd.distill.augment;

import java.util.List;
import org.stablekd.distill.Teacher;
import org.stablekd.nn.Model;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/** Small batches whose pixels say where they came from, and a fake teacher. */
final class AugmentFixtures {
    private AugmentFixtures() {}

    /** Pixel value 1000·i + 100·c + 10·y + x: every pixel names its image, channel, row and column. */
    static Tensor codedImages(int b, int c, int h, int w) {
        float[] d = new float[b * c * h * w];
        int k = 0;
        for (int i = 0; i < b; i++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) d[k++] = 1000 * i + 100 * ch + 10 * y + x;
        return Tensor.of(d, b, c, h, w);
    }

    /** The image a coded pixel came from. */
    static int sourceImage(double pixel) {
        return (int) Math.floor(pixel / 1000);
    }

    static Tensor labels(int... l) {
        return Tensor.ofInts(l, l.length);
    }

    /**
     * A teacher over two classes whose logits are (0, 8·(mean(image) − 0.5)): its entropy is
     * highest (ln 2) for images of mean 0.5 and falls as the mean moves away.
     */
    static Teacher meanTeacher(Shape input) {
        return new Teacher(new Model("mean-teacher", 2, input) {
            @Override public List<String> stageNames() { return List.of("head"); }

            @Override
            public Tensor forwardStage(int i, Tensor x) {
                int b = x.dim(0);
                long per = x.numel() / b;
                Tensor out = Tensor.empty(DType.F32, b, 2);
                for (int n = 0; n < b; n++) {
                    double sum = 0;
                    for (long k = 0; k < per; k++) sum += x.getFlat(n * per + k);
                    out.set(0, n, 0).set(8 * (sum / per - 0.5), n, 1);
                }
                return out;
            }
        });
    }
}
