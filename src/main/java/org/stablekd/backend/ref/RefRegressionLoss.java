package org.stablekd.backend.ref;

import org.stablekd.backend.RegressionLossKernels;
import org.stablekd.tensor.Tensor;

/** Reference mean squared error, in double: loss = Σ(a − b)²/n, da = 2g(a − b)/n, db = −da. */
final class RefRegressionLoss implements RegressionLossKernels {

    @Override
    public void mse(Tensor a, Tensor b, Tensor loss) {
        Buf ab = Buf.of(a), bb = Buf.of(b);
        double sum = 0;
        long n = a.numel();
        for (long i = 0; i < n; i++) {
            double d = ab.get(i) - bb.get(i);
            sum += d * d;
        }
        Buf.of(loss).set(0, sum / n);
    }

    @Override
    public void mseBackward(Tensor a, Tensor b, Tensor g, Tensor da, Tensor db) {
        Buf ab = Buf.of(a), bb = Buf.of(b), dab = Buf.of(da), dbb = Buf.of(db);
        long n = a.numel();
        double scale = 2 * Buf.of(g).get(0) / n;
        for (long i = 0; i < n; i++) {
            double d = scale * (ab.get(i) - bb.get(i));
            if (dab != null) dab.set(i, d);
            if (dbb != null) dbb.set(i, -d);
        }
    }
}
