package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.InvertedResidualGeometry;
import org.stablekd.backend.WeightCache;

/**
 * MobileNetV2's inverted-residual block at inference (BatchNorms folded), one kernel for the
 * three convolutions. Per image, channels-last inside, NCHW at both ends:
 * <pre>
 *   e (h, w, m)  = max(0, x · w1ᵀ + b1)                  1×1 expand, c → m; x read straight from NCHW
 *   d (p, q, m)  = max(0, Σ_taps e[s·oy+ty−1][s·ox+tx−1] · wd[tap] + bd)    depthwise 3×3, stride s, pad 1
 *   y (k, p, q)  = d · w2ᵀ + b2 [+ x]                    1×1 project, m → k, stored back to NCHW
 * </pre>
 * Why: at batch 1 MobileNetV2's planes are 16×16 down to 2×2 pixels, and NCHW kernels vectorize
 * across pixels (a 2×2 plane fills a quarter of a vector) or pay a layout change per layer. With
 * channels in the vector lanes, both 1×1 products are small GEMMs (register tile: 4 pixels × up to
 * 3 vectors of channels, {@link #tile3}) and the depthwise layer is 9 fused multiply-adds per
 * vector of channels; e and d stay in L2 and never become tensors, and the frontend sees one op
 * instead of three (plus the residual add).
 *
 * <p>Weights: w1ᵀ (c, mp), wd (9, mp) and w2ᵀ (m, kp) with m and k rounded up to whole vectors
 * (mp, kp), zero-padded, w1ᵀ and w2ᵀ in panels of NV vectors of columns (a register tile streams
 * its panel front to back), made once per weight tensor under an inference {@link WeightCache}
 * (else per call). e is stored with a zero border, so the depthwise loop has no bounds tests. y is
 * computed channels-last, then turned to NCHW with one gather of VL pixels per channel.
 *
 * <p>Threads: with at least two images, each thread runs whole images. With one, the expand and
 * depthwise phases split the m channels by panels (each channel's e and d depend on that channel
 * alone), then the project phase splits (VL pixels × one panel of k) units of y. Each output is one in-order
 * sum whatever the split, so results do not depend on the thread count (Note [Determinism]).
 * Summation order differs from the unfused path's (its 1×1 kernels sum in the same channel order,
 * the depthwise taps in another), so the two agree to float rounding, not bit for bit; the error
 * bound is in {@code InvertedResidualBlockTest}.
 */
final class InvertedResidualBlock {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int VL = Simd.LANES;
    /** Pixels per register tile of the 1×1 products. */
    private static final int PT = 4;
    /** Vectors of channels per register tile, and per weight panel. */
    private static final int NV = 3;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    // ConvScratch slots
    private static final int XS = 35, E = 36, D = 37, YC = 38, YT = 39, WTS = 40;

    private InvertedResidualBlock() {}

    /** Where each part of the packed weights starts (m, k rounded up to whole vectors: mp, kp). */
    private record Packing(int c, int m, int k, int mp, int kp) {
        static Packing of(InvertedResidualGeometry g) {
            return new Packing(g.c(), g.m(), g.k(), ConvGrid.roundUp(g.m(), VL), ConvGrid.roundUp(g.k(), VL));
        }
        int w1() { return 0; }              // w1ᵀ (c, mp) in panels of NV vectors: see panel()
        int b1() { return c * mp; }         // (mp)
        int wd() { return b1() + mp; }      // (9, mp): tap-major
        int bd() { return wd() + 9 * mp; }  // (mp)
        int w2() { return bd() + mp; }      // w2ᵀ (m, kp) in panels of NV vectors
        int b2() { return w2() + m * kp; }  // (kp)
        int size() { return b2() + kp; }

        /**
         * Where column j's panel starts in a (rows, cols) matrix packed as panels of NV vectors of
         * columns: panel u holds columns [u·NV·VL, +NV·VL) (fewer in the last), row by row, so a
         * register tile streams its panel front to back. cols rounded up to whole vectors.
         */
        static int panel(int j, int rows) {
            return j / (NV * VL) * NV * VL * rows;
        }

        /** The row length of column j's panel. */
        static int panelWidth(int j, int cols) {
            int start = j / (NV * VL) * NV * VL;
            return Math.min(NV * VL, cols - start);
        }
    }

