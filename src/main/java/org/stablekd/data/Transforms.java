package org.stablekd.data;

import java.util.ArrayList;
import java.util.List;

/**
 * The standard pipelines (docs/design.md, Augmentation and normalization), ready to hand to a
 * {@link Loader}.
 */
public final class Transforms {
    private Transforms() {}

    /** CIFAR training: RandomCrop(32, padding 4), horizontal flip (p 0.5), normalize. */
    public static Transform cifarTrain(Normalize normalize) {
        return Compose.of(new RandomCrop(32, 4), new RandomHorizontalFlip(0.5), normalize);
    }

    /** Evaluation on stored-size images: normalize only. */
    public static Transform eval(Normalize normalize) {
        return normalize;
    }

    /** ImageNet / Imagewoof training: RandomResizedCrop(size), flip, normalize. */
    public static Transform imageNetTrain(int size, Normalize normalize) {
        return Compose.of(new RandomResizedCrop(size), new RandomHorizontalFlip(0.5), normalize);
    }

    /** ImageNet / Imagewoof evaluation on images stored at a larger size: CenterCrop(size), normalize. */
    public static Transform imageNetEval(int size, Normalize normalize) {
        return Compose.of(new CenterCrop(size), normalize);
    }

    /**
     * Fashion-MNIST 1×28×28 → {@code channels}×32×32: pad to 32 with zeros, (train: RandomCrop(32,
     * padding 4) and flip), normalize, and repeat to 3 channels when the model wants them.
     */
    public static Transform fashionMnist(boolean train, int channels) {
        List<Transform> steps = new ArrayList<>();
        steps.add(new PadToSize(32, 32));
        if (train) {
            steps.add(new RandomCrop(32, 4));
            steps.add(new RandomHorizontalFlip(0.5));
        }
        steps.add(Normalize.FASHION_MNIST);
        if (channels != 1) steps.add(new RepeatChannels(channels));
        return Compose.of(steps);
    }
}
