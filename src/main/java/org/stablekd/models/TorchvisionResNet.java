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
 * The ImageNet ResNet18/34 of torchvision ({@code torchvision/models/resnet.py}), so torchvision
 * checkpoints saved as safetensors load by name. Stem conv7×7(C→64, stride 2, pad 3)+BN+ReLU
 * and max-pool 3×3 stride 2 pad 1; layer1..4 of basic blocks with 64/128/256/512 planes
 * ([2,2,2,2] or [3,4,6,3]), first block of layers 2..4 stride 2, shortcuts named
 * {@code downsample}; global average pool → fc(512→classes). Init: convs kaiming_normal(fan_out,
 * relu), BN 1/0, fc PyTorch's default (zero_init_residual off).
 *
 * <p>Stages (sizes round up at each stride): {@code layer1} = stem + max-pool + layer1 →
 * (64, H/4, W/4); {@code layer2} → (128, H/8, W/8); {@code layer3} → (256, H/16, W/16);
 * {@code layer4} → (512, H/32, W/32); {@code head} = global average pool + fc → (classes).
 *
 * <p>Inputs: any channel count and any H×W (sizes round up at each stride); 224×224 standard.
 */
public final class TorchvisionResNet extends Model {
    private static final List<String> STAGES = List.of("layer1", "layer2", "layer3", "layer4", "head");
    static final int[] RESNET18 = {2, 2, 2, 2};
    static final int[] RESNET34 = {3, 4, 6, 3};

    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Sequential[] layers = new Sequential[4];
    private final Linear fc;

    public TorchvisionResNet(String name, int[] blocks, int numClasses, Shape input, Rng rng) {
        super(name, numClasses, Inputs.chw(name, input));
        Inputs.requireClasses(name, numClasses);
        conv1 = child("conv1", new Conv2d(input.dim(0), 64, 7, 2, 3));
        bn1 = child("bn1", new BatchNorm2d(64));
        int in = 64;
        int[] planes = {64, 128, 256, 512};
        for (int i = 0; i < 4; i++) {
            layers[i] = child("layer" + (i + 1), ResidualBlocks.basicLayer(in, planes[i], blocks[i], i == 0 ? 1 : 2, "downsample"));
            in = planes[i];
        }
        fc = child("fc", new Linear(512, numClasses, true));
        ReferenceInit.convsKaimingFanOut(this, rng);
        fc.pytorchDefault(rng);
    }

    @Override
    public List<String> stageNames() {
        return STAGES;
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        return switch (i) {
            case 0 -> layers[0].forward(Pool.maxPool2d(bn1.forwardRelu(conv1.forward(x)), 3, 2, 1, false)); // (N,64,H/4,W/4)
            case 1, 2, 3 -> layers[i].forward(x);                                                                       // (N,·,H/2^(i+2),·)
            case 4 -> fc.forward(Pool.globalAvgPool(x));                                                                 // (N,classes)
            default -> throw Stages.noSuchStage(this, i);
        };
    }
}
