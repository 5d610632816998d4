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
import org.stablekd.backend.InvertedResidualGeometry;
import org.stablekd.backend.Op;
import org.stablekd.backend.ResidualBlockTraining;
import org.stablekd.tensor.Tensor;

/**
 * 2-D convolution on the CPU, lowered onto {@link Sgemm} except for depthwise layers. Per image
 * and group (kg = k/groups output channels, crs = (c/groups)·r·s, pq = p·q):
 * <pre>
 *   forward          y_g  (kg, pq)  = w_g (kg, crs) · cols (crs, pq)   [+ bias]
 *   input gradient   stride 1: a forward convolution of dy with flipped weights (see
 *                    {@link #inputGradientAsConvolution}); else cols' (crs, pq) = w_gᵀ · dy_g, dx_g = col2im(cols')
 *   weight gradient  dw_g (kg, crs) += dy_g (kg, pq) · rows (pq, crs),  rows = colsᵀ; or, stride 1 on
 *                    wide images, dot products straight from the padded image ({@link DotRows})
 * </pre>
 * The forward never materializes cols: the weights are packed once per call into SGEMM's A
 * panels, and blocks of output pixels are packed straight from the zero-padded image into B
 * panels ({@link Im2col#packPanels}), a block small enough to stay in L2; this is what keeps
 * layers with few output channels (16, as in resnet20) fast. Depthwise layers (groups = c = k)
 * run {@link DepthwiseConv}, direct. Before any of these: 3×3 stride-1 pad-1 layers with 16 or 32
 * channels in and out run the forward and input gradient on {@link WinogradChannelsLast} (channels along
 * the vectors), as do wider ones (multiples of 16) at batch 1 under an inference WeightCache, except
 * the widest on small images (c·k ≥ 128², 8×8 at batch 1), which run F(2×2, 3×3) on
 * {@link WinogradF2ChannelsLast} (a quarter of the weights' bytes per multiply-add); other
 * layers the shape rule of {@link WinogradConv} picks (32+ channels, 256+ tiles) run on WinogradConv.
 * The weight gradient of the 3×3 stride-1 layers in whole vectors of 16 channels (AVX-512) runs on
 * {@link WinogradWeightGradBands} up to 64 channels (which also computes the input gradient of the
 * 16- and 32-channel layers when both are wanted, turning dy channels-last once for both) and on
 * {@link WinogradWeightGrad} above; under an
 * inference WeightCache the same layers with fewer tiles (batch 1) whose channels are not multiples
 * of 16 run the forward on {@link WinogradFewTiles}; under the same cache the batch-1 stride-2 layers
 * (3×3, and 1×1 up to 64 output pixels) with c a multiple of 16 and k of 64 run on
 * {@link DirectChannelsLast}, as do the same stride-2 shapes of a batch (training: whole images
 * per thread, 1×1 up to 64 output pixels per image), with both gradients on
 * {@link DirectChannelsLastGrad} where c is a multiple of 64 and the sizes even; then the
 * CIFAR-style layers run on {@link GridConv}.
 *
 * <p>Threads: images are split into contiguous ranges, one per thread, each with its own scratch
 * ({@link ConvScratch}); with fewer images than threads the pixels (forward) or the products
 * are split instead. The weight gradient sums its images in order into one partial per range,
 * and the partials are added in range order: a fixed order for a given thread count
 * (Note [Determinism]).
 */
final class CpuConv implements ConvKernels {
    /** The ops this family runs fast for F32. */
    static final Set<Op> SUPPORTED = EnumSet.of(Op.CONV2D, Op.RESIDUAL_CHAIN);

    private static final VectorSpecies<Float> SPECIES = Sgemm.SPECIES;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    // ConvScratch slots of the lowering path
    private static final int PADDED = 0, COLS = 1, WEIGHTS = 3, FLIPPED = 4, PARTIALS = 5;

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
    public boolean fusesRelu() {
        return true;
    }

