package org.stablekd.distill;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Distill;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/**
 * Decoupled knowledge distillation (Zhao et al., CVPR 2022), as mdistiller's {@code DKD}:
 * CE(student, labels) + w(epoch)·(α·TCKD + β·NCKD) at temperature τ ({@link Distill#dkdLoss}),
 * with a linear warm-up w = min(epoch/warmup, 1) counting epochs from 1 (mdistiller's), i.e.
 * min((e+1)/warmup, 1) for our 0-based epoch e. Defaults (docs/design.md, Distillation
 * baselines): α = 1, τ = 4, 20 warm-up epochs, β from {@link #defaultBeta}.
 */
public final class DKD implements TrainingMethod {
    public static final double DEFAULT_ALPHA = 1, DEFAULT_BETA = 8, DEFAULT_TAU = 4;
    public static final int DEFAULT_WARMUP_EPOCHS = 20;

    private final Teacher teacher;
    private final Model student;
    private final double alpha, beta, tau;
    private final int warmupEpochs;

    /** The benchmark's defaults for this pair: α = 1, β = {@link #defaultBeta}, τ = 4, 20 warm-up epochs. */
    public DKD(Model teacher, Model student) {
        this(teacher, student, DEFAULT_ALPHA, defaultBeta(teacher.name(), student.name()), DEFAULT_TAU, DEFAULT_WARMUP_EPOCHS);
    }

    public DKD(Model teacher, Model student, double alpha, double beta, double tau, int warmupEpochs) {
        if (!Double.isFinite(alpha) || !Double.isFinite(beta)) throw new IllegalArgumentException("DKD: alpha " + alpha + " and beta " + beta + " must be finite");
        if (!(tau > 0) || Double.isInfinite(tau)) throw new IllegalArgumentException("DKD: temperature must be positive and finite, got " + tau);
        if (warmupEpochs < 1) throw new IllegalArgumentException("DKD: warm-up must last at least 1 epoch, got " + warmupEpochs);
        this.teacher = new Teacher(teacher);
        this.student = student;
        this.alpha = alpha;
        this.beta = beta;
        this.tau = tau;
        this.warmupEpochs = warmupEpochs;
    }

    /** Teacher/student pairs whose mdistiller CIFAR-100 config sets β = 2. */
    private static final Set<String> BETA_2 = Set.of("resnet56/resnet20", "resnet110/resnet32");
    /** … and β = 6 (configs/cifar100/dkd/*.yaml); every other pair uses the default 8. */
    private static final Set<String> BETA_6 = Set.of("vgg13/vgg8", "vgg13/mobile_half", "wrn_40_2/wrn_16_2", "wrn_40_2/wrn_40_1");

    /**
     * β of the benchmark for a pair of zoo names (mdistiller's CIFAR-100 configs; see
     * docs/design.md, Distillation baselines): 2 for resnet56→resnet20 and resnet110→resnet32; 6
     * for vgg13→vgg8, vgg13→mobile_half and the WRN pairs (wrn_40_2→wrn_16_2, wrn_40_2→wrn_40_1);
     * 8 otherwise.
     */
    public static double defaultBeta(String teacherName, String studentName) {
        String pair = teacherName + "/" + studentName;
        if (BETA_2.contains(pair)) return 2;
        if (BETA_6.contains(pair) || teacherName.startsWith("wrn_") && studentName.startsWith("wrn_")) return 6;
        return DEFAULT_BETA;
    }

    /** The weight of the DKD loss in 0-based {@code epoch}: min((epoch+1)/warmup, 1). */
    public double warmup(int epoch) {
        return Math.min((epoch + 1.0) / warmupEpochs, 1.0);
    }

    @Override public String name() { return "dkd"; }
    @Override public Model model() { return student; }

    /** The student (and its connectors) and the frozen teacher. */
    @Override
    public void to(org.stablekd.tensor.Device device) {
        TrainingMethod.super.to(device);
        teacher.to(device);
    }

    @Override public Map<String, Module> trainable() { return Map.of("model", student); }
    public double alpha() { return alpha; }
    public double beta() { return beta; }
    public double tau() { return tau; }
    public int warmupEpochs() { return warmupEpochs; }

    @Override
    public Step step(Tensor images, Tensor labels, int epoch, long step) {
        Tensor t = teacher.logits(images);
        Tensor s = student.forward(images);
        Map<String, Tensor> losses = new LinkedHashMap<>();
        losses.put("ce", Losses.crossEntropy(s, labels));
        losses.put("dkd", Pointwise.scale(Distill.dkdLoss(s, t, labels, alpha, beta, tau), warmup(epoch)));
        return new Step(s, losses);
    }
}
