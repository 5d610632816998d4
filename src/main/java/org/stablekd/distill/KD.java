package org.stablekd.distill;

import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.distill.augment.BatchAugment;
import org.stablekd.distill.augment.Mixed;
import org.stablekd.distill.augment.TeacherStddev;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/**
 * Hinton's knowledge distillation: ceWeight·CE(student, labels) + kdWeight·τ²·KL(softmax(t/τ) ‖
 * softmax(s/τ)). Defaults (CIFAR benchmark): τ = 4, 0.1·CE + 0.9·KD; ImageNet: τ = 1, 0.5/0.5.
 *
 * <p>With a {@link BatchAugment} (MixUp, CutMix, CutMixPick), each step also distills on a
 * stronger-augmented copy of the batch, as in "What makes a good data augmentation in KD"
 * (Wang et al. 2022): an extra kdWeight·KD term on the mixed images (no CE on them). The teacher's
 * T. stddev over the epoch (original and mixed batches) is logged as {@code t_stddev}.
 */
public final class KD implements TrainingMethod {
    private final Teacher teacher;
    private final Model student;
    private final double ceWeight, kdWeight, tau;
    private final BatchAugment augment;
    private final long seed;
    private final TeacherStddev stddev = new TeacherStddev();

    public KD(Model teacher, Model student, double ceWeight, double kdWeight, double tau) {
        this(teacher, student, ceWeight, kdWeight, tau, BatchAugment.identity(), 0);
    }

    /** {@code seed} seeds the augmentation: step s of a run draws from Rng(seed, s), so resuming needs no saved state. */
    public KD(Model teacher, Model student, double ceWeight, double kdWeight, double tau, BatchAugment augment, long seed) {
        this.teacher = new Teacher(teacher);
        this.student = student;
        this.ceWeight = ceWeight;
        this.kdWeight = kdWeight;
        this.tau = tau;
        this.augment = augment;
        this.seed = seed;
    }

    @Override public String name() { return augment.name().equals("none") ? "kd" : "kd+" + augment.name(); }
    @Override public Model model() { return student; }

    /** The student (and its connectors) and the frozen teacher. */
    @Override
    public void to(org.stablekd.tensor.Device device) {
        if (!device.isHost() && !augment.name().equals("none")) {
            throw new IllegalArgumentException("--augment " + augment.name() + " mixes batches on the host; run it with --device cpu");
        }
        TrainingMethod.super.to(device);
        teacher.to(device);
    }

    @Override public Map<String, Module> trainable() { return Map.of("model", student); }

    @Override
    public void startEpoch(int epoch) {
        stddev.reset();
    }

    @Override
    public Step step(Tensor images, Tensor labels, int epoch, long step) {
        Tensor t = teacher.logits(images);
        stddev.add(t);
        Tensor s = student.forward(images);
        Map<String, Tensor> losses = new LinkedHashMap<>();
        KdLogitLoss.put(losses, "", s, t, labels, tau, ceWeight, kdWeight);
        if (!augment.name().equals("none")) {
            Mixed m = augment.apply(images, labels, teacher, new Rng(seed * 0x9E3779B97F4A7C15L + step));
            Tensor tm = m.teacherLogits() != null ? m.teacherLogits() : teacher.logits(m.images());
            stddev.add(tm);
            losses.put("kd_aug", Pointwise.scale(Losses.kdLoss(student.forward(m.images()), tm, tau), kdWeight));
        }
        return new Step(s, losses);
    }

    @Override
    public Map<String, Object> epochInfo(int epoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (stddev.groups() >= 2) {
            m.put("t_stddev", stddev.value());
            m.put("t_entropy", stddev.meanEntropy());
        }
        return m;
    }
}
