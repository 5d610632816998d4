import java.lang.reflect.Field;
import java.util.Arrays;
import org.stablekd.bench.TrainStepBench;

/** Scratch: chain up to 32 channels against up to 64, switched every two steps in one JVM. */
public class WideAB {
    public static void main(String[] args) throws Exception {
        String model = args.length > 0 ? args[0] : "resnet20";
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 120;
        Field f = Class.forName("org.stablekd.backend.cpu.ResidualChainTraining").getDeclaredField("WIDEST_TRY");
        f.setAccessible(true);
        TrainStepBench.TrainStep step = new TrainStepBench.TrainStep(model, "3x32x32", 64, 42);
        int[] widest = {32, 64};
        for (int i = 0; i < 20; i++) { f.setInt(null, widest[i % 2]); step.run(); }
        double[][] all = new double[2][1 << 16];
        int[] n = new int[2];
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        for (int k = 0; System.nanoTime() < end; k++) {
            int m = (k / 2) % 2;
            f.setInt(null, widest[m]);
            long t0 = System.nanoTime();
            step.run();
            all[m][n[m]++] = (System.nanoTime() - t0) / 1e6;
        }
        double a = ChainAB.median(all[0], n[0]), b = ChainAB.median(all[1], n[1]);
        System.out.printf("%s: up to 32: %.2f ms (%d), up to 64: %.2f ms (%d), ratio %.3f%n", model, a, n[0], b, n[1], b / a);
    }
}
