package org.stablekd.models;

import java.util.List;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.nn.Sequential;
import org.stablekd.ops.Layout;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * The CIFAR ResNets of RepDistiller's {@code models/resnet.py}: resnet8/14/20/32/44/56/110
 * (filters 16,16,32,64) and resnet8x4/resnet32x4 (filters 32,64,128,256); depth = 6n+2 with n
 * basic blocks per stage. Stem conv3×3(C→f0)+BN+ReLU; layer1 n×(f1, stride 1), layer2
 * n×(f2, first stride 2), layer3 n×(f3, first stride 2); AvgPool2d(8) → fc(f3→classes).
 * Shortcuts are named {@code downsample}. Init: convs kaiming_normal(fan_out, relu), BN 1/0,
 * fc PyTorch's default.
 *
 * <p>Stages (H×W input): {@code layer1} = stem + layer1 → (f1, H, W); {@code layer2} →
 * (f2, H/2, W/2); {@code layer3} → (f3, H/4, W/4); {@code head} = AvgPool2d(8) + fc → (classes).
 *
 * <p>Inputs: any channel count; H and W in 29..60 (the head's AvgPool2d(8) must leave 1×1),
 * 32×32 standard. Fashion-MNIST's 28×28 must be padded to 32×32.
 */
public final class CifarResNet extends Model {
    private static final List<String> STAGES = List.of("layer1", "layer2", "layer3", "head");
    static final int[] FILTERS = {16, 16, 32, 64};
    static final int[] FILTERS_X4 = {32, 64, 128, 256};

    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Sequential layer1, layer2, layer3;
    private final Linear fc;

    public CifarResNet(String name, int depth, int[] filters, int numClasses, Shape input, Rng rng) {
        super(name, numClasses, Inputs.chw(name, input));
        Inputs.requireClasses(name, numClasses);
        if (depth < 8 || (depth - 2) % 6 != 0) throw new IllegalArgumentException(name + ": depth must be 6n+2 (8, 14, 20, ...), got " + depth);
        Inputs.requireAvgPool8Head(name, input);
        int n = (depth - 2) / 6;
        conv1 = child("conv1", new Conv2d(input.dim(0), filters[0], 3, 1, 1));
        bn1 = child("bn1", new BatchNorm2d(filters[0]));
        layer1 = child("layer1", ResidualBlocks.basicLayer(filters[0], filters[1], n, 1, "downsample"));
        layer2 = child("layer2", ResidualBlocks.basicLayer(filters[1], filters[2], n, 2, "downsample"));
        layer3 = child("layer3", ResidualBlocks.basicLayer(filters[2], filters[3], n, 2, "downsample"));
        fc = child("fc", new Linear(filters[3], numClasses, true));
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
            case 0 -> layer1.forward(bn1.forwardRelu(conv1.forward(x))); // (N,f1,H,W)
            case 1 -> layer2.forward(x);                                               // (N,f2,H/2,W/2)
            case 2 -> layer3.forward(x);                                               // (N,f3,H/4,W/4)
            case 3 -> fc.forward(Layout.flatten(Pool.avgPool2d(x, 8, 8, 0, false)));   // (N,classes)
            default -> throw Stages.noSuchStage(this, i);
        };
    }
}
