package org.stablekd.nn;

import org.stablekd.ops.Norm;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.ReduceGroup;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * nn.BatchNorm2d(c): weight (γ=1), bias (β=0), running_mean (0), running_var (1),
 * num_batches_tracked; momentum 0.1, eps 1e-5. Training uses batch statistics and updates the
 * running ones; eval uses the running ones. With a {@link #setSyncGroup sync group} of more than
 * one rank, training normalizes over the union of the ranks' batches ({@link Norm#syncBatchNorm});
 * the fused BN + ReLU then runs as the synchronized op followed by a ReLU.
 */
public final class BatchNorm2d extends Module {
    public final int channels;
    private final Parameter weight, bias;
    private final Buffer runningMean, runningVar, batchesTracked;

    public BatchNorm2d(int channels) {
        this.channels = channels;
        this.weight = param("weight", Tensor.full(DType.F32, 1, channels));
        this.bias = param("bias", Tensor.zeros(DType.F32, channels));
        this.runningMean = buffer("running_mean", Tensor.zeros(DType.F32, channels));
        this.runningVar = buffer("running_var", Tensor.full(DType.F32, 1, channels));
        // PyTorch keeps an int64 scalar; I32 holds the same counts here and loads from either.
        this.batchesTracked = buffer("num_batches_tracked", Tensor.scalar(DType.I32, 0));
    }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }
    public Buffer runningMean() { return runningMean; }
    public Buffer runningVar() { return runningVar; }
    public Buffer batchesTracked() { return batchesTracked; }

    // Inference only: this normalization was folded into the convolution before it.
    private boolean folded;
    // PyTorch's momentum=None: training updates the running statistics with momentum 1/k at the
    // k-th batch since the last reset, so they are the plain average over those batches.
    private boolean cumulative;

    /** PyTorch's reset_running_stats(): running mean 0, running variance 1, no batches tracked. */
    public void resetRunningStats() {
        org.stablekd.ops.Memory.fill(runningMean.value(), 0);   // on the statistics' device
        org.stablekd.ops.Memory.fill(runningVar.value(), 1);
        batchesTracked.value().setFlat(0, 0);
    }

    /** On: training-mode forwards average their batch statistics cumulatively (see above); off: momentum 0.1. */
    public void setCumulativeAverage(boolean on) {
        this.cumulative = on;
    }

    // Synchronized statistics in training (null or one rank: this rank's batch alone).
    private ReduceGroup syncGroup;

    /** The ranks whose batches training statistics are taken over; null (the default): this rank's batch. */
    public void setSyncGroup(ReduceGroup group) {
        this.syncGroup = group;
    }

    public ReduceGroup syncGroup() {
        return syncGroup;
    }

    /** Whether this BatchNorm was folded into the convolution before it (inference; see BatchNormFolding). */
    public boolean isFolded() {
        return folded;
    }

    void setFolded(boolean on) {
        this.folded = on;
    }

    // Inference only, with folded: the ReLU of forwardRelu was folded into the convolution too.
    private boolean reluFolded;

    void setReluFolded(boolean on) {
        this.reluFolded = on;
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, false);
    }

    /** relu(forward(x)), fused into one op where the backend can (see {@link Norm#batchNormRelu}). */
    public Tensor forwardRelu(Tensor x) {
        return forward(x, true);
    }

    /** relu(forward(x) + r), r like x, fused into one op in training where the backend can (see {@link Norm#batchNormAddRelu}). */
    public Tensor forwardAddRelu(Tensor x, Tensor r) {
        if (folded || !isTraining() || (syncGroup != null && syncGroup.size() > 1)) return Pointwise.addRelu(forward(x, false), r);
        BatchNormFolding.noteBatchNormInput(this, x, false);
        double momentum = trainingMomentum();
        return Norm.batchNormAddRelu(x, weight.value(), bias.value(), runningMean.value(), runningVar.value(), true, momentum,
                Norm.DEFAULT_EPS, r);
    }

    /**
     * True where this BatchNorm's training forward normalizes with its own batch's statistics
     * (training, not folded, not synchronized over ranks): what a fused op that runs it itself
     * ({@link org.stablekd.ops.Conv#residualChainTrain}) computes.
     */
    public boolean trainsOnLocalBatch() {
        return isTraining() && !folded && (syncGroup == null || syncGroup.size() <= 1);
    }

    /** For a fused op that runs this BatchNorm in training itself: counts the batch as a forward does and returns its momentum. */
    public double countTrainingBatch() {
        return trainingMomentum();
    }

    /** Counts this training batch and returns the momentum for it (1/n for a cumulative average). */
    private double trainingMomentum() {
        Tensor n = batchesTracked.value();
        n.setFlat(0, n.getFlat(0) + 1);
        return cumulative ? 1.0 / n.getFlat(0) : Norm.DEFAULT_MOMENTUM;
    }

    private Tensor forward(Tensor x, boolean relu) {
        BatchNormFolding.noteBatchNormInput(this, x, relu);
        boolean training = isTraining();
        if (folded) {
            if (training) throw new IllegalStateException("a BatchNorm folded for inference cannot train; load the model again");
            return relu && !reluFolded ? Pointwise.relu(x) : x;
        }
        double momentum = training ? trainingMomentum() : Norm.DEFAULT_MOMENTUM;
        Tensor g = weight.value(), b = bias.value(), rm = runningMean.value(), rv = runningVar.value();
        if (training && syncGroup != null && syncGroup.size() > 1) {
            Tensor y = Norm.syncBatchNorm(x, g, b, rm, rv, momentum, Norm.DEFAULT_EPS, syncGroup);
            return relu ? Pointwise.relu(y) : y;
        }
        return relu ? Norm.batchNormRelu(x, g, b, rm, rv, training, momentum, Norm.DEFAULT_EPS)
                : Norm.batchNorm(x, g, b, rm, rv, training, momentum, Norm.DEFAULT_EPS);
    }
}
