package org.stablekd.train;

import org.stablekd.autograd.Autograd;
import org.stablekd.data.Batch;
import org.stablekd.data.Loader;
import org.stablekd.nn.Model;
import org.stablekd.backend.Transfers;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Reduce;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/** Test-set loss and top-1 / top-5 accuracy of a model in eval mode, without recording. */
public final class Evaluator {
    private Evaluator() {}

    public record Result(double loss, double top1, double top5, long images, double seconds) {}

    public static Result evaluate(Model model, Loader loader, int epoch) {
        try (DeviceBatches host = DeviceBatches.host()) {
            return evaluate(model, loader, epoch, host);
        }
    }

    /** As above with the batches placed on the model's device by {@code batches}: per batch one loss and two hit counts come back. */
    public static Result evaluate(Model model, Loader loader, int epoch, DeviceBatches batches) {
        boolean wasTraining = model.isTraining();
        model.eval();
        long t0 = System.nanoTime();
        double lossSum = 0;
        long n = 0, hit1 = 0, hit5 = 0;
        try (Restore ng = Autograd.noGrad()) {
            for (Batch b : loader.startEpoch(epoch)) {
                try (b; Scope s = Scope.open()) {
                    DeviceBatches.Placed xy = batches.place(b);
                    Tensor logits = model.forward(xy.images());
                    lossSum += Transfers.toHost(Losses.crossEntropy(logits, xy.labels())).item() * b.size();
                    Tensor hits = Transfers.toHost(Reduce.topkHits(logits, xy.labels(), 5));   // {top-1, top-5}
                    hit1 += (long) hits.getFlat(0);
                    hit5 += (long) hits.getFlat(1);
                    n += b.size();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Result(lossSum / n, 100.0 * hit1 / n, 100.0 * hit5 / n, n, (System.nanoTime() - t0) / 1e9);
    }
}
