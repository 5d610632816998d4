import java.util.Arrays;
import org.stablekd.bench.TrainStepBench;

/** Scratch: KD and StableKD's decomposed step (resnet56 -> resnet20), alternating every two steps in one JVM. */
public class KdAB {
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 150, window = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        TrainStepBench.TrainStep[] steps = {new TrainStepBench.TrainStep("kd:resnet56:resnet20", "3x32x32", 64, 42),
                new TrainStepBench.TrainStep("stablekd-decomposed:resnet56:resnet20", "3x32x32", 64, 42)};
        for (int i = 0; i < 40; i++) steps[(i / 2) % 2].run();
        double[][] win = new double[2][1 << 14], all = new double[2][1 << 16];
        int[] wn = new int[2], an = new int[2];
        long start = System.nanoTime(), end = start + seconds * 1_000_000_000L, windowEnd = start + window * 1_000_000_000L;
        for (int k = 0; System.nanoTime() < end; k++) {
            int m = (k / 2) % 2;
            long t0 = System.nanoTime();
            steps[m].run();
            double t = (System.nanoTime() - t0) / 1e6;
            win[m][wn[m]++] = t;
            all[m][an[m]++] = t;
            if (System.nanoTime() >= windowEnd && wn[0] > 0 && wn[1] > 0) {
                System.out.printf("t=%4d s  kd %7.2f ms (%d)  decomposed %7.2f ms (%d)  decomposed/kd speed %.3f%n", (System.nanoTime() - start) / 1_000_000_000L,
                        median(win[0], wn[0]), wn[0], median(win[1], wn[1]), wn[1], median(win[0], wn[0]) / median(win[1], wn[1]));
                wn[0] = wn[1] = 0;
                windowEnd += window * 1_000_000_000L;
            }
        }
        System.out.printf("all: kd %.2f ms (%d steps), decomposed %.2f ms (%d steps), decomposed/kd speed %.3f%n", median(all[0], an[0]), an[0],
                median(all[1], an[1]), an[1], median(all[0], an[0]) / median(all[1], an[1]));
    }

    static double median(double[] a, int n) {
        double[] t = Arrays.copyOf(a, n);
        Arrays.sort(t);
        return t[n / 2];
    }
}
