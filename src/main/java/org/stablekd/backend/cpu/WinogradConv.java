package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

/**
 * Winograd F(4×4, 3×3) convolution for 3×3, stride 1, pad 1, one group (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016): each 4×4 block of outputs ("tile") is
 * <pre>
 *   Y = Aᵀ [ Σ_c U_c ⊙ V_c ] A     U_c = G w_c Gᵀ (6×6, per k and c),  V_c = Bᵀ d_c B (6×6 input patch)
 * </pre>
 * so the 36 positions ξ of the 6×6 domain are 36 independent products
 * <pre>
 *   M_ξ (k, tiles) = U_ξ (k, c) · V_ξ (c, tiles)
 * </pre>
 * 36·16/(16·9) = 4× fewer multiplies than the direct convolution, on the same register-blocked
 * kernel as the grid path ({@link GridGemm}, 8 channels × 3 vectors of tiles).
 *
 * <p>Organization: the tile rows of the whole batch (4 output rows of one image each) are split
 * into one contiguous range per thread, and each range is cut into blocks of a whole number of
 * GridGemm tiles (48 tiles) with about {@link #V_FLOATS} floats of V, which stays in L2; a range's
 * last block may be shorter, padded to whole vectors ({@link GridGemm#TAIL}). A thread runs its
 * range's blocks first, then takes the other's last ones ({@link Parallel#forBlocks}). Per
 * block and input channel: the block's images are copied into zero-padded planes, the 6×6
 * patches of 16 tiles are transposed into an L1 buffer by scalar moves and transformed into
 * V (36, c, tiles). Then per 8 output channels the 36 products fill M (36, 8, tiles), and the
 * output transform (with the bias) scatters the 4×4 tiles into output rows copied into y.
 * Measured costs (one thread, batch 64): 64→64 at 8×8 products 50 %, input transform 35 %; 16→16
 * at 32×32 products only 25 %, the transforms' data movement the rest, which is why 16- and
 * 32-channel layers run on {@link WinogradChannelsLast} (channels along the vectors) instead; CpuConv
 * asks it first, so this rule's 32-channel layers only reach here for their weight gradient
 * ({@link WinogradWeightGrad}). Vector gathers for the patches, and FloatVector arguments to
 * calls the JIT did not inline (boxed), were each slower than the whole product.
 *
 * <p>Accuracy: the transforms multiply by up to 8 (Aᵀ) and 5 (Bᵀ) and G has non-dyadic entries
 * (1/6, 1/12, 1/24), so the rounding error is larger than the direct sum's. Measured worst on
 * uniform data (x in [-1,1], w in ±1/√(9c), c = 3..512): per output, |y − y_ref| ≤ 5e-6 · Σ|w||x|
 * over its taps, flat in c; relative to max |y| it grows with √c (3.6e-6 at c = 3, 8.6e-6 at 64,
 * 1.1e-5 at 256, 2.5e-5 at 512; the direct path: 2e-7 to 3e-6). Documented bound, tested:
 * |y − y_ref| ≤ 2e-5 · Σ|w||x| per output. The selection rule ({@link #supports}) and
 * {@code -Dstablekd.winograd=true} are in docs/design.md, Kernel families.
 *
 * <p>Batches of fewer than {@link #MIN_TILES} tiles (batch-1 inference) run instead on
 * {@link WinogradFewTiles} when a WeightCache is in force: the same transforms, with the products
 * turned around (output channels along the vectors) so that 4 to 64 tiles fill the register tile.
 *
 * <p>Determinism: each output tile is one in-order sum over c per ξ, whatever the blocks or the
 * thread split, so results are bit-identical for any thread count (Note [Determinism]).
 */