    /** The three weights and biases as one array in {@link Packing}'s layout (padding zero). */
    private static float[] pack(Packing pk, MemorySegment w1, long w1Off, MemorySegment b1, long b1Off, MemorySegment wd, long wdOff,
                                MemorySegment bd, long bdOff, MemorySegment w2, long w2Off, MemorySegment b2, long b2Off, float[] into) {
        float[] a = into != null ? into : new float[pk.size()];
        Arrays.fill(a, 0, pk.size(), 0f);
        int c = pk.c(), m = pk.m(), k = pk.k(), mp = pk.mp(), kp = pk.kp();
        for (int j = 0; j < m; j++) {
            int at = pk.w1() + Packing.panel(j, c) + j % (NV * VL), width = Packing.panelWidth(j, mp);
            for (int ci = 0; ci < c; ci++) a[at + ci * width] = w1.getAtIndex(FLOAT, w1Off + (long) j * c + ci);
            a[pk.b1() + j] = b1.getAtIndex(FLOAT, b1Off + j);
            for (int t = 0; t < 9; t++) a[pk.wd() + t * mp + j] = wd.getAtIndex(FLOAT, wdOff + 9L * j + t);
            a[pk.bd() + j] = bd.getAtIndex(FLOAT, bdOff + j);
        }
        for (int o = 0; o < k; o++) {
            int at = pk.w2() + Packing.panel(o, m) + o % (NV * VL), width = Packing.panelWidth(o, kp);
            for (int j = 0; j < m; j++) a[at + j * width] = w2.getAtIndex(FLOAT, w2Off + (long) o * m + j);
            a[pk.b2() + o] = b2.getAtIndex(FLOAT, b2Off + o);
        }
        return a;
    }

    /** y = the block of x (see the class comment); every tensor contiguous, biases present. */
    static void forward(InvertedResidualGeometry g, MemorySegment x, long xOff,
                        MemorySegment w1, long w1Off, MemorySegment b1, long b1Off,
                        MemorySegment wd, long wdOff, MemorySegment bd, long bdOff,
                        MemorySegment w2, long w2Off, MemorySegment b2, long b2Off,
                        MemorySegment y, long yOff) {
        Packing pk = Packing.of(g);
        WeightCache cache = WeightCache.current();
        float[] wts = cache != null && w1.isNative()
                ? cache.packed(w1, w1Off, "inverted-residual", g.m(), g.c(), () -> pack(pk, w1, w1Off, b1, b1Off, wd, wdOff, bd, bdOff, w2, w2Off, b2, b2Off, null))
                : pack(pk, w1, w1Off, b1, b1Off, wd, wdOff, bd, bdOff, w2, w2Off, b2, b2Off, ConvScratch.get().buffer(WTS, pk.size()));
        long imageIn = (long) g.c() * g.h() * g.w(), imageOut = (long) g.k() * g.p() * g.q();
        if (g.n() >= 2 && Parallel.threads() > 1) {
            Parallel.forRange(g.n(), 1, (i0, i1) -> {
                for (int i = i0; i < i1; i++) image(g, pk, wts, x, xOff + i * imageIn, y, yOff + i * imageOut, false);
            });
        } else {
            for (int i = 0; i < g.n(); i++) image(g, pk, wts, x, xOff + i * imageIn, y, yOff + i * imageOut, true);
        }
    }

