package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

/**
 * {@link WinogradConv}'s F(4×4, 3×3) with the channels along the vectors: one vector holds 16
 * channels of one pixel, so the transforms are whole-vector arithmetic and no patch is ever
 * transposed lane by lane. NCHW at both ends, channels-last inside ({@link #forwardChannelsLast}:
 * channels-last at both ends too, for {@link ResidualChainChannelsLast}). Per band of tile rows of one image:
 * <ol>
 *   <li>the input rows the band needs are turned into zero-padded channels-last rows xt (rows, wp, c)
 *       by 16×16 in-register transposes ({@link Transpose16});</li>
 *   <li>input transform per tile and vector of 16 channels: V (36, tiles, c) = Bᵀ d B;</li>
 *   <li>per position ξ the product M_ξ (tiles, k) = V_ξ (tiles, c) · U_ξ (c, k), in order over c, on a
 *       register tile of 8 tiles × 16 or 32 output channels, or 6 tiles × 64 where k is a multiple
 *       of 64: per input channel, each broadcast of V feeds 1, 2 or 4 FMAs;</li>
 *   <li>output transform Aᵀ M A + bias (+ ReLU) per tile into channels-last output rows, turned
 *       back into NCHW rows by the same transposes.</li>
 * </ol>
 * Where it runs ({@link #supports}, measured on the 2-vCPU Zen 4, 2026-12-06, µs per call): layers
 * with 16 or 32 channels in and out at every batch size, forward and input gradient (16→16 at
 * 32×32, batch 1: 40 against the grid path's 48; batch 64, 2 threads: 1512 against 1645; 32→32 at
 * 16×16: 24 against WinogradFewTiles' 43 at batch 1, 1067 against WinogradConv's 1241 at batch
 * 64); wider layers (c and k multiples of 16) only at batch-1 sizes under an inference WeightCache,
 * where it replaces WinogradFewTiles (64→64 at 8×8 18 against 29, 256→256 at 8×8 423 against 567,
 * one thread; since 2026-12-06 the widest 8×8 ones, c·k ≥ 128², run F(2×2, 3×3) on
 * {@link WinogradF2ChannelsLast} instead). At batch 64 WinogradConv keeps the wide layers: one image's 4 to 16 tiles per pass
 * over U (64→64 at 8×8: 1.3× slower here). At 16 channels WinogradConv's tiles-along-vectors layout
 * spent most of its time moving data (products 25 % of the layer), which is why its rule starts at 32.
 *
 * <p>Threads: bands are whole images when the batch has at least as many images as threads, else
 * each image is cut into bands of tile rows (at most one per thread, and none smaller than a
 * register tile); a band does all four steps on its own (one parallel section per call, each band
 * an item of {@link Parallel#forChunks}, so a thread done with its half takes the other's last bands).
 *
 * <p>Determinism and accuracy: every output is, per ξ, one in-order sum over c and then the same
 * transforms, whatever the bands, so the bits do not depend on the thread count (Note
 * [Determinism]). They are WinogradConv's and WinogradFewTiles' bits (the same sums and transforms,
 * turned around; tested from 32 to 192 channels) and obey their documented bound,
 * |y − y_ref| ≤ 2e-5 · Σ|w||x| per output (tested).
 *
 * <p>The input gradient (stride 1) is the same convolution of dy with the flipped weights, c and k
 * swapped ({@link #backwardInput}). The transformed weights are cached under an inference
 * {@link WeightCache}, else computed per call (16×16 weights: a few µs).
 */
final class WinogradChannelsLast {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;
    private static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();
    private static final int VL = 16;
    private static final int TILE = WinogradConv.TILE, ALPHA = WinogradConv.ALPHA, POSITIONS = WinogradConv.POSITIONS;
    /** Tiles per register tile: 8 (16 or 32 output channels), 6 where k is a multiple of 64 (6 tiles × 4 vectors). */
    private static final int TT = 8, WIDE_TT = 6;
    /** Most input and output channels where it runs at every batch size (wider: batch-1 inference only). */
    static final int NARROW = 32;
    // ConvScratch slots
    private static final int XT = 41, V = 42, M = 43, YT = 44, ROWS = 45, U = 46, W_COPY = 48, TMP = 49, BIAS = 50;

    private WinogradChannelsLast() {}

    /**
     * True for a layer it computes: WinogradConv's (3×3, stride 1, pad 1, one group), c and k
     * multiples of 16, on 16-float vectors (AVX-512: the transforms are WinogradConv's, at its
     * vector width, and must match this class's 16-channel vectors).
     */
    static boolean computes(ConvGeometry g) {
        return GridGemm.VL == VL && WinogradConv.computes(g) && g.c() % VL == 0 && g.k() % VL == 0;
    }

    private static boolean narrow(ConvGeometry g) {
        return g.c() <= NARROW && g.k() <= NARROW;
    }

    /**
     * True where the forward runs here: a layer it computes with 16 or 32 channels in and out; or
     * wider, with fewer than {@link WinogradConv#MIN_TILES} tiles in the batch, under an inference
     * WeightCache, and weights it can cache (native). Shape and cache only, never timing; off with
     * -Dstablekd.winograd=false.
     */
    static boolean supports(ConvGeometry g, boolean nativeWeights) {
        if (!WinogradConv.enabled() || !computes(g)) return false;
        if (narrow(g)) return true;
        long tiles = (long) g.n() * Sgemm.ceilDiv(g.h(), TILE) * Sgemm.ceilDiv(g.w(), TILE);
        return nativeWeights && WeightCache.current() != null && tiles < WinogradConv.MIN_TILES;
    }

    /** True where the input gradient (a forward of dy with c and k swapped) runs here: 16 or 32 channels in and out. */
    static boolean supportsInputGradient(ConvGeometry g) {
        return WinogradConv.enabled() && computes(g) && narrow(g);
    }

    // ---------------------------------------------------------------- weights

