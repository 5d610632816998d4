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
 * Forwards with output planes of at most {@link DepthwiseFlat#MAX_PLANE} pixels run {@link DepthwiseFlat}.
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
        if (DepthwiseFlat.supports(g)) {
            DepthwiseFlat.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, false);
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
