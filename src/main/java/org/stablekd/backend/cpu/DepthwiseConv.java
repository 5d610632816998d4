package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;

/**
 * Depthwise convolution (groups = c = k: one r×s filter per channel), direct, one plane at a time.
 * A matrix product would have one row per group here, so it is written as shifted
 * multiply-adds over whole output rows instead, vectorized along the output width.
 *
 * <p>Layouts: x (n, c, h, w), w (c, 1, r, s), y (n, c, p, q), bias (c); all contiguous, in
 * tensor memory at element offsets. Per plane the input is copied to a padded, <em>phase-split</em>
 * heap buffer so that, for any stride, the inputs of consecutive outputs are consecutive:
 * <pre>
 *   split[(j mod sw)·hp + row][col div sw] = padded[row][col]     (hp = h+2·padH, split rows ws = ⌈wp/sw⌉)
 *   y[oh][ow] = Σ_{i,j} w[i][j] · split[j mod sw][oh·sh + i][ow + j div sw]
 * </pre>
 * The input gradient scatters the same products back into a split buffer, then un-splits it;
 * the weight gradient dots dy rows with split rows, keeping lane partials over the whole batch
 * (summed in a fixed order, Note [Determinism]). Planes (forward, input gradient) or channels
 * (weight gradient) are spread over threads; each writes only its own outputs.
 */
final class DepthwiseConv {
    private static final VectorSpecies<Float> SPECIES = Sgemm.SPECIES;
    private static final int VL = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private DepthwiseConv() {}

    private static int splitWidth(ConvGeometry g) {
        return (g.w() + 2 * g.padW() + g.strideW() - 1) / g.strideW();
    }

    private static int splitSize(ConvGeometry g) {
        return g.strideW() * (g.h() + 2 * g.padH()) * splitWidth(g);
    }

    /** split = the phase-split padded copy of plane x (h, w) at element xOff (see the class comment). */
    private static void split(ConvGeometry g, MemorySegment x, long xOff, float[] split, float[] row) {
        int sw = g.strideW(), hp = g.h() + 2 * g.padH(), ws = splitWidth(g);
        Arrays.fill(split, 0, splitSize(g), 0f);
        for (int ih = 0; ih < g.h(); ih++) {
            MemorySegment.copy(x, F, (xOff + (long) ih * g.w()) * Float.BYTES, row, 0, g.w());
            int prow = ih + g.padH();
            for (int iw = 0; iw < g.w(); iw++) {
                int col = iw + g.padW();
                split[((col % sw) * hp + prow) * ws + col / sw] = row[iw];
            }
        }
    }

