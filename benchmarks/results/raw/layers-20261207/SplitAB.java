import java.lang.reflect.Field;
import java.util.Arrays;
import org.stablekd.bench.TrainStepBench;

/** Scratch: the training step with a static int field set to A or B, switched every two steps in one JVM. */
public class SplitAB {
    public static void main(String[] args) throws Exception {
        String model = args[0];
        int seconds = Integer.parseInt(args[1]), window = Integer.parseInt(args[2]);
        Field f = Class.forName(args[3]).getDeclaredField(args[4]);
        f.setAccessible(true);
        int[] val = {Integer.parseInt(args[5]), Integer.parseInt(args[6])};
        TrainStepBench.TrainStep step = new TrainStepBench.TrainStep(model, "3x32x32", 64, 42);
        for (int i = 0; i < 20; i++) { f.setInt(null, val[i % 2]); step.run(); }
        double[][] ms = new double[2][1 << 14];
        int[] count = new int[2];
        double[][] all = new double[2][1 << 16];
        int[] allCount = new int[2];
        long start = System.nanoTime(), end = start + seconds * 1_000_000_000L, windowEnd = start + window * 1_000_000_000L;
        for (int k = 0; System.nanoTime() < end; k++) {
            int m = (k / 2) % 2;
            f.setInt(null, val[m]);
            long t0 = System.nanoTime();
            step.run();
            double t = (System.nanoTime() - t0) / 1e6;
            ms[m][count[m]++] = t;
            all[m][allCount[m]++] = t;
            if (System.nanoTime() >= windowEnd && count[0] > 0 && count[1] > 0) {
                System.out.printf("t=%4d s  %s=%d %7.2f ms (%d)  %s=%d %7.2f ms (%d)  ratio %.3f%n", (System.nanoTime() - start) / 1_000_000_000L,
                        args[4], val[0], median(ms[0], count[0]), count[0], args[4], val[1], median(ms[1], count[1]), count[1], median(ms[0], count[0]) / median(ms[1], count[1]));
                count[0] = count[1] = 0;
                windowEnd += window * 1_000_000_000L;
            }
        }
        System.out.printf("all: %s=%d %.2f ms (%d steps), %s=%d %.2f ms (%d steps), ratio %.3f%n", args[4], val[0], median(all[0], allCount[0]), allCount[0],
                args[4], val[1], median(all[1], allCount[1]), allCount[1], median(all[0], allCount[0]) / median(all[1], allCount[1]));
    }

    static double median(double[] a, int n) {
        double[] t = Arrays.copyOf(a, n);
        Arrays.sort(t);
        return t[n / 2];
    }
}
