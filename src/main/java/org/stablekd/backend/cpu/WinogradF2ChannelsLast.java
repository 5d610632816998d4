package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

/**
 * Winograd F(2×2, 3×3) with the channels along the vectors, for the wide 3×3 stride-1 layers of
 * batch-1 inference on small images (resnet8x4's 256→256 at 8×8), under an inference
 * {@link WeightCache}. The steps are {@link WinogradChannelsLast}'s with 4×4 input tiles, 16
 * positions and 2×2 output tiles:
 * <pre>
 *   xt (h+2, 2·tw+2, c)  the image's rows, zero-padded, channels-last ({@link WinogradChannelsLast#toChannelsLast})
 *   V_ξ (tiles, c)      Bᵀ d B per tile and vector of 16 channels, 16 positions ξ
 *   M_ξ (tiles, k)      V_ξ · U_ξ, U_ξ = (G w Gᵀ)_ξ cached per layer as (k/64, 16, c, 64)
 *   y                   Aᵀ M A + bias (+ ReLU) per tile, turned back to planes ({@link WinogradChannelsLast#toPlanes})
 * </pre>
 * with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
 * Aᵀ = [1 1 1 0; 0 1 −1 −1].
 *
 * <p>Why: at batch 1 an 8×8 image is only 4 tiles of F(4×4, 3×3), so each float of its 36·c·k
 * transformed weights feeds 4 multiply-adds, and 256→256 streams 9.4 MB of U from memory every
 * call: in the model, where the other layers evict it, that layer took 270–750 µs as the host's
 * memory traffic came and went. Here U is 16·c·k (4.2 MB) and each float feeds the 16 tiles, for
 * (16·16)/(36·4) = 1.8× F(4×4)'s multiply-adds. Measured on the 2-vCPU Zen 5 (2026-12-06, one
 * layer, the two alternating in one JVM, µs): with 16 MB read between calls, as a model's other
 * layers do, 256→256 at 8×8 508–527 against 788–796 on one thread and 309–349 against 474–520 on
 * two, 128→128 at 8×8 145 against 183; hot in cache 222–239 against 215–258 (256) and 58 against
 * 48 (128). At 16×16 (16 F(4×4) tiles) F(4×4) wins hot, 145 against 205, so the rule stops at 4.
 * Of the register tiles tried for the 16 tiles, tile6x4's (6 + 6 + 4) ran 222 against 265 for two
 * 8 × 32 and 345 for one 16 × 16 (broadcast-bound).
 *
 * <p>Threads: at batch 1 the output channels are cut into parts of whole 64-channel blocks, one
 * per thread; each part does its own input transform (cheap beside the products). Every output is,
 * per ξ, one in-order sum over c, then the same output transform, whatever the parts: the bits do
 * not depend on the thread count (Note [Determinism]). Accuracy: within WinogradConv's bound
 * |y − y_ref| ≤ 2e-5 · Σ|w||x| (F(2×2)'s transforms are smaller than F(4×4)'s; tested).
 */
final class WinogradF2ChannelsLast {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;
    private static final int VL = 16, TILE = 2, ALPHA = 4, POSITIONS = ALPHA * ALPHA;
    /** Output channels per block of U and per register tile (four vectors); tiles per register tile. */
    static final int KB = 64, TT = 6;
    /**
     * Most F(4×4) tiles in the batch where it runs (an 8×8 image has 4): there F(4×4) reads each float
     * of U for 4 multiply-adds. With more tiles F(4×4)'s U is read for more, and fewer FLOPs win.
     */
    static final int MAX_F4_TILES = 4;
    /** Fewest c·k where it runs: F(4×4)'s U of 128→128 is 2.4 MB, beyond a 1 MB L2; 64→64's (590 KB) stays in it. */
    static final int MIN_CK = 128 * 128;
    // ConvScratch slots
    private static final int XT = 65, ROWS = 66, V = 67, M = 68, YT = 69, TMP = 70;
    private static volatile boolean enabled = !"false".equals(System.getProperty("stablekd.winogradF2"));

    private WinogradF2ChannelsLast() {}

    /** For tests and A/B timing; returns the previous setting. */
    static boolean enable(boolean on) {
        boolean was = enabled;
        enabled = on;
        return was;
    }

