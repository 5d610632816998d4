package org.stablekd.bench;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Two builds of the engine in one JVM, their training steps alternated two by two: what changed
 * between them, with the host's phases (±20 % within minutes on these shared 2-vCPU machines)
 * falling on both alike. Fresh JVMs one after the other moved by ±5–15 % between runs of one
 * engine (2026-12-06); two runs of this comparison, resnet20 at 60976e0 against da4c0d1, gave
 * −7.8 % and −7.7 % for the median, but in a noisier hour two runs of another pair gave −4.6 %
 * and −1.8 %: repeat a run before trusting a difference of a few per cent.
 *
 * <p>Caveat: both builds share the JDK's vector classes and the JIT's profiles of them. A build
 * that brings a vector type or shape the other does not use into play can change how the shared
 * vector code compiles for both (a 256-bit float vector in a weight transform left a product
 * kernel out of line, 14 % on the step, 2026-12-06), and for such a change this comparison and
 * a switch between the two code paths inside one build disagreed (double vectors in the weight
 * transform: −5.9 % here, −0.5 % with the switch): confirm such changes with a switch.
 *
 * <p>Each build gets its own class loader over the benchmarks jar (this one's engine, "new"),
 * the other with a build's classes in front of it ("old": a {@code target/classes} of another
 * commit), so each has its own thread pool, scratch and caches; only the running one works, the
 * other's workers park after their short spin. Usage ({@code benchmarks/engine_ab.sh} builds
 * the old classes from a commit and runs this):
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar org.stablekd.bench.EngineAB \
 *        OLD_CLASSES_DIR [model] [seconds] [input] [batch]
 * </pre>
 * Prints, per build, the steps timed and the median, p25 and p75 ms per step.
 */
public final class EngineAB {
    private EngineAB() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: EngineAB OLD_CLASSES_DIR [model=resnet20] [seconds=60] [input=3x32x32] [batch=64]");
            return;
        }
        Path oldClasses = Path.of(args[0]);
        String model = args.length > 1 ? args[1] : "resnet20";
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        String input = args.length > 3 ? args[3] : "3x32x32";
        int batch = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        URL jar = EngineAB.class.getProtectionDomain().getCodeSource().getLocation();
        ClassLoader[] loaders = {
            new URLClassLoader(new URL[] {oldClasses.toUri().toURL(), jar}, ClassLoader.getPlatformClassLoader()),
            new URLClassLoader(new URL[] {jar}, ClassLoader.getPlatformClassLoader())
        };
        String[] names = {"old (" + oldClasses + ")", "new (this jar)"};
        Object[] steps = new Object[2];
        Method[] run = new Method[2];
        for (int i = 0; i < 2; i++) {
            Class<?> c = loaders[i].loadClass(TrainStepBench.TrainStep.class.getName());
            steps[i] = c.getConstructor(String.class, String.class, int.class, long.class).newInstance(model, input, batch, 42L);
            run[i] = c.getMethod("run");
        }
        for (int i = 0; i < 30; i++) run[i % 2].invoke(steps[i % 2]);   // warm-up: both reach C2
        double[][] ms = new double[2][1 << 16];
        int[] count = new int[2];
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        for (int k = 0; System.nanoTime() < end && count[1] < ms[1].length; k++) {
            int m = (k / 2) % 2;   // two steps of one, two of the other
            long t0 = System.nanoTime();
            run[m].invoke(steps[m]);
            ms[m][count[m]++] = (System.nanoTime() - t0) / 1e6;
        }
        for (int m = 0; m < 2; m++) {
            double[] t = Arrays.copyOf(ms[m], count[m]);
            Arrays.sort(t);
            System.out.printf("%s %s batch %d, %s: %d steps, median %.2f ms (p25 %.2f, p75 %.2f)%n",
                    model, input, batch, names[m], t.length, t[t.length / 2], t[t.length / 4], t[3 * t.length / 4]);
        }
    }
}
