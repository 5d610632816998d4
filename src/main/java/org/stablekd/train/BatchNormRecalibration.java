package org.stablekd.train;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.autograd.Autograd;
import org.stablekd.data.Batch;
import org.stablekd.backend.Transfers;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.ops.Reduce;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * Re-estimates a model's BatchNorm running statistics on its own end-to-end forward: every
 * BatchNorm is reset (mean 0, variance 1), then the model runs on up to {@code n} batches in
 * training mode without recording, each BatchNorm averaging its batch statistics cumulatively
 * (PyTorch's momentum=None; the variance unbiased per batch, as BatchNorm's running update does).
 * Weights are untouched. StableKD uses it where its running statistics were learned on teacher
 * features (Policies.bnRecalibrateBatches; NOTES.md, Note [StableKD]).
 */
public final class BatchNormRecalibration {
    private BatchNormRecalibration() {}

    /** The batches used and the model's top-1 (%) on them (train-mode BatchNorm: batch statistics). */
    public record Result(int batches, long images, double top1) {}

    public static Result run(Model model, Iterable<Batch> batches, int n) {
        try (DeviceBatches host = DeviceBatches.host()) {
            return run(model, batches, n, host);
        }
    }

    /** As above with the batches placed on the model's device by {@code place}. */
    public static Result run(Model model, Iterable<Batch> batches, int n, DeviceBatches place) {
        if (n < 1) throw new IllegalArgumentException("BatchNorm recalibration needs at least one batch, got " + n);
        List<BatchNorm2d> bns = new ArrayList<>();
        collect(model, bns);
        boolean wasTraining = model.isTraining();
        int used = 0;
        long images = 0, hits = 0;
        for (BatchNorm2d bn : bns) {
            bn.resetRunningStats();
            bn.setCumulativeAverage(true);
        }
        model.train(true);
        try (Restore ng = Autograd.noGrad()) {
            for (Batch b : batches) {
                try (b; Scope s = Scope.open()) {
                    DeviceBatches.Placed xy = place.place(b);
                    Tensor logits = model.forward(xy.images());
                    hits += (long) Transfers.toHost(Reduce.topkHits(logits, xy.labels(), 1)).getFlat(0);
                    images += b.size();
                }
                if (++used == n) break;
            }
        } finally {
            for (BatchNorm2d bn : bns) bn.setCumulativeAverage(false);
            model.train(wasTraining);
        }
        return new Result(used, images, images == 0 ? 0 : 100.0 * hits / images);
    }

    private static void collect(Module m, List<BatchNorm2d> out) {
        if (m instanceof BatchNorm2d bn) out.add(bn);
        for (Module c : m.children().values()) collect(c, out);
    }
}
