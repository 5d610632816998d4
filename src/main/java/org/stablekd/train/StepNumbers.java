package org.stablekd.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.data.Batch;
import org.stablekd.dist.Communicator;
import org.stablekd.ops.Reduce;
import org.stablekd.tensor.Tensor;

/**
 * One step's loss, top-1 hits and images, summed over the ranks (one small all-reduce), so
 * every rank sees the same numbers: progress is the global batch's, and a non-finite loss on any
 * rank stops all of them at the same step. The hits are counted where the logits are
 * ({@code TOPK_HITS}), and the loss, the hits and the loss parts come to the host together: on
 * a device, the step's one download (NOTES.md, Note [Device placement]).
 *
 * @param lossSum  Σ over ranks of (the rank's mean loss × its images)
 * @param partSums the same for each named loss
 */
record StepNumbers(double lossSum, long hits, long images, Map<String, Double> partSums) {

    /** {@code labels}: the batch's labels where the logits are (the placed batch). */
    static StepNumbers of(Tensor total, TrainingMethod.Step step, Tensor labels, Batch b, Communicator comm) {
        int n = b.size();
        Map<String, Tensor> parts = step.losses();
        List<Tensor> numbers = new ArrayList<>(List.of(total, Reduce.topkHits(step.logits().detach(), labels, 1).narrowView(0, 0, 1)));
        if (parts.size() > 1) numbers.addAll(parts.values());
        float[] f = Scalars.download(numbers);
        double[] v = new double[3 + parts.size()];
        v[0] = (double) f[0] * n;
        v[1] = f[1];
        v[2] = n;
        int k = 3;
        for (int j = 0; j < parts.size(); j++) v[k++] = parts.size() > 1 ? (double) f[2 + j] * n : v[0];
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
