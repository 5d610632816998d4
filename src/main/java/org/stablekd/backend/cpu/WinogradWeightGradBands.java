package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;

/**
 * {@link WinogradWeightGrad}'s math (dU_ξ (k, c) = Σ_t dM_ξ (t, k) · V_ξ (t, c), then dw = Gᵀ dU G)
 * organized in bands that stay in L2, for layers of up to 64 channels. Per band of 32 to 64 tiles
 * (rows of tiles of one image, or several whole small images):
 * <ol>
 *   <li>the x and dy rows the band needs become zero-padded channels-last rows by 16×16
 *       in-register transposes ({@link WinogradChannelsLast#toChannelsLast}; tile t's gradient
 *       pixel (a, b) sits where the forward's output pixel would);</li>
 *   <li>V = Bᵀ d B (the forward's input transform) and dM = A dY Aᵀ, 16 channels per vector;</li>
 *   <li>per position ξ, dU_ξ += dM_ξᵀ V_ξ on a register tile of 16 output channels × 1 vector of
 *       input channels (c = 16) or 8 × 2 vectors (c ≥ 32), the accumulators loaded from and
 *       stored to the group's dU around the band.</li>
 * </ol>
 * Why not WinogradWeightGrad's organization: it transforms a whole segment of images (8 MiB of V
 * and dM, out to L3 and back) and turns planes to channels-last one float at a time; at 16
 * channels the products are a small part of the work, so that data movement is the layer
 * (16→16 at 32×32, batch 64, 2 threads: 5.6 ms against the direct grid path's 2.0).
 *
 * <p>With both gradients wanted ({@link #backward}, where {@link #fusesInputGradient}), each image's dy
 * rows, once channels-last, also feed WinogradChannelsLast's input gradient for the band's tile
 * rows: dy is turned channels-last once for both gradients.
 *
 * <p>Threads and determinism: the batch is cut into groups of up to {@value #GROUP} images (more
 * past 64 images, and more where the groups' partial dU would pass {@link #PARTIAL_FLOATS}), a
 * group per work item ({@link Parallel#forChunks}: a thread done with its own groups takes the
 * other's), each with its own dU (one in-order sum over its images' tiles); the groups' dU are
 * then added in group order. The grouping depends on the shape only, so the bits depend neither
 * on the thread count nor on which thread ran a group (Note [Determinism]).
 *
 * <p>Accuracy: the same products and transforms as WinogradWeightGrad, summed in a different
 * order; its documented bound |dw − dw_ref| ≤ 1e-5 · Σ|dy||x| per weight holds (tested).
 */
final class WinogradWeightGradBands {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;
    private static final int VL = 16;
    private static final int TILE = WinogradConv.TILE, ALPHA = WinogradConv.ALPHA, POSITIONS = WinogradConv.POSITIONS;
    /** Most images per group up to 64 images (see {@link #groupImages}): each group owns a partial dU. */
    static final int GROUP = 4;
    /**
     * Floats of V and dM per band, about (288 KiB: L2-resident), in 32 to 64 tiles: fewer tiles
     * per band make the accumulators' loads and stores count (64→64 at 8×8: 0.73 ms at 32, 0.84 at 16).
     */
    private static final int BAND_FLOATS = 72 * 1024;
    // ConvScratch slots
    private static final int XT = 51, DYT = 52, ROWS = 53, V = 54, DM = 55, DU = 56, TMP = 57;

    private WinogradWeightGradBands() {}

    /** Most channels in or out where it runs; wider layers stay on WinogradWeightGrad, whose longer sums win there. */
    static final int WIDEST = 64;

    /**
     * True where the weight gradient runs here: the layers WinogradChannelsLast computes (3×3,
     * stride 1, pad 1, channels in whole vectors of 16, AVX-512) with at most {@value #WIDEST}
     * channels in and out. Shape only; off with -Dstablekd.winograd=false.
     */
    static boolean supports(ConvGeometry g) {
        return WinogradConv.enabled() && WinogradChannelsLast.computes(g) && g.c() <= WIDEST && g.k() <= WIDEST;
    }

    /** Floats between positions of one group's dU: one cache line past the data (see WinogradConv.Plan.vStride). */
    private static int duStride(ConvGeometry g) {
        return g.k() * g.c() + WinogradConv.LINE;
    }

