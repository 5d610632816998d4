package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/** Wrong shapes, dtypes and values: one IllegalArgumentException naming the op and the shapes. */
class BadInputTest {

    private static void rejects(Executable call, String... mustContain) {
        var e = assertThrows(IllegalArgumentException.class, call);
        for (String s : mustContain) assertTrue(e.getMessage().contains(s), "message '" + e.getMessage() + "' lacks '" + s + "'");
    }

    private static Tensor f(int... dims) { return Tensor.zeros(DType.F32, dims); }

    @Test
    void convolution() {
        rejects(() -> Conv.conv2d(f(2, 3, 8, 8), f(4, 2, 3, 3), null, 1, 1, 1), "conv2d", "(4,2,3,3)", "(2,3,8,8)");
        rejects(() -> Conv.conv2d(f(3, 8, 8), f(4, 3, 3, 3), null, 1, 1, 1), "conv2d", "(3,8,8)");
        rejects(() -> Conv.conv2d(f(2, 3, 8, 8), f(4, 3, 3, 3), null, 1, 1, 2), "conv2d", "groups=2");
        rejects(() -> Conv.conv2d(f(2, 3, 2, 2), f(4, 3, 5, 5), null, 1, 0, 1), "conv2d", "does not fit");
        rejects(() -> Conv.conv2d(f(2, 3, 8, 8), f(4, 3, 3, 3), f(5), 1, 1, 1), "conv2d", "bias", "(5,)");
        rejects(() -> Conv.conv2d(f(2, 3, 8, 8), f(4, 3, 3, 3), null, 0, 1, 1), "conv2d", "stride");
        rejects(() -> Conv.conv2d(f(2, 3, 8, 8), Tensor.zeros(DType.F64, 4, 3, 3, 3), null, 1, 1, 1), "conv2d", "F32", "F64");
        rejects(() -> Dense.linear(f(2, 5), f(3, 4), null), "linear", "(2,5)", "(3,4)");
    }

    @Test
    void normPoolAndPointwise() {
        rejects(() -> Norm.batchNorm(f(2, 3, 4, 4), f(4), f(3), f(3), f(3), true, 0.1, 1e-5), "batch_norm", "gamma", "(4,)");
        rejects(() -> Norm.batchNorm(f(1, 3, 1, 1), f(3), f(3), f(3), f(3), true, 0.1, 1e-5), "batch_norm", "more than one value");
        rejects(() -> Pool.maxPool2d(f(1, 1, 2, 2), 3, 1, 0, false), "max_pool2d", "does not fit");
        rejects(() -> Pool.avgPool2d(f(1, 1, 8, 8), 2, 2, 2, false), "avg_pool2d", "padding");
        rejects(() -> Pointwise.add(f(2, 3), f(3, 2)), "add", "(2,3)", "(3,2)");
        rejects(() -> Pointwise.relu(Tensor.zeros(DType.I32, 3)), "relu", "I32");
        rejects(() -> Layout.concat(f(2, 3, 4, 4), f(2, 3, 5, 4)), "concat", "(2,3,5,4)");
        rejects(() -> Layout.chunk(f(2, 5, 1, 1), 2), "chunk", "(2,5,1,1)");
        rejects(() -> Layout.channelShuffle(f(1, 5, 2, 2), 2), "channel_shuffle", "groups=2");
        rejects(() -> Layout.reshape(f(2, 3), 4, -1), "reshape", "(2,3)");
    }

    @Test
    void losses() {
        rejects(() -> Losses.crossEntropy(f(4, 10), Tensor.zeros(DType.I32, 3)), "cross_entropy", "3 labels", "(4,10)");
        rejects(() -> Losses.crossEntropy(f(4, 10), f(4)), "cross_entropy", "I32");
        rejects(() -> Losses.crossEntropy(f(2, 3), Tensor.ofInts(new int[] {0, 3}, 2)), "label 3", "row 1");
        rejects(() -> Losses.kdLoss(f(4, 10), f(4, 9), 4), "kd_loss", "(4,10)", "(4,9)");
        rejects(() -> Losses.kdLoss(f(4, 10), f(4, 10), 0), "kd_loss", "temperature");
        rejects(() -> Losses.softmax(f(4, 10), Double.NaN), "softmax", "temperature");
        rejects(() -> Losses.mse(f(2, 2), f(4)), "mse_loss", "(2,2)", "(4,)");
    }
}
