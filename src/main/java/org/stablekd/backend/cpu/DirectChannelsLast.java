package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

/**
 * Direct convolution with the channels along the vectors, for the batch-1 inference layers that no
 * Winograd path takes: 3×3 stride 2 pad 1, and 1×1 pad 0 stride 2 (the projection shortcuts), c a
 * multiple of 16, k of 64, under an inference {@link WeightCache}; and for the same shapes in a
 * batch ({@link #supportsBatch}: training, weights packed per call; gradients in
 * {@link DirectChannelsLastGrad}). Per band of output rows of one image:
 * <pre>
 *   xt (rows, w+2, c)  the input rows it reads, zero-padded by one, channels-last ({@link WinogradChannelsLast#toChannelsLast})
 *   yt (pixels, k)     yt[pix][kk] = act(Σ_{tap, ci} xt[at(pix) + tapAt(tap) + ci] · w[kk][ci][tap] + bias[kk])
 *   y  (k, rows, q)    yt turned back to planes ({@link WinogradChannelsLast#toPlanes})
 * </pre>
 * with at(pix) the padded pixel under output pixel (oy, ox)'s first tap (1×1: x's planes are read in
 * place at (s·oy, s·ox)). Each group of 6 pixels' taps is first gathered into a patch (6 rows of
 * taps·c floats), so the product reads one base.
 * The product is {@link WinogradChannelsLast#tile6x4}'s register tile (there 6 tiles × 64 channels
 * of one position; here {@link #PX} pixels × 64 output channels): 24 accumulators, per (tap, ci) four
 * weight vectors, six broadcasts, 24 FMAs; then the bias and the ReLU in one pass over yt. The weights are packed once per layer under the cache,
 * wp[kb][tap][ci][64] for each block kb of 64 output channels (a block of 128→256 is 295 KiB: it
 * stays in L2 across the pixel groups).
 *
 * <p>Why: at batch 1 the shared-padding grid ({@link GridConv}) computes its garbage columns and
 * rounds the pixels up to whole 48-pixel tiles, so resnet8x4's 128→256 stride-2 layer (8×8 out)
 * ran 96 pixels for 64 (measured on the 2-vCPU Zen 5, 2026-12-06: 438 µs, 86 GFLOP/s; see
 * benchmarks/results/cpu.md for the figures with this class).
 *
 * <p>In a batch the grid path loses too: resnet8x4's 128→256 stride-2 forward at batch 64 ran
 * 8.3–8.8 ms here against 13.9–14.3 on the grid (145 against 87 G multiply-adds/s on the 2-vCPU
 * Zen 5, 2026-12-06), 64→128 at 16×16 out 8.7–9.2 against 10.1–10.6.
 *
 * <p>Threads: at batch 1 each thread takes a band of output rows (at least {@link #MIN_BAND_MACS}
 * multiply-adds) and does everything for it: its input rows turned channels-last, the patches, the
 * products, its rows of y. Nothing one thread makes is read by the other, and rows stay on the
 * thread that the row-banded layers around it (WinogradChannelsLast) give them. Measured inside
 * one JVM, switching every 200 calls (2 threads, 2026-12-06): resnet8x4's call 1.19 against 1.33 ms
 * and 1.33 against 1.46 with the first version, which split (block, group) units over the threads
 * and turned the layouts on the caller; resnet20 0.460 against 0.472; one thread equal.
 * A last group short of 6 repeats its last pixel's patch; those rows of yt lie past the band's
 * pixels and are never turned back. Every output is one
 * in-order sum over (tap, ci), then + bias, then the ReLU, whatever the bands: the bits do not
 * depend on the thread count (Note [Determinism]). A batch of at least one image per thread is
 * split by whole images instead, each image one band of all its rows and an item of
 * {@link Parallel#forChunks}: the same sums.
 */
