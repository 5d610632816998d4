package org.stablekd.backend.ref;

import org.stablekd.backend.ReduceKernels;
import org.stablekd.tensor.Tensor;

/** Reference reductions, summed in double. */
final class RefReduce implements ReduceKernels {

    @Override
    public void sum(Tensor x, Tensor out) {
        Buf xb = Buf.of(x);
        double s = 0;
        for (long i = 0, n = x.numel(); i < n; i++) s += xb.get(i);
        Buf.of(out).set(0, s);
    }

    @Override
    public void sumRows(Tensor x, Tensor out) {
        int rows = x.dim(0), cols = x.dim(1);
        Buf xb = Buf.of(x), ob = Buf.of(out);
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (long i = 0; i < rows; i++) s += xb.get(i * cols + j);
            ob.set(j, s);
        }
    }
}
