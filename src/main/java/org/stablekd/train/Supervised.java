package org.stablekd.train;

import java.util.Map;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Losses;
import org.stablekd.tensor.Tensor;

/** Plain training: cross-entropy on the labels (optionally label-smoothed). */
public final class Supervised implements TrainingMethod {
    private final Model model;
    private final double labelSmoothing;

    public Supervised(Model model, double labelSmoothing) {
        this.model = model;
        this.labelSmoothing = labelSmoothing;
    }

    @Override public String name() { return "ce"; }
    @Override public Model model() { return model; }
    @Override public Map<String, Module> trainable() { return Map.of("model", model); }

    @Override
    public Step step(Tensor images, Tensor labels, int epoch, long step) {
        Tensor logits = model.forward(images);
        return new Step(logits, Map.of("ce", Losses.crossEntropy(logits, labels, labelSmoothing)));
    }
}