    /**
     * u[uAt(k, c, ξ, kk) + ci·uBlock(k)] = U_ξ[kk][ci] = (G w[kk][ci] Gᵀ)[ξ], output channels
     * contiguous within a block (see {@link #uBlock}); with flip,
     * the input gradient's weights (w is then (c, k, 3, 3): see WinogradConv.transformWeights).
     * Computed by WinogradWeightTransform, as WinogradConv's are, so the floats are its floats.
     */
    private static void transformWeights(MemorySegment w, long wOff, int k, int c, boolean flip, float[] u, ConvScratch s) {
        float[] wf = s.buffer(W_COPY, k * c * 9);
        MemorySegment.copy(w, ValueLayout.JAVA_FLOAT, wOff * Float.BYTES, wf, 0, k * c * 9);
        // straight into U's layout, output channels split over the threads (at least WEIGHTS_PER_THREAD
        // weights each). Until 2026-12-06 this went through WinogradConv's panel layout and a reorder
        // with two divisions per float, on the caller alone: 0.6 ms of each resnet20 step (JFR).
        int kb = uBlock(k), lanes = WinogradWeightTransform.LANES;   // k and kb are multiples of 16, so of lanes
        Parallel.forRange(k / lanes, Math.max(1, WEIGHTS_PER_THREAD / (c * lanes)), (g0, g1) -> {
            double[] scratch = new double[WinogradWeightTransform.SCRATCH];
            for (int kk = g0 * lanes; kk < g1 * lanes; kk += lanes) {
                int at = uAt(k, c, 0, kk);   // U_ξ[kk][ci] at at + ξ·c·kb + ci·kb, the lanes' channels next to it
                for (int ci = 0; ci < c; ci++) WinogradWeightTransform.lanes(wf, k, c, flip, kk, ci, scratch, u, at + ci * kb, c * kb);
            }
        });
    }

    /** Fewest weights a thread transforms (fewer: a pool hand-off costs more than it saves; 16×16 take about 5 µs). */
    private static final int WEIGHTS_PER_THREAD = 512;

    /**
     * Output channels per block of U: 64 where k is a multiple of 64, else all of k. U is
     * (k/block, 36, c, block), so a register tile streams c·block contiguous floats (measured in
     * resnet8x4 at batch 1, where 9.4 MB of U come from L3 every call: rows of k floats, 1 KB apart
     * at 256 channels, made the call 2.4 → 3.1 ms).
     */
    private static int uBlock(int k) {
        return k % (4 * VL) == 0 ? 4 * VL : k;
    }

    /** Index of U_ξ[kk][ci = 0]; consecutive ci are uBlock(k) floats apart. */
    private static int uAt(int k, int c, int xi, int kk) {
        int kb = uBlock(k);
        return ((kk / kb) * POSITIONS + xi) * c * kb + kk % kb;
    }

    private static float[] forwardWeights(ConvGeometry g, MemorySegment w, long wOff) {
        int k = g.k(), c = g.c();
        WeightCache cache = WeightCache.current();
        if (cache != null && w.isNative()) {
            return cache.packed(w, wOff, "winograd-channels-last", k, c * 9, () -> {
                float[] u = new float[POSITIONS * c * k];
                transformWeights(w, wOff, k, c, false, u, ConvScratch.get());
                return u;
            });
        }
        ConvScratch s = ConvScratch.get();
        float[] u = s.buffer(U, (long) POSITIONS * c * k);
        transformWeights(w, wOff, k, c, false, u, s);
        return u;
    }

    // ---------------------------------------------------------------- entry points