    /** One image; {@code split}: spread its phases over the threads (else run them on this thread). */
    private static void image(InvertedResidualGeometry g, Packing pk, float[] wts, MemorySegment x, long xOff,
                              MemorySegment y, long yOff, boolean split) {
        int c = g.c(), h = g.h(), w = g.w(), hw = h * w, pq = g.p() * g.q(), mp = pk.mp(), wp = w + 2;
        ConvScratch sc = ConvScratch.get();
        float[] xs = sc.buffer(XS, (long) c * hw);
        MemorySegment.copy(x, FLOAT, xOff * Float.BYTES, xs, 0, c * hw);
        float[] e = sc.buffer(E, (long) (h + 2) * wp * mp), d = sc.buffer(D, (long) pq * mp);
        float[] yc = sc.buffer(YC, (long) pq * pk.kp()), yt = sc.buffer(YT, (long) g.k() * pq);
        // e's zero border: the rows above and below, the columns left and right
        Arrays.fill(e, 0, wp * mp, 0f);
        Arrays.fill(e, (h + 1) * wp * mp, (h + 2) * wp * mp, 0f);
        for (int r = 1; r <= h; r++) {
            Arrays.fill(e, r * wp * mp, r * wp * mp + mp, 0f);
            Arrays.fill(e, (r * wp + w + 1) * mp, (r * wp + w + 2) * mp, 0f);
        }
        // phase 1 items: panels of m (NV vectors); phase 2 items: VL pixels × a panel of k
        int mPanels = (mp / VL + NV - 1) / NV, kPanels = (pk.kp() / VL + NV - 1) / NV, units = (pq + VL - 1) / VL * kPanels;
        Parallel.Range expandAndDepthwise = (u0, u1) -> {
            expand(g, pk, wts, xs, e, u0, u1);
            depthwise(g, pk, wts, e, d, u0 * NV, Math.min(mp / VL, u1 * NV));
        };
        Parallel.Range project = (u0, u1) -> project(g, pk, wts, xs, d, yc, yt, kPanels, u0, u1);
        if (split) {
            long perPanel = (long) NV * VL * (c * hw + 9L * pq), perUnit = (long) VL * NV * VL * g.m();
            Parallel.forRange(mPanels, grain(perPanel), expandAndDepthwise);
            Parallel.forRange(units, grain(perUnit), project);
        } else {
            expandAndDepthwise.run(0, mPanels);
            project.run(0, units);
        }
        MemorySegment.copy(yt, 0, y, FLOAT, yOff * Float.BYTES, g.k() * pq);
    }

    /** Items per thread so that each thread gets at least {@link DepthwiseFlat#MIN_CHUNK_MACS} multiply-adds. */
    private static int grain(long macsPerItem) {
        return (int) Math.max(1, (DepthwiseFlat.MIN_CHUNK_MACS + macsPerItem - 1) / macsPerItem);
    }

    /** e[pixel][panels u0..u1 of m] = max(0, Σ_ci x[ci][pixel] · w1ᵀ[ci][·] + b1), into e's interior. */
    private static void expand(InvertedResidualGeometry g, Packing pk, float[] wts, float[] xs, float[] e, int u0, int u1) {
        int c = g.c(), w = g.w(), hw = g.h() * w, mp = pk.mp(), wp = w + 2;
        for (int t0 = 0; t0 < hw; t0 += PT) {
            int last = Math.min(PT, hw - t0) - 1;   // rows past the last repeat it (same sums, same stores)
            int t1 = t0 + Math.min(1, last), t2 = t0 + Math.min(2, last), t3 = t0 + Math.min(3, last);
            int o0 = ((t0 / w + 1) * wp + t0 % w + 1) * mp, o1 = ((t1 / w + 1) * wp + t1 % w + 1) * mp;
            int o2 = ((t2 / w + 1) * wp + t2 % w + 1) * mp, o3 = ((t3 / w + 1) * wp + t3 % w + 1) * mp;
            for (int u = u0; u < u1; u++) {
                int col = u * NV * VL, width = Packing.panelWidth(col, mp);
                tile(width / VL, xs, t0, t1, t2, t3, hw, c, wts, pk.w1() + Packing.panel(col, c), width, wts, pk.b1() + col, true,
                        e, o0 + col, o1 + col, o2 + col, o3 + col);
            }
        }
    }