    /**
     * True for a layer {@link WinogradChannelsLast} computes (3×3, stride 1, pad 1, one group, 16-float
     * vectors) with k a multiple of 64, c·k ≥ {@link #MIN_CK}, at most {@link #MAX_F4_TILES} F(4×4)
     * tiles in the batch, and weights it can cache (native) under an inference WeightCache. Shape and
     * cache only; off with -Dstablekd.winogradF2=false.
     */
    static boolean supports(ConvGeometry g, boolean nativeWeights) {
        if (!enabled || !nativeWeights || WeightCache.current() == null || !WinogradChannelsLast.computes(g)) return false;
        long f4Tiles = (long) g.n() * Sgemm.ceilDiv(g.h(), WinogradConv.TILE) * Sgemm.ceilDiv(g.w(), WinogradConv.TILE);
        return g.k() % KB == 0 && (long) g.c() * g.k() >= MIN_CK && f4Tiles <= MAX_F4_TILES;
    }

    // ---------------------------------------------------------------- weights

    /** u[((kk/64)·16 + ξ)·c·64 + ci·64 + kk%64] = (G w[kk][ci] Gᵀ)[ξ], in double, rounded once. */
    static float[] transformWeights(MemorySegment w, long wOff, int k, int c) {
        float[] wf = new float[k * c * 9];
        MemorySegment.copy(w, ValueLayout.JAVA_FLOAT, wOff * Float.BYTES, wf, 0, wf.length);
        float[] u = new float[POSITIONS * c * k];
        double[] t = new double[12];
        for (int kk = 0; kk < k; kk++)
            for (int ci = 0; ci < c; ci++) {
                int g0 = (kk * c + ci) * 9;
                for (int j = 0; j < 3; j++) {   // t = G g (4×3), column j
                    double a = wf[g0 + j], b = wf[g0 + 3 + j], d = wf[g0 + 6 + j];
                    t[j] = a;
                    t[3 + j] = 0.5 * (a + b + d);
                    t[6 + j] = 0.5 * (a - b + d);
                    t[9 + j] = d;
                }
                int at = (kk / KB * POSITIONS) * c * KB + ci * KB + kk % KB;
                for (int i = 0; i < ALPHA; i++) {   // row i of t Gᵀ
                    double a = t[3 * i], b = t[3 * i + 1], d = t[3 * i + 2];
                    int row = at + i * ALPHA * c * KB;
                    u[row] = (float) a;
                    u[row + c * KB] = (float) (0.5 * (a + b + d));
                    u[row + 2 * c * KB] = (float) (0.5 * (a - b + d));
                    u[row + 3 * c * KB] = (float) d;
                }
            }
        return u;
    }

    // ---------------------------------------------------------------- the forward