    /** y = conv(x, w) + bias, then max(0, ·) if relu; x (n, c, h, w), w (k, c, 3, 3), y (n, k, h, w), all contiguous. */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int bands = bandsPerImage(g);
        forward(g, x, xOff, w, wOff, bias, bOff, y, yOff, relu, bands, kParts(g, bands));
    }

    /** forward with each image cut into perImage bands and k into kParts (tests: the bits do not depend on either). */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu, int perImage, int kParts) {
        forward(g, x, xOff, w, wOff, bias, bOff, null, 0, y, yOff, relu, perImage, kParts);
    }

    /**
     * y = max(conv(x, w) + bias + r, 0) for r (n, k, h, w) contiguous: the add and the ReLU in the
     * copy out of each band (CpuPointwise.addRelu's arithmetic: the same bits as the two ops).
     */
    static void forwardAddRelu(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                               MemorySegment bias, long bOff, MemorySegment r, long rOff, MemorySegment y, long yOff) {
        int bands = bandsPerImage(g);
        forward(g, x, xOff, w, wOff, bias, bOff, r, rOff, y, yOff, false, bands, kParts(g, bands));
    }

    /** The forward; with r != null, y = max(· + r, 0) (relu must then be false). */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment bias, long bOff,
                        MemorySegment r, long rOff, MemorySegment y, long yOff, boolean relu, int perImage, int kParts) {
        run(g, false, x, xOff, forwardWeights(g, w, wOff), biasCopy(g, bias, bOff), relu, r, rOff, false, y, yOff, perImage, kParts);
    }

    /**
     * The forward on channels-last tensors, x (n, h, w, c), r and y (n, h, w, k): y = conv(x, w) +
     * bias, then max(0, ·) if relu, or max(· + r, 0) where r != null. The same sums and transforms as
     * on NCHW tensors, so the same bits; only the copies in and out differ (rows instead of
     * transposes). Any layer it computes, at any batch size.
     */
    static void forwardChannelsLast(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment bias, long bOff,
                                    MemorySegment r, long rOff, MemorySegment y, long yOff, boolean relu) {
        int bands = bandsPerImage(g);
        run(g, true, x, xOff, forwardWeights(g, w, wOff), biasCopy(g, bias, bOff), relu, r, rOff, false, y, yOff, bands, kParts(g, bands));
    }

    /** The bias as g.k() floats in the caller's scratch (zeros where bias is null): read by every thread of a call. */
    static float[] biasCopy(ConvGeometry g, MemorySegment bias, long bOff) {
        float[] bf = zeros(ConvScratch.get().buffer(BIAS, g.k()), g.k());
        if (bias != null) MemorySegment.copy(bias, ValueLayout.JAVA_FLOAT, bOff * Float.BYTES, bf, 0, g.k());
        return bf;
    }

    /** dx = conv(dy, w') for dy (n, k, h, w), w (k, c, 3, 3), dx (n, c, h, w): w' flipped, channels swapped. */
    static void backwardInput(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff, MemorySegment dx, long dxOff) {
        float[] u = inputGradientWeights(g, w, wOff);
        ConvGeometry t = inputGradientGeometry(g);
        int bands = bandsPerImage(t);
        run(t, false, dy, dyOff, u, zeroBias(g.c()), false, null, 0, false, dx, dxOff, bands, kParts(t, bands));
    }

    /**
     * backwardInput on channels-last tensors, dy (n, h, w, k) and dx (n, h, w, c); with dxPlus !=
     * null (laid out as dx), dx = dxPlus + that (the bits of the add after it). The same bits as
     * WinogradWeightGradBands' fused pass computes for dx.
     */
    static void backwardInputChannelsLast(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                                          MemorySegment dxPlus, long dxPlusOff, MemorySegment dx, long dxOff) {
        float[] u = inputGradientWeights(g, w, wOff);
        ConvGeometry t = inputGradientGeometry(g);
        int bands = bandsPerImage(t);
        run(t, true, dy, dyOff, u, zeroBias(g.c()), false, dxPlus, dxPlusOff, true, dx, dxOff, bands, kParts(t, bands));
    }

    /** The input gradient's U (the flipped, channel-swapped weights), in the caller's scratch: valid until its next call here. */
    static float[] inputGradientWeights(ConvGeometry g, MemorySegment w, long wOff) {
        ConvScratch s = ConvScratch.get();
        float[] u = s.buffer(U, (long) POSITIONS * g.c() * g.k());
        transformWeights(w, wOff, g.c(), g.k(), true, u, s);
        return u;
    }

    /** c zeros (the input gradient's bias), in the caller's scratch. */
    static float[] zeroBias(int c) {
        return zeros(ConvScratch.get().buffer(BIAS, c), c);
    }

    /** The convolution the input gradient is: dy (n, k, h, w) in, c channels out. */
    private static ConvGeometry inputGradientGeometry(ConvGeometry g) {
        return ConvGeometry.of(g.n(), g.k(), g.h(), g.w(), g.c(), 3, 3, 1, 1, 1, 1, 1);
    }

    /**
     * The input gradient's tile rows [ty0, ty1) of image img, with dy's rows already channels-last
     * as {@link #toChannelsLast} leaves them (rows 4·ty0 − 1 .. 4·ty1 + 1, width 4·⌈w/4⌉ + 2, k
     * channels): steps 2 to 4 of the class comment, the bits of {@link #backwardInput}'s; with
     * dxPlus != null (laid out as dx), dx = dxPlus + that, the bits of the add after it; with
     * channelsLast, dxPlus and dx are (n, h, w, c). For WinogradWeightGradBands, which turns the
     * same dy rows channels-last for the weight gradient.
     */
    static void inputGradientBand(ConvGeometry g, boolean channelsLast, float[] dyt, float[] u, float[] zeroBias, MemorySegment dxPlus,
                                  long dxPlusOff, MemorySegment dx, long dxOff, int img, int ty0, int ty1) {
        bandFromRows(inputGradientGeometry(g), channelsLast, dyt, u, zeroBias, false, dxPlus, dxPlusOff, true, dx, dxOff, img, ty0, ty1, 0, g.c());
    }

    private static float[] zeros(float[] a, int n) {
        java.util.Arrays.fill(a, 0, n, 0f);
        return a;
    }

    // ---------------------------------------------------------------- the pipeline

    /** Tiles per register tile for k output channels. */
    private static int tilesPerRegisterTile(int k) {
        return k % (4 * VL) == 0 ? WIDE_TT : TT;
    }

    /** Bands per image: 1 (whole images) when there are as many images as threads, else tile rows split among the threads. */
    private static int bandsPerImage(ConvGeometry g) {
        int th = Sgemm.ceilDiv(g.h(), TILE), tiles = th * Sgemm.ceilDiv(g.w(), TILE);
        // a band of fewer tiles than a register tile would redo the same products on padding
        int most = Math.max(1, Math.min(th, tiles / tilesPerRegisterTile(g.k())));
        return g.n() >= Parallel.threads() ? 1 : Math.min(most, Sgemm.ceilDiv(Parallel.threads(), g.n()));
    }

    /**
     * Output-channel parts per band: with fewer bands than threads (batch 1, few tiles) a layer of
     * 64+ output channels is also cut along k, in parts of whole vectors (each part redoes the input
     * transform; what it saves is its share of the products and of U, which at 4 tiles is read once
     * per 4 FMAs: 64→64 at 8×8 streams 590 KB of U per call), unless a part would get fewer than
     * {@link #MIN_PART_MACS} multiply-adds.
     */
    private static int kParts(ConvGeometry g, int bands) {
        int units = g.n() * bands;
        int parts = g.k() >= 4 * VL && units < Parallel.threads() ? Math.min(Sgemm.ceilDiv(Parallel.threads(), units), g.k() / (2 * VL)) : 1;
        long tiles = (long) g.n() * Sgemm.ceilDiv(g.h(), TILE) * Sgemm.ceilDiv(g.w(), TILE);
        if (parts > 1 && (long) POSITIONS * tiles * g.c() * g.k() / parts < MIN_PART_MACS) return 1;
        return parts;
    }

    /**
     * Fewest product multiply-adds (36 · tiles · c · k / parts) per part of k. Below it one thread
     * computes the layer: the next layer reads every channel, so half of them would cross between
     * the vCPUs. Measured on the 2-vCPU Zen 5 (2026-12-06, batch-1 predictor on 2 threads, one JVM
     * switching every 300 calls, with the pool's spin at 400 µs, see Parallel): resnet20's call
     * 0.334 against 0.343 and 0.338 against 0.352 ms (its 64→64 layers at 8×8, 295 K per part,
     * now whole: the chain of two blocks 68–77 against 101–107 µs); with the spin at 100 µs the
     * worker parked in the gap that left and woke late for the next call's first layers, and the
     * call gained nothing (0.486 against 0.486).
     */
    static final long MIN_PART_MACS = Long.getLong("stablekd.winogradMinPartMacs", 1_000_000);

    /**
     * The bands of a call (one parallel section); with channelsLast, x, r and y are (n, h, w,
     * channels) instead of NCHW; with r != null, y = · + r where plainAdd, else max(· + r, 0).
     */
    private static void run(ConvGeometry g, boolean channelsLast, MemorySegment x, long xOff, float[] u, float[] bias, boolean relu,
                    MemorySegment r, long rOff, boolean plainAdd, MemorySegment y, long yOff, int perImage, int kParts) {
        // parts of k in steps of 32 channels where U comes in 64-channel blocks (a 32-channel register tile never straddles two)
        int th = Sgemm.ceilDiv(g.h(), TILE), step = uBlock(g.k()) == 4 * VL ? 2 * VL : VL, steps = g.k() / step;
        Parallel.forChunks(g.n() * perImage * kParts, unit -> {
            int img = unit / (perImage * kParts), b = unit / kParts % perImage, part = unit % kParts;
            int k0 = step * (steps * part / kParts), k1 = step * (steps * (part + 1) / kParts);
            if (k1 == k0) return;   // more parts than steps (tests only)
            band(g, channelsLast, x, xOff, u, bias, relu, r, rOff, plainAdd, y, yOff, img, th * b / perImage, th * (b + 1) / perImage, k0, k1);
        });
    }

    /**
     * Output tile rows [ty0, ty1) of image img, output channels [k0, k1): the four steps of the
     * class comment; with channelsLast, x, r and y are (n, h, w, channels) and steps 1 and 4 are
     * row copies instead of transposes.
     */
    private static void band(ConvGeometry g, boolean channelsLast, MemorySegment x, long xOff, float[] u, float[] bias, boolean relu,
                             MemorySegment r, long rOff, boolean plainAdd, MemorySegment y, long yOff, int img, int ty0, int ty1, int k0, int k1) {
        int c = g.c(), h = g.h(), w = g.w();
        int tw = Sgemm.ceilDiv(w, TILE), wp = TILE * tw + 2;
        int inRows = TILE * (ty1 - ty0) + 2;                  // input rows 4·ty0 − 1 .. 4·ty1 + 1
        ConvScratch s = ConvScratch.get();
        float[] xt = s.buffer(XT, (long) inRows * wp * c);
        if (channelsLast) {
            rowsFromChannelsLast(x, xOff + (long) img * c * h * w, c, h, w, TILE * ty0 - 1, inRows, wp, xt);
        } else {
            float[] rows = s.buffer(ROWS, (long) c * inRows * w), tmp = s.buffer(TMP, POSITIONS * VL);
            toChannelsLast(x, xOff + (long) img * c * h * w, c, h, w, TILE * ty0 - 1, inRows, wp, rows, xt, tmp);
        }
        bandFromRows(g, channelsLast, xt, u, bias, relu, r, rOff, plainAdd, y, yOff, img, ty0, ty1, k0, k1);
    }

    /**
     * Steps 2 to 4 of {@link #band}, from its input rows xt already channels-last; with r != null,
     * y = · + r where plainAdd, else max(· + r, 0).
     */
    private static void bandFromRows(ConvGeometry g, boolean channelsLast, float[] xt, float[] u, float[] bias, boolean relu,
                                     MemorySegment r, long rOff, boolean plainAdd, MemorySegment y, long yOff,
                                     int img, int ty0, int ty1, int k0, int k1) {
        int c = g.c(), k = g.k(), kw = k1 - k0, h = g.h(), w = g.w();
        int tw = Sgemm.ceilDiv(w, TILE), wp = TILE * tw + 2, wo = TILE * tw;
        int tt = tilesPerRegisterTile(kw), tileRows = ty1 - ty0, nt = tileRows * tw, ntp = ConvGrid.roundUp(nt, tt);
        int y0 = TILE * ty0, y1 = Math.min(h, TILE * ty1);    // output rows of the band
        int vs = ntp * c + WinogradConv.LINE, ms = ntp * kw + WinogradConv.LINE;   // between positions: see WinogradConv.Plan.vStride
        ConvScratch s = ConvScratch.get();
        float[] rows = s.buffer(ROWS, (long) kw * (y1 - y0) * w);
        float[] v = s.buffer(V, (long) POSITIONS * vs);
        float[] m = s.buffer(M, (long) POSITIONS * ms);
        float[] yt = s.buffer(YT, (long) TILE * tileRows * wo * kw);
        float[] tmp = s.buffer(TMP, POSITIONS * VL);

        for (int t = 0; t < ntp; t++) {
            for (int cv = 0; cv < c; cv += VL) {
                int vAt = t * c + cv;
                if (t >= nt) {   // the last register tile's missing tiles: zero, so the products stay finite
                    for (int xi = 0; xi < POSITIONS; xi++) FloatVector.zero(SPECIES).intoArray(v, xi * vs + vAt);
                    continue;
                }
                int base = (TILE * (t / tw) * wp + TILE * (t % tw)) * c + cv;
                for (int i = 0; i < ALPHA; i++) WinogradConv.transformInput(xt, base + i * wp * c, c, tmp, i * ALPHA * VL, VL);
                for (int j = 0; j < ALPHA; j++) WinogradConv.transformInput(tmp, j * VL, ALPHA * VL, v, j * vs + vAt, ALPHA * vs);
            }
        }
        for (int xi = 0; xi < POSITIONS; xi++)
            for (int t = 0; t < ntp; t += tt) {
                int va = xi * vs + t * c, ma = xi * ms + t * kw, ku = uBlock(k);
                if (tt == WIDE_TT) {   // a multiple of 64 channels: 6 (or, for a last group of 4 or fewer, 4) tiles × 64 channels
                    for (int kv = 0; kv < kw; kv += 4 * VL) {
                        if (nt - t <= 4) tile4x4(c, ku, kw, v, va, u, uAt(k, c, xi, k0 + kv), m, ma + kv);
                        else tile6x4(c, ku, kw, v, va, u, uAt(k, c, xi, k0 + kv), m, ma + kv);
                    }
                } else {
                    for (int kv = 0; kv < kw; kv += 2 * VL) {
                        if (kw - kv < 2 * VL) tile8(c, ku, kw, v, va, u, uAt(k, c, xi, k0 + kv), m, ma + kv);
                        else if (nt - t <= 4) tile4x2(c, ku, kw, v, va, u, uAt(k, c, xi, k0 + kv), m, ma + kv);
                        else tile8x2(c, ku, kw, v, va, u, uAt(k, c, xi, k0 + kv), m, ma + kv);
                    }
                }
            }
        for (int t = 0; t < nt; t++) {
            int oy = TILE * (t / tw), ox = TILE * (t % tw);
            for (int kv = 0; kv < kw; kv += VL) {
                outputTile(m, t * kw + kv, ms, bias, k0 + kv, relu, tmp, yt, (oy * wo + ox) * kw + kv, wo * kw, kw);
            }
        }
        if (channelsLast) {
            long at = ((long) img * h + y0) * w * k + k0;   // the band's first pixel, channel k0
            toChannelsLastRows(yt, kw, k, y1 - y0, w, wo, r, rOff + at, plainAdd, y, yOff + at);
            return;
        }
        long at = ((long) img * k + k0) * h * w + (long) y0 * w;   // the band's first output, plane k0
        toPlanes(yt, kw, y1 - y0, w, wo, rows, r, rOff + at, plainAdd, y, yOff + at, h * w);
    }

    /** xt as {@link #toChannelsLast} leaves it, from x already channels-last (h, w, c): one copy of w·c floats per live row. */
    static void rowsFromChannelsLast(MemorySegment x, long xOff, int c, int h, int w, int row0, int inRows, int wp, float[] xt) {
        int rowLen = wp * c;
        for (int r = 0; r < inRows; r++) {
            int at = r * rowLen, row = row0 + r;
            if (row < 0 || row >= h) {
                java.util.Arrays.fill(xt, at, at + rowLen, 0f);
                continue;
            }
            java.util.Arrays.fill(xt, at, at + c, 0f);
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, (xOff + (long) row * w * c) * Float.BYTES, xt, at + c, w * c);
            java.util.Arrays.fill(xt, at + (w + 1) * c, at + rowLen, 0f);
        }
    }

    /**
     * y[(r·w + col)·k + kk] = yt[(r·wo + col)·kw + kk] for r < nRows, col < w, kk < kw (y channels-last
     * with k channels, from its channel k0): whole rows where kw = k, else pixel by pixel; with
     * res != null, y = · + res where plainAdd, else max(· + res, 0), res laid out as y.
     */
    private static void toChannelsLastRows(float[] yt, int kw, int k, int nRows, int w, int wo, MemorySegment res, long resOff,
                                           boolean plainAdd, MemorySegment y, long yOff) {
        for (int r = 0; r < nRows; r++) {
            int runs = kw == k ? 1 : w, len = kw == k ? w * k : kw;
            for (int i = 0; i < runs; i++) {
                int from = (r * wo + i) * kw;
                long to = (long) (r * w + i) * k;
                if (res == null) MemorySegment.copy(yt, from, y, ValueLayout.JAVA_FLOAT, (yOff + to) * Float.BYTES, len);
                else add(yt, from, res, resOff + to, !plainAdd, y, yOff + to, len);
            }
        }
    }

    /**
     * xt[(r·wp + 1 + col)·c + ci] = x[ci][row0 + r][col] for the rows r < inRows inside the image;
     * rows outside it, column 0 and the columns past w are zero. With 16 channels and w a multiple
     * of 16, 16 pixels of a row of the 16 planes are turned straight from x into xt
     * ({@link Transpose16#fromSegment}). Else the image rows are first copied plane by plane into
     * rows (c, live rows, w) (one bulk copy per channel), then turned 16×16: 16 pixels of a row
     * straight into xt when w is a multiple of 16, else 16 consecutive pixels (across rows) into tmp
     * and each pixel's 16 channels on to its place. Straight from x, measured on the 2-vCPU Zen 4
     * (2026-12-06, scratch harness alternating the two in one JVM, batch 64, 2 threads, µs per call):
     * 16→16 at 32×32 forward 1765 → 1609 and 1680 → 1544, both gradients 3150 → 2856 and 3104 →
     * 2902; 32→32 at 16×16 within ±4 % either way (32 planes read at once), so it keeps the copies.
     */
    static void toChannelsLast(MemorySegment x, long xOff, int c, int h, int w, int row0, int inRows, int wp,
                                       float[] rows, float[] xt, float[] tmp) {
        int r0 = Math.max(0, row0), r1 = Math.min(h, row0 + inRows), live = r1 - r0, rowLen = wp * c, pixels = live * w;
        for (int r = 0; r < inRows; r++) {
            int at = r * rowLen;
            if (row0 + r < r0 || row0 + r >= r1) {
                java.util.Arrays.fill(xt, at, at + rowLen, 0f);
            } else {
                java.util.Arrays.fill(xt, at, at + c, 0f);
                java.util.Arrays.fill(xt, at + (w + 1) * c, at + rowLen, 0f);
            }
        }
        int first = (r0 - row0) * rowLen + c;   // xt index of pixel 0 of the live rows
        if (c == VL && w % VL == 0) {
            long hw = (long) h * w;
            for (int rr = 0; rr < live; rr++)
                for (int col = 0; col < w; col += VL)
                    Transpose16.fromSegment(x, xOff + (long) (r0 + rr) * w + col, hw, xt, first + rr * rowLen + col * c, c);
            return;
        }
        for (int ci = 0; ci < c; ci++) {
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, (xOff + ((long) ci * h + r0) * w) * Float.BYTES, rows, ci * pixels, pixels);
        }
        if (w % VL == 0) {
            for (int rr = 0; rr < live; rr++)
                for (int col = 0; col < w; col += VL)
                    for (int cv = 0; cv < c; cv += VL) Transpose16.arrays(rows, cv * pixels + rr * w + col, pixels, xt, first + rr * rowLen + col * c + cv, c);
            return;
        }
        int vecEnd = pixels - pixels % VL;
        for (int cv = 0; cv < c; cv += VL) {
            for (int p0 = 0; p0 < vecEnd; p0 += VL) {
                Transpose16.arrays(rows, cv * pixels + p0, pixels, tmp, 0, VL);
                for (int j = 0; j < VL; j++) {
                    int p = p0 + j;
                    FloatVector.fromArray(SPECIES, tmp, j * VL).intoArray(xt, first + (p / w) * rowLen + (p % w) * c + cv);
                }
            }
            for (int p = vecEnd; p < pixels; p++) {
                int d = first + (p / w) * rowLen + (p % w) * c + cv;
                for (int i = 0; i < VL; i++) xt[d + i] = rows[(cv + i) * pixels + p];
            }
        }
    }

    /**
     * y[kk][r][col] (plane stride hw, from yOff) = yt[(r·wo + col)·k + kk] for r < nRows, col < w:
     * through rows (k, nRows, w), one bulk copy per channel (with res != null, y = · + res where
     * plainAdd, else max(· + res, 0), res laid out as y). Transpose16 takes 16 pixels at a time (across rows when the
     * tiles end at w, wo = w), the rest go one by one.
     */
    static void toPlanes(float[] yt, int k, int nRows, int w, int wo, float[] rows, MemorySegment res, long resOff,
                                 boolean plainAdd, MemorySegment y, long yOff, int hw) {
        int run = nRows * w;
        if (wo == w) {   // yt's pixels are rows' pixels: p = r·w + col
            int vecEnd = run - run % VL;
            for (int p0 = 0; p0 < vecEnd; p0 += VL)
                for (int kv = 0; kv < k; kv += VL) Transpose16.arrays(yt, p0 * k + kv, k, rows, kv * run + p0, run);
            for (int p = vecEnd; p < run; p++)
                for (int kk = 0; kk < k; kk++) rows[kk * run + p] = yt[p * k + kk];
        } else {
            int vecEnd = w - w % VL;
            for (int r = 0; r < nRows; r++) {
                for (int col = 0; col < vecEnd; col += VL)
                    for (int kv = 0; kv < k; kv += VL) Transpose16.arrays(yt, (r * wo + col) * k + kv, k, rows, kv * run + r * w + col, run);
                for (int col = vecEnd; col < w; col++)
                    for (int kk = 0; kk < k; kk++) rows[kk * run + r * w + col] = yt[(r * wo + col) * k + kk];
            }
        }
        for (int kk = 0; kk < k; kk++) {
            if (res == null) MemorySegment.copy(rows, kk * run, y, ValueLayout.JAVA_FLOAT, (yOff + (long) kk * hw) * Float.BYTES, run);
            else add(rows, kk * run, res, resOff + (long) kk * hw, !plainAdd, y, yOff + (long) kk * hw, run);
        }
    }

    /**
     * y[yOff + i] = max(rows[at + i] + r[rOff + i], 0) for i < n if relu (CpuPointwise.addRelu's
     * arithmetic), else rows[at + i] + r[rOff + i] (its add's): the same bits as the ops.
     */
    private static void add(float[] rows, int at, MemorySegment r, long rOff, boolean relu, MemorySegment y, long yOff, int n) {
        int i = 0;
        float floor = relu ? 0f : Float.NEGATIVE_INFINITY;   // max(v, −∞) = v, NaN stays NaN
        for (int bound = n - n % VL; i < bound; i += VL) {
            FloatVector.fromArray(SPECIES, rows, at + i).add(FloatVector.fromMemorySegment(SPECIES, r, (rOff + i) * Float.BYTES, ORDER))
                    .max(floor).intoMemorySegment(y, (yOff + i) * Float.BYTES, ORDER);
        }
        for (; i < n; i++) {
            y.setAtIndex(ValueLayout.JAVA_FLOAT, yOff + i, Math.max(rows[at + i] + r.getAtIndex(ValueLayout.JAVA_FLOAT, rOff + i), floor));
        }
    }


    /**
     * m[mAt + j·mk + l] = Σ_ci v[vAt + j·c + ci] · u[uAt + ci·k + l] for j < 8, l < 16: 8 tiles × 16
     * output channels of one position's product, in order over ci (U rows k floats apart, M rows mk).
     */
    private static void tile8(int c, int k, int mk, float[] v, int vAt, float[] u, int uAt, float[] m, int mAt) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int ci = 0, a = uAt, b = vAt; ci < c; ci++, a += k, b++) {
            FloatVector wv = FloatVector.fromArray(SPECIES, u, a);
            c0 = wv.fma(FloatVector.broadcast(SPECIES, v[b]), c0);
            c1 = wv.fma(FloatVector.broadcast(SPECIES, v[b + c]), c1);
            c2 = wv.fma(FloatVector.broadcast(SPECIES, v[b + 2 * c]), c2);
            c3 = wv.fma(FloatVector.broadcast(SPECIES, v[b + 3 * c]), c3);
            c4 = wv.fma(FloatVector.broadcast(SPECIES, v[b + 4 * c]), c4);
            c5 = wv.fma(FloatVector.broadcast(SPECIES, v[b + 5 * c]), c5);
            c6 = wv.fma(FloatVector.broadcast(SPECIES, v[b + 6 * c]), c6);
            c7 = wv.fma(FloatVector.broadcast(SPECIES, v[b + 7 * c]), c7);
        }
        c0.intoArray(m, mAt); c1.intoArray(m, mAt + mk); c2.intoArray(m, mAt + 2 * mk); c3.intoArray(m, mAt + 3 * mk);
        c4.intoArray(m, mAt + 4 * mk); c5.intoArray(m, mAt + 5 * mk); c6.intoArray(m, mAt + 6 * mk); c7.intoArray(m, mAt + 7 * mk);
    }

    /**
     * m[mAt + j·mk + q·16 + l] = Σ_ci v[vAt + j·c + ci] · u[uAt + ci·k + q·16 + l] for j < 6, q < 4, l < 16:
     * 6 tiles × 64 output channels, each broadcast of v feeding four FMAs. (DirectChannelsLast's
     * product too: 6 pixels' patches × a block of 64 output channels.)
     */
    static void tile6x4(int c, int k, int mk, float[] v, int vAt, float[] u, int uAt, float[] m, int mAt) {
        tile6x4(c, k, mk, v, vAt, u, uAt, m, mAt, false);
    }

    /** tile6x4, or with add the sums added to m's values (each output's sum starts from them). */
    static void tile6x4(int c, int k, int mk, float[] v, int vAt, float[] u, int uAt, float[] m, int mAt, boolean add) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z,
                c30 = z, c31 = z, c32 = z, c33 = z, c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        if (add) {
            int o = mAt;
            c00 = FloatVector.fromArray(SPECIES, m, o); c01 = FloatVector.fromArray(SPECIES, m, o + VL);
            c02 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c03 = FloatVector.fromArray(SPECIES, m, o + 3 * VL); o += mk;
            c10 = FloatVector.fromArray(SPECIES, m, o); c11 = FloatVector.fromArray(SPECIES, m, o + VL);
            c12 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c13 = FloatVector.fromArray(SPECIES, m, o + 3 * VL); o += mk;
            c20 = FloatVector.fromArray(SPECIES, m, o); c21 = FloatVector.fromArray(SPECIES, m, o + VL);
            c22 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c23 = FloatVector.fromArray(SPECIES, m, o + 3 * VL); o += mk;
            c30 = FloatVector.fromArray(SPECIES, m, o); c31 = FloatVector.fromArray(SPECIES, m, o + VL);
            c32 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c33 = FloatVector.fromArray(SPECIES, m, o + 3 * VL); o += mk;
            c40 = FloatVector.fromArray(SPECIES, m, o); c41 = FloatVector.fromArray(SPECIES, m, o + VL);
            c42 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c43 = FloatVector.fromArray(SPECIES, m, o + 3 * VL); o += mk;
            c50 = FloatVector.fromArray(SPECIES, m, o); c51 = FloatVector.fromArray(SPECIES, m, o + VL);
            c52 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c53 = FloatVector.fromArray(SPECIES, m, o + 3 * VL);
        }
        for (int ci = 0, a = uAt, b = vAt; ci < c; ci++, a += k, b++) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, u, a), w1 = FloatVector.fromArray(SPECIES, u, a + VL),
                        w2 = FloatVector.fromArray(SPECIES, u, a + 2 * VL), w3 = FloatVector.fromArray(SPECIES, u, a + 3 * VL);
            FloatVector d = FloatVector.broadcast(SPECIES, v[b]);
            c00 = w0.fma(d, c00); c01 = w1.fma(d, c01); c02 = w2.fma(d, c02); c03 = w3.fma(d, c03);
            d = FloatVector.broadcast(SPECIES, v[b + c]);
            c10 = w0.fma(d, c10); c11 = w1.fma(d, c11); c12 = w2.fma(d, c12); c13 = w3.fma(d, c13);
            d = FloatVector.broadcast(SPECIES, v[b + 2 * c]);
            c20 = w0.fma(d, c20); c21 = w1.fma(d, c21); c22 = w2.fma(d, c22); c23 = w3.fma(d, c23);
            d = FloatVector.broadcast(SPECIES, v[b + 3 * c]);
            c30 = w0.fma(d, c30); c31 = w1.fma(d, c31); c32 = w2.fma(d, c32); c33 = w3.fma(d, c33);
            d = FloatVector.broadcast(SPECIES, v[b + 4 * c]);
            c40 = w0.fma(d, c40); c41 = w1.fma(d, c41); c42 = w2.fma(d, c42); c43 = w3.fma(d, c43);
            d = FloatVector.broadcast(SPECIES, v[b + 5 * c]);
            c50 = w0.fma(d, c50); c51 = w1.fma(d, c51); c52 = w2.fma(d, c52); c53 = w3.fma(d, c53);
        }
        int o = mAt;
        c00.intoArray(m, o); c01.intoArray(m, o + VL); c02.intoArray(m, o + 2 * VL); c03.intoArray(m, o + 3 * VL); o += mk;
        c10.intoArray(m, o); c11.intoArray(m, o + VL); c12.intoArray(m, o + 2 * VL); c13.intoArray(m, o + 3 * VL); o += mk;
        c20.intoArray(m, o); c21.intoArray(m, o + VL); c22.intoArray(m, o + 2 * VL); c23.intoArray(m, o + 3 * VL); o += mk;
        c30.intoArray(m, o); c31.intoArray(m, o + VL); c32.intoArray(m, o + 2 * VL); c33.intoArray(m, o + 3 * VL); o += mk;
        c40.intoArray(m, o); c41.intoArray(m, o + VL); c42.intoArray(m, o + 2 * VL); c43.intoArray(m, o + 3 * VL); o += mk;
        c50.intoArray(m, o); c51.intoArray(m, o + VL); c52.intoArray(m, o + 2 * VL); c53.intoArray(m, o + 3 * VL);
    }

    /** tile6x4 for the first 4 tiles only (a last group of 4 or fewer live tiles: 8×8 images at batch 1 have 4); same sums. */
    static void tile4x4(int c, int k, int mk, float[] v, int vAt, float[] u, int uAt, float[] m, int mAt) {
        tile4x4(c, k, mk, v, vAt, u, uAt, m, mAt, false);
    }

    /** tile4x4, or with add the sums added to m's values (as tile6x4). */
    static void tile4x4(int c, int k, int mk, float[] v, int vAt, float[] u, int uAt, float[] m, int mAt, boolean add) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z,
                c30 = z, c31 = z, c32 = z, c33 = z;
        if (add) {
            int o = mAt;
            c00 = FloatVector.fromArray(SPECIES, m, o); c01 = FloatVector.fromArray(SPECIES, m, o + VL);
            c02 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c03 = FloatVector.fromArray(SPECIES, m, o + 3 * VL); o += mk;
            c10 = FloatVector.fromArray(SPECIES, m, o); c11 = FloatVector.fromArray(SPECIES, m, o + VL);
            c12 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c13 = FloatVector.fromArray(SPECIES, m, o + 3 * VL); o += mk;
            c20 = FloatVector.fromArray(SPECIES, m, o); c21 = FloatVector.fromArray(SPECIES, m, o + VL);
            c22 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c23 = FloatVector.fromArray(SPECIES, m, o + 3 * VL); o += mk;
            c30 = FloatVector.fromArray(SPECIES, m, o); c31 = FloatVector.fromArray(SPECIES, m, o + VL);
            c32 = FloatVector.fromArray(SPECIES, m, o + 2 * VL); c33 = FloatVector.fromArray(SPECIES, m, o + 3 * VL);
        }
        for (int ci = 0, a = uAt, b = vAt; ci < c; ci++, a += k, b++) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, u, a), w1 = FloatVector.fromArray(SPECIES, u, a + VL),
                        w2 = FloatVector.fromArray(SPECIES, u, a + 2 * VL), w3 = FloatVector.fromArray(SPECIES, u, a + 3 * VL);
            FloatVector d = FloatVector.broadcast(SPECIES, v[b]);
            c00 = w0.fma(d, c00); c01 = w1.fma(d, c01); c02 = w2.fma(d, c02); c03 = w3.fma(d, c03);
            d = FloatVector.broadcast(SPECIES, v[b + c]);
            c10 = w0.fma(d, c10); c11 = w1.fma(d, c11); c12 = w2.fma(d, c12); c13 = w3.fma(d, c13);
            d = FloatVector.broadcast(SPECIES, v[b + 2 * c]);
            c20 = w0.fma(d, c20); c21 = w1.fma(d, c21); c22 = w2.fma(d, c22); c23 = w3.fma(d, c23);
            d = FloatVector.broadcast(SPECIES, v[b + 3 * c]);
            c30 = w0.fma(d, c30); c31 = w1.fma(d, c31); c32 = w2.fma(d, c32); c33 = w3.fma(d, c33);
        }
        int o = mAt;
        c00.intoArray(m, o); c01.intoArray(m, o + VL); c02.intoArray(m, o + 2 * VL); c03.intoArray(m, o + 3 * VL); o += mk;
        c10.intoArray(m, o); c11.intoArray(m, o + VL); c12.intoArray(m, o + 2 * VL); c13.intoArray(m, o + 3 * VL); o += mk;
        c20.intoArray(m, o); c21.intoArray(m, o + VL); c22.intoArray(m, o + 2 * VL); c23.intoArray(m, o + 3 * VL); o += mk;
        c30.intoArray(m, o); c31.intoArray(m, o + VL); c32.intoArray(m, o + 2 * VL); c33.intoArray(m, o + 3 * VL);
    }

    /** tile8 for 32 output channels (two vectors): each broadcast of v feeds two FMAs. */
    private static void tile8x2(int c, int k, int mk, float[] v, int vAt, float[] u, int uAt, float[] m, int mAt) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        FloatVector d0 = c0, d1 = c0, d2 = c0, d3 = c0, d4 = c0, d5 = c0, d6 = c0, d7 = c0;
        for (int ci = 0, a = uAt, b = vAt; ci < c; ci++, a += k, b++) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, u, a), w1 = FloatVector.fromArray(SPECIES, u, a + VL);
            FloatVector e = FloatVector.broadcast(SPECIES, v[b]);
            c0 = w0.fma(e, c0); d0 = w1.fma(e, d0);
            e = FloatVector.broadcast(SPECIES, v[b + c]);
            c1 = w0.fma(e, c1); d1 = w1.fma(e, d1);
            e = FloatVector.broadcast(SPECIES, v[b + 2 * c]);
            c2 = w0.fma(e, c2); d2 = w1.fma(e, d2);
            e = FloatVector.broadcast(SPECIES, v[b + 3 * c]);
            c3 = w0.fma(e, c3); d3 = w1.fma(e, d3);
            e = FloatVector.broadcast(SPECIES, v[b + 4 * c]);
            c4 = w0.fma(e, c4); d4 = w1.fma(e, d4);
            e = FloatVector.broadcast(SPECIES, v[b + 5 * c]);
            c5 = w0.fma(e, c5); d5 = w1.fma(e, d5);
            e = FloatVector.broadcast(SPECIES, v[b + 6 * c]);
            c6 = w0.fma(e, c6); d6 = w1.fma(e, d6);
            e = FloatVector.broadcast(SPECIES, v[b + 7 * c]);
            c7 = w0.fma(e, c7); d7 = w1.fma(e, d7);
        }
        c0.intoArray(m, mAt); c1.intoArray(m, mAt + mk); c2.intoArray(m, mAt + 2 * mk); c3.intoArray(m, mAt + 3 * mk);
        c4.intoArray(m, mAt + 4 * mk); c5.intoArray(m, mAt + 5 * mk); c6.intoArray(m, mAt + 6 * mk); c7.intoArray(m, mAt + 7 * mk);
        int o = mAt + VL;
        d0.intoArray(m, o); d1.intoArray(m, o + mk); d2.intoArray(m, o + 2 * mk); d3.intoArray(m, o + 3 * mk);
        d4.intoArray(m, o + 4 * mk); d5.intoArray(m, o + 5 * mk); d6.intoArray(m, o + 6 * mk); d7.intoArray(m, o + 7 * mk);
    }

    /** tile8x2 for the first 4 tiles only (a last group of 4 or fewer live tiles); same sums. */
    private static void tile4x2(int c, int k, int mk, float[] v, int vAt, float[] u, int uAt, float[] m, int mAt) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
        for (int ci = 0, a = uAt, b = vAt; ci < c; ci++, a += k, b++) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, u, a), w1 = FloatVector.fromArray(SPECIES, u, a + VL);
            FloatVector e = FloatVector.broadcast(SPECIES, v[b]);
            c0 = w0.fma(e, c0); d0 = w1.fma(e, d0);
            e = FloatVector.broadcast(SPECIES, v[b + c]);
            c1 = w0.fma(e, c1); d1 = w1.fma(e, d1);
            e = FloatVector.broadcast(SPECIES, v[b + 2 * c]);
            c2 = w0.fma(e, c2); d2 = w1.fma(e, d2);
            e = FloatVector.broadcast(SPECIES, v[b + 3 * c]);
            c3 = w0.fma(e, c3); d3 = w1.fma(e, d3);
        }
        c0.intoArray(m, mAt); c1.intoArray(m, mAt + mk); c2.intoArray(m, mAt + 2 * mk); c3.intoArray(m, mAt + 3 * mk);
        int o = mAt + VL;
        d0.intoArray(m, o); d1.intoArray(m, o + mk); d2.intoArray(m, o + 2 * mk); d3.intoArray(m, o + 3 * mk);
    }

    /**
     * One tile's 16 output channels: Aᵀ M A + bias (then ReLU) from m[at + ξ·ms], into the channels-last
     * rows yt: pixel (a, b) of the tile at yt[yAt + a·rowStride + b·k].
     */
    private static void outputTile(float[] m, int at, int ms, float[] bias, int kv, boolean relu, float[] tmp,
                                   float[] yt, int yAt, int rowStride, int k) {
        for (int i = 0; i < ALPHA; i++) WinogradConv.transformOutput(m, at + i * ALPHA * ms, ms, tmp, i * TILE * VL);
        FloatVector b = FloatVector.fromArray(SPECIES, bias, kv);
        float floor = relu ? 0f : Float.NEGATIVE_INFINITY;
        for (int j = 0; j < TILE; j++) {
            FloatVector e0 = FloatVector.fromArray(SPECIES, tmp, j * VL);
            FloatVector e1 = FloatVector.fromArray(SPECIES, tmp, (TILE + j) * VL);
            FloatVector e2 = FloatVector.fromArray(SPECIES, tmp, (2 * TILE + j) * VL);
            FloatVector e3 = FloatVector.fromArray(SPECIES, tmp, (3 * TILE + j) * VL);
            FloatVector e4 = FloatVector.fromArray(SPECIES, tmp, (4 * TILE + j) * VL);
            FloatVector e5 = FloatVector.fromArray(SPECIES, tmp, (5 * TILE + j) * VL);
            FloatVector s12 = e1.add(e2), s34 = e3.add(e4), d12 = e1.sub(e2), d34 = e3.sub(e4);
            int o = yAt + j * k;
            e0.add(s12).add(s34).add(b).max(floor).intoArray(yt, o);
            d34.fma(FloatVector.broadcast(SPECIES, 2f), d12).add(b).max(floor).intoArray(yt, o + rowStride);
            s34.fma(FloatVector.broadcast(SPECIES, 4f), s12).add(b).max(floor).intoArray(yt, o + 2 * rowStride);
            d34.fma(FloatVector.broadcast(SPECIES, 8f), d12).add(e5).add(b).max(floor).intoArray(yt, o + 3 * rowStride);
        }
    }
}
