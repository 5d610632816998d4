package org.stablekd.train;

import java.util.List;
import org.stablekd.autograd.Autograd;
import org.stablekd.data.Batch;
import org.stablekd.data.Loader;
import org.stablekd.dist.Communicator;
import org.stablekd.dist.Local;
import org.stablekd.nn.Model;
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
        return evaluate(model, loader, epoch, Local.INSTANCE);
    }

    /**
     * Evaluates this rank's part of the set ({@code loader} over its {@link org.stablekd.data.Dataset#shard})
     * and sums loss, hits and counts over the ranks: every rank gets the whole set's numbers.
     */
    public static Result evaluate(Model model, Loader loader, int epoch, Communicator comm) {
        try (DeviceBatches host = DeviceBatches.host()) {
            return evaluate(model, loader, epoch, comm, host);
        }
    }

    /**
     * As above with each batch placed on the model's device by {@code batches}: the loss and the
     * top-1/top-5 hits are computed there and come back together, one download per batch.
     */
    public static Result evaluate(Model model, Loader loader, int epoch, Communicator comm, DeviceBatches batches) {
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
                    Tensor hits = Reduce.topkHits(logits, xy.labels(), 5);   // {top-1, top-5}
                    float[] v = Scalars.download(List.of(Losses.crossEntropy(logits, xy.labels()), hits.narrowView(0, 0, 1), hits.narrowView(0, 1, 1)));
                    lossSum += (double) v[0] * b.size();
                    hit1 += (long) v[1];
                    hit5 += (long) v[2];
                    n += b.size();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        if (comm.isDistributed()) {
            double[] all = comm.allreduceSum(new double[] {lossSum, hit1, hit5, n});
            lossSum = all[0];
            hit1 = (long) all[1];
            hit5 = (long) all[2];
            n = (long) all[3];
        }
        return new Result(lossSum / n, 100.0 * hit1 / n, 100.0 * hit5 / n, n, (System.nanoTime() - t0) / 1e9);
    }
}
