package org.stablekd.backend.ref;

import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.tensor.Tensor;

/**
 * Reference 2-D convolution: the definition, written as gathers so each output is one double sum.
 * x (n,c,h,w), w (k,c/g,r,s), y (n,k,p,q); input channel of group-local channel cc for output
 * channel kk is (kk / (k/g))·(c/g) + cc.
 */
final class RefConv implements ConvKernels {

    @Override
    public void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        forward(g, Buf.of(x), Buf.of(w), Buf.of(bias), Buf.of(y));
    }

    @Override
    public void backwardInput(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        backwardInput(g, Buf.of(dy), Buf.of(w), Buf.of(dx));
    }

    @Override
    public void backwardWeight(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        backwardWeight(g, Buf.of(x), Buf.of(dy), Buf.of(dw), Buf.of(dbias));
    }

    static void forward(ConvGeometry g, Buf x, Buf w, Buf bias, Buf y) {
        int cg = g.cPerGroup(), kg = g.kPerGroup();
        for (int n = 0; n < g.n(); n++)
            for (int k = 0; k < g.k(); k++)
                for (int p = 0; p < g.p(); p++)
                    for (int q = 0; q < g.q(); q++) {
                        double acc = bias == null ? 0 : bias.get(k);
                        for (int cc = 0; cc < cg; cc++) {
                            int c = (k / kg) * cg + cc;
                            for (int r = 0; r < g.r(); r++) {
                                int ih = p * g.strideH() - g.padH() + r;
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int s = 0; s < g.s(); s++) {
                                    int iw = q * g.strideW() - g.padW() + s;
                                    if (iw < 0 || iw >= g.w()) continue;
                                    acc += x.get(((long) (n * g.c() + c) * g.h() + ih) * g.w() + iw)
                                            * w.get(((long) (k * cg + cc) * g.r() + r) * g.s() + s);
                                }
                            }
                        }
                        y.set(((long) (n * g.k() + k) * g.p() + p) * g.q() + q, acc);
                    }
    }

    /** dx[n,c,ih,iw] = Σ over (k in c's group, r, s) with p = (ih+padH-r)/strideH integral and in range. */
    static void backwardInput(ConvGeometry g, Buf dy, Buf w, Buf dx) {
        int cg = g.cPerGroup(), kg = g.kPerGroup();
        for (int n = 0; n < g.n(); n++)
            for (int c = 0; c < g.c(); c++) {
                int group = c / cg, cc = c % cg;
                for (int ih = 0; ih < g.h(); ih++)
                    for (int iw = 0; iw < g.w(); iw++) {
                        double acc = 0;
                        for (int kk = 0; kk < kg; kk++) {
                            int k = group * kg + kk;
                            for (int r = 0; r < g.r(); r++) {
                                int ph = ih + g.padH() - r;
                                if (ph < 0 || ph % g.strideH() != 0 || ph / g.strideH() >= g.p()) continue;
                                int p = ph / g.strideH();
                                for (int s = 0; s < g.s(); s++) {
                                    int qw = iw + g.padW() - s;
                                    if (qw < 0 || qw % g.strideW() != 0 || qw / g.strideW() >= g.q()) continue;
                                    int q = qw / g.strideW();
                                    acc += dy.get(((long) (n * g.k() + k) * g.p() + p) * g.q() + q)
                                            * w.get(((long) (k * cg + cc) * g.r() + r) * g.s() + s);
                                }
                            }
                        }
                        dx.set(((long) (n * g.c() + c) * g.h() + ih) * g.w() + iw, acc);
                    }
            }
    }

    static void backwardWeight(ConvGeometry g, Buf x, Buf dy, Buf dw, Buf dbias) {
        int cg = g.cPerGroup(), kg = g.kPerGroup();
        for (int k = 0; k < g.k(); k++) {
            for (int cc = 0; cc < cg; cc++) {
                int c = (k / kg) * cg + cc;
                for (int r = 0; r < g.r(); r++)
                    for (int s = 0; s < g.s(); s++) {
                        double acc = 0;
                        for (int n = 0; n < g.n(); n++)
                            for (int p = 0; p < g.p(); p++) {
                                int ih = p * g.strideH() - g.padH() + r;
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int q = 0; q < g.q(); q++) {
                                    int iw = q * g.strideW() - g.padW() + s;
                                    if (iw < 0 || iw >= g.w()) continue;
                                    acc += dy.get(((long) (n * g.k() + k) * g.p() + p) * g.q() + q)
                                            * x.get(((long) (n * g.c() + c) * g.h() + ih) * g.w() + iw);
                                }
                            }
                        dw.set(((long) (k * cg + cc) * g.r() + r) * g.s() + s, acc);
                    }
            }
            if (dbias != null) {
                double acc = 0;
                for (int n = 0; n < g.n(); n++)
                    for (int pq = 0; pq < g.p() * g.q(); pq++) acc += dy.get((long) (n * g.k() + k) * g.p() * g.q() + pq);
                dbias.set(k, acc);
            }
        }
    }
}
