package org.stablekd.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Transfers;
import org.stablekd.dist.Communicator;
import org.stablekd.dist.DataParallel;
import org.stablekd.dist.GradientReducer;
import org.stablekd.dist.Local;
import org.stablekd.distill.KD;
import org.stablekd.distill.Plan;
import org.stablekd.distill.Recomposition;
import org.stablekd.distill.StableKD;
import org.stablekd.nn.Model;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Memory;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.Sgd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.HostAllocator;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.Supervised;
import org.stablekd.train.TrainingMethod;

/**
 * Times training steps (forward, backward, SGD step, each in a Scope) of a method on random data
 * (N(0,1) images, uniform labels: never zeros): warm-up steps first, then the median of timed
 * steps as images per second.
 */
public final class StepBench {
    private StepBench() {}

    /**
     * Median step time and throughput; data-parallel, also the median time the step waited for the
     * gradient all-reduce after backward and the bytes each rank all-reduced per step.
     */
    public record Timing(String name, int batch, double medianMs, double p90Ms, double imagesPerSecond, double medianWaitMs, long allreduceBytes) {}

    public static Timing time(String name, TrainingMethod method, int epoch, int batch, int warmup, int steps, long seed) {
        return time(name, method, epoch, batch, warmup, steps, seed, Local.INSTANCE, DataParallel.Settings.DEFAULT);
    }

    /**
     * As above as one rank of {@code comm}: {@code batch} is the global batch, this rank computes
     * its part and the step includes the trainer's gradient all-reduce and per-step metrics sum.
     */
    public static Timing time(String name, TrainingMethod method, int epoch, int batch, int warmup, int steps, long seed,
                              Communicator comm, DataParallel.Settings dp) {
        return time(name, method, epoch, batch, warmup, steps, seed, comm, dp, Device.CPU);
    }

    /** On {@code device}, one process. */
    public static Timing time(String name, TrainingMethod method, int epoch, int batch, int warmup, int steps, long seed, Device device) {
        return time(name, method, epoch, batch, warmup, steps, seed, Local.INSTANCE, DataParallel.Settings.DEFAULT, device);
    }

    /**
     * As above on {@code device}: the method moves there, the batch is uploaded once, and each
     * timed step ends by downloading its loss (so the clock sees the device's work finish).
     */
    public static Timing time(String name, TrainingMethod method, int epoch, int batch, int warmup, int steps, long seed,
                              Communicator comm, DataParallel.Settings dp, Device device) {
        return time(name, method, epoch, batch, warmup, 0, steps, seed, comm, dp, device);
    }