    /**
     * d[opixel][v0·VL, v1·VL) = max(0, bd + Σ_taps e[...] · wd[tap]), taps in row-major order after
     * the bias; two output pixels at a time (two independent chains of 9 multiply-adds).
     */
    private static void depthwise(InvertedResidualGeometry g, Packing pk, float[] wts, float[] e, float[] d, int v0, int v1) {
        int p = g.p(), q = g.q(), s = g.stride(), mp = pk.mp(), row = (g.w() + 2) * mp, step = s * mp;
        for (int oy = 0; oy < p; oy++) {   // row by row: e's three rows and d's row stay in L1 across the channel vectors
            for (int v = v0; v < v1; v++) {
                int col = v * VL, wd = pk.wd() + col;
                FloatVector k0 = FloatVector.fromArray(F, wts, wd), k1 = FloatVector.fromArray(F, wts, wd + mp), k2 = FloatVector.fromArray(F, wts, wd + 2 * mp);
                FloatVector k3 = FloatVector.fromArray(F, wts, wd + 3 * mp), k4 = FloatVector.fromArray(F, wts, wd + 4 * mp), k5 = FloatVector.fromArray(F, wts, wd + 5 * mp);
                FloatVector k6 = FloatVector.fromArray(F, wts, wd + 6 * mp), k7 = FloatVector.fromArray(F, wts, wd + 7 * mp), k8 = FloatVector.fromArray(F, wts, wd + 8 * mp);
                FloatVector bias = FloatVector.fromArray(F, wts, pk.bd() + col);
                int ox = 0, at = oy * s * row + col, out = oy * q * mp + col;
                for (; ox + 1 < q; ox += 2, at += 2 * step, out += 2 * mp) {
                    int bt = at + step;
                    FloatVector a = FloatVector.fromArray(F, e, at).fma(k0, bias), b = FloatVector.fromArray(F, e, bt).fma(k0, bias);
                    a = FloatVector.fromArray(F, e, at + mp).fma(k1, a); b = FloatVector.fromArray(F, e, bt + mp).fma(k1, b);
                    a = FloatVector.fromArray(F, e, at + 2 * mp).fma(k2, a); b = FloatVector.fromArray(F, e, bt + 2 * mp).fma(k2, b);
                    a = FloatVector.fromArray(F, e, at + row).fma(k3, a); b = FloatVector.fromArray(F, e, bt + row).fma(k3, b);
                    a = FloatVector.fromArray(F, e, at + row + mp).fma(k4, a); b = FloatVector.fromArray(F, e, bt + row + mp).fma(k4, b);
                    a = FloatVector.fromArray(F, e, at + row + 2 * mp).fma(k5, a); b = FloatVector.fromArray(F, e, bt + row + 2 * mp).fma(k5, b);
                    a = FloatVector.fromArray(F, e, at + 2 * row).fma(k6, a); b = FloatVector.fromArray(F, e, bt + 2 * row).fma(k6, b);
                    a = FloatVector.fromArray(F, e, at + 2 * row + mp).fma(k7, a); b = FloatVector.fromArray(F, e, bt + 2 * row + mp).fma(k7, b);
                    a = FloatVector.fromArray(F, e, at + 2 * row + 2 * mp).fma(k8, a); b = FloatVector.fromArray(F, e, bt + 2 * row + 2 * mp).fma(k8, b);
                    a.max(0f).intoArray(d, out);
                    b.max(0f).intoArray(d, out + mp);
                }
                if (ox < q) {
                    FloatVector a = FloatVector.fromArray(F, e, at).fma(k0, bias);
                    a = FloatVector.fromArray(F, e, at + mp).fma(k1, a);
                    a = FloatVector.fromArray(F, e, at + 2 * mp).fma(k2, a);
                    a = FloatVector.fromArray(F, e, at + row).fma(k3, a);
                    a = FloatVector.fromArray(F, e, at + row + mp).fma(k4, a);
                    a = FloatVector.fromArray(F, e, at + row + 2 * mp).fma(k5, a);
                    a = FloatVector.fromArray(F, e, at + 2 * row).fma(k6, a);
                    a = FloatVector.fromArray(F, e, at + 2 * row + mp).fma(k7, a);
                    a = FloatVector.fromArray(F, e, at + 2 * row + 2 * mp).fma(k8, a);
                    a.max(0f).intoArray(d, out);
                }
            }
        }
    }

