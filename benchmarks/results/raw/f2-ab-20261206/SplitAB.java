package org.stablekd.backend.cpu;
import org.stablekd.backend.*;
import org.stablekd.tensor.*;
/** WinogradChannelsLast at batch 1 under a cache, 2 threads: bands of tile rows vs parts of k, alternating, with 16 MB read between calls. */
public class SplitAB {
  public static void main(String[] a) {
    int c = Integer.parseInt(a[0]), hw = Integer.parseInt(a[1]);
    boolean thrash = a.length > 2;
    ConvGeometry g = ConvGeometry.of(1, c, hw, hw, c, 3, 3, 1, 1, 1, 1, 1);
    float[] big = new float[4 << 20];
    for (int i = 0; i < big.length; i++) big[i] = i;
    try (Scope s = Scope.open()) {
      Rng rng = new Rng(1);
      Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, c, hw, hw), w = Tensor.uniform(rng, DType.F32, -0.02, 0.02, c, c, 3, 3);
      Tensor b = Tensor.uniform(rng, DType.F32, -1, 1, c), y = Tensor.empty(DType.F32, 1, c, hw, hw);
      WeightCache cache = new WeightCache();
      float[] sink = new float[1];
      int[][] cfg = {{2, 1}, {1, 2}, {1, 1}};
      cache.run(() -> {
        int n = 1000; long[][] t = new long[cfg.length][n];
        for (int rep = 0; rep < 3; rep++) {
          for (int i = 0; i < n; i++) for (int m = 0; m < cfg.length; m++) {
            if (thrash) { float acc = 0; for (int j = 0; j < big.length; j += 16) acc += big[j]; sink[0] += acc; }
            long t0 = System.nanoTime();
            WinogradChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), b.segment(), b.offset(), null, 0, y.segment(), y.offset(), true, cfg[m][0], cfg[m][1]);
            t[m][i] = System.nanoTime() - t0;
          }
          for (long[] r : t) java.util.Arrays.sort(r);
          System.out.printf("%d->%d at %dx%d%s: 2 bands %.0f, 2 k parts %.0f, 1 unit %.0f us%n", c, c, hw, hw, thrash ? " (16 MB between)" : "", t[0][n/2] / 1e3, t[1][n/2] / 1e3, t[2][n/2] / 1e3);
        }
      });
      System.err.println(sink[0]);
    }
  }
}
