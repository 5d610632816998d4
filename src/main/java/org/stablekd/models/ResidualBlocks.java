package org.stablekd.models;

import java.util.List;
import org.stablekd.backend.ResidualBlockTraining;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Module;
import org.stablekd.nn.Sequential;
import org.stablekd.ops.Conv;
import org.stablekd.ops.Norm;
import org.stablekd.tensor.Tensor;

/**
 * The post-activation residual blocks of the ResNet families: RepDistiller's resnet.py and
 * torchvision name the projection shortcut {@code downsample}, RepDistiller's resnetv2.py names
 * it {@code shortcut}; the math is the same. The shortcut is a 1×1 conv (stride s) + BN when the
 * stride or the channel count changes, else the identity (no parameters).
 */
final class ResidualBlocks {
    private ResidualBlocks() {}

    /** y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); conv1 3×3 stride s, conv2 3×3. */
    static final class Basic extends Module {
        private final Conv2d conv1, conv2;
        private final BatchNorm2d bn1, bn2;
        private final Sequential shortcut; // null: identity

        Basic(int in, int out, int stride, String shortcutName) {
            conv1 = child("conv1", new Conv2d(in, out, 3, stride, 1));
            bn1 = child("bn1", new BatchNorm2d(out));
            conv2 = child("conv2", new Conv2d(out, out, 3, 1, 1));
            bn2 = child("bn2", new BatchNorm2d(out));
            shortcut = stride == 1 && in == out ? null
                    : child(shortcutName, new Sequential(new Conv2d(in, out, 1, stride, 0), new BatchNorm2d(out)));
        }

        @Override
        public Tensor forward(Tensor x) { // x (N,in,H,W) → (N,out,H/s,W/s)
            Tensor y = bn1.forwardRelu(conv1.forward(x));
            return conv2.forwardBatchNormAddRelu(y, bn2, shortcut == null ? x : shortcut.forward(x));
        }

        /**
         * True in training where the block is a link of Conv.residualChainTrain: identity shortcut,
         * stride 1, convolutions without bias, both BatchNorms normalizing with the local batch.
         */
        boolean chainableInTraining() {
            return shortcut == null && conv1.stride == 1 && conv1.bias() == null && conv2.bias() == null
                    && bn1.trainsOnLocalBatch() && bn2.trainsOnLocalBatch() && conv1.foldedWeight() == null && conv2.foldedWeight() == null;
        }

        /** This block's arguments to Conv.residualChainTrain; counts the training batch in both BatchNorms. */
        ResidualBlockTraining trainingArguments() {
            double m1 = bn1.countTrainingBatch(), m2 = bn2.countTrainingBatch();
            return new ResidualBlockTraining(conv1.weight().value(), bn1.weight().value(), bn1.bias().value(), bn1.runningMean().value(),
                    bn1.runningVar().value(), m1, conv2.weight().value(), bn2.weight().value(), bn2.bias().value(),
                    bn2.runningMean().value(), bn2.runningVar().value(), m2);
        }

        /**
         * True at inference once both BatchNorms are folded (bn1 with its ReLU) and the shortcut is
         * the identity: forward is then relu(conv2'(relu(conv1'(x))) + x), a link of Conv.residualChain.
         */
        boolean chainable() {
            return shortcut == null && conv1.foldedWeight() != null && conv1.foldedRelu() && bn1.isFolded()
                    && conv2.foldedWeight() != null && !conv2.foldedRelu() && bn2.isFolded();
        }
    }

