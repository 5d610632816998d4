import java.lang.reflect.Method;
import java.util.Arrays;
import org.stablekd.bench.TrainStepBench;

/** Scratch: the training step with DirectChannelsLast (batch forward and DirectChannelsLastGrad) on and off, switched every two steps in one JVM. */
public class DirectAB {
    public static void main(String[] args) throws Exception {
        String model = args.length > 0 ? args[0] : "resnet20";
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 120;
        int window = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        Class<?> c = Class.forName("org.stablekd.backend.cpu.DirectChannelsLast");
        Method enable = c.getDeclaredMethod("enable", boolean.class);
        enable.setAccessible(true);
        TrainStepBench.TrainStep step = new TrainStepBench.TrainStep(model, "3x32x32", 64, 42);
        boolean[] on = {true, false};
        for (int i = 0; i < 20; i++) { enable.invoke(null, on[i % 2]); step.run(); }
        double[][] ms = new double[2][1 << 14];
        int[] count = new int[2];
        double[][] all = new double[2][1 << 16];
        int[] allCount = new int[2];
        long start = System.nanoTime(), end = start + seconds * 1_000_000_000L, windowEnd = start + window * 1_000_000_000L;
        for (int k = 0; System.nanoTime() < end; k++) {
            int m = (k / 2) % 2;
            enable.invoke(null, on[m]);
            long t0 = System.nanoTime();
            step.run();
            double t = (System.nanoTime() - t0) / 1e6;
            ms[m][count[m]++] = t;
            all[m][allCount[m]++] = t;
            if (System.nanoTime() >= windowEnd && count[0] > 0 && count[1] > 0) {
                System.out.printf("t=%4d s  direct %7.2f ms (%d)  grid %7.2f ms (%d)  ratio %.3f%n", (System.nanoTime() - start) / 1_000_000_000L,
                        median(ms[0], count[0]), count[0], median(ms[1], count[1]), count[1], median(ms[0], count[0]) / median(ms[1], count[1]));
                count[0] = count[1] = 0;
                windowEnd += window * 1_000_000_000L;
            }
        }
        System.out.printf("all: direct %.2f ms (%d steps), grid %.2f ms (%d steps), ratio %.3f%n", median(all[0], allCount[0]), allCount[0],
                median(all[1], allCount[1]), allCount[1], median(all[0], allCount[0]) / median(all[1], allCount[1]));
    }

    static double median(double[] a, int n) {
        double[] t = Arrays.copyOf(a, n);
        Arrays.sort(t);
        return t[n / 2];
    }
}
