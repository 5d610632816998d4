package org.stablekd.distill;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/**
 * FitNets (Romero et al.): CE + hintWeight·MSE(regressor(student hint), teacher hint), with the
 * hint taken at a stage boundary of each network (default: the output of the middle stage, as
 * RepDistiller's hint_layer=2) and a convolutional regressor (3×3 conv + BN + ReLU; stride 2 when
 * the student map is twice the teacher's) that is trained with the student but not exported.
 * Benchmark weights: CE + 100·MSE.
 */
public final class FitNets implements TrainingMethod {
    private final Teacher teacher;
    private final Model student;
    private final int studentCut, teacherCut;
    private final Regressor regressor;
    private final double hintWeight;

    public FitNets(Model teacher, Model student, int studentCut, int teacherCut, double hintWeight, Rng rng) {
        if (studentCut < 1 || studentCut >= student.stageCount() || teacherCut < 1 || teacherCut >= teacher.stageCount()) {
            throw new IllegalArgumentException("FitNets hint cut " + studentCut + "/" + teacherCut + " must be an inner stage boundary (1.."
                    + (student.stageCount() - 1) + " of " + student.name() + ", 1.." + (teacher.stageCount() - 1) + " of " + teacher.name() + ")");
        }
        this.teacher = new Teacher(teacher);
        this.student = student;
        this.studentCut = studentCut;
        this.teacherCut = teacherCut;
        this.hintWeight = hintWeight;
        Shape s = drop(student.stageShapes(1).get(studentCut - 1)), t = drop(teacher.stageShapes(1).get(teacherCut - 1));
        this.regressor = new Regressor(s, t, rng);
    }

    /** The default hint cut: after half the stages (cut 2 of 4 or 5 stages = the output of layer2, RepDistiller's hint_layer 2). */
    public static int middleCut(Model m) {
        return Math.max(1, m.stageCount() / 2);
    }

    private static Shape drop(Shape batched) {
        return Shape.of(java.util.Arrays.copyOfRange(batched.dims(), 1, batched.rank()));
    }

    @Override public String name() { return "fitnets"; }
    @Override public Model model() { return student; }

    /** The student (and its connectors) and the frozen teacher. */
    @Override
    public void to(org.stablekd.tensor.Device device) {
        TrainingMethod.super.to(device);
        teacher.to(device);
    }

    @Override
    public Map<String, Module> trainable() {
        Map<String, Module> m = new LinkedHashMap<>();
        m.put("model", student);
        m.put("regressor", regressor);
        return m;
    }

    @Override
    public Step step(Tensor images, Tensor labels, int epoch, long step) {
        Tensor hintT = teacher.features(images, new int[] {teacherCut}).get(0);
        Tensor hintS = student.forwardStages(0, studentCut, images);
        Tensor logits = student.forwardStages(studentCut, student.stageCount(), hintS);
        Map<String, Tensor> losses = new LinkedHashMap<>();
        losses.put("ce", Losses.crossEntropy(logits, labels));
        losses.put("hint", Pointwise.scale(Losses.mse(regressor.forward(hintS), hintT), hintWeight));
        return new Step(logits, losses);
    }

    /** RepDistiller's ConvReg: conv 3×3 (stride 2 if the student map is twice as large; valid if larger by k) + BN + ReLU. */
    static final class Regressor extends Module {
        private final Conv2d conv;
        private final BatchNorm2d bn;

        Regressor(Shape s, Shape t, Rng rng) {
            int sh = s.dim(1), th = t.dim(1);
            if (sh == th) {
                conv = child("conv", new Conv2d(s.dim(0), t.dim(0), 3, 1, 1, 1, true));
            } else if (sh == 2 * th) {
                conv = child("conv", new Conv2d(s.dim(0), t.dim(0), 3, 2, 1, 1, true));
            } else if (sh > th && s.dim(2) - t.dim(2) == sh - th) {
                conv = child("conv", new Conv2d(s.dim(0), t.dim(0), 1 + sh - th, 1, 0, 1, true));
            } else {
                throw new IllegalArgumentException("FitNets: no regressor from a student hint " + s + " to a smaller-or-equal teacher hint " + t
                        + " is needed here, but the student map is smaller; choose another hint cut");
            }
            conv.pytorchDefault(rng);
            bn = child("bn", new BatchNorm2d(t.dim(0)));
        }

        @Override
        public Tensor forward(Tensor x) {
            return Pointwise.relu(bn.forward(conv.forward(x)));
        }
    }

    /** The stage boundaries used (for reports). */
    public List<Integer> cuts() {
        return List.of(studentCut, teacherCut);
    }
}