    /**
     * A layer of basic blocks; at inference, each run of two or more chainable blocks (identity
     * shortcut, BatchNorms folded) goes through one Conv.residualChain, which the CPU runs
     * channels-last between its convolutions. The same bits as block by block. A single block
     * stays as it is: its two layout changes cost more than its two convolutions save (resnet14,
     * 2026-12-06, 2 threads: batch 64 25.5 → 27.1 ms, batch 1 0.28 → 0.43 ms when chained).
     */
    static final class BasicLayer extends Sequential {
        @Override
        public Tensor forward(Tensor x) {
            List<Module> blocks = layers();
            if (isTraining()) return forwardTraining(blocks, x);
            for (int i = 0; i < blocks.size(); ) {
                int j = i;
                while (j < blocks.size() && blocks.get(j) instanceof Basic b && b.chainable()) j++;
                if (j - i < 2) {
                    x = blocks.get(i).forward(x);
                    i++;
                    continue;
                }
                int m = j - i;
                Tensor[] w1 = new Tensor[m], b1 = new Tensor[m], w2 = new Tensor[m], b2 = new Tensor[m];
                for (int q = 0; q < m; q++) {
                    Basic b = (Basic) blocks.get(i + q);
                    w1[q] = b.conv1.foldedWeight();
                    b1[q] = b.conv1.foldedBias();
                    w2[q] = b.conv2.foldedWeight();
                    b2[q] = b.conv2.foldedBias();
                }
                x = Conv.residualChain(x, w1, b1, w2, b2);
                i = j;
            }
            return x;
        }
    }

    /**
     * Training: each run of identity blocks (Basic.chainableInTraining) through one
     * Conv.residualChainTrain, which the CPU keeps channels-last from the run's input to its output
     * (BatchNorms included); the other blocks one by one.
     */
    private static Tensor forwardTraining(List<Module> blocks, Tensor x) {
        for (int i = 0; i < blocks.size(); ) {
            int j = i;
            while (j < blocks.size() && blocks.get(j) instanceof Basic b && b.chainableInTraining()) j++;
            if (j == i) {
                x = blocks.get(i).forward(x);
                i++;
                continue;
            }
            ResidualBlockTraining[] args = new ResidualBlockTraining[j - i];
            for (int q = 0; q < args.length; q++) args[q] = ((Basic) blocks.get(i + q)).trainingArguments();
            x = Conv.residualChainTrain(x, args, Norm.DEFAULT_EPS);
            i = j;
        }
        return x;
    }

    /**
     * y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)): conv1 1×1 to
     * {@code planes}, conv2 3×3 stride s, conv3 1×1 to 4·planes.
     */
    static final class Bottleneck extends Module {
        static final int EXPANSION = 4;
        private final Conv2d conv1, conv2, conv3;
        private final BatchNorm2d bn1, bn2, bn3;
        private final Sequential shortcut; // null: identity

        Bottleneck(int in, int planes, int stride, String shortcutName) {
            int out = planes * EXPANSION;
            conv1 = child("conv1", new Conv2d(in, planes, 1, 1, 0));
            bn1 = child("bn1", new BatchNorm2d(planes));
            conv2 = child("conv2", new Conv2d(planes, planes, 3, stride, 1));
            bn2 = child("bn2", new BatchNorm2d(planes));
            conv3 = child("conv3", new Conv2d(planes, out, 1, 1, 0));
            bn3 = child("bn3", new BatchNorm2d(out));
            shortcut = stride == 1 && in == out ? null
                    : child(shortcutName, new Sequential(new Conv2d(in, out, 1, stride, 0), new BatchNorm2d(out)));
        }

        @Override
        public Tensor forward(Tensor x) { // x (N,in,H,W) → (N,4·planes,H/s,W/s)
            Tensor y = bn1.forwardRelu(conv1.forward(x));
            y = bn2.forwardRelu(conv2.forward(y));
            return conv3.forwardBatchNormAddRelu(y, bn3, shortcut == null ? x : shortcut.forward(x));
        }
    }

    /** {@code blocks} basic blocks in→out, the first with stride s. */
    static Sequential basicLayer(int in, int out, int blocks, int stride, String shortcutName) {
        Sequential layer = new BasicLayer();
        for (int i = 0; i < blocks; i++) layer.add(new Basic(i == 0 ? in : out, out, i == 0 ? stride : 1, shortcutName));
        return layer;
    }

    /** {@code blocks} bottleneck blocks in→4·planes, the first with stride s. */
    static Sequential bottleneckLayer(int in, int planes, int blocks, int stride, String shortcutName) {
        Sequential layer = new Sequential();
        for (int i = 0; i < blocks; i++) {
            layer.add(new Bottleneck(i == 0 ? in : planes * Bottleneck.EXPANSION, planes, i == 0 ? stride : 1, shortcutName));
        }
        return layer;
    }
}