final class DirectChannelsLast {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;
    private static final int VL = 16;
    /** Output channels per block (four vectors) and pixels per register tile. */
    static final int KB = 64, PX = 6;
    /**
     * Most output pixels in the batch (n·p·q) a 3×3 layer runs here with: batch-1 sizes. Measured
     * (one thread, Zen 5, 2026-12-06, µs against the grid): 4×4 outputs 246 vs 718 (256→512), 8×8 212
     * vs 365 (128→256), 16×16 223 vs 304 (64→128) and 51 vs 50 (16→64), 32×32 348 vs 353 (32→64).
     */
    static final int MAX_PIXELS = 1024;
    /**
     * The same for 1×1 (stride 2): 64, as measured (one thread, Zen 5, 2026-12-06, µs against the grid):
     * 8×8 outputs 39 vs 62 (128→256) and 14 vs 18 (64→128); 16×16 outputs 82 vs 50 (64→128) and
     * 211 vs 167 (128→256), where reading the whole input for a quarter of its pixels costs more than
     * the product.
     */
    static final int MAX_POINTWISE_PIXELS = 64;
    /**
     * Most floats of all the patches at once (384 KiB): in the model, with the weights evicted by the
     * other layers between calls, resnet8x4's 128→256 (304 KiB of patches, 1.2 MiB of weights) ran
     * 313–326 µs with the blocks outer against 349 with the groups outer, and 64→128 at 16×16 (594
     * KiB of patches, 295 KiB of weights) 323–338 with the blocks outer: no faster than the grid.
     */
    static final long WHOLE_PATCHES_FLOATS = 96 * 1024;
    /** Fewest multiply-adds per band of rows: smaller layers run on the caller alone. */
    static final long MIN_BAND_MACS = Long.getLong("stablekd.directMinBandMacs", 1 << 16);
    // ConvScratch slots and int slot
    private static final int XT = 60, YT = 61, ROWS = 62, TMP = 63, PATCH = 64, OFFSETS = 5, PACKED = 71;
    private static volatile boolean enabled = !"false".equals(System.getProperty("stablekd.directChannelsLast"));

    private DirectChannelsLast() {}

    /** For tests and A/B timing; returns the previous setting. */
    static boolean enable(boolean on) {
        boolean was = enabled;
        enabled = on;
        return was;
    }

    /**
     * True for 3×3 stride 2 pad 1 and 1×1 stride 2 pad 0, one group, c a multiple of 16, k of 64,
     * at most {@link #MAX_PIXELS} output pixels in the batch, on 16-float vectors, with weights it
     * can cache (native) under an inference WeightCache. Shape and cache only; off with
     * -Dstablekd.directChannelsLast=false.
     */
    static boolean supports(ConvGeometry g, boolean nativeWeights) {
        if (!enabled || !nativeWeights || WeightCache.current() == null || GridGemm.VL != VL) return false;
        if (g.groups() != 1 || g.r() != g.s() || g.strideH() != 2 || g.strideW() != 2 || g.padH() != g.padW()) return false;
        long pixels = (long) g.n() * g.p() * g.q();
        boolean shape = (g.r() == 3 && g.padH() == 1 && pixels <= MAX_PIXELS) || (g.r() == 1 && g.padH() == 0 && pixels <= MAX_POINTWISE_PIXELS);
        return shape && g.c() % VL == 0 && g.k() % KB == 0;
    }

    /**
     * True for the batch forward ({@link #forward} with n &gt; 1 and at least one image per thread,
     * training or inference, weights packed per call without a cache): the shapes of
     * {@link #supports}, 3×3 at any size, 1×1 up to {@link #MAX_POINTWISE_PIXELS} output pixels per
     * image (measured at batch 64, 2 threads, µs: 8×8 outputs 1 418–1 608 against the grid's
     * 1 895–2 655 for 128→256; 16×16 outputs 1 991–2 531 against 1 554–2 040 for 64→128, 814–1 010
     * against 509–544 for 32→64); on 16-float vectors; off with -Dstablekd.directChannelsLast=false.
     */
    static boolean supportsBatch(ConvGeometry g) {
        if (!enabled || GridGemm.VL != VL || g.n() < 2 || g.n() < Parallel.threads()) return false;
        if (g.groups() != 1 || g.r() != g.s() || g.strideH() != 2 || g.strideW() != 2 || g.padH() != g.padW()) return false;
        boolean shape = (g.r() == 3 && g.padH() == 1) || (g.r() == 1 && g.padH() == 0 && g.p() * g.q() <= MAX_POINTWISE_PIXELS);
        return shape && g.c() % VL == 0 && g.k() % KB == 0;
    }

    /** wp[((kb·taps + tap)·c + ci)·64 + kk % 64] = w[kk][ci][tap], kb = kk / 64. */
    static float[] pack(MemorySegment w, long wOff, int k, int c, int taps) {
        float[] wp = new float[k * c * taps];
        pack(w, wOff, k, c, taps, wp);
        return wp;
    }

