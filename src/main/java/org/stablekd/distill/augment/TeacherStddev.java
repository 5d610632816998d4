package org.stablekd.distill.augment;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Transfers;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Memory;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Reduce;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
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
 *
 * <p>Teacher logits on a device (a GPU) are not read on the host: each batch adds its column sums
 * of softmax(logits) and its summed entropy to tensors on the device ({@link OnDevice}), and those
 * are downloaded only when a value is read (once per epoch, when it is logged). Host logits take
 * the double-precision path above, unchanged.
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
        if (!teacherLogits.device().isHost()) {
            if (onDevice == null) onDevice = new OnDevice(teacherLogits.device(), classes);
            onDevice.add(teacherLogits);
            samples += b;
            groupSamples += b;
            if (++groupBatches == batchesPerGroup) {
                onDevice.closeGroup(groupSamples);
                groupSamples = 0;
                groupBatches = 0;
            }
            return;
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
        return groupMeans.size() + (onDevice == null ? 0 : onDevice.groups.size());
    }

    /** Device sums of the batches fed so far (null until device logits arrive). */
    private OnDevice onDevice;

    /** Moves what the device holds into the host fields: one download per finished group and one for the entropy. */
    private void drain() {
        if (onDevice == null) return;
        for (int g = 0; g < onDevice.groups.size(); g++) {
            float[] sum = Transfers.toHost(onDevice.groups.get(g)).toFloatArray();
            double[] mean = new double[sum.length];
            for (int c = 0; c < sum.length; c++) mean[c] = sum[c] / (double) onDevice.groupCounts.get(g);
            groupMeans.add(mean);
        }
        onDevice.groups.clear();
        onDevice.groupCounts.clear();
        entropySum += Transfers.toHost(onDevice.entropy).item();
        Memory.fill(onDevice.entropy, 0);
    }

    /**
     * Per-batch statistics kept on the device: the open group's Σ_samples softmax(z) (classes),
     * each finished group's, and −Σ_samples Σ_c p·log p, all F32 outside any scope.
     */
    private static final class OnDevice {
        final Device device;
        final int classes;
        Tensor open, entropy;
        final List<Tensor> groups = new ArrayList<>();
        final List<Long> groupCounts = new ArrayList<>();

        OnDevice(Device device, int classes) {
            this.device = device;
            this.classes = classes;
            this.open = zeros(classes);
            this.entropy = zeros(1);
        }

        private Tensor zeros(int n) {
            try (Restore r = Scope.suspend()) {
                Tensor t = Tensor.empty(DType.F32, Shape.of(n), device);
                Memory.fill(t, 0);
                return t;
            }
        }

        void add(Tensor z) {
            try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
                Tensor p = Losses.softmax(z, 1.0);
                Memory.copy(Pointwise.add(open, Reduce.columnSums(p)), open);
                Tensor plogp = Reduce.sum(Pointwise.mul(p, Losses.logSoftmax(z, 1.0)));   // −(entropies summed)
                Memory.copy(Pointwise.sub(entropy, plogp.viewAs(1)), entropy);
            }
        }

        void closeGroup(long samples) {
            groups.add(open);
            groupCounts.add(samples);
            open = zeros(classes);
        }
    }

    /** The stddev over groups of each class's mean probability (NaN entries before two groups). */
    public double[] perClassStddev() {
        drain();
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
        drain();
        return samples == 0 ? Double.NaN : entropySum / samples;
    }

    /** Forgets everything (e.g. at the start of an epoch). */
    public void reset() {
        onDevice = null;
        groupMeans.clear();
        groupSum = null;
        groupSamples = 0;
        groupBatches = 0;
        entropySum = 0;
        samples = 0;
    }
}
