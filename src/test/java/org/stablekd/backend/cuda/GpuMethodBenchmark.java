package org.stablekd.backend.cuda;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.distill.Plan;
import org.stablekd.distill.Recomposition;
import org.stablekd.distill.StableKD;
import org.stablekd.models.Zoo;
import org.stablekd.nn.DeviceSlab;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/**
 * bench's training modes on the GPU (StepBench.trainingModes is host-only until the engine has a
 * device placement): the teacher trained alone, the student alone, KD (teacher forward under
 * noGrad, then the logit loss as the KD method builds it: the fused KD_CE_LOSS on CUDA), and
 * StableKD's decomposed, merged and final stages (the StableKD class itself). Parameters live in
 * device slabs (test-side DeviceSlab: Module.to + ParameterSlab.pack), one SGD launch per slab; random N(0,1) images and uniform
 * labels; host clock after a stream sync each step; median over the timed steps after warm-up.
 * A mode that fails prints one line and the next mode runs.
 *
 * <pre>  $JAVA -cp "$TESTCP" org.stablekd.backend.cuda.GpuMethodBenchmark [teacher=resnet56] [student=resnet20] [batch=64] [steps=50] [modes=all|kd,...]</pre>
 */
public final class GpuMethodBenchmark {
    private GpuMethodBenchmark() {}

    private static final int WARMUP = 10;

    public static void main(String[] args) {
        String teacherName = args.length > 0 ? args[0] : "resnet56", studentName = args.length > 1 ? args[1] : "resnet20";
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 64, steps = args.length > 3 ? Integer.parseInt(args[3]) : 50;
        String modes = args.length > 4 ? args[4] : "all";
        Backends.Availability a = Backends.cuda();
        if (!a.available()) {
            System.out.println("GpuMethodBenchmark: no GPU (" + a.reason() + ")");
            return;
        }
        CudaBackend b = (CudaBackend) a.backend();
        System.out.println("device: " + b.describe() + "; " + teacherName + " -> " + studentName + ", batch " + batch);
        Model teacher = Zoo.create(teacherName, 100, new Rng(2)), student = Zoo.create(studentName, 100, new Rng(1));
        Map<Module, Slab> slabs = new IdentityHashMap<>();
        for (Model m : new Model[] {teacher, student}) slabs.put(m, pack(b, m));  // both on the GPU whichever modes run
        Tensor x = CudaTensors.toDevice(Tensor.randn(new Rng(3), DType.F32, 1, batch, 3, 32, 32));
        Rng rng = new Rng(4);
        int[] l = new int[batch];
        for (int i = 0; i < batch; i++) l[i] = rng.nextInt(100);
        Tensor y = CudaTensors.toDevice(Tensor.ofInts(l, batch));

        Map<String, Runnable> all = new LinkedHashMap<>();
        all.put("teacher", () -> time(b, "train " + teacherName + " (teacher alone)", batch, steps, slabs, Map.of("model", teacher),
                () -> Losses.crossEntropy(teacher.forward(x), y)));
        all.put("student", () -> time(b, "train " + studentName + " (student alone)", batch, steps, slabs, Map.of("model", student),
                () -> Losses.crossEntropy(student.forward(x), y)));
        all.put("kd", () -> {
            teacher.eval();
            time(b, "KD " + teacherName + " -> " + studentName + (Losses.fusesKdCe(x) ? " (fused KD_CE_LOSS)" : ""), batch, steps, slabs,
                    Map.of("model", student), () -> {
                        Tensor t;
                        try (Restore ng = Autograd.noGrad()) {
                            t = teacher.forward(x);
                        }
                        Tensor s = student.forward(x);
                        return Losses.fusesKdCe(s) ? Losses.kdCrossEntropy(s, t, y, 4, 0.1, 0.9)
                                : Pointwise.add(Pointwise.scale(Losses.crossEntropy(s, y), 0.1), Pointwise.scale(Losses.kdLoss(s, t, 4), 0.9));
                    });
        });
        all.put("stablekd", () -> {
            teacher.eval();
            Plan plan = Plan.defaults(student.stageCount(), teacher.stageCount(),
                    Recomposition.stageCount(Math.min(student.stageCount(), teacher.stageCount()), 2));
            StableKD skd = new StableKD(teacher, student, plan, null, new Rng(1), null);
            skd.to(b.device());   // its connectors onto the GPU (the teacher folded on the host and went back by itself)
            var schedule = plan.schedule();
            for (int st = 0; st < schedule.size(); st++) {
                String stage = st == 0 ? "decomposed" : st == schedule.size() - 1 ? "final" : "merged";
                int epoch = plan.firstEpochOf(st);
                skd.startEpoch(epoch);
                String label = "StableKD " + stage + " " + schedule.get(st);
                run(label, () -> time(b, label, batch, steps, slabs, skd.trainable(), () -> sum(skd.step(x, y, epoch, 0))));
            }
        });
        for (Map.Entry<String, Runnable> e : all.entrySet()) {
            if (modes.equals("all") || Arrays.asList(modes.split(",")).contains(e.getKey())) run(e.getKey(), e.getValue());
        }
        System.out.println("allocator: " + b.memoryStats());
    }

    private static Tensor sum(TrainingMethod.Step st) {
        Tensor total = null;
        for (Tensor t : st.losses().values()) total = total == null ? t : Pointwise.add(total, t);
        return total;
    }

    /** One mode; a failure is one line (the next mode still runs). */
    private static void run(String name, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException | OutOfMemoryError | LinkageError e) {
            System.out.println("FAILED " + name + ": " + e);
        }
    }

    private record Slab(DeviceSlab slab, Tensor momentum) {}

    private static Slab pack(CudaBackend b, Module m) {
        DeviceSlab s = DeviceSlab.pack(m, b.device());
        return new Slab(s, CudaTensors.toDevice(Tensor.zeros(DType.F32, s.values().shape())));
    }

    private static void time(CudaBackend b, String name, int batch, int steps, Map<Module, Slab> slabs, Map<String, Module> trainable,
                                 java.util.function.Supplier<Tensor> loss) {
        for (Module m : trainable.values()) slabs.computeIfAbsent(m, k -> pack(b, k));  // StableKD's connectors, if any
        for (Module m : trainable.values()) m.train(true);
        double[] ms = new double[steps];
        long freshAfterWarmup = 0;
        for (int i = 0; i < WARMUP + steps; i++) {
            if (i == WARMUP) freshAfterWarmup = b.freshBlocks();
            long t0 = System.nanoTime();
            try (Scope s = Scope.open()) {
                for (Module m : trainable.values()) b.pointwise().fill(slabs.get(m).slab().grads(), 0);
                Autograd.backward(loss.get());
                for (Module m : trainable.values()) {
                    Slab sl = slabs.get(m);
                    b.optimizer().sgd(sl.slab().values(), sl.slab().grads(), sl.momentum(), 0.01, 0.9, 5e-4, false);
                }
                b.sync();
            }
            if (i >= WARMUP) ms[i - WARMUP] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        double median = ms[steps / 2];
        System.out.printf(Locale.ROOT, "%-44s batch %4d  step ms median %8.3f (p10 %.3f, p90 %.3f)  %8.0f img/s  new blocks after warm-up %d%n",
                name, batch, median, ms[steps / 10], ms[steps * 9 / 10], batch / median * 1000, b.freshBlocks() - freshAfterWarmup);
    }
}