    /**
     * Shape-only plan: a band is bandRows tile rows of one image (images of at least a band's
     * tiles) or imagesPerBand whole images; a group is a whole number of bands' images.
     */
    private record Plan(int th, int tw, int bandRows, int imagesPerBand, int group) {
        static Plan of(ConvGeometry g) {
            int th = Sgemm.ceilDiv(g.h(), TILE), tw = Sgemm.ceilDiv(g.w(), TILE), perImage = th * tw;
            int bandTiles = Math.clamp(BAND_FLOATS / (POSITIONS * (g.c() + g.k())), 32, 64);
            int group = groupImages(g.n());
            if (perImage >= bandTiles) return new Plan(th, tw, Math.max(1, Math.min(th, bandTiles / tw)), 1, withinPartialBudget(g, group, 1));
            int images = bandTiles / perImage;
            return new Plan(th, tw, th, images, withinPartialBudget(g, images * Sgemm.ceilDiv(group, images), images));
        }
    }

    /**
     * Most floats of partial dU in all groups together (1 MiB), above which groups are made larger,
     * down to {@link #FEWEST_GROUPS}: a partial is 36·(k·c + 16) floats whatever the group's size,
     * so small images made many large partials (64→64 at 8×8, batch 64: 8 groups of 590 KB, 4.7 MB
     * written and read back for the sum of 2.4 MFLOP of products per group).
     */
    static final int PARTIAL_FLOATS = 256 * 1024;
    /** Fewest groups the partials' budget leaves (so that 4 threads still each get a group). */
    static final int FEWEST_GROUPS = 4;

    /**
     * group (images, a whole number of bands of imagesPerBand), made larger where the groups'
     * partial dU together pass {@link #PARTIAL_FLOATS}: the largest power of two of groups within
     * it, at least {@link #FEWEST_GROUPS}. Shape only. Measured on resnet20's step (2-vCPU Zen 4,
     * 2026-12-06, switching rules every two steps in one JVM): −0.6 % median; with 2 groups at
     * least, −1.4 % and −2.8 %, not kept (machines of 4+ threads would leave threads idle).
     */
    private static int withinPartialBudget(ConvGeometry g, int group, int imagesPerBand) {
        int n = g.n(), groups = Sgemm.ceilDiv(n, group), most = Math.max(FEWEST_GROUPS, PARTIAL_FLOATS / (POSITIONS * duStride(g)));
        if (groups <= most) return group;
        return imagesPerBand * Sgemm.ceilDiv(Sgemm.ceilDiv(n, Integer.highestOneBit(most)), imagesPerBand);
    }

    /** Groups (partial dU) of a call: shape only (tests). */
    static int groups(ConvGeometry g) {
        return Sgemm.ceilDiv(g.n(), Plan.of(g).group());
    }

    /**
     * Images per group, from the batch size alone: up to 4 (n / 8, so that a batch of 8 still
     * gives every thread of a small machine work: 16→16 at 32×32, batch 4, was 1.3× slower than
     * the grid path on one group), more past 64 images so that there are at most 16 partial dU.
     */
    static int groupImages(int n) {
        return Math.max(Math.clamp(n / 8, 1, GROUP), Sgemm.ceilDiv(n, 16));
    }

    /** dw (k, c, 3, 3) and, if dbias != null, dbias (k) = Σ dy, for x (n, c, h, w) and dy (n, k, h, w). */
    static void backwardWeight(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                               MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        backward(g, false, x, xOff, dy, dyOff, null, dw, dwOff, dbias, dbOff);
    }

    /** backwardWeight for x (n, h, w, c) and dy (n, h, w, k) channels-last (no bias gradient). */
    static void backwardWeightChannelsLast(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                                           MemorySegment dw, long dwOff) {
        backward(g, true, x, xOff, dy, dyOff, null, dw, dwOff, null, 0);
    }

    /**
     * True where {@link #backward} computes both gradients in one pass: a layer whose weight
     * gradient runs here and whose input gradient runs on WinogradChannelsLast, with at least one
     * group of images per thread (else the input gradient alone would split images into bands over
     * the threads). Shape and thread count only; either way the bits are the same.
     */
    static boolean fusesInputGradient(ConvGeometry g) {
        return supports(g) && WinogradChannelsLast.supportsInputGradient(g)
                && Sgemm.ceilDiv(g.n(), Plan.of(g).group()) >= Parallel.threads();
    }

