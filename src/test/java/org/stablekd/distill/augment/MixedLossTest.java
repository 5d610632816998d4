package org.stablekd.distill.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.stablekd.distill.augment.AugmentFixtures.labels;

import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

class MixedLossTest {

    /** −log softmax(row)[label], in double. */
    private static double ce(double[] z, int row, int classes, int label) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int c = 0; c < classes; c++) max = Math.max(max, z[row * classes + c]);
        for (int c = 0; c < classes; c++) sum += Math.exp(z[row * classes + c] - max);
        return max + Math.log(sum) - z[row * classes + label];
    }

    private static Mixed mixed(Tensor labelsA, Tensor labelsB, double... lambda) {
        return new Mixed(Tensor.zeros(DType.F32, lambda.length, 1, 1, 1), labelsA, labelsB, lambda, null);
    }

    private static void check(double[] lambda, int[] a, int[] b) {
        int n = lambda.length, classes = 5;
        Tensor logits = Tensor.randn(new Rng(3), DType.F32, 2.0, n, classes).requiresGrad(true);
        Mixed m = mixed(labels(a), labels(b), lambda);
        Tensor loss = MixedLoss.crossEntropy(logits, m);

        double[] z = logits.toDoubleArray();
        double expected = 0;
        double[] grad = new double[n * classes];
        for (int i = 0; i < n; i++) {
            expected += (lambda[i] * ce(z, i, classes, a[i]) + (1 - lambda[i]) * ce(z, i, classes, b[i])) / n;
            // d/dz of the per-sample term: softmax(z) − (λ·onehot(a) + (1−λ)·onehot(b)), over B
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int c = 0; c < classes; c++) max = Math.max(max, z[i * classes + c]);
            for (int c = 0; c < classes; c++) sum += Math.exp(z[i * classes + c] - max);
            for (int c = 0; c < classes; c++) {
                double target = (c == a[i] ? lambda[i] : 0) + (c == b[i] ? 1 - lambda[i] : 0);
                grad[i * classes + c] = (Math.exp(z[i * classes + c] - max) / sum - target) / n;
            }
        }
        assertEquals(expected, loss.item(), 1e-5 * Math.max(1, expected));
        Autograd.backward(loss);
        Close.assertClose(logits.grad().toDoubleArray(), grad, Tolerance.F32_VS_REF, "gradient of the mixed cross-entropy");
    }

    @Test
    void oneLambdaForTheBatch() {
        check(new double[] {0.3, 0.3, 0.3, 0.3}, new int[] {0, 1, 2, 3}, new int[] {4, 0, 1, 2});
    }

    @Test
    void lambdaInRunsAsCutMixPickReturnsIt() {
        check(new double[] {0.8, 0.8, 0.25, 0.25, 0.25, 0.6}, new int[] {0, 1, 2, 3, 4, 0}, new int[] {1, 2, 3, 4, 0, 2});
    }

    @Test
    void everySampleItsOwnLambdaAndTheEdgesZeroAndOne() {
        check(new double[] {1, 0, 0.5, 0.9}, new int[] {3, 1, 2, 0}, new int[] {2, 4, 2, 1});
    }

    @Test
    void unchangedBatchIsPlainCrossEntropy() {
        Tensor logits = Tensor.randn(new Rng(4), DType.F32, 1.0, 3, 4);
        Tensor l = labels(0, 3, 1);
        double z[] = logits.toDoubleArray(), expected = (ce(z, 0, 4, 0) + ce(z, 1, 4, 3) + ce(z, 2, 4, 1)) / 3;
        assertEquals(expected, MixedLoss.crossEntropy(logits, Mixed.unchanged(Tensor.zeros(DType.F32, 3, 1, 1, 1), l)).item(), 1e-5);
    }
}
