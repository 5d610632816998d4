package org.stablekd.distill;

import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/**
 * Hinton's knowledge distillation: ceWeight·CE(student, labels) + kdWeight·τ²·KL(softmax(t/τ) ‖
 * softmax(s/τ)). Defaults (CIFAR benchmark): τ = 4, 0.1·CE + 0.9·KD; ImageNet: τ = 1, 0.5/0.5.
 */
public final class KD implements TrainingMethod {
    private final Teacher teacher;
    private final Model student;
    private final double ceWeight, kdWeight, tau;

    public KD(Model teacher, Model student, double ceWeight, double kdWeight, double tau) {
        this.teacher = new Teacher(teacher);
        this.student = student;
        this.ceWeight = ceWeight;
        this.kdWeight = kdWeight;
        this.tau = tau;
    }

    @Override public String name() { return "kd"; }
    @Override public Model model() { return student; }
    @Override public Map<String, Module> trainable() { return Map.of("model", student); }

    @Override
    public Step step(Tensor images, Tensor labels, int epoch, long step) {
        Tensor t = teacher.logits(images);
        Tensor s = student.forward(images);
        Map<String, Tensor> losses = new LinkedHashMap<>();
        losses.put("ce", Pointwise.scale(Losses.crossEntropy(s, labels), ceWeight));
        losses.put("kd", Pointwise.scale(Losses.kdLoss(s, t, tau), kdWeight));
        return new Step(s, losses);
    }
}
