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

    /** Extra metadata saved in checkpoints (plan stage, …). */
    default Map<String, String> checkpointMetadata() {
        return Map.of();
    }
}
