package org.stablekd.distill.augment;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.tensor.Tensor;

/**
 * "T. stddev", the stddev of the teacher's mean probability (Wang et al., NeurIPS 2022, §3): a
 * measure of how good an augmentation is for KD, computed from the teacher alone — the lower, the
 * lower the student's test loss tends to be.
 *
 * <p>Definition, as the authors compute it (reference code, {@code --utils.check_ce_var}): feed
 * the teacher's logits batch by batch; every {@code batchesPerGroup} batches form a group g, whose
 * mean probability is the vector m_g = mean over the group's samples of softmax(logits) (one entry
 * per class, temperature 1). Over the G complete groups,
 *
 * <pre>
 *   T.stddev = (1/C) Σ_c std_g(m_g[c])      std with the unbiased 1/(G−1) (torch.std)
 * </pre>
 *
 * The reference code uses groups of 5 iterations: 5 batches when only the original images are
 * fed, 10 when each iteration feeds the original and the augmented batch (its default in the
 * paper's experiments, which train with both). Labels are not needed. A group still incomplete
 * does not count. Also kept: the mean teacher entropy over every sample fed.
 */
public final class TeacherStddev {
    private final int batchesPerGroup;
    private final List<double[]> groupMeans = new ArrayList<>();
    private double[] groupSum;
    private long groupSamples;
    private int groupBatches;
    private double entropySum;
    private long samples;

    public TeacherStddev(int batchesPerGroup) {
        if (batchesPerGroup < 1) throw new IllegalArgumentException("a group needs at least one batch, got " + batchesPerGroup);
        this.batchesPerGroup = batchesPerGroup;
    }

    /** Groups of 10 batches: 5 iterations that each feed the original and the augmented batch (the paper's setting). */
    public TeacherStddev() {
        this(10);
    }

    /** Adds one batch of teacher logits (B, classes). */
    public void add(Tensor teacherLogits) {
        if (teacherLogits.rank() != 2) throw new IllegalArgumentException("T. stddev takes teacher logits (B, classes), got " + teacherLogits.shape());
        int b = teacherLogits.dim(0), classes = teacherLogits.dim(1);
        if (groupSum == null) groupSum = new double[classes];
        if (classes != groupSum.length) {
            throw new IllegalArgumentException("T. stddev: logits with " + classes + " classes after batches with " + groupSum.length);
        }
        float[] z = teacherLogits.toFloatArray();
        double[] p = new double[classes];
        for (int i = 0; i < b; i++) {
            entropySum += softmax(z, i * classes, p);
            for (int c = 0; c < classes; c++) groupSum[c] += p[c];
        }
        samples += b;
        groupSamples += b;
        if (++groupBatches == batchesPerGroup) {
            double[] mean = new double[classes];
            for (int c = 0; c < classes; c++) mean[c] = groupSum[c] / groupSamples;
            groupMeans.add(mean);
            groupSum = new double[classes];
            groupSamples = 0;
            groupBatches = 0;
        }
    }

    /** softmax of z[from .. from+p.length) into p; returns its entropy in nats. */
    private static double softmax(float[] z, int from, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < p.length; c++) max = Math.max(max, z[from + c]);
        double sum = 0;
        for (int c = 0; c < p.length; c++) sum += p[c] = Math.exp(z[from + c] - max);
        double h = 0;
        for (int c = 0; c < p.length; c++) {
            p[c] /= sum;
            if (p[c] > 0) h -= p[c] * Math.log(p[c]);
        }
        return h;
    }

    /** Complete groups so far. */
    public int groups() {
        return groupMeans.size();
    }

    /** The stddev over groups of each class's mean probability (NaN entries before two groups). */
    public double[] perClassStddev() {
        int g = groupMeans.size();
        int classes = groupSum == null ? 0 : groupSum.length;
        double[] out = new double[classes];
        for (int c = 0; c < classes; c++) {
            if (g < 2) {
                out[c] = Double.NaN;
                continue;
            }
            double mean = 0;
            for (double[] m : groupMeans) mean += m[c];
            mean /= g;
            double ss = 0;
            for (double[] m : groupMeans) ss += (m[c] - mean) * (m[c] - mean);
            out[c] = Math.sqrt(ss / (g - 1));
        }
        return out;
    }

    /** T. stddev: the per-class stddevs averaged over classes; NaN before two complete groups. */
    public double value() {
        double[] s = perClassStddev();
        if (s.length == 0 || groupMeans.size() < 2) return Double.NaN;
        double sum = 0;
        for (double v : s) sum += v;
        return sum / s.length;
    }

    /** Mean entropy (nats) of the teacher's predictions over every sample fed; NaN before any. */
    public double meanEntropy() {
        return samples == 0 ? Double.NaN : entropySum / samples;
    }

    /** Forgets everything (e.g. at the start of an epoch). */
    public void reset() {
        groupMeans.clear();
        groupSum = null;
        groupSamples = 0;
        groupBatches = 0;
        entropySum = 0;
        samples = 0;
    }
}