    /** y = conv(x, w) + bias (bias may be null), then max(0, ·) if relu; x (n, c, h, w), y (n, k, h, w). */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        forward(g, x, xOff, w, wOff, bias, bOff, null, 0, y, yOff, relu, parts(g));
    }

    /** y = max(conv(x, w) + bias + r, 0), r laid out as y (the bits of the conv, then CpuPointwise.addRelu). */
    static void forwardAddRelu(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                               MemorySegment bias, long bOff, MemorySegment r, long rOff, MemorySegment y, long yOff) {
        forward(g, x, xOff, w, wOff, bias, bOff, r, rOff, y, yOff, false, parts(g));
    }

    /** Parts of k per image: one per thread at batch 1, in whole 64-channel blocks. */
    private static int parts(ConvGeometry g) {
        return g.n() >= Parallel.threads() ? 1 : Math.min(Sgemm.ceilDiv(Parallel.threads(), g.n()), g.k() / KB);
    }

    /** The forward with k cut into kParts parts (tests: the bits do not depend on it); r != null: y = max(· + r, 0), relu false. */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment bias, long bOff,
                        MemorySegment r, long rOff, MemorySegment y, long yOff, boolean relu, int kParts) {
        int k = g.k(), c = g.c(), blocks = k / KB;
        float[] u = WeightCache.current().packed(w, wOff, "winograd-f2-channels-last", k, c * 9, () -> transformWeights(w, wOff, k, c));
        float[] b = WinogradChannelsLast.biasCopy(g, bias, bOff);   // the caller's, read by every part
        Parallel.forRange(g.n() * kParts, 1, (u0, u1) -> {
            for (int unit = u0; unit < u1; unit++) {
                int img = unit / kParts, part = unit % kParts;
                int k0 = KB * (blocks * part / kParts), k1 = KB * (blocks * (part + 1) / kParts);
                if (k1 > k0) image(g, x, xOff, u, b, relu, r, rOff, y, yOff, img, k0, k1);
            }
        });
    }

    /** Output channels [k0, k1) of image img: the four steps of the class comment. */
    private static void image(ConvGeometry g, MemorySegment x, long xOff, float[] u, float[] bias, boolean relu,
                              MemorySegment r, long rOff, MemorySegment y, long yOff, int img, int k0, int k1) {
        int c = g.c(), k = g.k(), kw = k1 - k0, h = g.h(), w = g.w();
        int th = Sgemm.ceilDiv(h, TILE), tw = Sgemm.ceilDiv(w, TILE), wp = TILE * tw + 2, wo = TILE * tw, inRows = TILE * th + 2;
        int nt = th * tw, ntp = ConvGrid.roundUp(nt, TT);
        int vs = ntp * c + WinogradConv.LINE, ms = ntp * kw + WinogradConv.LINE;   // between positions (a line apart: no set aliasing)
        ConvScratch s = ConvScratch.get();
        float[] xt = s.buffer(XT, (long) inRows * wp * c), tmp = s.buffer(TMP, VL * VL);
        float[] rows = s.buffer(ROWS, Math.max((long) c * h * w, (long) kw * h * w));
        float[] v = s.buffer(V, (long) POSITIONS * vs), m = s.buffer(M, (long) POSITIONS * ms);
        float[] yt = s.buffer(YT, (long) TILE * th * wo * kw);
        WinogradChannelsLast.toChannelsLast(x, xOff + (long) img * c * h * w, c, h, w, -1, inRows, wp, rows, xt, tmp);

        for (int t = 0; t < ntp; t++)
            for (int cv = 0; cv < c; cv += VL) {
                if (t >= nt) {   // the last register tile's missing tiles: zero, so the products stay finite
                    for (int xi = 0; xi < POSITIONS; xi++) FloatVector.zero(SPECIES).intoArray(v, xi * vs + t * c + cv);
                } else {
                    inputTile(xt, (TILE * (t / tw) * wp + TILE * (t % tw)) * c + cv, wp * c, c, v, t * c + cv, vs);
                }
            }
        for (int xi = 0; xi < POSITIONS; xi++)
            for (int kv = 0; kv < kw; kv += KB) {
                int ua = ((k0 + kv) / KB * POSITIONS + xi) * c * KB;
                for (int t = 0; t < ntp; t += TT) {
                    int va = xi * vs + t * c, ma = xi * ms + t * kw + kv;
                    if (nt - t <= 4) WinogradChannelsLast.tile4x4(c, KB, kw, v, va, u, ua, m, ma);
                    else WinogradChannelsLast.tile6x4(c, KB, kw, v, va, u, ua, m, ma);
                }
            }
        for (int t = 0; t < nt; t++) {
            int oy = TILE * (t / tw), ox = TILE * (t % tw);
            for (int kv = 0; kv < kw; kv += VL) outputTile(m, t * kw + kv, ms, bias, k0 + kv, relu, yt, (oy * wo + ox) * kw + kv, wo * kw, kw);
        }
        long at = ((long) img * k + k0) * h * w;   // plane k0 of image img
        WinogradChannelsLast.toPlanes(yt, kw, h, w, wo, rows, r, rOff + at, false, y, yOff + at, h * w);
    }

    /**
     * V_ξ for one tile and vector of 16 channels: v[vAt + ξ·vs] = (Bᵀ d B)[ξ], d[i][j] =
     * xt[at + i·rowStride + j·c]. Rows first (d·B), then columns (Bᵀ·).
     */
    private static void inputTile(float[] xt, int at, int rowStride, int c, float[] v, int vAt, int vs) {
        // one flat block, no arrays of vectors and no helpers taking vectors (C2 would box or spill them)
        int a = at;
        FloatVector d0 = FloatVector.fromArray(SPECIES, xt, a), d1 = FloatVector.fromArray(SPECIES, xt, a + c),
                    d2 = FloatVector.fromArray(SPECIES, xt, a + 2 * c), d3 = FloatVector.fromArray(SPECIES, xt, a + 3 * c);
        FloatVector e00 = d0.sub(d2), e01 = d1.add(d2), e02 = d2.sub(d1), e03 = d1.sub(d3);
        a += rowStride;
        d0 = FloatVector.fromArray(SPECIES, xt, a); d1 = FloatVector.fromArray(SPECIES, xt, a + c);
        d2 = FloatVector.fromArray(SPECIES, xt, a + 2 * c); d3 = FloatVector.fromArray(SPECIES, xt, a + 3 * c);
        FloatVector e10 = d0.sub(d2), e11 = d1.add(d2), e12 = d2.sub(d1), e13 = d1.sub(d3);
        a += rowStride;
        d0 = FloatVector.fromArray(SPECIES, xt, a); d1 = FloatVector.fromArray(SPECIES, xt, a + c);
        d2 = FloatVector.fromArray(SPECIES, xt, a + 2 * c); d3 = FloatVector.fromArray(SPECIES, xt, a + 3 * c);
        FloatVector e20 = d0.sub(d2), e21 = d1.add(d2), e22 = d2.sub(d1), e23 = d1.sub(d3);
        a += rowStride;
        d0 = FloatVector.fromArray(SPECIES, xt, a); d1 = FloatVector.fromArray(SPECIES, xt, a + c);
        d2 = FloatVector.fromArray(SPECIES, xt, a + 2 * c); d3 = FloatVector.fromArray(SPECIES, xt, a + 3 * c);
        FloatVector e30 = d0.sub(d2), e31 = d1.add(d2), e32 = d2.sub(d1), e33 = d1.sub(d3);
        // columns: V[p][q] at ξ = 4p + q
        e00.sub(e20).intoArray(v, vAt);            e01.sub(e21).intoArray(v, vAt + vs);
        e02.sub(e22).intoArray(v, vAt + 2 * vs);   e03.sub(e23).intoArray(v, vAt + 3 * vs);
        e10.add(e20).intoArray(v, vAt + 4 * vs);   e11.add(e21).intoArray(v, vAt + 5 * vs);
        e12.add(e22).intoArray(v, vAt + 6 * vs);   e13.add(e23).intoArray(v, vAt + 7 * vs);
        e20.sub(e10).intoArray(v, vAt + 8 * vs);   e21.sub(e11).intoArray(v, vAt + 9 * vs);
        e22.sub(e12).intoArray(v, vAt + 10 * vs);  e23.sub(e13).intoArray(v, vAt + 11 * vs);
        e10.sub(e30).intoArray(v, vAt + 12 * vs);  e11.sub(e31).intoArray(v, vAt + 13 * vs);
        e12.sub(e32).intoArray(v, vAt + 14 * vs);  e13.sub(e33).intoArray(v, vAt + 15 * vs);
    }

    /**
     * One tile's 16 output channels: Aᵀ M A + bias (then ReLU) from m[at + ξ·ms], pixel (a, b) of
     * the tile to yt[yAt + a·rowStride + b·k].
     */
    private static void outputTile(float[] m, int at, int ms, float[] bias, int kv, boolean relu,
                                   float[] yt, int yAt, int rowStride, int k) {
        // (M A)[p][0] = M_p0 + M_p1 + M_p2 and (M A)[p][1] = M_p1 − M_p2 − M_p3 per row p, then Aᵀ down the columns
        int o = at;
        FloatVector m0 = FloatVector.fromArray(SPECIES, m, o), m1 = FloatVector.fromArray(SPECIES, m, o + ms),
                    m2 = FloatVector.fromArray(SPECIES, m, o + 2 * ms), m3 = FloatVector.fromArray(SPECIES, m, o + 3 * ms);
        FloatVector p00 = m0.add(m1).add(m2), p01 = m1.sub(m2).sub(m3);
        o += ALPHA * ms;
        m0 = FloatVector.fromArray(SPECIES, m, o); m1 = FloatVector.fromArray(SPECIES, m, o + ms);
        m2 = FloatVector.fromArray(SPECIES, m, o + 2 * ms); m3 = FloatVector.fromArray(SPECIES, m, o + 3 * ms);
        FloatVector p10 = m0.add(m1).add(m2), p11 = m1.sub(m2).sub(m3);
        o += ALPHA * ms;
        m0 = FloatVector.fromArray(SPECIES, m, o); m1 = FloatVector.fromArray(SPECIES, m, o + ms);
        m2 = FloatVector.fromArray(SPECIES, m, o + 2 * ms); m3 = FloatVector.fromArray(SPECIES, m, o + 3 * ms);
        FloatVector p20 = m0.add(m1).add(m2), p21 = m1.sub(m2).sub(m3);
        o += ALPHA * ms;
        m0 = FloatVector.fromArray(SPECIES, m, o); m1 = FloatVector.fromArray(SPECIES, m, o + ms);
        m2 = FloatVector.fromArray(SPECIES, m, o + 2 * ms); m3 = FloatVector.fromArray(SPECIES, m, o + 3 * ms);
        FloatVector p30 = m0.add(m1).add(m2), p31 = m1.sub(m2).sub(m3);
        FloatVector b = FloatVector.fromArray(SPECIES, bias, kv);
        float floor = relu ? 0f : Float.NEGATIVE_INFINITY;   // max(v, −∞) = v, NaN stays NaN
        p00.add(p10).add(p20).add(b).max(floor).intoArray(yt, yAt);
        p01.add(p11).add(p21).add(b).max(floor).intoArray(yt, yAt + k);
        p10.sub(p20).sub(p30).add(b).max(floor).intoArray(yt, yAt + rowStride);
        p11.sub(p21).sub(p31).add(b).max(floor).intoArray(yt, yAt + rowStride + k);
    }
}
