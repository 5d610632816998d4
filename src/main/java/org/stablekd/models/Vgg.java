package org.stablekd.models;

import java.util.List;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.nn.Sequential;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * VGG with batch norm, RepDistiller's {@code models/vgg.py} ({@code vgg8_bn}, {@code vgg11_bn},
 * {@code vgg13_bn}, registered as vgg8/vgg11/vgg13). Five blocks {@code block0..4}, each a
 * Sequential of conv3×3(with bias)+BN+ReLU per width of its config, without its last ReLU
 * (applied outside the block); max-pool 2×2 after blocks 0, 1, 2, and after block 3 only for
 * 64-pixel-high inputs; global average pool → {@code classifier} (512→classes). Init: convs
 * N(0, √(2/(k·k·C_out))) with bias 0, BN 1/0, classifier N(0, 0.01) with bias 0.
 *
 * <p>Stages (resolution boundaries; each pool closes its stage): {@code block0} = block0+ReLU+pool
 * → (w0, H/2, W/2); {@code block1} → (w1, H/4, W/4); {@code block2} → (w2, H/8, W/8);
 * {@code block3_4} = block3+ReLU(+pool at H=64)+block4+ReLU → (512, H/8, W/8) (H/16 at H=64);
 * {@code head} = global average pool + classifier → (classes).
 *
 * <p>Inputs: any channel count; H, W ≥ 8 (three 2×2 max-pools, floor); 32×32 standard, 28×28 works.
 */
public final class Vgg extends Model {
    private static final List<String> STAGES = List.of("block0", "block1", "block2", "block3_4", "head");
    static final int[][] VGG8 = {{64}, {128}, {256}, {512}, {512}};
    static final int[][] VGG11 = {{64}, {128}, {256, 256}, {512, 512}, {512, 512}};
    static final int[][] VGG13 = {{64, 64}, {128, 128}, {256, 256}, {512, 512}, {512, 512}};

    private final Sequential[] blocks = new Sequential[5];
    private final Linear classifier;
    private final boolean pool3; // the reference pools after block 3 only when the input is 64 pixels high

    public Vgg(String name, int[][] config, int numClasses, Shape input, Rng rng) {
        super(name, numClasses, Inputs.chw(name, input));
        Inputs.requireClasses(name, numClasses);
        Inputs.require(input.dim(1) >= 8 && input.dim(2) >= 8, name, input, "its three 2×2 max-pools need H and W of at least 8; 32×32 is standard");
        pool3 = input.dim(1) == 64;
        int in = input.dim(0);
        for (int b = 0; b < 5; b++) {
            Sequential block = new Sequential();
            for (int j = 0; j < config[b].length; j++) {
                int width = config[b][j];
                if (j > 0) block.add(new Relu());
                block.add(new Conv2d(in, width, 3, 1, 1, 1, true));
                block.add(new BatchNorm2d(width));
                in = width;
            }
            blocks[b] = child("block" + b, block);
        }
        classifier = child("classifier", new Linear(512, numClasses, true));
        ReferenceInit.convsKaimingFanOut(this, rng);
        ReferenceInit.linearsNormal(this, rng, 0.01);
    }

    @Override
    public List<String> stageNames() {
        return STAGES;
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        return switch (i) {
            case 0, 1, 2 -> Pool.maxPool2d(Pointwise.relu(blocks[i].forward(x)), 2, 2, 0, false); // (N,w_i,H/2^(i+1),·)
            case 3 -> {
                Tensor y = Pointwise.relu(blocks[3].forward(x));
                if (pool3) y = Pool.maxPool2d(y, 2, 2, 0, false);
                yield Pointwise.relu(blocks[4].forward(y));                                         // (N,512,H/8,W/8)
            }
            case 4 -> classifier.forward(Pool.globalAvgPool(x));                                    // (N,classes)
            default -> throw Stages.noSuchStage(this, i);
        };
    }
}
