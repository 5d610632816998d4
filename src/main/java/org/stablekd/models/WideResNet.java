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
 * Wide ResNets of RepDistiller's {@code models/wrn.py}: wrn_16_1, wrn_16_2, wrn_40_1, wrn_40_2
 * (depth 6n+4, widen factor k). conv1 3×3(C→16); block1/2/3 each n pre-activation blocks with
 * 16k/32k/64k channels (first of block2 and block3 stride 2), each group's blocks under
 * {@code blockX.layer.i}; head bn1+ReLU, AvgPool2d(8), fc. Init: convs N(0, √(2/(k·k·C_out))),
 * BN 1/0, fc weight PyTorch's default and bias 0.
 *
 * <p>Stages: {@code block1} = conv1 + block1 → (16k, H, W); {@code block2} → (32k, H/2, W/2);
 * {@code block3} → (64k, H/4, W/4); {@code head} = bn1 + ReLU + AvgPool2d(8) + fc → (classes).
 *
 * <p>Inputs: any channel count; H and W in 29..60 (the head's AvgPool2d(8) must leave 1×1),
 * 32×32 standard. Fashion-MNIST's 28×28 must be padded to 32×32.
 */
public final class WideResNet extends Model {
    private static final List<String> STAGES = List.of("block1", "block2", "block3", "head");

    private final Conv2d conv1;
    private final Group block1, block2, block3;
    private final BatchNorm2d bn1;
    private final Linear fc;

    public WideResNet(String name, int depth, int widen, int numClasses, Shape input, Rng rng) {
        super(name, numClasses, Inputs.chw(name, input));
        Inputs.requireClasses(name, numClasses);
        if (depth < 10 || (depth - 4) % 6 != 0) throw new IllegalArgumentException(name + ": depth must be 6n+4 (10, 16, 40, ...), got " + depth);
        Inputs.requireAvgPool8Head(name, input);
        int n = (depth - 4) / 6;
        int[] ch = {16, 16 * widen, 32 * widen, 64 * widen};
        conv1 = child("conv1", new Conv2d(input.dim(0), ch[0], 3, 1, 1));
        block1 = child("block1", new Group(n, ch[0], ch[1], 1));
        block2 = child("block2", new Group(n, ch[1], ch[2], 2));
        block3 = child("block3", new Group(n, ch[2], ch[3], 2));
        bn1 = child("bn1", new BatchNorm2d(ch[3]));
        fc = child("fc", new Linear(ch[3], numClasses, true));
        ReferenceInit.convsKaimingFanOut(this, rng);
        fc.pytorchDefault(rng);
        fc.bias().value().fill(0);
    }

    @Override
    public List<String> stageNames() {
        return STAGES;
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        return switch (i) {
            case 0 -> block1.forward(conv1.forward(x)); // (N,16k,H,W)
            case 1 -> block2.forward(x);                // (N,32k,H/2,W/2)
            case 2 -> block3.forward(x);                // (N,64k,H/4,W/4)
            case 3 -> fc.forward(Layout.flatten(Pool.avgPool2d(bn1.forwardRelu(x), 8, 8, 0, false)));
            default -> throw Stages.noSuchStage(this, i);
        };
    }

    /** wrn.py's NetworkBlock: n blocks under the member name {@code layer}. */
    static final class Group extends Module {
        private final Sequential layer;

        Group(int n, int in, int out, int stride) {
            layer = child("layer", new Sequential());
            for (int i = 0; i < n; i++) layer.add(new Block(i == 0 ? in : out, out, i == 0 ? stride : 1));
        }

        @Override
        public Tensor forward(Tensor x) {
            return layer.forward(x);
        }
    }

    /**
     * Pre-activation block: a = relu(bn1(x)); y = conv2(relu(bn2(conv1(a)))). Output x + y when
     * in == out, else convShortcut(a) + y (the 1×1 shortcut sees the activated input).
     */
    static final class Block extends Module {
        private final BatchNorm2d bn1, bn2;
        private final Conv2d conv1, conv2, convShortcut; // convShortcut null when in == out

        Block(int in, int out, int stride) {
            bn1 = child("bn1", new BatchNorm2d(in));
            conv1 = child("conv1", new Conv2d(in, out, 3, stride, 1));
            bn2 = child("bn2", new BatchNorm2d(out));
            conv2 = child("conv2", new Conv2d(out, out, 3, 1, 1));
            convShortcut = in == out ? null : child("convShortcut", new Conv2d(in, out, 1, stride, 0));
        }

        @Override
        public Tensor forward(Tensor x) { // (N,in,H,W) → (N,out,H/s,W/s)
            Tensor a = bn1.forwardRelu(x);
            Tensor y = conv2.forward(bn2.forwardRelu(conv1.forward(a)));
            return Pointwise.add(convShortcut == null ? x : convShortcut.forward(a), y);
        }
    }
}
