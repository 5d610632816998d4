package org.stablekd.backend.cuda;

import java.util.Arrays;
import java.util.Locale;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.models.Zoo;
import org.stablekd.nn.DeviceSlab;
import org.stablekd.nn.Model;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * One training step of a CIFAR model on the GPU, timed end to end from Java (host clock after a
 * stream sync each step, so launch overhead counts, as it does in training): forward, loss,
 * backward into a gradient slab, one SGD launch over the slab. With {@code kd}, a frozen teacher's
 * forward under noGrad and the KD loss (0.1·CE + 0.9·KD, τ=4) are part of the step.
 * Random inputs (N(0,1) images, uniform labels): the data loader is not measured.
 *
 * <pre>  $JAVA -cp "$TESTCP" org.stablekd.backend.cuda.GpuTrainStepBenchmark [student=resnet20] [batch=64] [steps=100] [teacher|none=none]</pre>
 * Prints the median and the 10th/90th percentile step time and images/s, plus the allocator's
 * counters (the steady state must allocate nothing new). Compare with benchmarks/gpu/torch_train_step.py
 * run in the same device call.
 */
public final class GpuTrainStepBenchmark {
    private GpuTrainStepBenchmark() {}

    public static void main(String[] args) {
        String studentName = args.length > 0 ? args[0] : "resnet20";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        String teacherName = args.length > 3 ? args[3] : "none";
        Backends.Availability a = Backends.cuda();
        if (!a.available()) {
            System.out.println("GpuTrainStepBenchmark: no GPU (" + a.reason() + ")");
            return;
        }
        CudaBackend b = (CudaBackend) a.backend();
        Device gpu = b.device();
        Model student = Zoo.create(studentName, 100, new Rng(1));
        DeviceSlab slab = DeviceSlab.pack(student, gpu);
        Tensor momentum = CudaTensors.toDevice(Tensor.zeros(DType.F32, slab.values().shape()));
        Model teacher = null;
        if (!teacherName.equals("none")) {
            teacher = Zoo.create(teacherName, 100, new Rng(2));
            DeviceSlab.pack(teacher, gpu);
            teacher.eval();
        }
        student.train(true);
        Tensor x = CudaTensors.toDevice(Tensor.randn(new Rng(3), DType.F32, 1, batch, 3, 32, 32));
        Rng rng = new Rng(4);
        int[] l = new int[batch];
        for (int i = 0; i < batch; i++) l[i] = rng.nextInt(100);
        Tensor y = CudaTensors.toDevice(Tensor.ofInts(l, batch));
        var pointwise = Backends.select(Op.FILL, DType.F32, gpu).pointwise();
        var optimizer = Backends.select(Op.SGD_STEP, DType.F32, gpu).optimizer();
        System.out.println("device: " + b.describe());
        System.out.println("step: " + studentName + (teacher == null ? " (cross-entropy)" : " ← " + teacherName + " (0.1·CE + 0.9·KD, τ=4)")
                + ", batch " + batch + ", " + slab.values().numel() + " parameters in one slab");
        int warmup = 10;
        double[] ms = new double[steps];
        long freshAfterWarmup = 0;
        for (int s = 0; s < warmup + steps; s++) {
            if (s == warmup) freshAfterWarmup = b.freshBlocks();
            long t0 = System.nanoTime();
            try (Scope scope = Scope.open()) {
                pointwise.fill(slab.grads(), 0);
                Tensor logits = student.forward(x);
                Tensor loss;
                if (teacher == null) {
                    loss = Losses.crossEntropy(logits, y);
                } else {
                    Tensor t;
                    try (Restore ng = Autograd.noGrad()) {
                        t = teacher.forward(x);
                    }
                    loss = Pointwise.add(Pointwise.scale(Losses.crossEntropy(logits, y), 0.1), Pointwise.scale(Losses.kdLoss(logits, t, 4), 0.9));
                }
                Autograd.backward(loss);
                optimizer.sgd(slab.values(), slab.grads(), momentum, 0.05, 0.9, 5e-4, false);
                b.sync();
            }
            if (s >= warmup) ms[s - warmup] = (System.nanoTime() - t0) / 1e6;
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = sorted[steps / 2];
        System.out.printf(Locale.ROOT, "step ms: median %.3f (p10 %.3f, p90 %.3f) over %d steps after %d warm-up; %.0f images/s%n",
                median, sorted[steps / 10], sorted[steps * 9 / 10], steps, warmup, batch / median * 1000);
        System.out.println("allocator: " + b.memoryStats() + "; new blocks after warm-up: " + (b.freshBlocks() - freshAfterWarmup));
    }
}
