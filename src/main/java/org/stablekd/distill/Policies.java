package org.stablekd.distill;

import java.util.Locale;

/**
 * StableKD's policies around its stages, each a choice the paper's abstract leaves open
 * (docs/design.md, Stages, BatchNorm and the optimizer; NOTES.md, Note [StableKD]). The defaults
 * keep the behaviour the engine had before they were parameters, except that retired connectors
 * leave the optimizer (this never changes the student's weights; see {@link RetiredConnectors}).
 *
 * @param bnRecalibrateBatches before each evaluation of an epoch in which some student block was
 *                             fed teacher features, re-estimate the student's BatchNorm running
 *                             statistics on this many training batches of its own end-to-end forward
 *                             (train-mode BN, no gradient, cumulative average); 0 = never
 * @param momentumAtMerge      what happens to the SGD momentum buffer when a stage starts
 * @param retiredConnectors    what the optimizer does with connectors that no group uses any more
 * @param innerLoss            the inner groups' feature loss
 * @param connectorRelu        input connectors (teacher feature → a student block's input) end in a
 *                             ReLU, so the block gets non-negative input as from a ReLU-ended stage
 */
public record Policies(int bnRecalibrateBatches, MomentumAtMerge momentumAtMerge, RetiredConnectors retiredConnectors,
                       InnerLoss innerLoss, boolean connectorRelu) {

    public static final Policies DEFAULTS = new Policies(0, MomentumAtMerge.KEEP, RetiredConnectors.FREEZE, InnerLoss.MSE, false);

    public Policies {
        if (bnRecalibrateBatches < 0) throw new IllegalArgumentException("bn_recalibrate_batches must be 0 (off) or a number of batches, got " + bnRecalibrateBatches);
        if (momentumAtMerge == null || retiredConnectors == null || innerLoss == null) throw new IllegalArgumentException("every StableKD policy needs a value");
    }

    /** keep: the momentum slab carries over into the next stage; reset: it is zeroed when a stage after the first starts. */
    public enum MomentumAtMerge { KEEP, RESET }

    /**
     * freeze: a connector no group of the current stage uses gets no update at all (no momentum, no
     * weight decay), so it keeps the weights it was last trained to; train: it stays in the SGD step,
     * which (PyTorch applies weight decay only to parameters with a gradient) keeps decaying it and
     * draining its momentum. Either way the student never reads it again.
     */
    public enum RetiredConnectors { FREEZE, TRAIN }

    /**
     * mse: mean over N·C·H·W of (s − t)²; normalized_mse: the same divided by the teacher feature's
     * variance over the batch (Var(t) + 1e-8), so every block's loss is on the same scale (1 for a
     * student that outputs the teacher's mean).
     */
    public enum InnerLoss { MSE, NORMALIZED_MSE }

    /** The key's spelling in experiment files: lower case, as the enum constant. */
    public static String spelled(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    public Policies withBnRecalibrateBatches(int n) { return new Policies(n, momentumAtMerge, retiredConnectors, innerLoss, connectorRelu); }
    public Policies withMomentumAtMerge(MomentumAtMerge m) { return new Policies(bnRecalibrateBatches, m, retiredConnectors, innerLoss, connectorRelu); }
    public Policies withRetiredConnectors(RetiredConnectors r) { return new Policies(bnRecalibrateBatches, momentumAtMerge, r, innerLoss, connectorRelu); }
    public Policies withInnerLoss(InnerLoss l) { return new Policies(bnRecalibrateBatches, momentumAtMerge, retiredConnectors, l, connectorRelu); }
    public Policies withConnectorRelu(boolean on) { return new Policies(bnRecalibrateBatches, momentumAtMerge, retiredConnectors, innerLoss, on); }

    @Override
    public String toString() {
        return "bn recalibration " + (bnRecalibrateBatches == 0 ? "off" : bnRecalibrateBatches + " batches") + ", momentum at merge "
                + spelled(momentumAtMerge) + ", retired connectors " + spelled(retiredConnectors) + ", inner loss " + spelled(innerLoss)
                + (connectorRelu ? ", connector ReLU" : "");
    }
}
