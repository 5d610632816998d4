import org.stablekd.infer.Predictor;
import org.stablekd.models.Zoo;
import org.stablekd.tensor.*;
public class PredWin {
  public static void main(String[] a) throws Exception {
    String model = a[0]; int windows = Integer.parseInt(a[1]);
    Predictor p = Predictor.of(Zoo.create(model, 100, Shape.of(3,32,32), new Rng(42)));
    float[] img = new float[3*32*32]; Rng r = new Rng(7);
    for (int i = 0; i < img.length; i++) img[i] = (float)(r.nextDouble()*2-1);
    long end = System.nanoTime() + 6_000_000_000L; while (System.nanoTime() < end) p.predict(img, 1);
    StringBuilder sb = new StringBuilder(model + " p50 per 2 s window:");
    for (int w = 0; w < windows; w++) {
      long[] t = new long[100000]; int n = 0; long we = System.nanoTime() + 2_000_000_000L;
      while (System.nanoTime() < we) { long t0 = System.nanoTime(); p.predict(img, 1); t[n++] = System.nanoTime() - t0; }
      java.util.Arrays.sort(t, 0, n); sb.append(String.format(" %.3f", t[n/2]/1e6));
    }
    System.out.println(sb);
  }
}
