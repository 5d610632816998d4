package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * 2-D convolution on the CPU. Picks a kernel per shape:
 * <ul>
 *   <li>depthwise (groups = c = k): {@link DepthwiseConv}, direct;</li>
 *   <li>1×1, stride 1, no padding: the image <em>is</em> the column matrix, one {@link Sgemm} per image and group;</li>
 *   <li>everything else: lowered per image and group with {@link Im2col} into reused scratch, then {@link Sgemm}.</li>
 * </ul>
 * Per image and group g (kg = k/groups output channels, crs = (c/groups)·r·s, pq = p·q):
 * <pre>
 *   forward          y_g  (kg, pq)  = w_g (kg, crs) · cols (crs, pq)          [+ bias]
 *   input gradient   cols'(crs, pq) = w_gᵀ · dy_g (kg, pq),  dx_g = col2im(cols')
 *   weight gradient  dw_g (kg, crs) += dy_g (kg, pq) · rows (pq, crs),  rows = colsᵀ
 * </pre>
 * Threads: images are split into contiguous ranges, one per thread, each with its own scratch
 * (when there are fewer images than threads, the products themselves run multi-threaded). The
 * weight gradient sums its images in order into one partial per range, and the partials are
 * added in range order: a fixed order for a given thread count (Note [Determinism]).
 */
final class CpuConv implements ConvKernels {
    /** The ops this family runs fast for F32. */
    static final Set<Op> SUPPORTED = EnumSet.of(Op.CONV2D);

    private static final VectorSpecies<Float> SPECIES = Sgemm.SPECIES;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    // ConvScratch slots of the lowering path
    private static final int PADDED = 0, COLS = 1, PARTIALS = 5;

    private CpuConv() {}

    static ConvKernels kernels() {
        return new CpuConv();
    }