    // ---------------------------------------------------------------- forward

    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        if (g.p() * g.q() <= SMALL_PLANE) {
            forwardChannelsLast(g, x, xOff, w, wOff, bias, bOff, y, yOff);
            return;
        }
        int planes = g.n() * g.c();
        Parallel.forRange(planes, 1, (start, end) -> {
            ConvScratch s = ConvScratch.get();
            float[] split = s.buffer(0, splitSize(g));
            float[] row = s.buffer(1, Math.max(g.w(), g.q()));
            float[] wk = s.buffer(2, g.r() * g.s());
            for (int plane = start; plane < end; plane++) {
                int ch = plane % g.c();
                MemorySegment.copy(w, F, (wOff + (long) ch * g.r() * g.s()) * Float.BYTES, wk, 0, g.r() * g.s());
                float b = bias == null ? 0f : bias.getAtIndex(F, bOff + ch);
                split(g, x, xOff + (long) plane * g.h() * g.w(), split, row);
                forwardPlane(g, split, wk, b, y, yOff + (long) plane * g.p() * g.q());
            }
        });
    }

    /**
     * Output planes of at most this many pixels run {@link #forwardChannelsLast}: at 4×4 or 2×2
     * the per-plane loop is all fixed costs (one padded copy, masked vectors with 2–4 live lanes).
     */
    static final int SMALL_PLANE = 64;

    /**
     * The forward for small planes, vectorized across channels: per image and block of VL
     * channels, x goes channels-last into a zero-padded (hp, wp, VL) buffer, then every output
     * pixel is VL channels at once, y = bias + Σ_{i,j} w[·][i][j] · x[·][oh·sh+i][ow·sw+j] (taps in
     * order), and the (p·q, VL) result goes back to planes. Threads take (image, block) units.
     */
    private static void forwardChannelsLast(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                                            MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        int c = g.c(), h = g.h(), wd = g.w(), r = g.r(), s = g.s(), p = g.p(), q = g.q();
        int ph = g.padH(), pw = g.padW(), sh = g.strideH(), sw = g.strideW();
        int hp = h + 2 * ph, wp = wd + 2 * pw, taps = r * s, blocks = (c + VL - 1) / VL;
        Parallel.forRange(g.n() * blocks, 1, (u0, u1) -> {
            ConvScratch sc = ConvScratch.get();
            float[] xt = sc.buffer(0, (long) hp * wp * VL), yt = sc.buffer(1, (long) p * q * VL), wt = sc.buffer(2, (long) taps * VL);
            for (int u = u0; u < u1; u++) {
                int img = u / blocks, c0 = (u % blocks) * VL, cn = Math.min(VL, c - c0);
                Arrays.fill(xt, 0, hp * wp * VL, 0f);
                Arrays.fill(wt, 0, taps * VL, 0f);
                for (int cc = 0; cc < cn; cc++) {
                    long plane = xOff + ((long) img * c + c0 + cc) * h * wd;
                    for (int ih = 0; ih < h; ih++) {
                        for (int iw = 0; iw < wd; iw++) xt[((ih + ph) * wp + iw + pw) * VL + cc] = x.getAtIndex(F, plane + (long) ih * wd + iw);
                    }
                    for (int t = 0; t < taps; t++) wt[t * VL + cc] = w.getAtIndex(F, wOff + (long) (c0 + cc) * taps + t);
                }
                FloatVector b0 = FloatVector.zero(SPECIES);
                if (bias != null) {
                    var live = SPECIES.indexInRange(0, cn);
                    b0 = FloatVector.fromMemorySegment(SPECIES, bias, (bOff + c0) * Float.BYTES, ORDER, live);
                }
                for (int oh = 0; oh < p; oh++) {
                    for (int ow = 0; ow < q; ow++) {
                        FloatVector acc = b0;
                        for (int i = 0; i < r; i++) {
                            int row = ((oh * sh + i) * wp + ow * sw) * VL;
                            for (int j = 0; j < s; j++) {
                                acc = FloatVector.fromArray(SPECIES, wt, (i * s + j) * VL).fma(FloatVector.fromArray(SPECIES, xt, row + j * VL), acc);
                            }
                        }
                        acc.intoArray(yt, (oh * q + ow) * VL);
                    }
                }
                for (int cc = 0; cc < cn; cc++) {
                    long plane = yOff + ((long) img * c + c0 + cc) * p * q;
                    for (int pix = 0; pix < p * q; pix++) y.setAtIndex(F, plane + pix, yt[pix * VL + cc]);
                }
            }
        });
    }

    private static void forwardPlane(ConvGeometry g, float[] split, float[] wk, float b, MemorySegment y, long yOff) {
        int sw = g.strideW(), hp = g.h() + 2 * g.padH(), ws = splitWidth(g), q = g.q();
        int qv = SPECIES.loopBound(q);
        for (int oh = 0; oh < g.p(); oh++) {
            long yRow = (yOff + (long) oh * q) * Float.BYTES;
            for (int ow = 0; ow < qv; ow += VL) {
                FloatVector acc = FloatVector.broadcast(SPECIES, b);
                for (int i = 0; i < g.r(); i++) {
                    int prow = oh * g.strideH() + i;
                    for (int j = 0; j < g.s(); j++) {
                        int at = ((j % sw) * hp + prow) * ws + j / sw + ow;
                        acc = FloatVector.fromArray(SPECIES, split, at).fma(FloatVector.broadcast(SPECIES, wk[i * g.s() + j]), acc);
                    }
                }
                acc.intoMemorySegment(y, yRow + (long) ow * Float.BYTES, ORDER);
            }
            for (int ow = qv; ow < q; ow++) {
                float acc = b;
                for (int i = 0; i < g.r(); i++) {
                    int prow = oh * g.strideH() + i;
                    for (int j = 0; j < g.s(); j++) acc = Math.fma(split[((j % sw) * hp + prow) * ws + j / sw + ow], wk[i * g.s() + j], acc);
                }
                y.setAtIndex(F, yOff + (long) oh * q + ow, acc);
            }
        }
    }

    // ---------------------------------------------------------------- input gradient

    static void backwardInput(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff, MemorySegment dx, long dxOff) {
        int planes = g.n() * g.c();
        Parallel.forRange(planes, 1, (start, end) -> {
            ConvScratch s = ConvScratch.get();
            float[] split = s.buffer(0, splitSize(g));
            float[] dyPlane = s.buffer(1, g.p() * g.q());
            float[] wk = s.buffer(2, g.r() * g.s());
            float[] row = s.buffer(3, g.w());
            for (int plane = start; plane < end; plane++) {
                int ch = plane % g.c();
                MemorySegment.copy(w, F, (wOff + (long) ch * g.r() * g.s()) * Float.BYTES, wk, 0, g.r() * g.s());
                MemorySegment.copy(dy, F, (dyOff + (long) plane * g.p() * g.q()) * Float.BYTES, dyPlane, 0, g.p() * g.q());
                Arrays.fill(split, 0, splitSize(g), 0f);
                scatterPlane(g, dyPlane, wk, split);
                unsplit(g, split, row, dx, dxOff + (long) plane * g.h() * g.w());
            }
        });
    }

    /** split[j mod sw][oh·sh + i][ow + j div sw] += w[i][j] · dy[oh][ow] for every (oh, ow, i, j). */
    private static void scatterPlane(ConvGeometry g, float[] dyPlane, float[] wk, float[] split) {
        int sw = g.strideW(), hp = g.h() + 2 * g.padH(), ws = splitWidth(g), q = g.q();
        int qv = SPECIES.loopBound(q);
        for (int oh = 0; oh < g.p(); oh++) {
            for (int i = 0; i < g.r(); i++) {
                int prow = oh * g.strideH() + i;
                for (int j = 0; j < g.s(); j++) {
                    float wij = wk[i * g.s() + j];
                    int base = ((j % sw) * hp + prow) * ws + j / sw;
                    FloatVector wv = FloatVector.broadcast(SPECIES, wij);
                    for (int ow = 0; ow < qv; ow += VL) {
                        FloatVector d = FloatVector.fromArray(SPECIES, dyPlane, oh * q + ow);
                        d.fma(wv, FloatVector.fromArray(SPECIES, split, base + ow)).intoArray(split, base + ow);
                    }
                    for (int ow = qv; ow < q; ow++) split[base + ow] = Math.fma(dyPlane[oh * q + ow], wij, split[base + ow]);
                }
            }
        }
    }

    /** dx (h, w) at element dxOff = the interior of the padded plane held phase-split in split. */
    private static void unsplit(ConvGeometry g, float[] split, float[] row, MemorySegment dx, long dxOff) {
        int sw = g.strideW(), hp = g.h() + 2 * g.padH(), ws = splitWidth(g);
        for (int ih = 0; ih < g.h(); ih++) {
            int prow = ih + g.padH();
            for (int iw = 0; iw < g.w(); iw++) {
                int col = iw + g.padW();
                row[iw] = split[((col % sw) * hp + prow) * ws + col / sw];
            }
            MemorySegment.copy(row, 0, dx, F, (dxOff + (long) ih * g.w()) * Float.BYTES, g.w());
        }
    }

    // ---------------------------------------------------------------- weight gradient

    /** dw (c, 1, r, s) and dbias (c) if not null; channels over threads, images summed in order. */
    static void backwardWeight(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                               MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        int rs = g.r() * g.s();
        Parallel.forRange(g.c(), 1, (start, end) -> {
            ConvScratch s = ConvScratch.get();
            float[] split = s.buffer(0, splitSize(g));
            float[] dyPlane = s.buffer(1, g.p() * g.q());
            float[] row = s.buffer(2, g.w());
            float[] lanes = s.buffer(3, (long) (rs + 1) * VL);   // rs weight partials, then the bias partial
            for (int ch = start; ch < end; ch++) {
                Arrays.fill(lanes, 0, (rs + 1) * VL, 0f);
                for (int n = 0; n < g.n(); n++) {
                    long plane = (long) n * g.c() + ch;
                    split(g, x, xOff + plane * g.h() * g.w(), split, row);
                    MemorySegment.copy(dy, F, (dyOff + plane * g.p() * g.q()) * Float.BYTES, dyPlane, 0, g.p() * g.q());
                    dotPlane(g, dyPlane, split, lanes);
                }
                for (int t = 0; t < rs; t++) dw.setAtIndex(F, dwOff + (long) ch * rs + t, foldLanes(lanes, t));
                if (dbias != null) dbias.setAtIndex(F, dbOff + ch, foldLanes(lanes, rs));
            }
        });
    }

    /** The sum of the VL lane partials lanes[e·VL ..], lanes in order (a fixed order, unlike reduceLanes). */
    static float foldLanes(float[] lanes, int e) {
        float sum = 0f;
        for (int lane = 0, at = e * VL; lane < VL; lane++) sum += lanes[at + lane];
        return sum;
    }

    /** lanes[t·VL + lane] += the lane partials of Σ dy · (the inputs tap t = i·s + j sees); lanes[rs·VL..] += Σ dy. */
    private static void dotPlane(ConvGeometry g, float[] dyPlane, float[] split, float[] lanes) {
        int sw = g.strideW(), hp = g.h() + 2 * g.padH(), ws = splitWidth(g), q = g.q();
        int qv = SPECIES.loopBound(q);
        VectorMask<Float> tail = SPECIES.indexInRange(qv, q);
        int rs = g.r() * g.s();
        for (int i = 0; i < g.r(); i++) {
            for (int j = 0; j < g.s(); j++) {
                FloatVector acc = FloatVector.fromArray(SPECIES, lanes, (i * g.s() + j) * VL);
                for (int oh = 0; oh < g.p(); oh++) {
                    int base = ((j % sw) * hp + oh * g.strideH() + i) * ws + j / sw;
                    for (int ow = 0; ow < qv; ow += VL) {
                        acc = FloatVector.fromArray(SPECIES, dyPlane, oh * q + ow).fma(FloatVector.fromArray(SPECIES, split, base + ow), acc);
                    }
                    if (qv < q) {
                        acc = FloatVector.fromArray(SPECIES, dyPlane, oh * q + qv, tail)
                                .fma(FloatVector.fromArray(SPECIES, split, base + qv, tail), acc);
                    }
                }
                acc.intoArray(lanes, (i * g.s() + j) * VL);
            }
        }
        FloatVector sum = FloatVector.fromArray(SPECIES, lanes, rs * VL);
        int pq = g.p() * g.q(), pqv = SPECIES.loopBound(pq);
        for (int e = 0; e < pqv; e += VL) sum = sum.add(FloatVector.fromArray(SPECIES, dyPlane, e));
        if (pqv < pq) sum = sum.add(FloatVector.fromArray(SPECIES, dyPlane, pqv, SPECIES.indexInRange(pqv, pq)));
        sum.intoArray(lanes, rs * VL);
    }
}
