package org.stablekd.backend.cpu;
import org.stablekd.infer.Predictor;
import org.stablekd.models.Zoo;
import org.stablekd.tensor.*;
/** In one JVM: predictor calls with DirectChannelsLast on and off, switched every `window` calls. */
public class AbPred {
  public static void main(String[] a) {
    String model = a[0]; double secs = Double.parseDouble(a[1]); int window = Integer.parseInt(a[2]);
    Predictor p = Predictor.of(Zoo.create(model, 100, Shape.of(3,32,32), new Rng(42)));
    float[] img = new float[3*32*32]; Rng r = new Rng(7);
    for (int i = 0; i < img.length; i++) img[i] = (float)(r.nextDouble()*2-1);
    long warm = System.nanoTime() + 8_000_000_000L; boolean on = true; int i = 0;
    while (System.nanoTime() < warm) { DirectChannelsLast.enable((i++ / window) % 2 == 0); p.predict(img, 1); }
    long[][] t = new long[2][1_000_000]; int[] n = new int[2];
    long end = System.nanoTime() + (long)(secs*1e9); i = 0;
    while (System.nanoTime() < end) {
      on = (i++ / window) % 2 == 0; DirectChannelsLast.enable(on);
      long t0 = System.nanoTime(); p.predict(img, 1); long d = System.nanoTime() - t0;
      int m = on ? 0 : 1; t[m][n[m]++] = d;
    }
    for (int m = 0; m < 2; m++) { long[] s = java.util.Arrays.copyOf(t[m], n[m]); java.util.Arrays.sort(s);
      System.out.printf("%s %s: %d calls, p50 %.3f ms, p99 %.3f ms%n", model, m == 0 ? "direct on " : "direct off", n[m], s[n[m]/2]/1e6, s[(int)(n[m]*0.99)]/1e6); }
  }
}
