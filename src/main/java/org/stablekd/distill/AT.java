package org.stablekd.distill;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Distill;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/**
 * Attention transfer (Zagoruyko &amp; Komodakis, ICLR 2017), as RepDistiller's {@code Attention}
 * with p = 2: CE + β·Σ_l mean((at(s_l) − at(t_l))²) over pairs of feature maps at stage
 * boundaries, where at(f) = normalize_rows(mean_c f²) ({@link Distill#attentionMap}), β = 1000.
 *
 * <p>Cuts are stage indices as in {@link Teacher#features}: cut c is the output of stage c−1. By
 * default every stage output but the logits (for the CIFAR ResNets: layer1, layer2, layer3, as
 * RepDistiller's {@code feat[1:-1]}). Channels may differ (the map averages them away); where the
 * spatial sizes differ, the larger feature map is average-pooled to the smaller by a whole factor
 * before its map is taken (RepDistiller's adaptive_avg_pool2d, which equals a k×k/k pool then).
 */
public final class AT implements TrainingMethod {
    public static final double DEFAULT_BETA = 1000;

    private final Teacher teacher;
    private final Model student;
    private final double beta;
    private final int[] studentCuts, teacherCuts;

    /** β = 1000 at every inner stage boundary (the models must have as many stages). */
    public AT(Model teacher, Model student) {
        this(teacher, student, DEFAULT_BETA, innerCuts(teacher, student));
    }

    /** The same cuts in both models. */
    public AT(Model teacher, Model student, double beta, int[] cuts) {
        this(teacher, student, beta, cuts, cuts);
    }

    public AT(Model teacher, Model student, double beta, int[] studentCuts, int[] teacherCuts) {
        if (!(beta >= 0) || Double.isInfinite(beta)) throw new IllegalArgumentException("AT: beta must be finite and >= 0, got " + beta);
        this.teacher = new Teacher(teacher);
        this.student = student;
        this.beta = beta;
        this.studentCuts = studentCuts.clone();
        this.teacherCuts = teacherCuts.clone();
        validate(teacher, student, this.studentCuts, this.teacherCuts);
    }

    /** {1, …, S−1}: every stage output but the logits, for models of S stages each. */
    public static int[] innerCuts(Model teacher, Model student) {
        int s = student.stageCount(), t = teacher.stageCount();
        if (s != t) {
            throw new IllegalArgumentException("AT: " + student.name() + " has " + s + " stages " + student.stageNames() + " but "
                    + teacher.name() + " has " + t + " " + teacher.stageNames() + "; choose the matching cuts of each model");
        }
        int[] cuts = new int[s - 1];
        for (int i = 0; i < cuts.length; i++) cuts[i] = i + 1;
        return cuts;
    }

    @Override public String name() { return "at"; }
    @Override public Model model() { return student; }

    /** The student (and its connectors) and the frozen teacher. */
    @Override
    public void to(org.stablekd.tensor.Device device) {
        TrainingMethod.super.to(device);
        teacher.to(device);
    }

    @Override public Map<String, Module> trainable() { return Map.of("model", student); }
    public double beta() { return beta; }
    public int[] studentCuts() { return studentCuts.clone(); }
    public int[] teacherCuts() { return teacherCuts.clone(); }

    @Override
    public Step step(Tensor images, Tensor labels, int epoch, long step) {
        List<Tensor> ft = teacher.features(images, teacherCuts); // up to the last cut only: AT needs no teacher logits
        // the student: every stage, keeping the outputs at the cuts
        List<Tensor> fs = new ArrayList<>();
        Tensor x = images;
        for (int stage = 0, next = 0; stage < student.stageCount(); stage++) {
            x = student.forwardStage(stage, x);
            if (next < studentCuts.length && studentCuts[next] == stage + 1) {
                fs.add(x);
                next++;
            }
        }
        Tensor sum = null;
        for (int l = 0; l < fs.size(); l++) {
            Tensor pair = pairLoss(fs.get(l), ft.get(l));
            sum = sum == null ? pair : Pointwise.add(sum, pair);
        }
        Map<String, Tensor> losses = new LinkedHashMap<>();
        losses.put("ce", Losses.crossEntropy(x, labels));
        losses.put("at", Pointwise.scale(sum, beta));
        return new Step(x, losses);
    }

