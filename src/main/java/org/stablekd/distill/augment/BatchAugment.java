package org.stablekd.distill.augment;

import org.stablekd.distill.Teacher;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/**
 * A batch-level augmentation a distillation method applies once per training step, on the
 * normalized batch from the loader: images (B, C, H, W) F32 and labels (B) I32, host tensors.
 * Implementations draw all randomness from {@code rng} (so a run is reproducible from its seed)
 * and never modify their inputs; the result is allocated in the caller's scope.
 */
public interface BatchAugment {

    /** A short name for logs and metrics ("none", "mixup", "cutmix", "cutmix_pick"). */
    String name();

    /**
     * @param teacher the frozen teacher, for augmentations that consult it (CutMixPick); others accept null
     */
    Mixed apply(Tensor images, Tensor labels, Teacher teacher, Rng rng);

    /** No augmentation: the batch itself with λ = 1. Draws nothing from the rng. */
    static BatchAugment identity() {
        return Identity.INSTANCE;
    }

    /**
     * Reads a command-line spec: {@code none}, {@code mixup[:α]}, {@code cutmix[:α]},
     * {@code cutmix_pick[:passes]} (defaults α = 1, passes = 2, as in the papers).
     */
    static BatchAugment parse(String spec) {
        String s = spec.strip().toLowerCase(java.util.Locale.ROOT);
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon);
        String arg = colon < 0 ? null : s.substring(colon + 1);
        try {
            return switch (kind) {
                case "none", "identity" -> {
                    if (arg != null) throw new IllegalArgumentException("'" + kind + "' takes no parameter");
                    yield identity();
                }
                case "mixup" -> new MixUp(arg == null ? 1.0 : Double.parseDouble(arg));
                case "cutmix" -> new CutMix(arg == null ? 1.0 : Double.parseDouble(arg));
                case "cutmix_pick", "cutmixpick" -> new CutMixPick(arg == null ? 2 : Integer.parseInt(arg));
                default -> throw new IllegalArgumentException("unknown augmentation '" + kind + "'");
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("augmentation '" + spec + "': '" + arg + "' is not a number", e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("augmentation '" + spec + "': " + e.getMessage()
                    + "; use none, mixup[:alpha], cutmix[:alpha] or cutmix_pick[:passes]", e);
        }
    }
}
