package org.stablekd.backend.cpu;
import org.stablekd.backend.*;
import org.stablekd.tensor.*;
/** One layer, F(2x2) vs F(4x4) alternating per call, with 16 MB read between calls (as the other layers of a model evict its weights); µs medians. */
public class F2Thrash {
  public static void main(String[] a) {
    int c = Integer.parseInt(a[0]), hw = Integer.parseInt(a[1]);
    ConvGeometry g = ConvGeometry.of(1, c, hw, hw, c, 3, 3, 1, 1, 1, 1, 1);
    float[] big = new float[4 << 20];
    for (int i = 0; i < big.length; i++) big[i] = i;
    try (Scope s = Scope.open()) {
      Rng rng = new Rng(1);
      Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, c, hw, hw), w = Tensor.uniform(rng, DType.F32, -0.02, 0.02, c, c, 3, 3);
      Tensor b = Tensor.uniform(rng, DType.F32, -1, 1, c), y = Tensor.empty(DType.F32, 1, c, hw, hw);
      WeightCache cache = new WeightCache();
      float[] sink = new float[1];
      cache.run(() -> {
        int n = 1000; long[][] t = new long[2][n];
        for (int rep = 0; rep < 3; rep++) {
          for (int i = 0; i < n; i++) for (int m = 0; m < 2; m++) {
            float acc = 0; for (int j = 0; j < big.length; j += 16) acc += big[j];
            sink[0] += acc;
            long t0 = System.nanoTime();
            if (m == 0) WinogradF2ChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), b.segment(), b.offset(), y.segment(), y.offset(), true);
            else WinogradChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), b.segment(), b.offset(), y.segment(), y.offset(), true);
            t[m][i] = System.nanoTime() - t0;
          }
          for (long[] r : t) java.util.Arrays.sort(r);
          System.out.printf("%d->%d at %dx%d, 16 MB read between calls: F2 %.0f, F4 %.0f us%n", c, c, hw, hw, t[0][n/2] / 1e3, t[1][n/2] / 1e3);
        }
      });
      System.err.println(sink[0]);
    }
  }
}
