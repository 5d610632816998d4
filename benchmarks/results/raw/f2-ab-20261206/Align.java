import jdk.incubator.vector.*;
public class Align {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
  // loads-heavy: 4 arrays summed with FMA into 4 accumulators
  static float kern(float[] a, float[] w, int offA, int offW, int n) {
    FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
    for (int i = 0; i < n; i += 64) {
      FloatVector x = FloatVector.fromArray(S, a, offA + i);
      FloatVector y = FloatVector.fromArray(S, a, offA + i + 16);
      FloatVector z = FloatVector.fromArray(S, a, offA + i + 32);
      FloatVector u = FloatVector.fromArray(S, a, offA + i + 48);
      c0 = x.fma(FloatVector.fromArray(S, w, offW + i), c0);
      c1 = y.fma(FloatVector.fromArray(S, w, offW + i + 16), c1);
      c2 = z.fma(FloatVector.fromArray(S, w, offW + i + 32), c2);
      c3 = u.fma(FloatVector.fromArray(S, w, offW + i + 48), c3);
    }
    return c0.add(c1).add(c2).add(c3).reduceLanes(VectorOperators.ADD);
  }
  public static void main(String[] x) {
    int n = Integer.parseInt(x[0]);
    float[] a = new float[n + 64], w = new float[n + 64];
    java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < a.length; i++) { a[i] = r.nextFloat(); w[i] = r.nextFloat(); }
    float sink = 0;
    int reps = (int) (4e9 / n / 8);
    for (int round = 0; round < 3; round++) {
      for (int off = 0; off < 16; off += 2) {
        long best = Long.MAX_VALUE;
        for (int t = 0; t < 5; t++) {
          long t0 = System.nanoTime();
          for (int k = 0; k < reps / 10; k++) sink += kern(a, w, off, off, n);
          best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("n=%d off=%2d floats: %.2f ns/KFMA%n", n, off, best * 1e3 / ((double) reps / 10 * n));
      }
    }
    System.out.println(sink);
  }
}