    @Override
    public void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        MemorySegment bs = bias == null ? null : bias.segment();
        long bo = bias == null ? 0 : bias.offset();
        if (g.depthwise()) {
            DepthwiseConv.forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bs, bo, y.segment(), y.offset());
        } else {
            forward(g, x.segment(), x.offset(), w.segment(), w.offset(), bs, bo, y.segment(), y.offset());
        }
    }

    @Override
    public void backwardInput(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        if (g.depthwise()) {
            DepthwiseConv.backwardInput(g, dy.segment(), dy.offset(), w.segment(), w.offset(), dx.segment(), dx.offset());
        } else {
            backwardInput(g, dy.segment(), dy.offset(), w.segment(), w.offset(), dx.segment(), dx.offset());
        }
    }

    @Override
    public void backwardWeight(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        MemorySegment bs = dbias == null ? null : dbias.segment();
        long bo = dbias == null ? 0 : dbias.offset();
        if (g.depthwise()) {
            DepthwiseConv.backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(), bs, bo);
        } else {
            backwardWeight(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset(), bs, bo);
        }
    }

    // ---------------------------------------------------------------- lowering to SGEMM

    /** 1×1, stride 1, no padding: the image (c, h·w) is already the column matrix. */
    static boolean pointwise(ConvGeometry g) {
        return g.r() == 1 && g.s() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0;
    }

    private static int crs(ConvGeometry g) {
        return g.cPerGroup() * g.r() * g.s();
    }

    private static long paddedSize(ConvGeometry g) {
        return (long) g.cPerGroup() * (g.h() + 2 * g.padH()) * (g.w() + 2 * g.padW());
    }

    /** Runs body over images [start, end): one range per thread, or all on the caller with multi-threaded products. */
    private static void overImages(ConvGeometry g, ImageRange body) {
        if (g.n() >= Parallel.threads()) {
            Parallel.forRange(g.n(), 1, (start, end) -> body.run(start, end, false));
        } else {
            body.run(0, g.n(), true);
        }
    }

    @FunctionalInterface
    private interface ImageRange {
        void run(int start, int end, boolean parallelGemm);
    }

    private static void gemm(boolean parallel, boolean transA, boolean transB, int m, int n, int k,
                             MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                             float beta, MemorySegment c, long cOff, int ldc) {
        if (parallel) Sgemm.gemm(transA, transB, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        else Sgemm.gemmSerial(transA, transB, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        int cg = g.cPerGroup(), kg = g.kPerGroup(), crs = crs(g), pq = g.p() * g.q();
        int hp = g.h() + 2 * g.padH(), wp = g.w() + 2 * g.padW();
        long hw = (long) g.h() * g.w();
        overImages(g, (start, end, parallelGemm) -> {
            ConvScratch s = ConvScratch.get();
            float[] padded = pointwise(g) ? null : s.buffer(PADDED, paddedSize(g));
            float[] cols = pointwise(g) ? null : s.buffer(COLS, (long) crs * pq);
            MemorySegment colSeg = cols == null ? null : MemorySegment.ofArray(cols);
            for (int img = start; img < end; img++) {
                for (int grp = 0; grp < g.groups(); grp++) {
                    long xg = xOff + ((long) img * g.c() + (long) grp * cg) * hw;
                    long yg = yOff + ((long) img * g.k() + (long) grp * kg) * pq;
                    long wg = wOff + (long) grp * kg * crs;
                    if (pointwise(g)) {
                        gemm(parallelGemm, false, false, kg, pq, crs, w, wg, crs, x, xg, pq, 0f, y, yg, pq);
                    } else {
                        Im2col.pad(x, xg, cg, g.h(), g.w(), g.padH(), g.padW(), padded);
                        Im2col.im2col(padded, cg, hp, wp, g.r(), g.s(), g.strideH(), g.strideW(), g.p(), g.q(), cols);
                        gemm(parallelGemm, false, false, kg, pq, crs, w, wg, crs, colSeg, 0, pq, 0f, y, yg, pq);
                    }
                }
                if (bias != null) addBias(g, bias, bOff, y, yOff + (long) img * g.k() * pq);
            }
        });
    }

    /** y (k, pq) += bias (k) broadcast along each row. */
    private static void addBias(ConvGeometry g, MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        int pq = g.p() * g.q(), vl = SPECIES.length(), pqv = SPECIES.loopBound(pq);
        for (int ch = 0; ch < g.k(); ch++) {
            float b = bias.getAtIndex(F, bOff + ch);
            FloatVector bv = FloatVector.broadcast(SPECIES, b);
            long row = yOff + (long) ch * pq;
            for (int e = 0; e < pqv; e += vl) {
                long at = (row + e) * Float.BYTES;
                FloatVector.fromMemorySegment(SPECIES, y, at, ORDER).add(bv).intoMemorySegment(y, at, ORDER);
            }
            for (int e = pqv; e < pq; e++) y.setAtIndex(F, row + e, y.getAtIndex(F, row + e) + b);
        }
    }

    static void backwardInput(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff, MemorySegment dx, long dxOff) {
        int cg = g.cPerGroup(), kg = g.kPerGroup(), crs = crs(g), pq = g.p() * g.q();
        int hp = g.h() + 2 * g.padH(), wp = g.w() + 2 * g.padW();
        long hw = (long) g.h() * g.w();
        overImages(g, (start, end, parallelGemm) -> {
            ConvScratch s = ConvScratch.get();
            float[] padded = pointwise(g) ? null : s.buffer(PADDED, paddedSize(g));
            float[] cols = pointwise(g) ? null : s.buffer(COLS, (long) crs * pq);
            MemorySegment colSeg = cols == null ? null : MemorySegment.ofArray(cols);
            for (int img = start; img < end; img++) {
                for (int grp = 0; grp < g.groups(); grp++) {
                    long dxg = dxOff + ((long) img * g.c() + (long) grp * cg) * hw;
                    long dyg = dyOff + ((long) img * g.k() + (long) grp * kg) * pq;
                    long wg = wOff + (long) grp * kg * crs;
                    if (pointwise(g)) {
                        gemm(parallelGemm, true, false, crs, pq, kg, w, wg, crs, dy, dyg, pq, 0f, dx, dxg, pq);
                    } else {
                        gemm(parallelGemm, true, false, crs, pq, kg, w, wg, crs, dy, dyg, pq, 0f, colSeg, 0, pq);
                        Arrays.fill(padded, 0, (int) paddedSize(g), 0f);
                        Im2col.col2im(cols, cg, hp, wp, g.r(), g.s(), g.strideH(), g.strideW(), g.p(), g.q(), padded);
                        Im2col.crop(padded, cg, g.h(), g.w(), g.padH(), g.padW(), dx, dxg);
                    }
                }
            }
        });
    }

    static void backwardWeight(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                               MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        int cg = g.cPerGroup(), kg = g.kPerGroup(), crs = crs(g), pq = g.p() * g.q();
        int hp = g.h() + 2 * g.padH(), wp = g.w() + 2 * g.padW();
        long hw = (long) g.h() * g.w();
        int k = g.k(), size = k * crs + k;   // one partial: dw (k, crs), then dbias (k)
        int chunks = Math.min(Parallel.threads(), g.n());
        boolean parallelGemm = chunks < Parallel.threads();
        float[] partials = ConvScratch.get().buffer(PARTIALS, (long) chunks * size);   // the caller's, filled by every chunk
        Parallel.forChunks(chunks, chunk -> {
            int start = (int) ((long) g.n() * chunk / chunks), end = (int) ((long) g.n() * (chunk + 1) / chunks);
            ConvScratch s = ConvScratch.get();
            float[] padded = s.buffer(PADDED, paddedSize(g));
            float[] rows = s.buffer(COLS, (long) pq * crs);
            MemorySegment rowSeg = MemorySegment.ofArray(rows), partSeg = MemorySegment.ofArray(partials);
            int part = chunk * size;
            Arrays.fill(partials, part, part + size, 0f);
            for (int img = start; img < end; img++) {
                for (int grp = 0; grp < g.groups(); grp++) {
                    long xg = xOff + ((long) img * g.c() + (long) grp * cg) * hw;
                    long dyg = dyOff + ((long) img * g.k() + (long) grp * kg) * pq;
                    Im2col.pad(x, xg, cg, g.h(), g.w(), g.padH(), g.padW(), padded);
                    Im2col.im2row(padded, cg, hp, wp, g.r(), g.s(), g.strideH(), g.strideW(), g.p(), g.q(), rows);
                    gemm(parallelGemm, false, false, kg, crs, pq, dy, dyg, pq, rowSeg, 0, crs, 1f, partSeg, part + (long) grp * kg * crs, crs);
                }
                if (dbias != null) addRowSums(dy, dyOff + (long) img * k * pq, k, pq, partials, part + k * crs);
            }
        });
        // dw = Σ partials in chunk order
        for (int e = 0; e < k * crs; e++) {
            float sum = partials[e];
            for (int c = 1; c < chunks; c++) sum += partials[c * size + e];
            dw.setAtIndex(F, dwOff + e, sum);
        }
        if (dbias != null) {
            for (int ch = 0; ch < k; ch++) {
                float sum = partials[k * crs + ch];
                for (int c = 1; c < chunks; c++) sum += partials[c * size + k * crs + ch];
                dbias.setAtIndex(F, dbOff + ch, sum);
            }
        }
    }

    /** sums[ch] += Σ_e dy[ch·pq + e] for ch < k: vector partials, folded in a fixed lane order. */
    private static void addRowSums(MemorySegment dy, long dyOff, int k, int pq, float[] sums, int at) {
        int vl = SPECIES.length(), pqv = SPECIES.loopBound(pq);
        for (int ch = 0; ch < k; ch++) {
            long row = dyOff + (long) ch * pq;
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int e = 0; e < pqv; e += vl) acc = acc.add(FloatVector.fromMemorySegment(SPECIES, dy, (row + e) * Float.BYTES, ORDER));
            float sum = 0f;
            for (int lane = 0; lane < vl; lane++) sum += acc.lane(lane);
            for (int e = pqv; e < pq; e++) sum += dy.getAtIndex(F, row + e);
            sums[at + ch] += sum;
        }
    }
}
