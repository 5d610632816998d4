package org.stablekd.bench;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Tensor;

/**
 * Per-kernel time breakdown of one training step (the {@link TrainStepBench.TrainStep}): every
 * kernel-family call of the chosen backend is timed through a pass-through proxy and summed by
 * (family.method, shape), e.g. {@code conv.backwardWeight 16→16 3×3 s1 32×32}. What the kernels
 * do not cover (autograd bookkeeping, allocation, the frontend's checks) shows as "outside kernels".
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *        org.stablekd.bench.LayerProfile [model] [CxHxW] [batch] [steps] [backend]
 * </pre>
 * defaults: resnet20 1x32x32 64 30 cpu (after as many warm-up steps, then one sample per step).
 * A sixth argument {@code infer} profiles a {@link org.stablekd.infer.Predictor} call instead
 * (BatchNorm folded, no autograd), e.g. {@code resnet8x4 3x32x32 1 500 cpu infer}.
 */
public final class LayerProfile {
    private LayerProfile() {}

    /** Sum of nanoseconds and calls of one key. */
    static final class Cell {
        long nanos;
        long calls;
    }

    private static final Map<String, Cell> CELLS = new HashMap<>();
    private static boolean recording;
    private static int depth;

    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : "resnet20";
        String input = args.length > 1 ? args[1] : "1x32x32";
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 30;
        String backend = args.length > 4 ? args[4] : "cpu";
        boolean infer = args.length > 5 && args[5].equals("infer");
        Backend timed = profiled(Backends.named(backend));
        try (Restore r = Backends.use(timed)) {
            Runnable step = infer ? inferStep(model, input, batch) : new TrainStepBench.TrainStep(model, input, batch, 42)::run;
            for (int i = 0; i < steps; i++) step.run();
            long[] totals = new long[steps];
            recording = true;
            org.stablekd.backend.cpu.ParallelStats.start();
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                step.run();
                totals[i] = System.nanoTime() - t0;
            }
            recording = false;
            var pool = org.stablekd.backend.cpu.ParallelStats.stop();
            java.util.Arrays.sort(totals);
            long sum = 0;
            for (long t : totals) sum += t;
            double stepMs = sum / 1e6 / steps, medianMs = totals[steps / 2] / 1e6;
            print(model, input, batch, steps, stepMs, medianMs);
            printPool(pool, steps, stepMs);
        }
    }

    /**
     * Where the pool's threads waited (ParallelStats), per submitting kernel family: thread-time
     * lost inside its jobs (late wake-ups, uneven halves) and the caller's time alone before them.
     */
    private static void printPool(List<org.stablekd.backend.cpu.ParallelStats.Row> rows, int steps, double stepMs) {
        int others = org.stablekd.backend.cpu.Parallel.threads() - 1;
        if (others == 0 || rows.isEmpty()) return;
        System.out.println();
        System.out.printf(Locale.ROOT, "Thread pool (%d threads): thread-ms per step lost inside each family's jobs, and the caller's ms alone before them%n",
                others + 1);
        System.out.println();
        System.out.println("| submitter | jobs/step | idle in jobs, thread-ms | of which workers joined late | caller alone before, ms |");
        System.out.println("|---|---:|---:|---:|---:|");
        double idle = 0, late = 0, gap = 0;
        for (var r : rows) {
            double i = r.idleNanos() / 1e6 / steps, l = r.lateNanos() / 1e6 / steps, g = r.gapNanos() / 1e6 / steps;
            idle += i;
            late += l;
            gap += g;
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.2f | %.2f | %.2f |%n", r.submitter(), (double) r.jobs() / steps, i, l, g);
        }
        double lost = idle + others * gap;
        System.out.printf(Locale.ROOT, "| (all) | | %.2f | %.2f | %.2f |%n", idle, late, gap);
        System.out.printf(Locale.ROOT, "%nThread-time lost: %.2f ms per step of %.2f (%.1f %% of %d threads × step)%n",
                lost, stepMs, 100 * lost / ((others + 1) * stepMs), others + 1);
    }

    /** One {@link org.stablekd.infer.Predictor} call on a random batch (random weights, BatchNorm folded). */
    private static Runnable inferStep(String model, String input, int batch) {
        String[] d = input.split("x");
        var shape = org.stablekd.tensor.Shape.of(Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2]));
        var predictor = org.stablekd.infer.Predictor.of(org.stablekd.models.Zoo.create(model, 100, shape, new org.stablekd.tensor.Rng(42)));
        float[] images = new float[(int) (batch * shape.numel())];
        var rng = new java.util.Random(7);
        for (int i = 0; i < images.length; i++) images[i] = (float) rng.nextGaussian();
        return () -> predictor.predict(images, batch);
    }

    private static void print(String model, String input, int batch, int steps, double stepMs, double medianMs) {
        System.out.printf(Locale.ROOT, "%s %s batch %d: step mean %.2f ms, median %.2f ms (%.1f img/s), %d steps%n",
                model, input, batch, stepMs, medianMs, batch / medianMs * 1e3, steps);
        List<Map.Entry<String, Cell>> rows = new ArrayList<>(CELLS.entrySet());
        rows.sort((a, b) -> Long.compare(b.getValue().nanos, a.getValue().nanos));
        double kernels = 0;
        Map<String, Double> byMethod = new TreeMap<>();
        for (var e : rows) {
            double ms = e.getValue().nanos / 1e6 / steps;
            kernels += ms;
            byMethod.merge(e.getKey().split(" ", 2)[0], ms, Double::sum);
        }
        System.out.println();
        System.out.println("| kernel | ms/step | % of step | calls/step | µs/call |");
        System.out.println("|---|---:|---:|---:|---:|");
        byMethod.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).forEach(e ->
                System.out.printf(Locale.ROOT, "| %s | %.2f | %.1f | | |%n", e.getKey(), e.getValue(), 100 * e.getValue() / stepMs));
        System.out.printf(Locale.ROOT, "| (outside kernels) | %.2f | %.1f | | |%n", stepMs - kernels, 100 * (stepMs - kernels) / stepMs);
        System.out.println();
        System.out.println("| kernel, shape | ms/step | % of step | calls/step | µs/call |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (var e : rows) {
            double ms = e.getValue().nanos / 1e6 / steps;
            if (ms < Math.min(0.05, 0.005 * stepMs)) continue; // hide noise: < 0.5 % of a step, or < 50 µs
            double calls = (double) e.getValue().calls / steps;
            System.out.printf(Locale.ROOT, "| %s | %.2f | %.1f | %.0f | %.0f |%n", e.getKey(), ms, 100 * ms / stepMs, calls, ms * 1e3 / calls);
        }
    }

    /** The backend with every kernel-family call timed (outermost calls only). */
    static Backend profiled(Backend inner) {
        Map<String, Object> families = new HashMap<>();
        InvocationHandler h = (proxy, m, args) -> {
            Class<?> rt = m.getReturnType();
            if (rt.isInterface() && rt.getPackageName().equals("org.stablekd.backend")) {
                Object family = families.get(m.getName());
                if (family == null) {
                    family = wrap(rt, m.getName(), invoke(m, inner, args));
                    families.put(m.getName(), family);
                }
                return family;
            }
            return invoke(m, inner, args);
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    private static Object wrap(Class<?> family, String familyName, Object target) {
        String prefix = familyName + ".";
        InvocationHandler h = (proxy, m, args) -> {
            if (!recording || depth > 0 || m.getDeclaringClass() == Object.class) return invoke(m, target, args);
            depth++;
            long t0 = System.nanoTime();
            try {
                return invoke(m, target, args);
            } finally {
                long dt = System.nanoTime() - t0;
                depth--;
                Cell c = CELLS.computeIfAbsent(prefix + m.getName() + " " + describe(args), k -> new Cell());
                c.nanos += dt;
                c.calls++;
            }
        };
        return Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family}, h);
    }

    private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static String describe(Object[] args) {
        if (args == null) return "";
        StringBuilder sb = new StringBuilder();
        for (Object a : args) {
            if (a instanceof ConvGeometry g) {
                return String.format(Locale.ROOT, "%d→%d %d×%d s%d %d×%d", g.c(), g.k(), g.r(), g.s(), g.strideH(), g.h(), g.w());
            }
            if (a instanceof Op op) sb.append(op.name().toLowerCase()).append(' ');
            if (a instanceof Tensor t && sb.indexOf("(") < 0) sb.append(t.shape());
        }
        return sb.toString().trim();
    }
}
