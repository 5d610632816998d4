package org.stablekd.models;

import java.util.List;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.nn.Sequential;
import org.stablekd.ops.Layout;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * ShuffleNetV1 of RepDistiller's {@code models/ShuffleNetv1.py} ({@code ShuffleV1}: groups 3,
 * stages 240/480/960 channels × 4/8/4 blocks). CIFAR stem conv1×1(C→24, stride 1)+BN+ReLU, no
 * max-pool; {@code layer1..3}, each opened by a stride-2 block whose output is
 * concat(branch, AvgPool3×3/2(x)) and continued by stride-1 blocks with relu(branch + x);
 * AvgPool2d(4) → {@code linear}. Branch: grouped conv1×1 (groups 1 when the input has 24
 * channels) to out/4 + BN + ReLU, channel shuffle, depthwise 3×3(s) + BN + ReLU, grouped conv1×1
 * + BN. Init: PyTorch's defaults everywhere (the reference sets none).
 *
 * <p>Stages: {@code layer1} = stem + layer1 → (240, H/2, W/2); {@code layer2} → (480, H/4, W/4);
 * {@code layer3} → (960, H/8, W/8); {@code head} = AvgPool2d(4) + linear → (classes).
 *
 * <p>Inputs: any channel count; H and W in 25..56 (the head's AvgPool2d(4) must leave 1×1 from an
 * H/8 map of 4..7); 32×32 standard, 28×28 works.
 */
public final class ShuffleNetV1 extends Model {
    private static final List<String> STAGES = List.of("layer1", "layer2", "layer3", "head");
    private static final int STEM = 24;

    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Sequential layer1, layer2, layer3;
    private final Linear linear;

    public ShuffleNetV1(String name, int[] outChannels, int[] blocks, int groups, int numClasses, Shape input, Rng rng) {
        super(name, numClasses, Inputs.chw(name, input));
        Inputs.requireClasses(name, numClasses);
        Inputs.requireAvgPool4Head(name, input);
        conv1 = child("conv1", new Conv2d(input.dim(0), STEM, 1, 1, 0));
        bn1 = child("bn1", new BatchNorm2d(STEM));
        layer1 = child("layer1", layer(STEM, outChannels[0], blocks[0], groups));
        layer2 = child("layer2", layer(outChannels[0], outChannels[1], blocks[1], groups));
        layer3 = child("layer3", layer(outChannels[1], outChannels[2], blocks[2], groups));
        linear = child("linear", new Linear(outChannels[2], numClasses, true));
        ReferenceInit.convs(this, c -> c.pytorchDefault(rng));
        linear.pytorchDefault(rng);
    }

    /** The first block adds out−in channels and concatenates the pooled input; the rest keep out. */
    private static Sequential layer(int in, int out, int n, int groups) {
        Sequential layer = new Sequential();
        layer.add(new Bottleneck(in, out - in, 2, groups));
        for (int i = 1; i < n; i++) layer.add(new Bottleneck(out, out, 1, groups));
        return layer;
    }

    @Override
    public List<String> stageNames() {
        return STAGES;
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        return switch (i) {
            case 0 -> layer1.forward(Pointwise.relu(bn1.forward(conv1.forward(x)))); // (N,240,H/2,W/2)
            case 1 -> layer2.forward(x);                                               // (N,480,H/4,W/4)
            case 2 -> layer3.forward(x);                                               // (N,960,H/8,W/8)
            case 3 -> linear.forward(Layout.flatten(Pool.avgPool2d(x, 4, 4, 0, false)));
            default -> throw Stages.noSuchStage(this, i);
        };
    }

    /** The ShuffleNet unit; members conv1 bn1 conv2 bn2 conv3 bn3. */
    static final class Bottleneck extends Module {
        private final Conv2d conv1, conv2, conv3;
        private final BatchNorm2d bn1, bn2, bn3;
        private final int stride, firstGroups;

        Bottleneck(int in, int out, int stride, int groups) {
            int mid = out / 4;
            this.stride = stride;
            this.firstGroups = in == STEM ? 1 : groups;
            conv1 = child("conv1", new Conv2d(in, mid, 1, 1, 0, firstGroups, false));
            bn1 = child("bn1", new BatchNorm2d(mid));
            conv2 = child("conv2", new Conv2d(mid, mid, 3, stride, 1, mid, false));
            bn2 = child("bn2", new BatchNorm2d(mid));
            conv3 = child("conv3", new Conv2d(mid, out, 1, 1, 0, groups, false));
            bn3 = child("bn3", new BatchNorm2d(out));
        }

        @Override
        public Tensor forward(Tensor x) { // (N,in,H,W) → (N,out[+in],H/s,W/s)
            Tensor y = Pointwise.relu(bn1.forward(conv1.forward(x)));
            if (firstGroups > 1) y = Layout.channelShuffle(y, firstGroups); // one group: the identity
            y = Pointwise.relu(bn2.forward(conv2.forward(y)));
            y = bn3.forward(conv3.forward(y));
            return stride == 2
                    ? Pointwise.relu(Layout.concat(y, Pool.avgPool2d(x, 3, 2, 1, false)))
                    : Pointwise.addRelu(y, x);
        }
    }
}