    /** The same into wp (at least k·c·taps floats), read straight from w in its order. */
    private static void pack(MemorySegment w, long wOff, int k, int c, int taps, float[] wp) {
        for (int kk = 0, src = 0; kk < k; kk++) {
            int blockAt = kk / KB * taps * c * KB + kk % KB;
            for (int ci = 0; ci < c; ci++)
                for (int t = 0; t < taps; t++, src++) wp[blockAt + (t * c + ci) * KB] = w.getAtIndex(ValueLayout.JAVA_FLOAT, wOff + src);
        }
    }

    /** y = conv(x, w) + bias (bias may be null), then max(0, ·) if relu. */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int c = g.c(), k = g.k(), h = g.h(), wd = g.w(), p = g.p(), q = g.q(), taps = g.r() * g.s();
        WeightCache cache = WeightCache.current();
        float[] packed;
        if (cache != null && w.isNative()) packed = cache.packed(w, wOff, "direct-channels-last", k, c * taps, () -> pack(w, wOff, k, c, taps));
        else pack(w, wOff, k, c, taps, packed = ConvScratch.get().buffer(PACKED, (long) k * c * taps));   // read by every thread
        float[] b = WinogradChannelsLast.biasCopy(g, bias, bOff);   // read by every thread
        if (g.n() > 1 && g.n() >= Parallel.threads()) {
            // a batch: whole images, each one band of all its rows
            Parallel.forChunks(g.n(), img ->
                    band(g, x, xOff + (long) img * c * h * wd, packed, b, relu, y, yOff + (long) img * k * p * q, 0, p, false));
            return;
        }
        long macsPerRow = (long) q * k * c * taps;
        int grain = (int) Math.max(1, (MIN_BAND_MACS + macsPerRow - 1) / macsPerRow);
        for (int img = 0; img < g.n(); img++) {
            long xi = xOff + (long) img * c * h * wd, yi = yOff + (long) img * k * p * q;
            Parallel.forRange(p, grain, (r0, r1) -> band(g, x, xi, packed, b, relu, y, yi, r0, r1, taps == 1));
        }
    }

    /**
     * Output rows [r0, r1) of one image, start to end on this thread: its input rows turned
     * channels-last, the patches, the products, its rows of y. So nothing a band makes is read by
     * another thread, and the band's input and output rows are the ones the neighbouring layers'
     * bands (split by rows too) keep on this thread.
     */
    private static void band(ConvGeometry g, MemorySegment x, long xi, float[] packed, float[] b, boolean relu,
                             MemorySegment y, long yi, int r0, int r1, boolean pointwise) {
        int c = g.c(), k = g.k(), h = g.h(), wd = g.w(), q = g.q(), taps = g.r() * g.s(), s = g.strideH(), wp = wd + 2;
        int px = (r1 - r0) * q, len = taps * c, blocks = k / KB, groups = (px + PX - 1) / PX;
        int inRows = s * (r1 - 1 - r0) + g.r(), row0 = s * r0 - g.padH();   // the padded input rows the band reads
        ConvScratch sc = ConvScratch.get();
        float[] xt = pointwise ? null : sc.buffer(XT, (long) inRows * wp * c), yt = sc.buffer(YT, (long) groups * PX * k);   // whole groups: a last group's repeated pixels land past px
        // rows: the live input rows plane by plane for the turn to channels-last, then y's rows for the turn back
        float[] rows = sc.buffer(ROWS, Math.max(pointwise ? 0 : (long) c * inRows * wd, (long) k * px)), tmp = sc.buffer(TMP, VL * VL);
        // offsets: the taps' in xt (taps entries), then each output pixel's first tap (px entries):
        // its place in xt, or for 1×1 its index in an input plane
        int[] at = offsets(g, r0, r1, pointwise, sc.ints(OFFSETS, taps + px));
        if (!pointwise) WinogradChannelsLast.toChannelsLast(x, xi, c, h, wd, row0, inRows, wp, rows, xt, tmp);
        if ((long) groups * PX * len <= WHOLE_PATCHES_FLOATS) {
            // every group's patch first, then the products block by block: a block's weights stay in
            // L2 while all the groups pass (groups outer streamed all the weights once per group)
            float[] patches = sc.buffer(PATCH, (long) groups * PX * len);
            for (int u = 0; u < groups; u++) patch(pointwise, c, taps, (long) h * wd, xt, x, xi, at, u, px, patches, u * PX * len);
            for (int kb = 0; kb < blocks; kb++)
                for (int u = 0; u < groups; u++) WinogradChannelsLast.tile6x4(len, KB, k, patches, u * PX * len, packed, kb * len * KB, yt, u * PX * k + kb * KB);
        } else {
            // one group at a time, its patch in L1, every block on it (the weights, under L2's size here, stay there)
            float[] patch = sc.buffer(PATCH, (long) PX * len);
            for (int u = 0; u < groups; u++) {
                patch(pointwise, c, taps, (long) h * wd, xt, x, xi, at, u, px, patch, 0);
                for (int kb = 0; kb < blocks; kb++) WinogradChannelsLast.tile6x4(len, KB, k, patch, 0, packed, kb * len * KB, yt, u * PX * k + kb * KB);
            }
        }
        biasRelu(yt, px, k, b, relu);
        WinogradChannelsLast.toPlanes(yt, k, r1 - r0, q, q, rows, null, 0, false, y, yi + (long) r0 * q, g.p() * q);
    }

    /**
     * at[t] = where tap t sits relative to a pixel's first tap in xt (padded rows of w + 2 pixels, c
     * channels), then at[taps + pix] = output pixel pix's first tap (rows [r0, r1), row r0 at xt's
     * first row): its place in xt, or with fromPlanes (1×1) its index in an input plane. Returns at.
     */
    static int[] offsets(ConvGeometry g, int r0, int r1, boolean fromPlanes, int[] at) {
        int c = g.c(), wd = g.w(), q = g.q(), s = g.strideH(), taps = g.r() * g.s(), wp = wd + 2;
        for (int i = 0, t = 0; i < g.r(); i++)
            for (int j = 0; j < g.s(); j++) at[t++] = (i * wp + j) * c;
        for (int oy = r0, pix = 0; oy < r1; oy++)
            for (int ox = 0; ox < q; ox++) at[taps + pix++] = fromPlanes ? s * oy * wd + s * ox : (s * (oy - r0) * wp + s * ox + 1 - g.padW()) * c;
        return at;
    }

    /** Group u's patch (pixels u·6 .. of the band) at patch[pAt..]: from xt, or for 1×1 from x's planes. */
    private static void patch(boolean pointwise, int c, int taps, long hw, float[] xt, MemorySegment x, long xi, int[] at, int u, int px,
                              float[] patch, int pAt) {
        int p0 = u * PX, last = Math.min(PX, px - p0) - 1;
        if (pointwise) gatherPlanes(c, hw, x, xi, at, p0, last, patch, pAt);
        else gather(c, taps, xt, at, p0, last, patch, pAt);
    }

    /**
     * patch[pAt + j·len + tap·c + ci] = xt[at(p0 + j) + tapAt(tap) + ci] for j < 6: the six pixels' taps as
     * rows (pixels past p0 + last repeat it), so the product reads one base. (Reading xt at six
     * bases inside a loop over the taps instead ran 2.5–4× slower: C2 did not keep the 24
     * accumulators in registers across the two loops.)
     */
    private static void gather(int c, int taps, float[] xt, int[] at, int p0, int last, float[] patch, int pAt) {
        int len = taps * c;
        for (int j = 0; j < PX; j++) {
            int px = at[taps + p0 + Math.min(j, last)];
            for (int t = 0; t < taps; t++) System.arraycopy(xt, px + at[t], patch, pAt + j * len + t * c, c);
        }
    }

    /** The same for 1×1 from x's planes (plane stride hw, image at xi): patch[pAt + j·c + ci] = x[ci][pixel p0 + j]. */
    private static void gatherPlanes(int c, long hw, MemorySegment x, long xi, int[] at, int p0, int last, float[] patch, int pAt) {
        for (int j = 0; j < PX; j++) {
            long px = xi + at[1 + p0 + Math.min(j, last)];
            for (int ci = 0; ci < c; ci++) patch[pAt + j * c + ci] = x.getAtIndex(ValueLayout.JAVA_FLOAT, px + ci * hw);
        }
    }

    /** yt[pix·k + kk] = max(yt[pix·k + kk] + bias[kk], 0 if relu else −∞) for pix < px: the bias after the sum, then the ReLU. */
    private static void biasRelu(float[] yt, int px, int k, float[] bias, boolean relu) {
        float floor = relu ? 0f : Float.NEGATIVE_INFINITY;   // max(v, −∞) = v, NaN stays NaN
        for (int pix = 0, o = 0; pix < px; pix++, o += k)
            for (int kk = 0; kk < k; kk += VL)
                FloatVector.fromArray(SPECIES, yt, o + kk).add(FloatVector.fromArray(SPECIES, bias, kk)).max(floor).intoArray(yt, o + kk);
    }
}
