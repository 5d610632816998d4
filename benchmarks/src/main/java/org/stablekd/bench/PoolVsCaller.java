package org.stablekd.bench;

import java.util.Arrays;
import org.stablekd.backend.cpu.Parallel;

/**
 * One training step on the thread pool and the same step on the calling thread alone
 * ({@link Parallel#onCaller}: the same chunks, one after another), alternated two by two in one
 * JVM, with the medians printed per window of time. The caller's step uses one core and shares
 * nothing, so the windows show how much of the host's drift hits the threads' cooperation
 * rather than the arithmetic. Measured 2026-12-06 (resnet20, batch 64, 2 vCPUs): the pool's
 * median ran 72–93 ms across 15-second windows while the caller's stayed at 134–147; in a later
 * run (10-second windows, with {@code probe}) 72.8–97.2 against 136.2–169.3.
 * <pre>
 *   java --add-modules jdk.incubator.vector -XX:+UseParallelGC -cp benchmarks/target/benchmarks.jar \
 *        org.stablekd.bench.PoolVsCaller [model=resnet20] [seconds=150] [window seconds=15] [input=3x32x32] [batch=64] [probe]
 * </pre>
 */
public final class PoolVsCaller {
    private PoolVsCaller() {}

    public static void main(String[] args) throws Exception {
        String model = args.length > 0 ? args[0] : "resnet20";
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 150;
        int window = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        String input = args.length > 3 ? args[3] : "3x32x32";
        int batch = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        boolean probe = args.length > 5 && args[5].equals("probe");   // HostProbe.brief() after each window
        TrainStepBench.TrainStep step = new TrainStepBench.TrainStep(model, input, batch, 42);
        Runnable[] modes = {step::run, () -> Parallel.onCaller(step::run)};
        for (int i = 0; i < 20; i++) modes[i % 2].run();   // warm-up: both reach C2
        System.out.printf("%s %s batch %d, %d threads: medians per %d s window%n", model, input, batch, Parallel.threads(), window);
        double[][] ms = new double[2][1 << 14];
        int[] count = new int[2];
        long start = System.nanoTime(), end = start + seconds * 1_000_000_000L, windowEnd = start + window * 1_000_000_000L;
        for (int k = 0; System.nanoTime() < end; k++) {
            int m = (k / 2) % 2;
            long t0 = System.nanoTime();
            modes[m].run();
            if (count[m] < ms[m].length) ms[m][count[m]++] = (System.nanoTime() - t0) / 1e6;
            if (System.nanoTime() >= windowEnd && count[0] > 0 && count[1] > 0) {
                double pool = median(ms[0], count[0]), caller = median(ms[1], count[1]);
                System.out.printf("t=%4d s  pool %7.2f ms (%d steps)  caller %7.2f ms (%d steps)  pool/caller %.2f%s%n",
                        (System.nanoTime() - start) / 1_000_000_000L, pool, count[0], caller, count[1], pool / caller,
                        probe ? "  " + HostProbe.brief() : "");
                count[0] = count[1] = 0;
                windowEnd += window * 1_000_000_000L;
            }
        }
    }

    private static double median(double[] a, int n) {
        double[] t = Arrays.copyOf(a, n);
        Arrays.sort(t);
        return t[n / 2];
    }
}
