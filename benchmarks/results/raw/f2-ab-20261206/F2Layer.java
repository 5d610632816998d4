package org.stablekd.backend.cpu;
import org.stablekd.backend.*;
import org.stablekd.tensor.*;
/** One layer alone, hot: F(2x2) vs F(4x4) channels-last under a cache, alternating, µs medians. */
public class F2Layer {
  public static void main(String[] a) {
    int c = Integer.parseInt(a[0]), hw = Integer.parseInt(a[1]);
    ConvGeometry g = ConvGeometry.of(1, c, hw, hw, c, 3, 3, 1, 1, 1, 1, 1);
    try (Scope s = Scope.open()) {
      Rng rng = new Rng(1);
      Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, c, hw, hw), w = Tensor.uniform(rng, DType.F32, -0.02, 0.02, c, c, 3, 3);
      Tensor b = Tensor.uniform(rng, DType.F32, -1, 1, c), y = Tensor.empty(DType.F32, 1, c, hw, hw);
      WeightCache cache = new WeightCache();
      cache.run(() -> {
        long[][] t = new long[2][2000];
        for (int rep = 0; rep < 3; rep++) {
          for (int i = 0; i < 2000; i++) for (int m = 0; m < 2; m++) {
            long t0 = System.nanoTime();
            if (m == 0) WinogradF2ChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), b.segment(), b.offset(), y.segment(), y.offset(), true);
            else WinogradChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), b.segment(), b.offset(), y.segment(), y.offset(), true);
            t[m][i] = System.nanoTime() - t0;
          }
          java.util.Arrays.sort(t[0]); java.util.Arrays.sort(t[1]);
          System.out.printf("%d->%d at %dx%d: F2 %.0f us, F4 %.0f us%n", c, c, hw, hw, t[0][1000] / 1e3, t[1][1000] / 1e3);
        }
      });
    }
  }
}