final class WinogradConv {
    static final VectorSpecies<Float> SPECIES = GridGemm.SPECIES;
    private static final int VL = SPECIES.length();
    private static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();
    /** Output tile side, and the side of the transformed domain (4 + 3 − 1). */
    static final int TILE = 4, ALPHA = 6, POSITIONS = ALPHA * ALPHA;
    /** Floats in a cache line. */
    static final int LINE = 16;
    /** Floats of V per block: 512 KiB, half the L2 of a Zen 4 core. */
    private static final int V_FLOATS = 128 * 1024;
    /**
     * On by default; -Dstablekd.winograd=false keeps every layer on the direct grid path (for A/B
     * timing and for bit-compatibility with runs made before it). Tests switch it with {@link #enable}.
     */
    private static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty("stablekd.winograd", "true"));

    static boolean enabled() {
        return enabled;
    }

    /** Switches the selection on or off and returns the previous setting (tests only). */
    static boolean enable(boolean on) {
        boolean was = enabled;
        enabled = on;
        return was;
    }
    // ConvScratch slots
    private static final int PADDED = 19, V = 20, M = 21, OUT = 22, PACKED = 23, TMP = 24, W_COPY = 26, BIAS = 27;
    // ConvScratch int slots
    private static final int OUT_AT = 2, BASE = 3, PATCH_AT = 4;

    private WinogradConv() {}

    /** True for a 3×3, stride 1, pad 1, one-group convolution (what the algorithm computes). */
    static boolean computes(ConvGeometry g) {
        return g.groups() == 1 && g.r() == 3 && g.s() == 3 && g.strideH() == 1 && g.strideW() == 1
                && g.padH() == 1 && g.padW() == 1;
    }

    /** Fewest input and output channels where it runs (measured: 16→16 at 32×32 ran 0.8–0.9× the grid path, 32→32 1.1×, 64→64 1.25–1.7×). */
    static final int MIN_CHANNELS = 32;
    /**
     * Fewest 4×4 tiles in the batch where it runs (measured at batch 1: 64→64 at 32×32, 64 tiles,
     * ran 0.6× the grid path; 128→128 at 16×16, 16 tiles, 0.2×: a block pads its tiles to 48).
     * Below it, under an inference WeightCache, {@link WinogradFewTiles} runs the forward.
     */
    static final int MIN_TILES = 256;

    /**
     * True where the forward runs here unless {@link WinogradChannelsLast} takes it first (16 or 32
     * channels in and out): a layer it computes, with at least {@link #MIN_CHANNELS}
     * input and output channels and {@link #MIN_TILES} output tiles in the batch (measured on a
     * 2-core Zen 4; see docs/design.md, Kernel families). Depends on the shape only, never on timing.
     */
    static boolean supports(ConvGeometry g) {
        long tiles = (long) g.n() * Sgemm.ceilDiv(g.h(), TILE) * Sgemm.ceilDiv(g.w(), TILE);
        return enabled && computes(g) && g.c() >= MIN_CHANNELS && g.k() >= MIN_CHANNELS && tiles >= MIN_TILES;
    }

    /** True where the input gradient (a forward of dy with c and k swapped) runs here. */
    static boolean supportsInputGradient(ConvGeometry g) {
        return computes(g) && supports(swapped(g));   // computes(g) first: swapped() drops the stride
    }

    /** The input gradient's convolution: dy (n, k, h, w) to dx (n, c, h, w). */
    private static ConvGeometry swapped(ConvGeometry g) {
        return ConvGeometry.of(g.n(), g.k(), g.h(), g.w(), g.c(), 3, 3, 1, 1, 1, 1, 1);
    }

    // ---------------------------------------------------------------- weights

    /** Floats of the packed transformed weights: 36 GridGemm panel sets of (k, c). */
    private static int packedSize(int k, int c) {
        return POSITIONS * positionStride(k, c);
    }

    /**
     * Floats between the positions' panel sets: GridGemm's size plus one cache line, so the 36
     * stores of one weight's transform do not all fall into the same L1 set (measured: 64×64
     * weights transformed in 0.71 ms without, 0.17 ms with).
     */
    static int positionStride(int k, int c) {
        return GridGemm.packedSize(k, c) + LINE;
    }

    /**
     * ap = U packed for GridGemm, position by position: U_ξ (k, c) at ξ·positionStride(k, c) (MR-tall
     * panels, see {@link GridGemm#pack}), with U[ξ = 6i + j][kk][ci] = (G w[kk][ci] Gᵀ)[i][j],
     * computed in double ({@link WinogradWeightTransform}) and written straight into the panels. w is (k, c, 3, 3), or with flip the
     * input gradient's weights: w'[kk][ci] = w[ci][kk] rotated by 180°. Panels are split over the
     * threads (each writes its own; the values do not depend on the split).
     */
    static void transformWeights(float[] w, int k, int c, boolean flip, float[] ap) {
        int mr = GridGemm.MR, panels = Sgemm.ceilDiv(k, mr);
        Parallel.forRange(panels, 2, (p0, p1) -> transformPanels(w, k, c, flip, ap, p0 * mr, p1 * mr));
    }

    /** transformWeights for output channels [k0, k1) (k1 may pass k: the panels' zero rows), {@link WinogradWeightTransform#LANES} at a time. */
    private static void transformPanels(float[] w, int k, int c, boolean flip, float[] ap, int k0, int k1) {
        int mr = GridGemm.MR, ps = positionStride(k, c);
        double[] scratch = new double[WinogradWeightTransform.SCRATCH];
        for (int kk = k0; kk < k1; kk += WinogradWeightTransform.LANES) {
            for (int ci = 0; ci < c; ci++) {
                WinogradWeightTransform.lanes(w, k, c, flip, kk, ci, scratch, ap, (kk / mr) * mr * c + ci * mr + kk % mr, ps);
            }
        }
    }

    /** The forward's transformed weights: once per weight tensor under an inference WeightCache, else per call. */
    private static float[] forwardWeights(ConvGeometry g, MemorySegment w, long wOff) {
        int k = g.k(), c = g.c();
        WeightCache cache = WeightCache.current();
        if (cache != null && w.isNative()) {
            return cache.packed(w, wOff, "winograd-forward", k, c * 9, () -> {
                float[] ap = new float[packedSize(k, c)];
                transformWeights(copy(w, wOff, k * c * 9, new float[k * c * 9]), k, c, false, ap);
                return ap;
            });
        }
        ConvScratch s = ConvScratch.get();
        float[] ap = s.buffer(PACKED, packedSize(k, c));
        transformWeights(copy(w, wOff, k * c * 9, s.buffer(W_COPY, k * c * 9)), k, c, false, ap);
        return ap;
    }

    private static float[] copy(MemorySegment w, long wOff, int size, float[] into) {
        MemorySegment.copy(w, ValueLayout.JAVA_FLOAT, wOff * Float.BYTES, into, 0, size);
        return into;
    }

    // ---------------------------------------------------------------- entry points

    /** y = conv(x, w) + bias for x (n, c, h, w), w (k, c, 3, 3), y (n, k, h, w), all contiguous. */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        float[] ap = forwardWeights(g, w, wOff);
        float[] bf = null;
        if (bias != null) bf = copy(bias, bOff, g.k(), ConvScratch.get().buffer(BIAS, g.k()));
        run(g, x, xOff, ap, bf, y, yOff);
    }

    /** dx = conv(dy, w') for dy (n, k, h, w), w (k, c, 3, 3), dx (n, c, h, w): w' flipped, channels swapped. */
    static void backwardInput(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                              MemorySegment dx, long dxOff) {
        int k = g.k(), c = g.c();
        ConvScratch s = ConvScratch.get();
        float[] ap = s.buffer(PACKED, packedSize(c, k));
        transformWeights(copy(w, wOff, k * c * 9, s.buffer(W_COPY, k * c * 9)), c, k, true, ap);
        run(swapped(g), dy, dyOff, ap, null, dx, dxOff);
    }

    // ---------------------------------------------------------------- the pipeline

    /** Block geometry of one call: sizes depend on the shape only. */
    record Plan(ConvGeometry g, int th, int tw, int wp, int rowsPerBlock, int tilesPadded) {
        int hp() { return TILE * th + 2; }
        /**
         * Floats between positions in V (c, ntp) and M (8, ntp): one cache line more than the data,
         * so the 36 positions of a tile do not fall into one L1 set (c·ntp is often a multiple of
         * 1024 floats; measured the same way, padding the weights' positions made their transform 4× faster).
         */
        int vStride() { return g.c() * tilesPadded + LINE; }
        int mStride() { return GridGemm.MR * tilesPadded + LINE; }
        /** Images a block of tile rows can touch. */
        int imagesPerBlock() { return Sgemm.ceilDiv(rowsPerBlock, th) + 1; }
        int outPlane() { return rowsPerBlock * TILE * TILE * tw; }
    }

    private static Plan plan(ConvGeometry g) {
        int th = Sgemm.ceilDiv(g.h(), TILE), tw = Sgemm.ceilDiv(g.w(), TILE);
        // a whole number of GridGemm tiles (NR tiles) per block where tw allows: padded tiles cost full products
        int tilesWanted = Math.max(GridGemm.NR, V_FLOATS / (POSITIONS * g.c()) / GridGemm.NR * GridGemm.NR);
        int rows = Math.max(1, tilesWanted / tw);
        rows = Math.min(rows, g.n() * th);
        return new Plan(g, th, tw, TILE * tw + 2, rows, ConvGrid.roundUp(rows * tw, GridGemm.NR));
    }

    private static void run(ConvGeometry g, MemorySegment x, long xOff, float[] ap, float[] bias, MemorySegment y, long yOff) {
        Plan p = plan(g);
        int c = g.c(), ntp = p.tilesPadded();
        ConvScratch s = ConvScratch.get();
        // tile t of a block: output at outAt[t] in the output strip
        int[] outAt = s.ints(OUT_AT, ntp), base = s.ints(BASE, POSITIONS * c);
        int used = p.rowsPerBlock() * p.tw();
        for (int t = 0; t < ntp; t++) {
            int rb = t / p.tw(), tx = t % p.tw();
            outAt[t] = t < used ? rb * TILE * TILE * p.tw() + TILE * tx : 0;
        }
        int xs = p.vStride(), ms = p.mStride();
        for (int xi = 0; xi < POSITIONS; xi++)
            for (int ci = 0; ci < c; ci++) base[xi * c + ci] = xi * xs + ci * ntp;
        int tileRows = g.n() * p.th();
        // one range of tile rows per thread, cut into blocks from its start: a range's last block is
        // shorter, its tiles padded to GridGemm.TAIL (one vector) instead of a whole GridGemm tile, so
        // both threads multiply about the same tiles. Until 2026-12-06 whole blocks were split over the
        // threads: 64→64 at 8×8, batch 64, had blocks of 48 tiles and a last of 16 padded to 48, one
        // thread 144 tiles of products and the other 144 with 32 of them padding. Each block is its
        // own chunk (Parallel.forBlocks), so a thread done with its range takes the other's last blocks:
        // resnet8x4's step 1.7 % and 3.0 % faster, wrn_16_2's 1.3 % (2026-12-07, one JVM switching
        // every two steps); cutting the ranges themselves finer had cost 0.8–1.8 % (more short blocks).
        Parallel.forBlocks(tileRows, p.rowsPerBlock(), (r0, r1) -> {
            ConvScratch ts = ConvScratch.get();
            float[] padded = ts.buffer(PADDED, (long) p.imagesPerBlock() * p.hp() * p.wp());
            int[] patchAt = ts.ints(PATCH_AT, p.rowsPerBlock() * p.tw());
            float[] v = ts.buffer(V, (long) POSITIONS * xs);
            float[] m = ts.buffer(M, (long) POSITIONS * ms);
            float[] out = ts.buffer(OUT, (long) GridGemm.MR * p.outPlane());
            float[] tmp = ts.buffer(TMP, POSITIONS * VL);
            for (int b0 = r0; b0 < r1; b0 += p.rowsPerBlock()) {
                int rows = Math.min(p.rowsPerBlock(), r1 - b0), nt = rows * p.tw(), tiles = ConvGrid.roundUp(nt, GridGemm.TAIL);
                inputTransform(p, x, xOff, b0, rows, 0, c, tiles, padded, patchAt, v, tmp);
                for (int k0 = 0; k0 < g.k(); k0 += GridGemm.MR) {
                    int ps = positionStride(g.k(), c);
                    for (int xi = 0; xi < POSITIONS; xi++) {
                        GridGemm.multiply(GridGemm.MR, c, ap, xi * ps + k0 * c, v, base, xi * c, 0, tiles,
                                m, xi * ms, ntp);
                    }
                    int kr = Math.min(GridGemm.MR, g.k() - k0);
                    outputTransform(kr, k0, nt, ntp, p.outPlane(), 4 * p.tw(), m, outAt, bias, out, tmp);
                    writeOut(p, b0, rows, k0, kr, out, y, yOff);
                }
            }
        });
    }

    /**
     * The input transform of a block, channel by channel: v[(ξ·c + ci)·ntp + t] = (Bᵀ d B)[ξ] for
     * the 6×6 patch d of tile t = rb·tw + tx (tile row b0 + rb = (image, ty)): input rows
     * 4·ty − 1 + i, columns 4·tx − 1 + j. Per channel, the block's images are copied into zero-padded
     * planes (hp, wp) (padding and the last tiles' overhang stay zero) by {@link #padPlane}; then a vector of tiles at a
     * time, the patches are transposed into tmp (36, VL) by scalar moves (L1-resident: measured
     * faster than vector gathers) and transformed into v.
     */
    static void inputTransform(Plan p, MemorySegment x, long xOff, int b0, int rows, int c0, int c1, float[] padded,
                               int[] patchAt, float[] v, float[] tmp) {
        inputTransform(p, x, xOff, b0, rows, c0, c1, p.tilesPadded(), padded, patchAt, v, tmp);
    }

    /**
     * The input transform of input channels [c0, c1) only (each channel's V rows are its own: threads
     * may split c), V's tiles from rows·tw to tiles (a multiple of VL) zero.
     */
    static void inputTransform(Plan p, MemorySegment x, long xOff, int b0, int rows, int c0, int c1, int tiles, float[] padded,
                               int[] patchAt, float[] v, float[] tmp) {
        ConvGeometry g = p.g();
        int c = g.c(), h = g.h(), w = g.w(), wp = p.wp(), hp = p.hp(), hw = h * w, tw = p.tw(), ntp = p.tilesPadded(), nt = rows * tw;
        int xs = p.vStride();
        int img0 = b0 / p.th(), img1 = (b0 + rows - 1) / p.th() + 1;
        java.util.Arrays.fill(padded, 0, (img1 - img0) * hp * wp, 0f);
        for (int t = 0; t < nt; t++) {
            int row = b0 + t / tw, tx = t % tw;
            patchAt[t] = ((row / p.th() - img0) * hp + TILE * (row % p.th())) * wp + TILE * tx;
        }
        VectorMask<Float> tail = SPECIES.indexInRange(0, w % VL);
        for (int ci = c0; ci < c1; ci++) {
            for (int img = img0; img < img1; img++) {
                padPlane(x, xOff + ((long) img * c + ci) * hw, h, w, tail, padded, ((img - img0) * hp + 1) * wp + 1, wp);
            }
            for (int t = 0; t < tiles; t += VL) {
                int at = ci * ntp + t;
                if (t >= nt) {   // lanes of no tile: zero, so the products stay finite
                    FloatVector z = FloatVector.zero(SPECIES);
                    for (int xi = 0; xi < POSITIONS; xi++) z.intoArray(v, at + xi * xs);
                    continue;
                }
                transposePatches(padded, wp, patchAt, t, Math.min(VL, nt - t), tmp);
                for (int i = 0; i < ALPHA; i++) transformInput(tmp, i * ALPHA * VL, VL, tmp, i * ALPHA * VL, VL);
                for (int j = 0; j < ALPHA; j++) transformInput(tmp, j * VL, ALPHA * VL, v, at + j * xs, ALPHA * xs);
            }
        }
    }

    /**
     * padded[dst + yy·wp + j] = x[at + yy·w + j] for yy < h, j < w: each row in whole vectors
     * straight from the tensor, the last w % VL floats under the mask tail. Replaces a bulk copy of
     * the plane then one System.arraycopy per row (8 floats at 8×8): 64→64 at 8×8, batch 64, 2
     * threads, alternating in one JVM (2026-12-06): forward 1026 → 999 µs per call, input gradient
     * 1029 → 1000.
     */
    private static void padPlane(MemorySegment x, long at, int h, int w, VectorMask<Float> tail, float[] padded, int dst, int wp) {
        int full = w - w % VL;
        for (int yy = 0; yy < h; yy++, at += w, dst += wp) {
            for (int j = 0; j < full; j += VL) {
                FloatVector.fromMemorySegment(SPECIES, x, (at + j) * Float.BYTES, ORDER).intoArray(padded, dst + j);
            }
            if (full < w) FloatVector.fromMemorySegment(SPECIES, x, (at + full) * Float.BYTES, ORDER, tail).intoArray(padded, dst + full, tail);
        }
    }

    /** tmp[(6i + j)·VL + l] = padded[patchAt[t + l] + i·wp + j] for l < lanes (0 beyond). */
    static void transposePatches(float[] padded, int wp, int[] patchAt, int t, int lanes, float[] tmp) {
        if (lanes < VL) {   // zero first, whole vectors: 36 stores instead of 36·(VL − lanes) (4 live lanes at 8×8, batch 1)
            for (int e = 0; e < POSITIONS; e++) FloatVector.zero(SPECIES).intoArray(tmp, e * VL);
        }
        for (int l = 0; l < lanes; l++) {
            int src = patchAt[t + l];
            for (int i = 0, d = l; i < ALPHA; i++, src += wp, d += ALPHA * VL) {
                tmp[d] = padded[src];
                tmp[d + VL] = padded[src + 1];
                tmp[d + 2 * VL] = padded[src + 2];
                tmp[d + 3 * VL] = padded[src + 3];
                tmp[d + 4 * VL] = padded[src + 4];
                tmp[d + 5 * VL] = padded[src + 5];
            }
        }
    }

    /**
     * out[oAt + i·oStride] = (Bᵀ d)[i] for the six vectors d[e] = in[iAt + e·iStride]:
     * (4d0 − 5d2 + d4, −4(d1 + d2) + d3 + d4, 4(d1 − d2) − d3 + d4, 2(d3 − d1) − d2 + d4, 2(d1 − d3) − d2 + d4, 4d1 − 5d3 + d5).
     * Arrays and offsets, not vectors, cross the call: a call the JIT does not inline would box vector arguments.
     */
    static void transformInput(float[] in, int iAt, int iStride, float[] out, int oAt, int oStride) {
        FloatVector d0 = FloatVector.fromArray(SPECIES, in, iAt), d1 = FloatVector.fromArray(SPECIES, in, iAt + iStride),
                d2 = FloatVector.fromArray(SPECIES, in, iAt + 2 * iStride), d3 = FloatVector.fromArray(SPECIES, in, iAt + 3 * iStride),
                d4 = FloatVector.fromArray(SPECIES, in, iAt + 4 * iStride), d5 = FloatVector.fromArray(SPECIES, in, iAt + 5 * iStride);
        FloatVector s34 = d3.add(d4), s12 = d1.add(d2), m43 = d4.sub(d3), m12 = d1.sub(d2);
        FloatVector m42 = d4.sub(d2), m31 = d3.sub(d1);
        d0.mul(4f).add(d2.mul(-5f).add(d4)).intoArray(out, oAt);
        s12.mul(-4f).add(s34).intoArray(out, oAt + oStride);
        m12.mul(4f).add(m43).intoArray(out, oAt + 2 * oStride);
        m31.mul(2f).add(m42).intoArray(out, oAt + 3 * oStride);
        m42.sub(m31.mul(2f)).intoArray(out, oAt + 4 * oStride);
        d1.mul(4f).add(d3.mul(-5f).add(d5)).intoArray(out, oAt + 5 * oStride);
    }

    /**
     * The output transform of channels k0 .. k0+kr of the block's nt tiles: y = Aᵀ M A + bias,
     * scattered into out (kr, rows, 4, 4·tw) at outAt[t] (plane outPlane, row length rowLen).
     */
    private static void outputTransform(int kr, int k0, int nt, int ntp, int outPlane, int rowLen, float[] m, int[] outAt,
                                        float[] bias, float[] out, float[] tmp) {
        int ms = GridGemm.MR * ntp + LINE;   // between positions in m: see Plan.vStride
        for (int r = 0; r < kr; r++) {
            FloatVector b = FloatVector.broadcast(SPECIES, bias == null ? 0f : bias[k0 + r]);
            for (int t = 0; t < nt; t += VL) {
                int at = r * ntp + t;
                // rows: e[i][b] = (M A)[i][b]
                for (int i = 0; i < ALPHA; i++) transformOutput(m, at + i * ALPHA * ms, ms, tmp, i * TILE * VL);
                // columns: y[a][b] = (Aᵀ e)[a][b] + bias, scattered
                VectorMask<Float> live = SPECIES.indexInRange(t, nt);
                for (int j = 0; j < TILE; j++) {
                    FloatVector e0 = FloatVector.fromArray(SPECIES, tmp, j * VL);
                    FloatVector e1 = FloatVector.fromArray(SPECIES, tmp, (TILE + j) * VL);
                    FloatVector e2 = FloatVector.fromArray(SPECIES, tmp, (2 * TILE + j) * VL);
                    FloatVector e3 = FloatVector.fromArray(SPECIES, tmp, (3 * TILE + j) * VL);
                    FloatVector e4 = FloatVector.fromArray(SPECIES, tmp, (4 * TILE + j) * VL);
                    FloatVector e5 = FloatVector.fromArray(SPECIES, tmp, (5 * TILE + j) * VL);
                    FloatVector s12 = e1.add(e2), s34 = e3.add(e4), d12 = e1.sub(e2), d34 = e3.sub(e4);
                    int o = r * outPlane + j;
                    e0.add(s12).add(s34).add(b).intoArray(out, o, outAt, t, live);
                    d34.fma(FloatVector.broadcast(SPECIES, 2f), d12).add(b).intoArray(out, o + rowLen, outAt, t, live);
                    s34.fma(FloatVector.broadcast(SPECIES, 4f), s12).add(b).intoArray(out, o + 2 * rowLen, outAt, t, live);
                    d34.fma(FloatVector.broadcast(SPECIES, 8f), d12).add(e5).add(b).intoArray(out, o + 3 * rowLen, outAt, t, live);
                }
            }
        }
    }

    /** tmp[at + a·VL] = (Aᵀ m)[a] for m[e] = in[iAt + e·iStride]: (m0 + m1 + m2 + m3 + m4, m1 − m2 + 2(m3 − m4), m1 + m2 + 4(m3 + m4), m1 − m2 + 8(m3 − m4) + m5). */
    static void transformOutput(float[] in, int iAt, int iStride, float[] tmp, int at) {
        FloatVector m0 = FloatVector.fromArray(SPECIES, in, iAt), m1 = FloatVector.fromArray(SPECIES, in, iAt + iStride),
                m2 = FloatVector.fromArray(SPECIES, in, iAt + 2 * iStride), m3 = FloatVector.fromArray(SPECIES, in, iAt + 3 * iStride),
                m4 = FloatVector.fromArray(SPECIES, in, iAt + 4 * iStride), m5 = FloatVector.fromArray(SPECIES, in, iAt + 5 * iStride);
        FloatVector s12 = m1.add(m2), s34 = m3.add(m4), d12 = m1.sub(m2), d34 = m3.sub(m4);
        m0.add(s12).add(s34).intoArray(tmp, at);
        d34.mul(2f).add(d12).intoArray(tmp, at + VL);
        s34.mul(4f).add(s12).intoArray(tmp, at + 2 * VL);
        d34.mul(8f).add(d12).add(m5).intoArray(tmp, at + 3 * VL);
    }

    /** Copies channels k0 .. k0+kr of the block's output strips (kr, rows, 4, 4·tw) into y (n, k, h, w), cropped. */
    private static void writeOut(Plan p, int b0, int rows, int k0, int kr, float[] out, MemorySegment y, long yOff) {
        writeOut(p, b0, rows, k0, kr, out, 0, p.outPlane(), y, yOff);
    }

    /** writeOut from the strips at out[outAt + r·stripStride ..]. */
    static void writeOut(Plan p, int b0, int rows, int k0, int kr, float[] out, int outAt, int stripStride, MemorySegment y, long yOff) {
        ConvGeometry g = p.g();
        int h = g.h(), w = g.w(), rowLen = TILE * p.tw(), hw = h * w;
        boolean wholeRows = w == rowLen;
        for (int r = 0; r < kr; r++) {
            int src0 = outAt + r * stripStride;
            for (int rb = 0; rb < rows; ) {
                int img = (b0 + rb) / p.th(), ty = (b0 + rb) % p.th();
                int run = Math.min(rows - rb, p.th() - ty);                       // tile rows of this image in the block
                int y0 = TILE * ty, y1 = Math.min(h, TILE * (ty + run));
                long dst = yOff + ((long) img * g.k() + k0 + r) * hw;
                int src = src0 + rb * TILE * rowLen;
                if (wholeRows) {
                    MemorySegment.copy(out, src, y, ValueLayout.JAVA_FLOAT, (dst + (long) y0 * w) * Float.BYTES, (y1 - y0) * w);
                } else {
                    for (int yy = y0; yy < y1; yy++) {
                        MemorySegment.copy(out, src + (yy - y0) * rowLen, y, ValueLayout.JAVA_FLOAT, (dst + (long) yy * w) * Float.BYTES, w);
                    }
                }
                rb += run;
            }
        }
    }
}