    /**
     * Units [u0, u1) of y: unit u = VL pixels (block u / kPanels) × panel u % kPanels of the k
     * channels. First yc (pq, kp) = d · w2ᵀ + b2 channels-last, 4 pixels per register tile, then
     * the unit turned to NCHW into yt (k, pq) [+ x], a gather of VL pixels per channel. (Turning
     * each tile around with scalar loads right after its vector stores waited on the stores.)
     */
    private static void project(InvertedResidualGeometry g, Packing pk, float[] wts, float[] xs, float[] d, float[] yc, float[] yt,
                                int kPanels, int u0, int u1) {
        int k = g.k(), m = g.m(), pq = g.p() * g.q(), mp = pk.mp(), kp = pk.kp();
        int[] gather = ConvScratch.get().index;   // lane i reads pixel i of a channel: yc[(p0 + i)·kp + o]
        for (int i = 0; i < VL; i++) gather[i] = i * kp;
        for (int u = u0; u < u1; u++) {
            int p0 = u / kPanels * VL, p1 = Math.min(pq, p0 + VL), col = u % kPanels * NV * VL, width = Packing.panelWidth(col, kp);
            for (int t0 = p0; t0 < p1; t0 += PT) {
                int last = Math.min(PT, p1 - t0) - 1;
                int t1 = t0 + Math.min(1, last), t2 = t0 + Math.min(2, last), t3 = t0 + Math.min(3, last);
                tile(width / VL, d, t0 * mp, t1 * mp, t2 * mp, t3 * mp, 1, m, wts, pk.w2() + Packing.panel(col, m), width, wts, pk.b2() + col, false,
                        yc, t0 * kp + col, t1 * kp + col, t2 * kp + col, t3 * kp + col);
            }
            VectorMask<Float> live = F.indexInRange(0, p1 - p0);
            for (int o = col, o1 = Math.min(k, col + width); o < o1; o++) {
                FloatVector v = FloatVector.fromArray(F, yc, p0 * kp + o, gather, 0, live);
                if (g.residual()) v = FloatVector.fromArray(F, xs, o * pq + p0, live).add(v);
                v.intoArray(yt, o * pq + p0, live);
            }
        }
    }

    /**
     * out[oi + j·VL + lane] = act(Σ_kk a[ri + kk·kStride] · b[bOff + kk·ldb + j·VL + lane] + bias[biasOff + j·VL + lane])
     * for the four rows i (a at ri, out at oi) and j < nv (≤ NV); act = max(0, ·) if relu. One
     * in-order sum over kk per output, in registers; the bias is added after the sum.
     */
    private static void tile(int nv, float[] a, int r0, int r1, int r2, int r3, int kStride, int kLen, float[] b, int bOff, int ldb,
                             float[] bias, int biasOff, boolean relu, float[] out, int o0, int o1, int o2, int o3) {
        switch (nv) {
            case 3 -> tile3(a, r0, r1, r2, r3, kStride, kLen, b, bOff, ldb, bias, biasOff, relu, out, o0, o1, o2, o3);
            case 2 -> tile2(a, r0, r1, r2, r3, kStride, kLen, b, bOff, ldb, bias, biasOff, relu, out, o0, o1, o2, o3);
            default -> tile1(a, r0, r1, r2, r3, kStride, kLen, b, bOff, ldb, bias, biasOff, relu, out, o0, o1, o2, o3);
        }
    }

