package org.stablekd.distill.augment;

import java.util.Arrays;
import org.stablekd.distill.Teacher;
import org.stablekd.tensor.Tensor;

/**
 * An augmented batch: images x̃ (B, C, H, W) F32 and, per sample i, two labels and the weight
 * λ_i of the first: the target is λ_i·onehot(labelsA_i) + (1 − λ_i)·onehot(labelsB_i).
 * MixUp and CutMix use one λ for the whole batch; CutMixPick's samples come from different CutMix
 * draws, so λ varies per sample (in runs: see {@link MixedLoss}).
 *
 * @param teacherLogits the frozen teacher's logits on {@code images} (B, classes) when the
 *                      augmentation computed them anyway (CutMixPick), else null
 */
public record Mixed(Tensor images, Tensor labelsA, Tensor labelsB, double[] lambda, Tensor teacherLogits) {

    public Mixed {
        int b = images.dim(0);
        if (labelsA.dim(0) != b || labelsB.dim(0) != b || lambda.length != b) {
            throw new IllegalArgumentException("a mixed batch of " + b + " images needs " + b + " labels and λ values, got "
                    + labelsA.dim(0) + ", " + labelsB.dim(0) + " and " + lambda.length);
        }
        for (double l : lambda) {
            if (!(l >= 0 && l <= 1)) throw new IllegalArgumentException("λ must be in [0, 1], got " + Arrays.toString(lambda));
        }
    }

    /** The batch unchanged: λ = 1, both label sets the original labels. */
    public static Mixed unchanged(Tensor images, Tensor labels) {
        double[] ones = new double[images.dim(0)];
        Arrays.fill(ones, 1.0);
        return new Mixed(images, labels, labels, ones, null);
    }

    public int size() {
        return lambda.length;
    }

    /** True when every sample has the same λ. */
    public boolean uniformLambda() {
        for (double l : lambda) if (l != lambda[0]) return false;
        return true;
    }

    /** The teacher's logits on the mixed images: the ones already computed, or a fresh teacher forward. */
    public Tensor teacherLogits(Teacher teacher) {
        return teacherLogits != null ? teacherLogits : teacher.logits(images);
    }
}
