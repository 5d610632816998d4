
import java.util.*;
public class Pin {
  public static void main(String[] a) throws Exception {
    var in = org.stablekd.tensor.Shape.of(3, 32, 32);
    var p = org.stablekd.infer.Predictor.of(org.stablekd.models.Zoo.create(a[0], 100, in, new org.stablekd.tensor.Rng(42)));
    float[] img = new float[3072]; var r = new Random(7); for (int i = 0; i < img.length; i++) img[i] = r.nextFloat() * 2 - 1;
    long end = System.nanoTime() + Long.parseLong(a[1]) * 1_000_000_000L;
    long t0 = System.nanoTime();
    while (System.nanoTime() < end) {
      long[] d = new long[500];
      for (int i = 0; i < 500; i++) { long s = System.nanoTime(); p.predict(img, 1); d[i] = System.nanoTime() - s; }
      Arrays.sort(d);
      System.out.printf("%6.1f s  p50 %.3f ms%n", (System.nanoTime() - t0) / 1e9, d[250] / 1e6);
    }
  }
}