    private static void tile3(float[] a, int r0, int r1, int r2, int r3, int ks, int kLen, float[] b, int bo, int ldb,
                              float[] bias, int bi, boolean relu, float[] out, int o0, int o1, int o2, int o3) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
        for (int kk = 0, ak = 0, bk = bo; kk < kLen; kk++, ak += ks, bk += ldb) {
            FloatVector w0 = FloatVector.fromArray(F, b, bk), w1 = FloatVector.fromArray(F, b, bk + VL), w2 = FloatVector.fromArray(F, b, bk + 2 * VL);
            FloatVector v = FloatVector.broadcast(F, a[r0 + ak]);
            c00 = v.fma(w0, c00); c01 = v.fma(w1, c01); c02 = v.fma(w2, c02);
            v = FloatVector.broadcast(F, a[r1 + ak]);
            c10 = v.fma(w0, c10); c11 = v.fma(w1, c11); c12 = v.fma(w2, c12);
            v = FloatVector.broadcast(F, a[r2 + ak]);
            c20 = v.fma(w0, c20); c21 = v.fma(w1, c21); c22 = v.fma(w2, c22);
            v = FloatVector.broadcast(F, a[r3 + ak]);
            c30 = v.fma(w0, c30); c31 = v.fma(w1, c31); c32 = v.fma(w2, c32);
        }
        FloatVector b0 = FloatVector.fromArray(F, bias, bi), b1 = FloatVector.fromArray(F, bias, bi + VL), b2 = FloatVector.fromArray(F, bias, bi + 2 * VL);
        (relu ? c00.add(b0).max(0f) : c00.add(b0)).intoArray(out, o0); (relu ? c01.add(b1).max(0f) : c01.add(b1)).intoArray(out, o0 + VL); (relu ? c02.add(b2).max(0f) : c02.add(b2)).intoArray(out, o0 + 2 * VL);
        (relu ? c10.add(b0).max(0f) : c10.add(b0)).intoArray(out, o1); (relu ? c11.add(b1).max(0f) : c11.add(b1)).intoArray(out, o1 + VL); (relu ? c12.add(b2).max(0f) : c12.add(b2)).intoArray(out, o1 + 2 * VL);
        (relu ? c20.add(b0).max(0f) : c20.add(b0)).intoArray(out, o2); (relu ? c21.add(b1).max(0f) : c21.add(b1)).intoArray(out, o2 + VL); (relu ? c22.add(b2).max(0f) : c22.add(b2)).intoArray(out, o2 + 2 * VL);
        (relu ? c30.add(b0).max(0f) : c30.add(b0)).intoArray(out, o3); (relu ? c31.add(b1).max(0f) : c31.add(b1)).intoArray(out, o3 + VL); (relu ? c32.add(b2).max(0f) : c32.add(b2)).intoArray(out, o3 + 2 * VL);
    }

    private static void tile2(float[] a, int r0, int r1, int r2, int r3, int ks, int kLen, float[] b, int bo, int ldb,
                              float[] bias, int bi, boolean relu, float[] out, int o0, int o1, int o2, int o3) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int kk = 0, ak = 0, bk = bo; kk < kLen; kk++, ak += ks, bk += ldb) {
            FloatVector w0 = FloatVector.fromArray(F, b, bk), w1 = FloatVector.fromArray(F, b, bk + VL);
            FloatVector v = FloatVector.broadcast(F, a[r0 + ak]);
            c00 = v.fma(w0, c00); c01 = v.fma(w1, c01);
            v = FloatVector.broadcast(F, a[r1 + ak]);
            c10 = v.fma(w0, c10); c11 = v.fma(w1, c11);
            v = FloatVector.broadcast(F, a[r2 + ak]);
            c20 = v.fma(w0, c20); c21 = v.fma(w1, c21);
            v = FloatVector.broadcast(F, a[r3 + ak]);
            c30 = v.fma(w0, c30); c31 = v.fma(w1, c31);
        }
        FloatVector b0 = FloatVector.fromArray(F, bias, bi), b1 = FloatVector.fromArray(F, bias, bi + VL);
        (relu ? c00.add(b0).max(0f) : c00.add(b0)).intoArray(out, o0); (relu ? c01.add(b1).max(0f) : c01.add(b1)).intoArray(out, o0 + VL);
        (relu ? c10.add(b0).max(0f) : c10.add(b0)).intoArray(out, o1); (relu ? c11.add(b1).max(0f) : c11.add(b1)).intoArray(out, o1 + VL);
        (relu ? c20.add(b0).max(0f) : c20.add(b0)).intoArray(out, o2); (relu ? c21.add(b1).max(0f) : c21.add(b1)).intoArray(out, o2 + VL);
        (relu ? c30.add(b0).max(0f) : c30.add(b0)).intoArray(out, o3); (relu ? c31.add(b1).max(0f) : c31.add(b1)).intoArray(out, o3 + VL);
    }

    private static void tile1(float[] a, int r0, int r1, int r2, int r3, int ks, int kLen, float[] b, int bo, int ldb,
                              float[] bias, int bi, boolean relu, float[] out, int o0, int o1, int o2, int o3) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int kk = 0, ak = 0, bk = bo; kk < kLen; kk++, ak += ks, bk += ldb) {
            FloatVector w0 = FloatVector.fromArray(F, b, bk);
            c0 = FloatVector.broadcast(F, a[r0 + ak]).fma(w0, c0);
            c1 = FloatVector.broadcast(F, a[r1 + ak]).fma(w0, c1);
            c2 = FloatVector.broadcast(F, a[r2 + ak]).fma(w0, c2);
            c3 = FloatVector.broadcast(F, a[r3 + ak]).fma(w0, c3);
        }
        FloatVector b0 = FloatVector.fromArray(F, bias, bi);
        (relu ? c0.add(b0).max(0f) : c0.add(b0)).intoArray(out, o0); (relu ? c1.add(b0).max(0f) : c1.add(b0)).intoArray(out, o1); (relu ? c2.add(b0).max(0f) : c2.add(b0)).intoArray(out, o2); (relu ? c3.add(b0).max(0f) : c3.add(b0)).intoArray(out, o3);
    }
}
