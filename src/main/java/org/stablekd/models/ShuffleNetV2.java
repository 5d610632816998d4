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
 * ShuffleNetV2 of RepDistiller's {@code models/ShuffleNetv2.py} ({@code ShuffleV2}: net size 1,
 * stages 116/232/464 channels × 3/7/3 basic blocks, head 1024). CIFAR stem conv1×1(C→24,
 * stride 1)+BN+ReLU, no max-pool; {@code layer1..3} = one down-sampling block
 * ({@code layerX.0}) then the basic blocks; {@code conv2} 1×1→1024 + {@code bn2} + ReLU,
 * AvgPool2d(4) → {@code linear}. Init: PyTorch's defaults everywhere (the reference sets none).
 *
 * <p>Stages: {@code layer1} = stem + layer1 → (116, H/2, W/2); {@code layer2} → (232, H/4, W/4);
 * {@code layer3} → (464, H/8, W/8); {@code head} = conv2 + bn2 + ReLU + AvgPool2d(4) + linear →
 * (classes).
 *
 * <p>Inputs: any channel count; H and W in 25..56 (the head's AvgPool2d(4) must leave 1×1 from an
 * H/8 map of 4..7); 32×32 standard, 28×28 works.
 */
public final class ShuffleNetV2 extends Model {
    private static final List<String> STAGES = List.of("layer1", "layer2", "layer3", "head");
    private static final int STEM = 24;

    private final Conv2d conv1, conv2;
    private final BatchNorm2d bn1, bn2;
    private final Sequential layer1, layer2, layer3;
    private final Linear linear;

    /** {@code channels}: the three stage widths and the head width. */
    public ShuffleNetV2(String name, int[] channels, int[] blocks, int numClasses, Shape input, Rng rng) {
        super(name, numClasses, Inputs.chw(name, input));
        Inputs.requireClasses(name, numClasses);
        Inputs.requireAvgPool4Head(name, input);
        conv1 = child("conv1", new Conv2d(input.dim(0), STEM, 1, 1, 0));
        bn1 = child("bn1", new BatchNorm2d(STEM));
        layer1 = child("layer1", layer(STEM, channels[0], blocks[0]));
        layer2 = child("layer2", layer(channels[0], channels[1], blocks[1]));
        layer3 = child("layer3", layer(channels[1], channels[2], blocks[2]));
        conv2 = child("conv2", new Conv2d(channels[2], channels[3], 1, 1, 0));
        bn2 = child("bn2", new BatchNorm2d(channels[3]));
        linear = child("linear", new Linear(channels[3], numClasses, true));
        ReferenceInit.convs(this, c -> c.pytorchDefault(rng));
        linear.pytorchDefault(rng);
    }

    private static Sequential layer(int in, int out, int n) {
        Sequential layer = new Sequential(new DownBlock(in, out));
        for (int i = 0; i < n; i++) layer.add(new BasicBlock(out));
        return layer;
    }

    @Override
    public List<String> stageNames() {
        return STAGES;
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        return switch (i) {
            case 0 -> layer1.forward(Pointwise.relu(bn1.forward(conv1.forward(x)))); // (N,116,H/2,W/2)
            case 1 -> layer2.forward(x);                                               // (N,232,H/4,W/4)
            case 2 -> layer3.forward(x);                                               // (N,464,H/8,W/8)
            case 3 -> linear.forward(Layout.flatten(Pool.avgPool2d(Pointwise.relu(bn2.forward(conv2.forward(x))), 4, 4, 0, false)));
            default -> throw Stages.noSuchStage(this, i);
        };
    }

    /**
     * Split channels in halves x1 | x2; x2 → conv1×1+BN+ReLU → depthwise 3×3+BN → conv1×1+BN+ReLU;
     * output shuffle(concat(x1, branch), 2). Members conv1..3, bn1..3.
     */
    static final class BasicBlock extends Module {
        private final Conv2d conv1, conv2, conv3;
        private final BatchNorm2d bn1, bn2, bn3;

        BasicBlock(int channels) {
            int c = channels / 2;
            conv1 = child("conv1", new Conv2d(c, c, 1, 1, 0));
            bn1 = child("bn1", new BatchNorm2d(c));
            conv2 = child("conv2", new Conv2d(c, c, 3, 1, 1, c, false));
            bn2 = child("bn2", new BatchNorm2d(c));
            conv3 = child("conv3", new Conv2d(c, c, 1, 1, 0));
            bn3 = child("bn3", new BatchNorm2d(c));
        }

        @Override
        public Tensor forward(Tensor x) { // (N,C,H,W) → (N,C,H,W)
            int half = x.dim(1) / 2;
            Tensor[] parts = Layout.split(x, half, x.dim(1) - half);
            Tensor y = Pointwise.relu(bn1.forward(conv1.forward(parts[1])));
            y = bn2.forward(conv2.forward(y));
            y = Pointwise.relu(bn3.forward(conv3.forward(y)));
            return Layout.channelShuffle(Layout.concat(parts[0], y), 2);
        }
    }

    /**
     * Stride-2 block, out = 2·mid channels. Left: depthwise 3×3/2+BN (conv1, bn1), conv1×1→mid
     * +BN+ReLU (conv2, bn2). Right: conv1×1→mid+BN+ReLU (conv3, bn3), depthwise 3×3/2+BN
     * (conv4, bn4), conv1×1+BN+ReLU (conv5, bn5). Output shuffle(concat(left, right), 2).
     */
    static final class DownBlock extends Module {
        private final Conv2d conv1, conv2, conv3, conv4, conv5;
        private final BatchNorm2d bn1, bn2, bn3, bn4, bn5;

        DownBlock(int in, int out) {
            int mid = out / 2;
            conv1 = child("conv1", new Conv2d(in, in, 3, 2, 1, in, false));
            bn1 = child("bn1", new BatchNorm2d(in));
            conv2 = child("conv2", new Conv2d(in, mid, 1, 1, 0));
            bn2 = child("bn2", new BatchNorm2d(mid));
            conv3 = child("conv3", new Conv2d(in, mid, 1, 1, 0));
            bn3 = child("bn3", new BatchNorm2d(mid));
            conv4 = child("conv4", new Conv2d(mid, mid, 3, 2, 1, mid, false));
            bn4 = child("bn4", new BatchNorm2d(mid));
            conv5 = child("conv5", new Conv2d(mid, mid, 1, 1, 0));
            bn5 = child("bn5", new BatchNorm2d(mid));
        }

        @Override
        public Tensor forward(Tensor x) { // (N,in,H,W) → (N,2·mid,H/2,W/2)
            Tensor left = Pointwise.relu(bn2.forward(conv2.forward(bn1.forward(conv1.forward(x)))));
            Tensor right = Pointwise.relu(bn3.forward(conv3.forward(x)));
            right = Pointwise.relu(bn5.forward(conv5.forward(bn4.forward(conv4.forward(right)))));
            return Layout.channelShuffle(Layout.concat(left, right), 2);
        }
    }
}