    /**
     * The forward with y = max(0, y): in the epilogue of the small-plane paths (depthwise, 1×1)
     * and in the grid path's copy out, else as one pass over y after the forward (still one op,
     * one output, no extra tensor).
     */
    @Override
    public void forwardRelu(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        MemorySegment xs = x.segment(), ws = w.segment(), ys = y.segment(), bs = bias == null ? null : bias.segment();
        long bo = bias == null ? 0 : bias.offset();
        if (DepthwiseFlat.supports(g)) {
            DepthwiseFlat.forward(g, xs, x.offset(), ws, w.offset(), bs, bo, ys, y.offset(), true);
        } else if (PointwiseConvPlanes.supports(g)) {
            PointwiseConvPlanes.forward(g, xs, x.offset(), ws, w.offset(), bs, bo, ys, y.offset(), true);
        } else if (PointwiseConvSmall.supports(g)) {
            PointwiseConvSmall.forward(g, xs, x.offset(), ws, w.offset(), bs, bo, ys, y.offset(), true);
        } else if (g.depthwise()) {
            forward(g, x, w, bias, y);
            reluInPlace(ys, y.offset(), y.numel());
        } else {
            forward(g, xs, x.offset(), ws, w.offset(), bs, bo, ys, y.offset(), true);
        }
    }

    @Override
    public boolean fusesAddRelu() {
        return true;
    }

    /**
     * The forward with y = max(y + r, 0): in WinogradChannelsLast's copy out where it runs the
     * layer (the end of resnet20's and resnet8x4's blocks at inference), else as one pass over y
     * after the forward. CpuPointwise's ADD_RELU arithmetic either way, so the same bits.
     */
    @Override
    public void forwardAddRelu(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor r, Tensor y) {
        MemorySegment bs = bias == null ? null : bias.segment();
        long bo = bias == null ? 0 : bias.offset();
        if (WinogradF2ChannelsLast.supports(g, w.segment().isNative())) {
            WinogradF2ChannelsLast.forwardAddRelu(g, x.segment(), x.offset(), w.segment(), w.offset(), bs, bo,
                    r.segment(), r.offset(), y.segment(), y.offset());
            return;
        }
        if (!g.depthwise() && WinogradChannelsLast.supports(g, w.segment().isNative())) {
            WinogradChannelsLast.forwardAddRelu(g, x.segment(), x.offset(), w.segment(), w.offset(), bs, bo,
                    r.segment(), r.offset(), y.segment(), y.offset());
            return;
        }
        forward(g, x, w, bias, y);
        MemorySegment rs = r.segment(), ys = y.segment();
        long ro = r.offset(), yo = y.offset();
        Simd.forSpans(y.numel(), (i, n) -> CpuPointwise.addRelu(ys, yo + i, rs, ro + i, ys, yo + i, n));
    }

    /**
     * Channels-last between the layers (see ResidualChainChannelsLast) where the blocks one by one
     * would run on WinogradChannelsLast or WinogradConv, whose bits the chain has (a host tensor's
     * weights are always native memory, hence supports(g, true)). Not where the blocks one by one run
     * on WinogradF2ChannelsLast (other bits; the wide 8×8 layers at batch 1).
     */
    @Override
    public boolean chainsResidualBlocks(ConvGeometry g) {
        return ResidualChainChannelsLast.supports(g) && !WinogradF2ChannelsLast.supports(g, true)
                && (WinogradChannelsLast.supports(g, true) || WinogradConv.supports(g));
    }

    @Override
    public void residualChain(ConvGeometry g, Tensor x, Tensor[] w1, Tensor[] b1, Tensor[] w2, Tensor[] b2, Tensor y) {
        ResidualChainChannelsLast.run(g, x, w1, b1, w2, b2, y);
    }

    /** Channels-last through the run, BatchNorms included (see ResidualChainTraining). */
    @Override
    public boolean chainsResidualBlocksInTraining(ConvGeometry g) {
        return ResidualChainTraining.supports(g);
    }

    @Override
    public void residualChainTrain(ConvGeometry g, Tensor x, ResidualBlockTraining[] blocks, double eps, Tensor[] saved, Tensor y) {
        ResidualChainTraining.forward(g, x, blocks, eps, saved, y);
    }

