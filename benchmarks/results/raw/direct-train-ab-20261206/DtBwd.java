package org.stablekd.backend.cpu;
import org.stablekd.backend.*;
import org.stablekd.tensor.*;
public class DtBwd {
  public static void main(String[] a) {
    int c = Integer.parseInt(a[0]), k = Integer.parseInt(a[1]), hw = Integer.parseInt(a[2]), r = Integer.parseInt(a[3]), n = Integer.parseInt(a[4]);
    int iters = Integer.parseInt(a[5]);
    ConvGeometry g = ConvGeometry.of(n, c, hw, hw, k, r, r, 2, 2, r / 2, r / 2, 1);
    try (Scope s = Scope.open()) {
      Rng rng = new Rng(1);
      Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, n, c, hw, hw), w = Tensor.uniform(rng, DType.F32, -0.02, 0.02, k, c, r, r);
      Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, n, k, g.p(), g.q());
      Tensor dx = Tensor.empty(DType.F32, n, c, hw, hw), dw = Tensor.empty(DType.F32, k, c, r, r);
      long[][] t = new long[2][iters];
      for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < iters; i++) for (int m = 0; m < 2; m++) {
          long t0 = System.nanoTime();
          boolean wx = a[6].contains("x"), ww = a[6].contains("w");
          if (m == 0) DirectChannelsLastGrad.backward(g, x.segment(), x.offset(), dy.segment(), dy.offset(), w.segment(), w.offset(), wx ? dx.segment() : null, dx.offset(), ww ? dw.segment() : null, dw.offset(), null, 0);
          else GridConv.backward(g, x.segment(), x.offset(), dy.segment(), dy.offset(), w.segment(), w.offset(), wx ? dx.segment() : null, dx.offset(), ww ? dw.segment() : null, dw.offset(), null, 0);
          t[m][i] = System.nanoTime() - t0;
        }
        java.util.Arrays.sort(t[0]); java.util.Arrays.sort(t[1]);
        double macs = (a[6].length()) * n * g.p() * g.q() * k * c * r * r;
        System.out.printf("bwd %d->%d %dx%d r%d n=%d: direct %.0f us (%.0f GMAC/s), grid %.0f us (%.0f)%n", c, k, hw, hw, r, n, t[0][iters/2] / 1e3, macs / t[0][iters/2], t[1][iters/2] / 1e3, macs / t[1][iters/2]);
      }
    }
  }
}
