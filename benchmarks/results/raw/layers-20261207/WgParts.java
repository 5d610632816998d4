package org.stablekd.backend.cpu;
import org.stablekd.backend.*;
import org.stablekd.tensor.*;
/** Scratch: forward, input gradient and weight gradient of one conv layer, each timed alone (median of iters, 3 reps). */
public class WgParts {
  public static void main(String[] a) {
    int n = 64, iters = Integer.parseInt(a[0]);
    for (int i = 1; i < a.length; i++) {
      String[] f = a[i].split(",");
      int c = Integer.parseInt(f[0]), k = Integer.parseInt(f[1]), hw = Integer.parseInt(f[2]), r = Integer.parseInt(f[3]), st = Integer.parseInt(f[4]);
      ConvGeometry g = ConvGeometry.of(n, c, hw, hw, k, r, r, st, st, r / 2, r / 2, 1);
      try (Scope s = Scope.open()) {
        Rng rng = new Rng(1);
        Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, n, c, hw, hw), w = Tensor.uniform(rng, DType.F32, -0.02, 0.02, k, c, r, r);
        Tensor y = Tensor.empty(DType.F32, n, k, g.p(), g.q());
        Tensor dy = Tensor.uniform(rng, DType.F32, -1, 1, n, k, g.p(), g.q());
        Tensor dx = Tensor.empty(DType.F32, n, c, hw, hw), dw = Tensor.empty(DType.F32, k, c, r, r);
        long[][] t = new long[3][iters];
        for (int rep = 0; rep < 3; rep++) {
          for (int it = 0; it < iters; it++) for (int m = 0; m < 3; m++) {
            long t0 = System.nanoTime();
            if (m == 0) CpuConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), null, 0, y.segment(), y.offset());
            else if (m == 1) CpuConv.backwardInput(g, dy.segment(), dy.offset(), w.segment(), w.offset(), dx.segment(), dx.offset());
            else CpuConv.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(), null, 0);
            t[m][it] = System.nanoTime() - t0;
          }
          for (long[] tt : t) java.util.Arrays.sort(tt);
          System.out.printf("%d->%d %dx%d r%d s%d: fwd %.2f  dx %.2f  dw %.2f ms%n", c, k, hw, hw, r, st, t[0][iters/2] / 1e6, t[1][iters/2] / 1e6, t[2][iters/2] / 1e6);
        }
      }
    }
  }
}
