package org.stablekd.backend.ref;

import org.stablekd.backend.PoolGeometry;
import org.stablekd.backend.PoolKernels;
import org.stablekd.tensor.Tensor;

/** Reference pooling on planes of x (n·c, h, w). */
final class RefPool implements PoolKernels {

    @Override
    public void maxForward(PoolGeometry g, Tensor x, Tensor y, Tensor argmax) {
        Buf xb = Buf.of(x), yb = Buf.of(y), ab = Buf.of(argmax);
        for (long plane = 0; plane < (long) g.n() * g.c(); plane++) {
            long xo = plane * g.h() * g.w(), yo = plane * g.p() * g.q();
            for (int i = 0; i < g.p(); i++)
                for (int j = 0; j < g.q(); j++) {
                    int h0 = Math.max(i * g.sh() - g.ph(), 0), h1 = Math.min(i * g.sh() - g.ph() + g.kh(), g.h());
                    int w0 = Math.max(j * g.sw() - g.pw(), 0), w1 = Math.min(j * g.sw() - g.pw() + g.kw(), g.w());
                    // PyTorch: first maximum wins, NaN propagates.
                    double best = Double.NEGATIVE_INFINITY;
                    int bestIdx = h0 * g.w() + w0;
                    for (int hh = h0; hh < h1; hh++)
                        for (int ww = w0; ww < w1; ww++) {
                            double v = xb.get(xo + (long) hh * g.w() + ww);
                            if (v > best || Double.isNaN(v)) {
                                best = v;
                                bestIdx = hh * g.w() + ww;
                            }
                        }
                    yb.set(yo + (long) i * g.q() + j, best);
                    ab.setInt(yo + (long) i * g.q() + j, bestIdx);
                }
        }
    }

    @Override
    public void maxBackward(PoolGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        Buf db = Buf.of(dy), ab = Buf.of(argmax), xb = Buf.of(dx);
        long planes = (long) g.n() * g.c();
        int hw = g.h() * g.w(), pq = g.p() * g.q();
        for (long e = 0; e < planes * hw; e++) xb.set(e, 0);
        for (long plane = 0; plane < planes; plane++)
            for (int o = 0; o < pq; o++) {
                long xi = plane * hw + ab.getInt(plane * pq + o);
                xb.set(xi, xb.get(xi) + db.get(plane * pq + o));
            }
    }

    @Override
    public void avgForward(PoolGeometry g, Tensor x, Tensor y) {
        Buf xb = Buf.of(x), yb = Buf.of(y);
        for (long plane = 0; plane < (long) g.n() * g.c(); plane++) {
            long xo = plane * g.h() * g.w(), yo = plane * g.p() * g.q();
            for (int i = 0; i < g.p(); i++)
                for (int j = 0; j < g.q(); j++) {
                    int h0 = Math.max(i * g.sh() - g.ph(), 0), h1 = Math.min(i * g.sh() - g.ph() + g.kh(), g.h());
                    int w0 = Math.max(j * g.sw() - g.pw(), 0), w1 = Math.min(j * g.sw() - g.pw() + g.kw(), g.w());
                    double sum = 0;
                    for (int hh = h0; hh < h1; hh++)
                        for (int ww = w0; ww < w1; ww++) sum += xb.get(xo + (long) hh * g.w() + ww);
                    yb.set(yo + (long) i * g.q() + j, sum / g.avgDivisor(i, j));
                }
        }
    }

    @Override
    public void avgBackward(PoolGeometry g, Tensor dy, Tensor dx) {
        Buf db = Buf.of(dy), xb = Buf.of(dx);
        // gather form: each input pixel sums dy/divisor over the windows that contain it
        for (long plane = 0; plane < (long) g.n() * g.c(); plane++) {
            long xo = plane * g.h() * g.w(), yo = plane * g.p() * g.q();
            for (int hh = 0; hh < g.h(); hh++)
                for (int ww = 0; ww < g.w(); ww++) {
                    double acc = 0;
                    for (int i = 0; i < g.p(); i++) {
                        int h0 = i * g.sh() - g.ph();
                        if (hh < h0 || hh >= h0 + g.kh()) continue;
                        for (int j = 0; j < g.q(); j++) {
                            int w0 = j * g.sw() - g.pw();
                            if (ww < w0 || ww >= w0 + g.kw()) continue;
                            acc += db.get(yo + (long) i * g.q() + j) / g.avgDivisor(i, j);
                        }
                    }
                    xb.set(xo + (long) hh * g.w() + ww, acc);
                }
        }
    }

    @Override
    public void globalAvgForward(Tensor x, Tensor y) {
        Buf xb = Buf.of(x), yb = Buf.of(y);
        long planes = (long) x.dim(0) * x.dim(1);
        int hw = x.dim(2) * x.dim(3);
        for (long plane = 0; plane < planes; plane++) {
            double sum = 0;
            for (int j = 0; j < hw; j++) sum += xb.get(plane * hw + j);
            yb.set(plane, sum / hw);
        }
    }

    @Override
    public void globalAvgBackward(Tensor dy, Tensor dx) {
        Buf db = Buf.of(dy), xb = Buf.of(dx);
        long planes = (long) dx.dim(0) * dx.dim(1);
        int hw = dx.dim(2) * dx.dim(3);
        for (long plane = 0; plane < planes; plane++) {
            double v = db.get(plane) / hw;
            for (int j = 0; j < hw; j++) xb.set(plane * hw + j, v);
        }
    }
}
