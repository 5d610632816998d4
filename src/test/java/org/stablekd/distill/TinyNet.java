package org.stablekd.distill;

import java.util.List;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * A three-stage CNN on (1,8,8) images, 3 classes, for the method tests:
 * stage 0 conv3×3(1→c1) [+BN] + ReLU → (c1,8,8); stage 1 conv3×3(c1→c2, stride) + ReLU →
 * (c2,8/stride,8/stride); stage 2 global pool + linear → logits. The same seed gives the same weights.
 */
final class TinyNet extends Model {
    final Conv2d conv1, conv2;
    final BatchNorm2d bn1;
    final Linear fc;
    /** When false, running the head throws: shows a method never asked for the logits. */
    boolean headAllowed = true;

    TinyNet(String name, int c1, int c2, int stride, boolean batchNorm, long seed) {
        super(name, 3, Shape.of(1, 8, 8));
        Rng rng = new Rng(seed);
        conv1 = child("conv1", new Conv2d(1, c1, 3, 1, 1)).kaimingFanOut(rng);
        bn1 = batchNorm ? child("bn1", new BatchNorm2d(c1)) : null;
        conv2 = child("conv2", new Conv2d(c1, c2, 3, stride, 1)).kaimingFanOut(rng);
        fc = child("fc", new Linear(c2, 3, true)).pytorchDefault(rng);
    }

    @Override
    public List<String> stageNames() {
        return List.of("stem", "layer", "head");
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        return switch (i) {
            case 0 -> Pointwise.relu(bn1 == null ? conv1.forward(x) : bn1.forward(conv1.forward(x)));
            case 1 -> Pointwise.relu(conv2.forward(x));
            case 2 -> {
                if (!headAllowed) throw new IllegalStateException(name() + ": the head ran");
                yield fc.forward(Pool.globalAvgPool(x));
            }
            default -> throw new IndexOutOfBoundsException(i);
        };
    }
}
