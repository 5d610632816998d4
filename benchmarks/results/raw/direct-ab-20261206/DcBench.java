package org.stablekd.backend.cpu;
import org.stablekd.backend.*;
import org.stablekd.tensor.*;
public class DcBench {
  public static void main(String[] a) {
    int c = Integer.parseInt(a[0]), h = Integer.parseInt(a[1]), k = Integer.parseInt(a[2]), r = Integer.parseInt(a[3]);
    int iters = Integer.parseInt(a[4]);
    int st = a.length > 5 ? Integer.parseInt(a[5]) : 2; ConvGeometry g = ConvGeometry.of(1, c, h, h, k, r, r, st, st, (r-1)/2, (r-1)/2, 1);
    Rng rng = new Rng(1);
    Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, 1, c, h, h), w = Tensor.uniform(rng, DType.F32, -0.05, 0.05, k, c, r, r), b = Tensor.uniform(rng, DType.F32, -1, 1, k);
    Tensor y = Tensor.empty(DType.F32, 1, k, g.p(), g.q());
    WeightCache cache = new WeightCache();
    cache.run(() -> {
      for (int round = 0; round < 6; round++) {
        boolean on = round % 2 == 0; DirectChannelsLast.enable(on);
        long[] t = new long[iters];
        for (int i = 0; i < iters; i++) { long t0 = System.nanoTime(); CpuConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), b.segment(), b.offset(), y.segment(), y.offset(), true); t[i] = System.nanoTime() - t0; }
        java.util.Arrays.sort(t);
        System.out.printf("%s %s median %.1f us%n", g, on ? "direct" : "grid", t[iters/2]/1e3);
      }
    });
  }
}
