package org.stablekd.models;

import java.util.List;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.nn.Sequential;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * ResNet18/34/50 for CIFAR, as RepDistiller's {@code models/resnetv2.py} (named after that file;
 * these are ordinary post-activation ResNets, not He et al.'s pre-activation "ResNet v2").
 * Stem conv3×3(C→64, stride 1)+BN+ReLU, no max-pool; layer1..4 with 64/128/256/512 planes
 * (basic blocks [2,2,2,2] / [3,4,6,3], or bottlenecks ×4 [3,4,6,3] for ResNet50), first block of
 * layers 2..4 stride 2; global average pool → {@code linear}. Shortcuts are named
 * {@code shortcut}. Init: convs kaiming_normal(fan_out, relu), BN 1/0, linear PyTorch's default.
 *
 * <p>Stages: {@code layer1} = stem + layer1 → (64·e, H, W); {@code layer2} → (128·e, H/2, W/2);
 * {@code layer3} → (256·e, H/4, W/4); {@code layer4} → (512·e, H/8, W/8); {@code head} = global
 * average pool + linear → (classes); e = 1 (basic) or 4 (bottleneck).
 *
 * <p>Inputs: any channel count and any H×W (the head pools globally); 32×32 standard, 28×28 works.
 */
public final class CifarResNetV2 extends Model {
    private static final List<String> STAGES = List.of("layer1", "layer2", "layer3", "layer4", "head");
    static final int[] RESNET18 = {2, 2, 2, 2};
    static final int[] RESNET34 = {3, 4, 6, 3};
    static final int[] RESNET50 = {3, 4, 6, 3};

    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Sequential[] layers = new Sequential[4];
    private final Linear linear;

    public CifarResNetV2(String name, boolean bottleneck, int[] blocks, int numClasses, Shape input, Rng rng) {
        super(name, numClasses, Inputs.chw(name, input));
        Inputs.requireClasses(name, numClasses);
        conv1 = child("conv1", new Conv2d(input.dim(0), 64, 3, 1, 1));
        bn1 = child("bn1", new BatchNorm2d(64));
        int in = 64;
        int[] planes = {64, 128, 256, 512};
        for (int i = 0; i < 4; i++) {
            int stride = i == 0 ? 1 : 2;
            layers[i] = child("layer" + (i + 1), bottleneck
                    ? ResidualBlocks.bottleneckLayer(in, planes[i], blocks[i], stride, "shortcut")
                    : ResidualBlocks.basicLayer(in, planes[i], blocks[i], stride, "shortcut"));
            in = bottleneck ? planes[i] * ResidualBlocks.Bottleneck.EXPANSION : planes[i];
        }
        linear = child("linear", new Linear(in, numClasses, true));
        ReferenceInit.convsKaimingFanOut(this, rng);
        linear.pytorchDefault(rng);
    }

    @Override
    public List<String> stageNames() {
        return STAGES;
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        return switch (i) {
            case 0 -> layers[0].forward(bn1.forwardRelu(conv1.forward(x))); // (N,64e,H,W)
            case 1, 2, 3 -> layers[i].forward(x);                                         // (N,·,H/2^i,W/2^i)
            case 4 -> linear.forward(Pool.globalAvgPool(x));                               // (N,classes)
            default -> throw Stages.noSuchStage(this, i);
        };
    }
}