    @Override
    public void residualChainTrainBackward(ConvGeometry g, Tensor dy, ResidualBlockTraining[] blocks, Tensor[] saved, Tensor dx,
                                           Tensor[] grads) {
        ResidualChainTraining.backward(g, dy, blocks, saved, dx, grads);
    }

    @Override
    public boolean fusesInvertedResidual() {
        return true;
    }

    @Override
    public void invertedResidual(InvertedResidualGeometry g, Tensor x, Tensor w1, Tensor b1, Tensor wd, Tensor bd,
                                 Tensor w2, Tensor b2, Tensor y) {
        InvertedResidualBlock.forward(g, x.segment(), x.offset(), w1.segment(), w1.offset(), b1.segment(), b1.offset(),
                wd.segment(), wd.offset(), bd.segment(), bd.offset(), w2.segment(), w2.offset(), b2.segment(), b2.offset(),
                y.segment(), y.offset());
    }

    /** y[i] = max(y[i], 0) for i in [off, off+n) (Math.max: a NaN stays NaN, as in the fused epilogues). */
    private static void reluInPlace(MemorySegment y, long off, long n) {
        long i = 0, bound = n - n % SPECIES.length();
        for (; i < bound; i += SPECIES.length()) {
            long at = (off + i) * Float.BYTES;
            FloatVector.fromMemorySegment(SPECIES, y, at, ORDER).max(0f).intoMemorySegment(y, at, ORDER);
        }
        for (; i < n; i++) {
            y.setAtIndex(F, off + i, Math.max(y.getAtIndex(F, off + i), 0f));
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

    @Override
    public boolean addsToInputGradient(ConvGeometry g) {
        return WinogradWeightGradBands.fusesInputGradient(g);
    }

    @Override
    public void backwardAdding(ConvGeometry g, Tensor x, Tensor dy, Tensor w, Tensor dxPlus, Tensor dx, Tensor dw, Tensor dbias) {
        if (!addsToInputGradient(g)) throw new IllegalStateException("backwardAdding on a layer it does not add to: " + g);
        WinogradWeightGradBands.backward(g, x.segment(), x.offset(), dy.segment(), dy.offset(), w.segment(), w.offset(),
                dxPlus.segment(), dxPlus.offset(), dx.segment(), dx.offset(), dw.segment(), dw.offset(),
                dbias == null ? null : dbias.segment(), dbias == null ? 0 : dbias.offset());
    }

    @Override
    public void backward(ConvGeometry g, Tensor x, Tensor dy, Tensor w, Tensor dx, Tensor dw, Tensor dbias) {
        MemorySegment bs = dbias == null ? null : dbias.segment();
        long bo = dbias == null ? 0 : dbias.offset();
        if (dx != null && dw != null && WinogradWeightGradBands.fusesInputGradient(g)) {
            // the same bits as backwardInput + backwardWeight, dy turned channels-last once for both
            WinogradWeightGradBands.backward(g, x.segment(), x.offset(), dy.segment(), dy.offset(), w.segment(), w.offset(),
                    null, 0, dx.segment(), dx.offset(), dw.segment(), dw.offset(), bs, bo);
            return;
        }
        if (DirectChannelsLastGrad.supports(g)) {
            DirectChannelsLastGrad.backward(g, x.segment(), x.offset(), dy.segment(), dy.offset(), w.segment(), w.offset(),
                    dx == null ? null : dx.segment(), dx == null ? 0 : dx.offset(), dw == null ? null : dw.segment(),
                    dw == null ? 0 : dw.offset(), bs, bo);
            return;
        }
        if (dx == null || dw == null || !GridConv.supports(g) || WinogradConv.supportsInputGradient(g)
                || WinogradChannelsLast.supportsInputGradient(g)) {
            // the Winograd input gradient does not share GridConv's pass over dy: each gradient on its own
            ConvKernels.super.backward(g, x, dy, w, dx, dw, dbias);
            return;
        }
        GridConv.backward(g, x.segment(), x.offset(), dy.segment(), dy.offset(), w.segment(), w.offset(),
                dx.segment(), dx.offset(), dw.segment(), dw.offset(), bs, bo);
    }

    // ---------------------------------------------------------------- lowering to SGEMM

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

    /** Pixels per packed block of cols: about 192 KiB of panels (stays in L2), at least one panel. */
    private static int pixelBlock(int crs) {
        return Math.max(1, (48 * 1024) / (crs * Sgemm.NR)) * Sgemm.NR;
    }

    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, false);
    }

