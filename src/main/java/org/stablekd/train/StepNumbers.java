package org.stablekd.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.data.Batch;
import org.stablekd.dist.Communicator;
import org.stablekd.tensor.Tensor;

/**
 * One step's loss, top-1 hits and images, summed over the ranks (one small all-reduce), so
 * every rank sees the same numbers: progress is the global batch's, and a non-finite loss on any
 * rank stops all of them at the same step.
 *
 * @param lossSum  Σ over ranks of (the rank's mean loss × its images)
 * @param partSums the same for each named loss
 */
record StepNumbers(double lossSum, long hits, long images, Map<String, Double> partSums) {

    static StepNumbers of(Tensor total, TrainingMethod.Step step, Batch b, Communicator comm) {
        int n = b.size();
        Map<String, Tensor> parts = step.losses();
        double[] v = new double[3 + parts.size()];
        v[0] = total.item() * n;
        v[1] = Accuracy.topk(step.logits(), b.labels(), 1)[0];
        v[2] = n;
        int k = 3;
        for (Tensor l : parts.values()) v[k++] = parts.size() > 1 ? l.item() * n : v[0];
        if (comm.isDistributed()) v = comm.allreduceSum(v);
        Map<String, Double> sums = new LinkedHashMap<>();
        k = 3;
        for (String name : parts.keySet()) sums.put(name, v[k++]);
        return new StepNumbers(v[0], (long) v[1], (long) v[2], sums);
    }

    /** The global batch's mean loss. */
    double loss() {
        return lossSum / images;
    }

    /** "kd=0.41, ce=1.2" (per-image means). */
    String describe() {
        StringBuilder sb = new StringBuilder();
        partSums.forEach((name, sum) -> sb.append(sb.isEmpty() ? "" : ", ").append(name).append('=').append(sum / images));
        return sb.toString();
    }
}