    /**
     * RepDistiller's {@code at_loss} of one pair: mean((at(f_s) − at(f_t))²) after average-pooling
     * the spatially larger of the two (N,C,H,W) feature maps to the smaller one's size.
     */
    public static Tensor pairLoss(Tensor fs, Tensor ft) {
        String why = spatialMismatch(fs.shape(), ft.shape());
        if (why != null) throw new IllegalArgumentException("AT: student feature " + fs.shape() + " and teacher feature " + ft.shape() + ": " + why);
        if (fs.dim(0) != ft.dim(0)) throw new IllegalArgumentException("AT: student feature " + fs.shape() + " and teacher feature " + ft.shape() + " differ in batch");
        if (fs.dim(2) > ft.dim(2)) fs = poolBy(fs, fs.dim(2) / ft.dim(2));
        else if (ft.dim(2) > fs.dim(2)) ft = poolBy(ft, ft.dim(2) / fs.dim(2));
        return Losses.mse(Distill.attentionMap(fs), Distill.attentionMap(ft));
    }

    private static Tensor poolBy(Tensor f, int k) {
        return Pool.avgPool2d(f, k, k, 0, false);
    }

    /** Null if two feature shapes ((N,)C,H,W) can be paired, else why not. */
    static String spatialMismatch(Shape s, Shape t) {
        if (s.rank() != t.rank() || s.rank() < 3) return "attention transfer needs feature maps (C,H,W)";
        int r = s.rank();
        int hs = s.dim(r - 2), ws = s.dim(r - 1), ht = t.dim(r - 2), wt = t.dim(r - 1);
        boolean sBig = hs >= ht && ws >= wt, tBig = ht >= hs && wt >= ws;
        if (!sBig && !tBig) return "one map must be at least as large as the other in both H and W";
        int h0 = Math.max(hs, ht), w0 = Math.max(ws, wt), h1 = Math.min(hs, ht), w1 = Math.min(ws, wt);
        if (h0 % h1 != 0 || w0 % w1 != 0 || h0 / h1 != w0 / w1) {
            return "the spatial sizes must differ by one whole factor in H and W (pooled k×k), got " + h0 + "x" + w0 + " vs " + h1 + "x" + w1;
        }
        return null;
    }

    private static void validate(Model teacher, Model student, int[] sc, int[] tc) {
        if (sc.length == 0 || sc.length != tc.length) {
            throw new IllegalArgumentException("AT: " + sc.length + " student cuts " + Arrays.toString(sc) + " and " + tc.length
                    + " teacher cuts " + Arrays.toString(tc) + "; give one or more pairs");
        }
        checkCuts(student, sc);
        checkCuts(teacher, tc);
        List<Shape> ss = student.stageShapes(1), ts = teacher.stageShapes(1);
        for (int i = 0; i < sc.length; i++) {
            Shape s = ss.get(sc[i] - 1), t = ts.get(tc[i] - 1);
            String why = spatialMismatch(s, t);
            if (why != null) {
                throw new IllegalArgumentException("AT: " + student.name() + " cut " + sc[i] + " gives " + s + " and " + teacher.name()
                        + " cut " + tc[i] + " gives " + t + ": " + why);
            }
        }
    }

    private static void checkCuts(Model m, int[] cuts) {
        for (int i = 0; i < cuts.length; i++) {
            if (cuts[i] < 1 || cuts[i] >= m.stageCount() || (i > 0 && cuts[i] <= cuts[i - 1])) {
                throw new IllegalArgumentException("AT: cuts " + Arrays.toString(cuts) + " of " + m.name() + " must increase within [1, "
                        + (m.stageCount() - 1) + "] (cut c is the output of stage c-1 of " + m.stageNames() + "; the logits are no feature map)");
            }
        }
    }
}
