package org.stablekd.train;

import org.stablekd.autograd.Autograd;
import org.stablekd.data.Batch;
import org.stablekd.data.Loader;
import org.stablekd.nn.Model;
import org.stablekd.ops.Losses;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/** Test-set loss and top-1 / top-5 accuracy of a model in eval mode, without recording. */
public final class Evaluator {
    private Evaluator() {}

    public record Result(double loss, double top1, double top5, long images, double seconds) {}

    public static Result evaluate(Model model, Loader loader, int epoch) {
        boolean wasTraining = model.isTraining();
        model.eval();
        long t0 = System.nanoTime();
        double lossSum = 0;
        long n = 0, hit1 = 0, hit5 = 0;
        try (Restore ng = Autograd.noGrad()) {
            for (Batch b : loader.startEpoch(epoch)) {
                try (b; Scope s = Scope.open()) {
                    Tensor logits = model.forward(b.images());
                    lossSum += Losses.crossEntropy(logits, b.labels()).item() * b.size();
                    int[] hits = Accuracy.topk(logits, b.labels(), 5);
                    hit1 += hits[0];
                    hit5 += hits[1];
                    n += b.size();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Result(lossSum / n, 100.0 * hit1 / n, 100.0 * hit5 / n, n, (System.nanoTime() - t0) / 1e9);
    }
}