    /**
     * Both gradients where {@link #fusesInputGradient}: dx (n, c, h, w) as
     * WinogradChannelsLast.backwardInput computes it and dw (and dbias) as {@link #backwardWeight},
     * the same bits of each, but each band's dy rows are turned channels-last once for both (16→16
     * at 32×32, batch 64: that turn costs about 230 µs of a 1.4 ms input gradient). With dxPlus
     * != null (n, c, h, w), dx = dxPlus + the input gradient, the bits of the add after it (the
     * autograd's gradient sum where x also feeds a residual branch).
     */
    static void backward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                         MemorySegment dxPlus, long dxPlusOff, MemorySegment dx, long dxOff,
                         MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        InputGradient in = new InputGradient(WinogradChannelsLast.inputGradientWeights(g, w, wOff),
                WinogradChannelsLast.zeroBias(g.c()), dxPlus, dxPlusOff, dx, dxOff);
        backward(g, false, x, xOff, dy, dyOff, in, dw, dwOff, dbias, dbOff);
    }

    /**
     * {@link #backward} on channels-last tensors: x, dxPlus and dx (n, h, w, c), dy (n, h, w, k);
     * no bias gradient. The same sums and transforms, so the same bits; each band's rows are
     * copied in instead of turned (ResidualChainTraining keeps a stage channels-last throughout).
     */
    static void backwardChannelsLast(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                                     MemorySegment dxPlus, long dxPlusOff, MemorySegment dx, long dxOff, MemorySegment dw, long dwOff) {
        InputGradient in = new InputGradient(WinogradChannelsLast.inputGradientWeights(g, w, wOff),
                WinogradChannelsLast.zeroBias(g.c()), dxPlus, dxPlusOff, dx, dxOff);
        backward(g, true, x, xOff, dy, dyOff, in, dw, dwOff, null, 0);
    }

    /** What the fused pass needs for dx: the flipped weights' U, the zero bias, what to add (or null), and where dx goes. */
    private record InputGradient(float[] u, float[] zeroBias, MemorySegment dxPlus, long dxPlusOff, MemorySegment dx, long dxOff) {}

    /** dw (and dbias); also dx where in != null; with channelsLast, x, dy (and dx) are (n, h, w, channels). */
    private static void backward(ConvGeometry g, boolean channelsLast, MemorySegment x, long xOff, MemorySegment dy, long dyOff, InputGradient in,
                                 MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        Plan p = Plan.of(g);
        int n = g.n(), groups = Sgemm.ceilDiv(n, p.group()), us = duStride(g), groupFloats = POSITIONS * us;
        float[] du = ConvScratch.get().buffer(DU, (long) groups * groupFloats);
        Parallel.forChunks(groups, grp -> {
            boolean fresh = true;
            for (int img = grp * p.group(), end = Math.min(n, img + p.group()); img < end; img += p.imagesPerBand()) {
                int images = Math.min(p.imagesPerBand(), end - img);
                for (int ty = 0; ty < p.th(); ty += p.bandRows(), fresh = false) {
                    band(g, p, channelsLast, x, xOff, dy, dyOff, in, img, images, ty, Math.min(p.th(), ty + p.bandRows()), du,
                            grp * groupFloats, fresh);
                }
            }
        });
        // dU = Σ of the groups' dU, in group order
        int kc = g.k() * g.c();
        Parallel.forRange(POSITIONS, 1, (a, b) -> {
            for (int xi = a; xi < b; xi++)
                for (int grp = 1; grp < groups; grp++)
                    for (int i = xi * us, j = grp * groupFloats + xi * us, end = i + kc; i < end; i += VL, j += VL)
                        FloatVector.fromArray(SPECIES, du, i).add(FloatVector.fromArray(SPECIES, du, j)).intoArray(du, i);
        });
        Parallel.forRange(g.k(), 1, (a, b) -> WinogradWeightGrad.weightsFromPositions(g.c(), us, du, a, b, dw, dwOff));
        if (dbias != null) WinogradWeightGrad.biasGradient(g, dy, dyOff, dbias, dbOff);
    }

    /**
     * Tile rows [ty0, ty1) of images [img0, img0 + images): the three steps of the class comment,
     * into the dU at du[duAt..] (from zero when fresh); where in != null, also those tile rows of
     * dx, from each image's dy rows while they are channels-last.
     */
    private static void band(ConvGeometry g, Plan p, boolean channelsLast, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                             InputGradient in,
                             int img0, int images, int ty0, int ty1, float[] du, int duAt, boolean fresh) {
        int c = g.c(), k = g.k(), h = g.h(), w = g.w();
        int tw = p.tw(), wp = TILE * tw + 2, perImage = (ty1 - ty0) * tw, nt = images * perImage;
        int inRows = TILE * (ty1 - ty0) + 2, row0 = TILE * ty0 - 1;   // padded rows 4·ty0 − 1 .. 4·ty1 + 1
        int vs = nt * c + WinogradConv.LINE, ds = nt * k + WinogradConv.LINE, us = duStride(g);
        ConvScratch s = ConvScratch.get();
        float[] xt = s.buffer(XT, (long) inRows * wp * c);
        float[] dyt = s.buffer(DYT, (long) inRows * wp * k);
        float[] rows = s.buffer(ROWS, (long) Math.max(c, k) * inRows * w);
        float[] v = s.buffer(V, (long) POSITIONS * vs);
        float[] dm = s.buffer(DM, (long) POSITIONS * ds);
        float[] tmp = s.buffer(TMP, POSITIONS * VL);
        for (int i = 0; i < images; i++) {
            int img = img0 + i;
            if (channelsLast) {   // an image is c·h·w floats in either layout
                WinogradChannelsLast.rowsFromChannelsLast(x, xOff + (long) img * c * h * w, c, h, w, row0, inRows, wp, xt);
                WinogradChannelsLast.rowsFromChannelsLast(dy, dyOff + (long) img * k * h * w, k, h, w, row0, inRows, wp, dyt);
            } else {
                WinogradChannelsLast.toChannelsLast(x, xOff + (long) img * c * h * w, c, h, w, row0, inRows, wp, rows, xt, tmp);
                WinogradChannelsLast.toChannelsLast(dy, dyOff + (long) img * k * h * w, k, h, w, row0, inRows, wp, rows, dyt, tmp);
            }
            for (int lt = 0, t = i * perImage; lt < perImage; lt++, t++) {
                int ty = TILE * (lt / tw), tx = TILE * (lt % tw);
                for (int cv = 0; cv < c; cv += VL) {
                    // V = Bᵀ d B: the 6 rows of the patch into tmp (6, 6, VL), then its 6 columns into v at ξ = 6i + j
                    int at = (ty * wp + tx) * c + cv;
                    for (int r = 0; r < ALPHA; r++) WinogradConv.transformInput(xt, at + r * wp * c, c, tmp, r * ALPHA * VL, VL);
                    for (int j = 0; j < ALPHA; j++) WinogradConv.transformInput(tmp, j * VL, ALPHA * VL, v, j * vs + t * c + cv, ALPHA * vs);
                }
                for (int kv = 0; kv < k; kv += VL) {
                    // dM = A dY Aᵀ: the tile's 4 gradient rows (at padded (1 + ty, 1 + tx)) into tmp (4, 6, VL), then its 6 columns into dm
                    int at = ((ty + 1) * wp + tx + 1) * k + kv;
                    for (int a = 0; a < TILE; a++) WinogradWeightGrad.gradientRow(dyt, at + a * wp * k, k, tmp, a * ALPHA * VL, VL);
                    for (int e = 0; e < ALPHA; e++) WinogradWeightGrad.gradientRow(tmp, e * VL, ALPHA * VL, dm, e * ds + t * k + kv, ALPHA * ds);
                }
            }
            if (in != null) {
                WinogradChannelsLast.inputGradientBand(g, channelsLast, dyt, in.u(), in.zeroBias(), in.dxPlus(), in.dxPlusOff(), in.dx(), in.dxOff(),
                        img, ty0, ty1);
            }
        }
        for (int xi = 0; xi < POSITIONS; xi++) {
            int vAt = xi * vs, dAt = xi * ds, uAt = duAt + xi * us;
            int c0 = 0;
            for (; c - c0 >= 2 * VL; c0 += 2 * VL)
                for (int k0 = 0; k0 < k; k0 += 8)
                    WinogradWeightGrad.tile8x2(nt, dm, dAt + k0, k, v, vAt + c0, c, du, uAt + k0 * c + c0, c, fresh);
            if (c0 < c)
                for (int k0 = 0; k0 < k; k0 += VL) tile16x1(nt, dm, dAt + k0, k, v, vAt + c0, c, du, uAt + k0 * c + c0, c, fresh);
        }
    }

    /**
     * du[u + r·ldu + l] (+)= Σ_{t < tiles} dm[d + t·ldd + r] · v[b + t·ldv + l] for r < 16, l < 16:
     * 16 output channels × 1 vector of input channels, in order over t; from zero when fresh.
     */
    private static void tile16x1(int tiles, float[] dm, int d, int ldd, float[] v, int b, int ldv, float[] du, int u, int ldu, boolean fresh) {
        FloatVector c0 = WinogradWeightGrad.start(du, u, fresh), c1 = WinogradWeightGrad.start(du, u + ldu, fresh),
                c2 = WinogradWeightGrad.start(du, u + 2 * ldu, fresh), c3 = WinogradWeightGrad.start(du, u + 3 * ldu, fresh),
                c4 = WinogradWeightGrad.start(du, u + 4 * ldu, fresh), c5 = WinogradWeightGrad.start(du, u + 5 * ldu, fresh),
                c6 = WinogradWeightGrad.start(du, u + 6 * ldu, fresh), c7 = WinogradWeightGrad.start(du, u + 7 * ldu, fresh),
                c8 = WinogradWeightGrad.start(du, u + 8 * ldu, fresh), c9 = WinogradWeightGrad.start(du, u + 9 * ldu, fresh),
                c10 = WinogradWeightGrad.start(du, u + 10 * ldu, fresh), c11 = WinogradWeightGrad.start(du, u + 11 * ldu, fresh),
                c12 = WinogradWeightGrad.start(du, u + 12 * ldu, fresh), c13 = WinogradWeightGrad.start(du, u + 13 * ldu, fresh),
                c14 = WinogradWeightGrad.start(du, u + 14 * ldu, fresh), c15 = WinogradWeightGrad.start(du, u + 15 * ldu, fresh);
        for (int t = 0; t < tiles; t++, d += ldd, b += ldv) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, v, b);
            c0 = bc(dm[d]).fma(b0, c0); c1 = bc(dm[d + 1]).fma(b0, c1); c2 = bc(dm[d + 2]).fma(b0, c2); c3 = bc(dm[d + 3]).fma(b0, c3);
            c4 = bc(dm[d + 4]).fma(b0, c4); c5 = bc(dm[d + 5]).fma(b0, c5); c6 = bc(dm[d + 6]).fma(b0, c6); c7 = bc(dm[d + 7]).fma(b0, c7);
            c8 = bc(dm[d + 8]).fma(b0, c8); c9 = bc(dm[d + 9]).fma(b0, c9); c10 = bc(dm[d + 10]).fma(b0, c10); c11 = bc(dm[d + 11]).fma(b0, c11);
            c12 = bc(dm[d + 12]).fma(b0, c12); c13 = bc(dm[d + 13]).fma(b0, c13); c14 = bc(dm[d + 14]).fma(b0, c14); c15 = bc(dm[d + 15]).fma(b0, c15);
        }
        c0.intoArray(du, u); c1.intoArray(du, u + ldu); c2.intoArray(du, u + 2 * ldu); c3.intoArray(du, u + 3 * ldu);
        c4.intoArray(du, u + 4 * ldu); c5.intoArray(du, u + 5 * ldu); c6.intoArray(du, u + 6 * ldu); c7.intoArray(du, u + 7 * ldu);
        c8.intoArray(du, u + 8 * ldu); c9.intoArray(du, u + 9 * ldu); c10.intoArray(du, u + 10 * ldu); c11.intoArray(du, u + 11 * ldu);
        c12.intoArray(du, u + 12 * ldu); c13.intoArray(du, u + 13 * ldu); c14.intoArray(du, u + 14 * ldu); c15.intoArray(du, u + 15 * ldu);
    }

    private static FloatVector bc(float f) {
        return FloatVector.broadcast(SPECIES, f);
    }
}
