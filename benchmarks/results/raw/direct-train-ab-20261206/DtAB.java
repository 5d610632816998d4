package org.stablekd.backend.cpu;
import org.stablekd.backend.*;
import org.stablekd.tensor.*;
public class DtAB {
  public static void main(String[] a) {
    int st = a.length > 6 ? Integer.parseInt(a[6]) : 2; int c = Integer.parseInt(a[0]), k = Integer.parseInt(a[1]), hw = Integer.parseInt(a[2]), r = Integer.parseInt(a[3]), n = Integer.parseInt(a[4]);
    ConvGeometry g = ConvGeometry.of(n, c, hw, hw, k, r, r, st, st, r / 2, r / 2, 1);
    try (Scope s = Scope.open()) {
      Rng rng = new Rng(1);
      Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, n, c, hw, hw), w = Tensor.uniform(rng, DType.F32, -0.02, 0.02, k, c, r, r);
      Tensor y = Tensor.empty(DType.F32, n, k, g.p(), g.q());
      int iters = Integer.parseInt(a[5]);
      { 
        long[][] t = new long[2][iters];
        for (int rep = 0; rep < 3; rep++) {
          for (int i = 0; i < iters; i++) for (int m = 0; m < 2; m++) {
            long t0 = System.nanoTime();
            if (m == 0) DirectChannelsLast.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), null, 0, y.segment(), y.offset(), false);
            else GridConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), null, 0, y.segment(), y.offset(), false);
            t[m][i] = System.nanoTime() - t0;
          }
          java.util.Arrays.sort(t[0]); java.util.Arrays.sort(t[1]);
          double macs = (double) n * g.p() * g.q() * k * c * r * r;
          System.out.printf("%d->%d %dx%d s2 n=%d: direct %.0f us (%.0f GMAC/s), grid %.0f us (%.0f)%n", c, k, hw, hw, n, t[0][iters/2] / 1e3, macs / t[0][iters/2], t[1][iters/2] / 1e3, macs / t[1][iters/2]);
        }
      }
    }
  }
}
