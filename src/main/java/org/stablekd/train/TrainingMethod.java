package org.stablekd.train;

import java.util.Map;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.tensor.Tensor;

/**
 * How one batch is turned into losses: plain supervised training, or a distillation method
 * (mdistiller style: one class per method). The trainer sums the losses, back-propagates, and
 * steps the optimizer over the parameters of {@link #trainable()}.
 */
public interface TrainingMethod {
    /** The result of a training step: the student's logits and named losses (summed by the trainer). */
    record Step(Tensor logits, Map<String, Tensor> losses) {}

    /** A short name for logs ("ce", "kd", "stablekd", …). */
    String name();

    /** The network being trained and evaluated (the student when distilling). */
    Model model();

    /** Every module whose parameters the optimizer updates and checkpoints save, by role ("model", "connector.0", …). */
    Map<String, Module> trainable();

    /**
     * Moves every module a step reads to {@code device} before training: the model and the other
     * trainable modules here; distillation methods also move their frozen teacher. The batches
     * then arrive on that device (the trainer uploads them).
     */
    default void to(org.stablekd.tensor.Device device) {
        model().to(device);
        for (Module m : trainable().values()) m.to(device);
    }

    /** One training step on a batch; {@code epoch} and {@code step} let methods warm up or change stage. */
    Step step(Tensor images, Tensor labels, int epoch, long step);

    /** Called when an epoch starts, before its first step (StableKD changes stage here). */
    default void startEpoch(int epoch) {}

    /** The learning rate at a point of the run; StableKD restarts the schedule per stage. */
    default double learningRate(org.stablekd.optim.LrSchedule schedule, int epoch, double fraction) {
        return schedule.at(epoch, fraction);
    }

    /** Extra fields for this epoch's metrics record (StableKD's stage and groups). */
    default Map<String, Object> epochInfo(int epoch) {
        return Map.of();
    }

    /** Modules of {@link #trainable()} the optimizer leaves alone during {@code epoch} (StableKD's retired connectors). */
    default java.util.Collection<Module> frozen(int epoch) {
        return java.util.List.of();
    }

    /** True when the optimizer's momentum is zeroed before {@code epoch}'s first step (StableKD's momentum_at_merge: reset). */
    default boolean resetsMomentum(int epoch) {
        return false;
    }

    /**
     * Training batches on which the model's BatchNorm running statistics are re-estimated (its own
     * end-to-end forward) before {@code epoch}'s evaluation; 0: they stay as training left them.
     */
    default int bnRecalibrationBatches(int epoch) {
        return 0;
    }

    /**
     * The metrics key for the top-1 of {@link Step#logits()}: {@code train_top1} when they are the
     * model's own end-to-end logits; StableKD names them otherwise while a group is fed teacher features.
     */
    default String trainAccuracyKey(int epoch) {
        return "train_top1";
    }

    /** Extra metadata saved in checkpoints (plan stage, …). */
    default Map<String, String> checkpointMetadata() {
        return Map.of();
    }
}