    /**
     * As above, warming up for at least {@code warmupSeconds} too (more steps past {@code warmup},
     * at most 200; one process only, so that ranks never disagree on the step count): KD's first
     * 5 steps after a teacher and a student trained alone in the same process read 151–170 ms,
     * the next 128–138 ms (2026-12-06: the JIT was still compiling the teacher's inference path).
     */
    public static Timing time(String name, TrainingMethod method, int epoch, int batch, int warmup, double warmupSeconds, int steps,
                              long seed, Communicator comm, DataParallel.Settings dp, Device device) {
        // each mode starts as a fresh process would: free blocks cached for the previous mode's sizes are unmapped
        HostAllocator.get().emptyCache();
        Model m = method.model();
        var in = m.inputShape();
        Rng rng = new Rng(seed);
        Tensor images, labels;
        int local = (int) ((long) batch * (comm.rank() + 1) / comm.size() - (long) batch * comm.rank() / comm.size());
        try (var r = Scope.suspend()) {
            rng = new Rng(seed + 7919L * comm.rank());   // each rank its own images
            images = Tensor.randn(rng, DType.F32, 1, local, in.dim(0), in.dim(1), in.dim(2));
            int[] y = new int[local];
            for (int i = 0; i < local; i++) y[i] = rng.nextInt(m.numClasses());
            labels = Tensor.ofInts(y, local);
            method.to(device);
            images = Transfers.to(images, device);
            labels = Transfers.to(labels, device);
        }
        ParameterSlab slab = ParameterSlab.pack(new org.stablekd.nn.ModuleGroup(method.trainable()));
        Sgd sgd = new Sgd(slab, 0.9, 5e-4, false);
        method.startEpoch(epoch);
        for (var mod : method.trainable().values()) mod.train(true);
        GradientReducer reducer = comm.isDistributed()
                ? new GradientReducer(comm, slab, dp.bucketFloats(), DataParallel.communicationThread(comm, dp, device.isHost())) : null;
        double[] ms = new double[steps], waitMs = new double[steps];
        comm.barrier();
        long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        int maxWarmup = comm.isDistributed() ? warmup : warmup + 200;
        for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime();
            double waited = 0;
            try (Scope s = Scope.open()) {
                TrainingMethod.Step st = method.step(images, labels, epoch, i);
                Tensor total = null;
                for (Tensor l : st.losses().values()) total = total == null ? l : Pointwise.add(total, l);
                if (reducer == null) {
                    Autograd.backward(total);
                } else {
                    comm.allreduceSum(new double[] {Transfers.toHost(total).item() * local, local});   // the trainer's per-step numbers
                    Tensor share = Tensor.emptyLike(total);
                    Memory.fill(share, (double) local / batch);
                    Autograd.backward(total, share, reducer.listener());
                    double before = reducer.waitSeconds();
                    reducer.finish();
                    waited = (reducer.waitSeconds() - before) * 1e3;
                }
                sgd.step(0.01);
                sgd.zeroGrad();
                if (!device.isHost()) Transfers.toHost(total);   // waits for the step on the device
            }
            if (i >= warmup) {
                ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
                waitMs[i - warmup] = waited;
            } else if (i == warmup - 1 && warmup < maxWarmup && System.nanoTime() < warmupEnd) {
                warmup++;   // one more warm-up step
            }
        }
        long bytes = reducer == null ? 0 : reducer.bytesPerStep();
        if (reducer != null) reducer.close();
        Arrays.sort(ms);
        Arrays.sort(waitMs);
        double median = ms[steps / 2];
        return new Timing(name, batch, median, ms[Math.min(steps - 1, (int) Math.ceil(steps * 0.9) - 1)], batch / (median / 1000), waitMs[steps / 2], bytes);
    }

    /** Inference latency of single calls (ms): p50 and p99 over {@code calls} after {@code warmup}. */
    public record Latency(String name, int batch, double p50Ms, double p99Ms) {}

    public static Latency latency(Model model, int batch, int warmup, int calls, long seed) {
        return latency(model, batch, warmup, calls, seed, Device.CPU);
    }

    /** As above with the predictor on {@code device} (each call uploads its images and downloads its logits). */
    public static Latency latency(Model model, int batch, int warmup, int calls, long seed, Device device) {
        return latency(model, batch, warmup, 0, calls, seed, device);
    }

    /**
     * As above, warming up for at least {@code warmupSeconds} too (at most 20 000 calls): the
     * JIT compiles a predictor's per-call code after thousands of calls, and a batch-1 resnet20
     * measured after 20 warm-up calls read 1.2–2.9 ms per call against 0.78 ms after 2 000.
     */
    public static Latency latency(Model model, int batch, int warmup, double warmupSeconds, int calls, long seed, Device device) {
        var p = org.stablekd.infer.Predictor.of(model).to(device);
        var in = model.inputShape();
        float[] x = Tensor.randn(new Rng(seed), DType.F32, 1, batch, in.dim(0), in.dim(1), in.dim(2)).toFloatArray();
        long warmUntil = System.nanoTime() + (long) (warmupSeconds * 1e9);
        for (int i = 0; i < warmup || (System.nanoTime() < warmUntil && i < 20_000); i++) p.predict(x, batch);
        double[] ms = new double[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            p.predict(x, batch);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return new Latency(model.name(), batch, ms[calls / 2], ms[Math.min(calls - 1, (int) Math.ceil(calls * 0.99) - 1)]);
    }

    /** Peak resident set size of this process in bytes (Linux /proc/self/status VmHWM), or -1. */
    public static long peakRssBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** Teacher alone, student alone, KD, and StableKD's decomposed, merged and final stages. */
    public static Map<String, Timing> trainingModes(Model teacher, Model student, int batch, int warmup, int steps) {
        return trainingModes(teacher, student, batch, warmup, steps, Local.INSTANCE, DataParallel.Settings.DEFAULT);
    }

    /** As above, each step data-parallel over {@code comm}. */
    public static Map<String, Timing> trainingModes(Model teacher, Model student, int batch, int warmup, int steps, Communicator comm, DataParallel.Settings dp) {
        return trainingModes(teacher, student, batch, warmup, steps, comm, dp, Device.CPU);
    }

    /** As above on {@code device}. */
    public static Map<String, Timing> trainingModes(Model teacher, Model student, int batch, int warmup, int steps, Communicator comm,
                                                    DataParallel.Settings dp, Device device) {
        return trainingModes(teacher, student, batch, warmup, 0, steps, comm, dp, device);
    }

    /** As above, each mode warming up for at least {@code warmupSeconds} too (see {@link #time}). */
    public static Map<String, Timing> trainingModes(Model teacher, Model student, int batch, int warmup, double warmupSeconds, int steps,
                                                    Communicator comm, DataParallel.Settings dp, Device device) {
        Map<String, Timing> out = new LinkedHashMap<>();
        out.put("teacher", time("train " + teacher.name() + " (teacher alone)", new Supervised(teacher, 0), 0, batch, warmup, warmupSeconds, steps, 1, comm, dp, device));
        out.put("student", time("train " + student.name() + " (student alone)", new Supervised(student, 0), 0, batch, warmup, warmupSeconds, steps, 1, comm, dp, device));
        teacher.eval();
        out.put("kd", time("KD " + teacher.name() + " → " + student.name(), new KD(teacher, student, 0.1, 0.9, 4), 0, batch, warmup, warmupSeconds, steps, 1, comm, dp, device));
        Plan plan = Plan.defaults(student.stageCount(), teacher.stageCount(), Recomposition.stageCount(Math.min(student.stageCount(), teacher.stageCount()), 2));
        StableKD skd = new StableKD(teacher, student, plan, null, new Rng(1), null);
        var schedule = plan.schedule();
        for (int s = 0; s < schedule.size(); s++) {
            String stage = s == 0 ? "decomposed" : s == schedule.size() - 1 ? "final" : "merged";
            out.put("stablekd-" + stage + (s > 0 && s < schedule.size() - 1 && schedule.size() > 3 ? s : ""),
                    time("StableKD " + stage + " " + schedule.get(s), skd, plan.firstEpochOf(s), batch, warmup, warmupSeconds, steps, 1, comm, dp, device));
        }
        return out;
    }
}
