package org.stablekd.distill.augment;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.stablekd.distill.Teacher;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/**
 * CutMix (Yun et al., ICCV 2019): a box of area ≈ (1 − λ)·H·W, λ ~ Beta(α, α), is cut from a
 * partner image and pasted at the same place into each image; the target is λ·y_i +
 * (1 − λ)·y_π(i) with λ recomputed from the box actually pasted (clipping at the border shrinks
 * it). One λ, one box and one partner permutation per batch, as in the reference code.
 *
 * <p>Box geometry (CutMix paper §3.1 and its reference code): r = √(1 − λ), w = ⌊W·r⌋,
 * h = ⌊H·r⌋, centre (cx, cy) uniform over the pixels, then x ∈ [cx − ⌊w/2⌋, cx + ⌊w/2⌋) and
 * y ∈ [cy − ⌊h/2⌋, cy + ⌊h/2⌋), each clipped to the image; λ = 1 − area/(H·W).
 *
 * <p>Partners: by default a permutation without fixed points, so every image receives a patch from
 * another image (Good-DA-in-KD's choice; the CutMix code allows fixed points).
 *
 * <p>Draws, in order: λ, cx, cy, then the permutation.
 */
public final class CutMix implements BatchAugment {
    private final double alpha;
    private final boolean distinctPartners;

    /** Pixels [x1, x2) × [y1, y2) of an image; empty when x1 == x2 or y1 == y2. */
    public record Box(int x1, int y1, int x2, int y2) {
        public int area() {
            return (x2 - x1) * (y2 - y1);
        }

        /** λ = 1 − area/(H·W): the fraction of the image that keeps its own pixels. */
        public double lambda(int height, int width) {
            return 1 - (double) area() / ((double) height * width);
        }

        public boolean contains(int x, int y) {
            return x >= x1 && x < x2 && y >= y1 && y < y2;
        }
    }

    public CutMix(double alpha, boolean distinctPartners) {
        if (!(alpha > 0 && Double.isFinite(alpha))) throw new IllegalArgumentException("CutMix α must be positive, got " + alpha);
        this.alpha = alpha;
        this.distinctPartners = distinctPartners;
    }

    public CutMix(double alpha) {
        this(alpha, true);
    }

    public CutMix() {
        this(1.0);
    }

    @Override
    public String name() {
        return "cutmix";
    }

    /** The box for a drawn λ and centre (see the class comment). */
    public static Box box(int height, int width, double lambda, int cx, int cy) {
        double r = Math.sqrt(1 - lambda);
        int w = (int) (width * r), h = (int) (height * r);
        return new Box(clamp(cx - w / 2, width), clamp(cy - h / 2, height), clamp(cx + w / 2, width), clamp(cy + h / 2, height));
    }

    private static int clamp(int v, int size) {
        return Math.max(0, Math.min(size, v));
    }

    @Override
    public Mixed apply(Tensor images, Tensor labels, Teacher teacher, Rng rng) {
        HostBatch.check(images, labels);
        int b = images.dim(0), height = images.dim(2), width = images.dim(3);
        double lambda = Sampling.beta(rng, alpha, alpha);
        Box box = box(height, width, lambda, rng.nextInt(width), rng.nextInt(height));
        int[] partner = distinctPartners ? Sampling.derangement(rng, b) : Sampling.permutation(rng, b);
        return paste(images, labels, box, partner);
    }

    /** Pastes {@code box} of image π(i) into a copy of image i, for every i; λ from the box. */
    static Mixed paste(Tensor images, Tensor labels, Box box, int[] partner) {
        int b = images.dim(0), channels = images.dim(1), height = images.dim(2), width = images.dim(3);
        long per = (long) channels * height * width;
        MemorySegment src = HostBatch.floats(images);
        Tensor out = HostBatch.like(images);
        MemorySegment dst = HostBatch.segmentOf(out);
        MemorySegment.copy(src, 0, dst, 0, b * per * 4);
        int boxWidth = box.x2() - box.x1();
        if (boxWidth > 0) {
            for (int i = 0; i < b; i++) {
                for (int c = 0; c < channels; c++) {
                    for (int y = box.y1(); y < box.y2(); y++) {
                        long row = (long) c * height * width + (long) y * width + box.x1();   // in: (C,H,W) contiguous per image
                        MemorySegment.copy(src, (partner[i] * per + row) * 4, dst, (i * per + row) * 4, boxWidth * 4L);
                    }
                }
            }
        }
        double[] lambdas = new double[b];
        Arrays.fill(lambdas, box.lambda(height, width));
        return new Mixed(out, labels, HostBatch.gather(labels.toIntArray(), partner), lambdas, null);
    }

    @Override
    public String toString() {
        return "cutmix(α=" + alpha + (distinctPartners ? "" : ", partners may repeat") + ")";
    }
}
