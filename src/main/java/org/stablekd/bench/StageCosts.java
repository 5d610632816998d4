package org.stablekd.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.Model;
import org.stablekd.ops.Reduce;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * What StableKD's decomposition costs per block, to decide whether spreading its block groups over
 * ranks could beat data parallelism (NOTES.md, Note [StableKD across ranks]): the frozen
 * teacher's forward time per stage (eval, no recording) and the student's forward + backward time
 * per stage on inputs of that stage's shape (a squared-output loss stands in for the feature loss,
 * whose cost is small beside the block), each the median of timed runs after warm-up, at one batch.
 */
public final class StageCosts {
    private StageCosts() {}

    /** Median milliseconds per stage: teacher forward, student forward + backward. */
    public record Result(List<String> stages, double[] teacherForwardMs, double[] studentStepMs) {}

    public static Result measure(Model teacher, Model student, int batch, int warmup, int steps) {
        int n = Math.min(teacher.stageCount(), student.stageCount());
        var in = student.inputShape();
        Tensor x0;
        try (Restore r = Scope.suspend()) {
            x0 = Tensor.randn(new Rng(5), DType.F32, 1, batch, in.dim(0), in.dim(1), in.dim(2));
        }
        teacher.eval();
        student.train(true);
        double[] t = new double[n], s = new double[n];
        // the inputs of each student stage: the student's own features (same shapes as the teacher's at the cuts of these zoo pairs)
        List<Tensor> inputs = new ArrayList<>();
        try (Restore r = Scope.suspend(); Restore ng = Autograd.noGrad()) {
            Tensor x = x0;
            for (int i = 0; i < n; i++) {
                inputs.add(x);
                x = student.forwardStage(i, x);
            }
        }
        for (int i = 0; i < n; i++) {
            final int stage = i;
            Tensor tin = teacherInput(teacher, x0, i);
            t[i] = median(warmup, steps, () -> {
                try (Scope sc = Scope.open(); Restore ng = Autograd.noGrad()) {
                    teacher.forwardStage(stage, tin);
                }
            });
            Tensor sin = inputs.get(i);
            s[i] = median(warmup, steps, () -> {
                try (Scope sc = Scope.open()) {
                    Tensor y = student.forwardStage(stage, sin);
                    Autograd.backward(Reduce.mean(Pointwise.mul(y, y)));
                }
            });
        }
        List<String> names = new ArrayList<>(student.stageNames().subList(0, n));
        for (var p : student.parameters()) p.value().setGrad(null);
        return new Result(names, t, s);
    }

    /** The teacher's features entering stage {@code i} (kept outside any scope). */
    private static Tensor teacherInput(Model teacher, Tensor x0, int i) {
        try (Restore r = Scope.suspend(); Restore ng = Autograd.noGrad()) {
            return teacher.forwardStages(0, i, x0);
        }
    }

    private static double median(int warmup, int steps, Runnable step) {
        double[] ms = new double[steps];
        for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime();
            step.run();
            if (i >= warmup) ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[steps / 2];
    }
}
