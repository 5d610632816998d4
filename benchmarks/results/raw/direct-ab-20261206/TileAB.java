package org.stablekd.backend.cpu;
import org.stablekd.backend.*;
import org.stablekd.tensor.*;
public class TileAB {
  public static void main(String[] a) {
    int c = Integer.parseInt(a[0]), h = Integer.parseInt(a[1]), k = Integer.parseInt(a[2]), iters = Integer.parseInt(a[3]);
    ConvGeometry g = ConvGeometry.of(1, c, h, h, k, 3, 3, 2, 2, 1, 1, 1);
    Rng rng = new Rng(1);
    Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, c, h, h), w = Tensor.uniform(rng, DType.F32, -0.05, 0.05, k, c, 3, 3), b = Tensor.uniform(rng, DType.F32, -1, 1, k);
    Tensor y = Tensor.empty(DType.F32, 1, k, g.p(), g.q());
    new WeightCache().run(() -> {
      long[][] t = new long[2][iters * 5]; int[] n = new int[2];
      for (int round = 0; round < 12; round++) {
        int m = round % 2;
        for (int i = 0; i < iters; i++) { long t0 = System.nanoTime();
          if (m == 0) DirectChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), b.segment(), b.offset(), y.segment(), y.offset(), true);
          else DirectChannelsLastBefore.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), b.segment(), b.offset(), y.segment(), y.offset(), true);
          if (round >= 2) t[m][n[m]++] = System.nanoTime() - t0; }
      }
      for (int m = 0; m < 2; m++) { long[] s = java.util.Arrays.copyOf(t[m], n[m]); java.util.Arrays.sort(s);
        System.out.printf("%d->%d at %d: %s median %.1f us%n", c, k, h, m == 0 ? "shared tile " : "own tile    ", s[n[m]/2]/1e3); }
    });
  }
}