    /**
     * The same, then y = max(0, y) if relu: in the epilogue or the copy out where the path has
     * one (1×1 paths, the grid), else as one pass over y.
     */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        if (PointwiseConvPlanes.supports(g)) {
            PointwiseConvPlanes.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, relu);
            return;
        }
        if (PointwiseConvSmall.supports(g)) {
            PointwiseConvSmall.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, relu);
            return;
        }
        if (WinogradF2ChannelsLast.supports(g, w.isNative())) {
            WinogradF2ChannelsLast.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, relu);
            return;
        }
        if (WinogradChannelsLast.supports(g, w.isNative())) {
            WinogradChannelsLast.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, relu);
            return;
        }
        if (DirectChannelsLast.supports(g, w.isNative()) || DirectChannelsLast.supportsBatch(g)) {
            DirectChannelsLast.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, relu);
            return;
        }
        if (GridConv.supports(g) && !WinogradConv.supports(g) && !(w.isNative() && WinogradFewTiles.supports(g))) {
            GridConv.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, relu);
            return;
        }
        forwardNoRelu(g, x, xOff, w, wOff, bias, bOff, y, yOff);
        if (relu) reluInPlace(y, yOff, (long) g.n() * g.k() * g.p() * g.q());
    }

    /** The Winograd paths, else the lowering onto SGEMM (the forward without a fused ReLU). */
    private static void forwardNoRelu(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                                      MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        if (w.isNative() && WinogradFewTiles.supports(g)) {   // inference only: needs the WeightCache
            WinogradFewTiles.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff);
            return;
        }
        if (WinogradConv.supports(g)) {
            WinogradConv.forward(g, x, xOff, w, wOff, bias, bOff, y, yOff);
            return;
        }
        int kg = g.kPerGroup(), crs = crs(g), pq = g.p() * g.q();
        int panelRows = Sgemm.roundUp(kg, Sgemm.MR);
        // the weights, packed once per call into SGEMM's A panels (the caller's scratch, read by every thread)
        float[] packedW = ConvScratch.get().buffer(WEIGHTS, (long) g.groups() * panelRows * crs);
        for (int grp = 0; grp < g.groups(); grp++) {
            Sgemm.packA(false, kg, crs, w, wOff + (long) grp * kg * crs, crs, 0, 0, packedW, grp * panelRows * crs);
        }
        if (g.n() >= Parallel.threads()) {
            Parallel.forRange(g.n(), 1, (start, end) -> {
                for (int img = start; img < end; img++) forwardImage(g, x, xOff, packedW, bias, bOff, y, yOff, img, 0, pq);
            });
        } else {
            for (int img = 0; img < g.n(); img++) {
                final int image = img;
                Parallel.forRange(Sgemm.ceilDiv(pq, Sgemm.NR), 1, (start, end) ->
                        forwardImage(g, x, xOff, packedW, bias, bOff, y, yOff, image, start * Sgemm.NR, Math.min(pq, end * Sgemm.NR)));
            }
        }
    }

    /** Output pixels [pix0, pix1) of one image, every group: pad, pack cols panels block by block, multiply. */
    private static void forwardImage(ConvGeometry g, MemorySegment x, long xOff, float[] packedW, MemorySegment bias, long bOff,
                                     MemorySegment y, long yOff, int img, int pix0, int pix1) {
        int cg = g.cPerGroup(), kg = g.kPerGroup(), crs = crs(g), pq = g.p() * g.q();
        int hp = g.h() + 2 * g.padH(), wp = g.w() + 2 * g.padW(), panelRows = Sgemm.roundUp(kg, Sgemm.MR);
        int block = pixelBlock(crs);
        long hw = (long) g.h() * g.w();
        ConvScratch s = ConvScratch.get();
        float[] padded = s.buffer(PADDED, paddedSize(g));
        float[] panels = s.buffer(COLS, (long) crs * block);
        for (int grp = 0; grp < g.groups(); grp++) {
            long xg = xOff + ((long) img * g.c() + (long) grp * cg) * hw;
            long yg = yOff + ((long) img * g.k() + (long) grp * kg) * pq;
            Im2col.pad(x, xg, cg, g.h(), g.w(), g.padH(), g.padW(), padded);
            for (int j0 = pix0; j0 < pix1; j0 += block) {
                int nb = Math.min(block, pix1 - j0);
                Im2col.packPanels(padded, cg, hp, wp, g.r(), g.s(), g.strideH(), g.strideW(), g.p(), g.q(), j0, nb, panels, s.index);
                Sgemm.gemmPacked(kg, nb, crs, 1f, packedW, grp * panelRows * crs, panels, 0, 0f, y, yg + j0, pq);
            }
        }
        if (bias != null) addBias(g, bias, bOff, y, yOff + (long) img * g.k() * pq, pix0, pix1);
    }

    /** y (k, pq) += bias (k) broadcast along each row, for pixels [pix0, pix1). */
    private static void addBias(ConvGeometry g, MemorySegment bias, long bOff, MemorySegment y, long yOff, int pix0, int pix1) {
        int pq = g.p() * g.q(), vl = SPECIES.length(), end = pix0 + SPECIES.loopBound(pix1 - pix0);
        for (int ch = 0; ch < g.k(); ch++) {
            float b = bias.getAtIndex(F, bOff + ch);
            FloatVector bv = FloatVector.broadcast(SPECIES, b);
            long row = yOff + (long) ch * pq;
            for (int e = pix0; e < end; e += vl) {
                long at = (row + e) * Float.BYTES;
                FloatVector.fromMemorySegment(SPECIES, y, at, ORDER).add(bv).intoMemorySegment(y, at, ORDER);
            }
            for (int e = end; e < pix1; e++) y.setAtIndex(F, row + e, y.getAtIndex(F, row + e) + b);
        }
    }

    /**
     * With stride 1 the input gradient is itself a convolution: dx = conv(dy, w') with
     * w'[g·cg + cc][kk][i][j] = w[g·kg + kk][cc][r-1-i][s-1-j] (channels swapped within each group,
     * taps flipped) and padding r-1-padH, s-1-padW; so it runs on the forward's fast path.
     */
    static boolean inputGradientAsConvolution(ConvGeometry g) {
        return g.strideH() == 1 && g.strideW() == 1 && g.padH() <= g.r() - 1 && g.padW() <= g.s() - 1;
    }

    static void backwardInput(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff, MemorySegment dx, long dxOff) {
        if (WinogradChannelsLast.supportsInputGradient(g)) {
            WinogradChannelsLast.backwardInput(g, dy, dyOff, w, wOff, dx, dxOff);
            return;
        }
        if (WinogradConv.supportsInputGradient(g)) {
            WinogradConv.backwardInput(g, dy, dyOff, w, wOff, dx, dxOff);
            return;
        }
        if (DirectChannelsLastGrad.supports(g)) {
            DirectChannelsLastGrad.backward(g, null, 0, dy, dyOff, w, wOff, dx, dxOff, null, 0, null, 0);
            return;
        }
        if (GridConv.supports(g)) {
            GridConv.backwardInput(g, dy, dyOff, w, wOff, dx, dxOff);
            return;
        }
        if (inputGradientAsConvolution(g)) {
            int cg = g.cPerGroup(), kg = g.kPerGroup(), r = g.r(), s = g.s();
            float[] flipped = ConvScratch.get().buffer(FLIPPED, (long) g.k() * cg * r * s);
            for (int grp = 0; grp < g.groups(); grp++)
                for (int kk = 0; kk < kg; kk++)
                    for (int cc = 0; cc < cg; cc++)
                        for (int i = 0; i < r; i++)
                            for (int j = 0; j < s; j++) {
                                long src = wOff + ((((long) grp * kg + kk) * cg + cc) * r + (r - 1 - i)) * s + (s - 1 - j);
                                flipped[(((grp * cg + cc) * kg + kk) * r + i) * s + j] = w.getAtIndex(F, src);
                            }
            ConvGeometry t = ConvGeometry.of(g.n(), g.k(), g.p(), g.q(), g.c(), r, s, 1, 1, r - 1 - g.padH(), s - 1 - g.padW(), g.groups());
            forward(t, dy, dyOff, MemorySegment.ofArray(flipped), 0, null, 0, dx, dxOff);
            return;
        }
        int cg = g.cPerGroup(), kg = g.kPerGroup(), crs = crs(g), pq = g.p() * g.q();
        int hp = g.h() + 2 * g.padH(), wp = g.w() + 2 * g.padW();
        long hw = (long) g.h() * g.w();
        overImages(g, (start, end, parallelGemm) -> {
            ConvScratch s = ConvScratch.get();
            float[] padded = s.buffer(PADDED, paddedSize(g));
            float[] cols = s.buffer(COLS, (long) crs * pq);
            MemorySegment colSeg = MemorySegment.ofArray(cols);
            for (int img = start; img < end; img++) {
                for (int grp = 0; grp < g.groups(); grp++) {
                    long dxg = dxOff + ((long) img * g.c() + (long) grp * cg) * hw;
                    long dyg = dyOff + ((long) img * g.k() + (long) grp * kg) * pq;
                    long wg = wOff + (long) grp * kg * crs;
                    gemm(parallelGemm, true, false, crs, pq, kg, w, wg, crs, dy, dyg, pq, 0f, colSeg, 0, pq);
                    Arrays.fill(padded, 0, (int) paddedSize(g), 0f);
                    Im2col.col2im(cols, cg, hp, wp, g.r(), g.s(), g.strideH(), g.strideW(), g.p(), g.q(), padded);
                    Im2col.crop(padded, cg, g.h(), g.w(), g.padH(), g.padW(), dx, dxg);
                }
            }
        });
    }

    /** Largest k·crs for the direct weight gradient (its lane partials take k·crs·VL floats per thread). */
    private static final int DIRECT_WEIGHT_GRAD_MAX = 1 << 17;
    /**
     * Shortest dot product (p·padded width) for the direct weight gradient: below it the per-image
     * lane-partial updates cost more than the transposition of the im2row path (measured: 32×32
     * images 1.7× faster direct, 16×16 and 8×8 slower).
     */
    private static final int DIRECT_WEIGHT_GRAD_MIN_LEN = 512;

    static void backwardWeight(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                               MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        if (WinogradWeightGradBands.supports(g)) {
            WinogradWeightGradBands.backwardWeight(g, x, xOff, dy, dyOff, dw, dwOff, dbias, dbOff);
            return;
        }
        if (WinogradWeightGrad.supports(g)) {
            WinogradWeightGrad.backwardWeight(g, x, xOff, dy, dyOff, dw, dwOff, dbias, dbOff);
            return;
        }
        if (DirectChannelsLastGrad.supports(g)) {
            DirectChannelsLastGrad.backward(g, x, xOff, dy, dyOff, null, 0, null, 0, dw, dwOff, dbias, dbOff);
            return;
        }
        if (GridConv.supports(g)) {
            GridConv.backwardWeight(g, x, xOff, dy, dyOff, dw, dwOff, dbias, dbOff);
            return;
        }
        if (g.strideH() == 1 && g.strideW() == 1 && (long) g.k() * crs(g) <= DIRECT_WEIGHT_GRAD_MAX
                && g.p() * (g.w() + 2 * g.padW()) >= DIRECT_WEIGHT_GRAD_MIN_LEN) {
            backwardWeightDirect(g, x, xOff, dy, dyOff, dw, dwOff, dbias, dbOff);
            return;
        }
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

    /**
     * Stride-1 weight gradient without im2col: dw[kk][(ci, i, j)] = Σ over output rows oh and
     * padded columns t < wp of dyWide[kk][oh·wp + t] · padded[(ci·hp + i)·wp + j + oh·wp + t],
     * where dyWide is dy with each row widened from q to wp by zeros, so the sum over t runs over
     * one contiguous range of both ({@link DotRows}). Lane partials per image range, folded in order.
     */
    private static void backwardWeightDirect(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                                             MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        int cg = g.cPerGroup(), kg = g.kPerGroup(), crs = crs(g), pq = g.p() * g.q(), k = g.k();
        int hp = g.h() + 2 * g.padH(), wp = g.w() + 2 * g.padW(), len = Sgemm.roundUp(g.p() * wp, DotRows.VL);
        long hw = (long) g.h() * g.w();
        int vl = DotRows.VL, size = k * crs * vl + k;   // one partial: lanes of dw (k, crs), then dbias (k)
        int chunks = Math.min(Parallel.threads(), g.n());
        float[] partials = ConvScratch.get().buffer(PARTIALS, (long) chunks * size);   // the caller's, filled by every chunk
        Parallel.forChunks(chunks, chunk -> {
            int start = (int) ((long) g.n() * chunk / chunks), end = (int) ((long) g.n() * (chunk + 1) / chunks);
            ConvScratch s = ConvScratch.get();
            int paddedLen = (int) paddedSize(g);
            float[] padded = s.buffer(PADDED, paddedLen + wp + DotRows.VL);   // + zeros: the last taps read past the end
            float[] dyWide = s.buffer(COLS, (long) kg * len);
            float[] tile = s.buffer(2, DotRows.TILE);
            int[] rowAt = s.ints(crs);
            for (int ci = 0, row = 0; ci < cg; ci++)
                for (int i = 0; i < g.r(); i++)
                    for (int j = 0; j < g.s(); j++) rowAt[row++] = (ci * hp + i) * wp + j;
            int part = chunk * size;
            Arrays.fill(partials, part, part + size, 0f);
            Arrays.fill(padded, paddedLen, paddedLen + wp + DotRows.VL, 0f);
            Arrays.fill(dyWide, 0, kg * len, 0f);                        // the widening columns and the tail stay zero
            for (int img = start; img < end; img++) {
                for (int grp = 0; grp < g.groups(); grp++) {
                    long xg = xOff + ((long) img * g.c() + (long) grp * cg) * hw;
                    long dyg = dyOff + ((long) img * g.k() + (long) grp * kg) * pq;
                    Im2col.pad(x, xg, cg, g.h(), g.w(), g.padH(), g.padW(), padded);
                    for (int kk = 0; kk < kg; kk++)
                        for (int oh = 0; oh < g.p(); oh++)
                            MemorySegment.copy(dy, F, (dyg + (long) kk * pq + (long) oh * g.q()) * Float.BYTES, dyWide, kk * len + oh * wp, g.q());
                    DotRows.accumulate(kg, crs, len, dyWide, 0, len, padded, rowAt, partials, part + grp * kg * crs * vl, tile);
                }
                if (dbias != null) addRowSums(dy, dyOff + (long) img * k * pq, k, pq, partials, part + k * crs * vl);
            }
        });
        for (int e = 0; e < k * crs; e++) {
            float sum = DotRows.reduce(partials, e * vl);
            for (int c = 1; c < chunks; c++) sum += DotRows.reduce(partials, c * size + e * vl);
            dw.setAtIndex(F, dwOff + e, sum);
        }
        if (dbias != null) {
            for (int ch = 0; ch < k; ch++) {
                float sum = partials[k * crs * vl + ch];
                for (int c = 1; c < chunks; c++) sum += partials[c * size + k * crs * vl + ch];
                dbias.setAtIndex(F, dbOff + ch, sum);
            }
        }
    }

    /** sums[ch] += Σ_e dy[ch·pq + e] for ch < k: vector partials, folded in a fixed lane order. */
    static void addRowSums(MemorySegment dy, long dyOff, int k, int pq, float[] sums, int at) {
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
