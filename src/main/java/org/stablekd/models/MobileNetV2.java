package org.stablekd.models;

import java.util.List;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.nn.Sequential;
import org.stablekd.ops.Conv;
import org.stablekd.ops.Layout;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * MobileNetV2 of RepDistiller's {@code models/mobilenetv2.py}; {@code mobile_half} is expansion 6,
 * width 0.5. {@code conv1} = conv3×3(C→int(32w), stride 2)+BN+ReLU; {@code blocks.0..6} follow
 * the settings (t,c,n,s) below with int(c·w) channels; {@code conv2} = conv1×1(→1280)+BN+ReLU;
 * AvgPool2d(H/16, ceil) → {@code classifier.0} (1280→classes). Inverted residual
 * ({@code blocks.i.j.conv.0..7}): conv1×1 expand (present even when t=1)+BN+ReLU, depthwise
 * 3×3(s)+BN+ReLU, conv1×1 project+BN; plus the input when s=1 and in==out. ReLU, not ReLU6, as
 * the reference. Init: convs N(0, √(2/(k·k·C_out))), BN 1/0, classifier N(0, 0.01) with bias 0.
 *
 * <p>Stages (cut before each stride-2 group, as RepDistiller's feature taps): {@code blocks0_1} =
 * conv1 + blocks 0,1 → (int(24w), H/2, W/2); {@code blocks2} → (int(32w), H/4, W/4);
 * {@code blocks3_4} → (int(96w), H/8, W/8); {@code blocks5_6} → (int(320w), H/16, W/16);
 * {@code head} = conv2 + AvgPool2d(H/16, ceil) + classifier → (classes). For mobile_half:
 * (12,16,16), (16,8,8), (48,4,4), (160,2,2).
 *
 * <p>Inputs: any channel count; square, with H a multiple of 32 (the reference asserts it and
 * sizes its pool from it); 32×32 standard. Fashion-MNIST's 28×28 must be padded to 32×32.
 */
public final class MobileNetV2 extends Model {
    private static final List<String> STAGES = List.of("blocks0_1", "blocks2", "blocks3_4", "blocks5_6", "head");
    /** (expansion t, channels c, repeats n, first stride s); t is the model's expansion where 6. */
    private static final int[][] SETTINGS = {{1, 16, 1, 1}, {6, 24, 2, 1}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

    private final Sequential conv1, blocks, conv2, classifier;
    private final int poolKernel;

    public MobileNetV2(String name, int expansion, double width, int numClasses, Shape input, Rng rng) {
        super(name, numClasses, Inputs.chw(name, input));
        Inputs.requireClasses(name, numClasses);
        Inputs.require(input.dim(1) == input.dim(2) && input.dim(1) % 32 == 0, name, input,
                "it needs a square input whose side is a multiple of 32 (its head pool is side/16); 32×32 is standard (pad Fashion-MNIST's 28×28 to 32×32)");
        poolKernel = input.dim(1) / 16;
        int c = (int) (32 * width);
        conv1 = child("conv1", convBnRelu(input.dim(0), c, 3, 2, 1));
        blocks = child("blocks", new Sequential());
        for (int[] s : SETTINGS) {
            int t = s[0] == 1 ? 1 : expansion, out = (int) (s[1] * width);
            Sequential group = blocks.add(new Sequential());
            for (int j = 0; j < s[2]; j++) {
                group.add(new InvertedResidual(c, out, j == 0 ? s[3] : 1, t));
                c = out;
            }
        }
        int last = width > 1.0 ? (int) (1280 * width) : 1280;
        conv2 = child("conv2", convBnRelu(c, last, 1, 1, 0));
        classifier = child("classifier", new Sequential(new Linear(last, numClasses, true)));
        ReferenceInit.convsKaimingFanOut(this, rng);
        ReferenceInit.linearsNormal(this, rng, 0.01);
    }

    private static Sequential convBnRelu(int in, int out, int k, int stride, int pad) {
        return new Sequential(new Conv2d(in, out, k, stride, pad), new BatchNorm2d(out), new Relu());
    }

    private Module block(int i) {
        return blocks.layers().get(i);
    }

    @Override
    public List<String> stageNames() {
        return STAGES;
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        return switch (i) {
            case 0 -> block(1).forward(block(0).forward(convBnRelu(conv1, x))); // (N,int(24w),H/2,W/2)
            case 1 -> block(2).forward(x);                                  // (N,int(32w),H/4,W/4)
            case 2 -> block(4).forward(block(3).forward(x));                // (N,int(96w),H/8,W/8)
            case 3 -> block(6).forward(block(5).forward(x));                // (N,int(320w),H/16,W/16)
            case 4 -> classifier.forward(Layout.flatten(Pool.avgPool2d(convBnRelu(conv2, x), poolKernel, poolKernel, 0, true)));
            default -> throw Stages.noSuchStage(this, i);
        };
    }

    /**
     * relu(bn(conv(x))) of a (conv, bn, relu) group through the BatchNorm's fused ReLU
     * ({@code forwardRelu}: one op in training, and folded into the conv's epilogue by a
     * Predictor); the Relu member only keeps PyTorch's numbering.
     */
    static Tensor convBnRelu(Sequential group, Tensor x) {
        return convBnRelu(group, 0, x);
    }

    /** The same for members at, at+1 (and the Relu at at+2) of a longer group. */
    static Tensor convBnRelu(Sequential group, int at, Tensor x) {
        return ((BatchNorm2d) group.layers().get(at + 1)).forwardRelu(group.layers().get(at).forward(x));
    }

    /** Expand 1×1 → depthwise 3×3(s) → project 1×1, members {@code conv.0..7}; residual when s=1, in==out. */
    static final class InvertedResidual extends Module {
        private final Sequential conv;
        private final boolean residual;

        InvertedResidual(int in, int out, int stride, int expansion) {
            int mid = in * expansion;
            residual = stride == 1 && in == out;
            conv = child("conv", new Sequential(
                    new Conv2d(in, mid, 1, 1, 0), new BatchNorm2d(mid), new Relu(),
                    new Conv2d(mid, mid, 3, stride, 1, mid, false), new BatchNorm2d(mid), new Relu(),
                    new Conv2d(mid, out, 1, 1, 0), new BatchNorm2d(out)));
        }

        @Override
        public Tensor forward(Tensor x) { // (N,in,H,W) → (N,out,H/s,W/s)
            Conv2d expand = (Conv2d) conv.layers().get(0), depthwise = (Conv2d) conv.layers().get(3), project = (Conv2d) conv.layers().get(6);
            if (expand.foldedRelu() && depthwise.foldedRelu() && project.foldedWeight() != null && !project.foldedRelu()) {
                // inference with every BatchNorm (and both ReLUs) folded into the convolutions: one fused op
                return Conv.invertedResidual(x, expand.foldedWeight(), expand.foldedBias(), depthwise.foldedWeight(), depthwise.foldedBias(),
                        project.foldedWeight(), project.foldedBias(), depthwise.stride, residual);
            }
            Tensor y = convBnRelu(conv, 3, convBnRelu(conv, 0, x));
            y = conv.layers().get(7).forward(conv.layers().get(6).forward(y));
            return residual ? Pointwise.add(x, y) : y;
        }
    }
}
