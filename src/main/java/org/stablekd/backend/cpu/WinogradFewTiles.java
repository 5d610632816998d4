package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

/**
 * Where channel counts are whole vectors of 16 (every zoo layer), {@link WinogradChannelsLast} now
 * runs these layers, with the same bits in 0.6–0.9× the time (batch 1, one thread); this kernel
 * keeps the others.
 *
 * <p>{@link WinogradConv}'s F(4×4, 3×3) forward for batches of few tiles (batch-1 inference), with
 * the output channels, not the tiles, along the vectors: per position ξ of the 6×6 domain
 * <pre>
 *   Mᵀ_ξ (tiles, k) = Vᵀ_ξ (tiles, c) · U'_ξ (c, k)      U' = U transposed (k contiguous, blocks of 64), cached
 * </pre>
 * on a register tile of 6 tiles × 4 vectors of k (64 channels): per input channel 4 loads of U'
 * and 6 broadcasts of V for 24 FMAs (a last group of 4 tiles or fewer on a 4 × 4 tile: same
 * sums). The tiles-along-vectors product pads a block to 48 tiles (3 vectors), so 4 to 64 tiles
 * per image wasted most of it (measured 0.07–0.6× the grid path at batch 1); here tiles pad only
 * to a multiple of 6.
 *
 * <p>Runs only under an inference {@link WeightCache} (U' is built once per weight tensor: the
 * transform of 256→256 weights costs more than the layer) and with 16-float vectors (the tile
 * needs 24 accumulators + 5 of AVX-512's 32 registers). Steps, all within one call:
 * <ol>
 *   <li>input transform of every tile of the batch into V (36, c, ntp), input channels split over the threads;</li>
 *   <li>per (64 output channels, range of 6-tile groups), split over the threads: the 36 products into M
 *       (36, tiles, 64), then the output transform Aᵀ M A + bias, vectors of 16 channels scattered into
 *       the output strips (k, 4·th, 4·tw) (one lane per channel plane);</li>
 *   <li>the strips copied into y, cropped, channels split over the threads.</li>
 * </ol>
 * The products and transforms are WinogradConv's, in the same order (each output is one in-order
 * sum over c per ξ), so results do not depend on the split or the thread count (Note [Determinism])
 * and are the bits WinogradConv's forward gives (tested); the accuracy bound is WinogradConv's.
 * Measured (2-core Zen 4, one thread, batch 1, µs per call, grid path → here): 64→64 at 32×32
 * 735 → 309, 128→128 at 16×16 791 → 243, 256→256 at 8×8 1053 → 228, 32→32 at 16×16 52 → 40,
 * 64→64 at 8×8 70 → 26.
 */
final class WinogradFewTiles {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;
    private static final int VL = 16;
    private static final int TILE = WinogradConv.TILE, ALPHA = WinogradConv.ALPHA, POSITIONS = WinogradConv.POSITIONS;
    /** Register tile: tiles × output channels (4 vectors). */
    private static final int TT = 6, KB = 4 * VL;
    /** Most tiles in the batch where it runs (above, WinogradConv's blocks are full). */
    static final int MAX_TILES = WinogradConv.MIN_TILES - 1;
    // ConvScratch slots (WinogradConv's: it never runs in the same call)
    private static final int PADDED = 19, V = 20, M = 21, OUT = 22, TMP = 24, BIAS = 27;
    private static final int PATCH_AT = 4;

    private WinogradFewTiles() {}

    /**
     * True where the forward runs here: a layer WinogradConv computes, 32+ input and output
     * channels, fewer than {@link WinogradConv#MIN_TILES} tiles in the batch, under an inference
     * WeightCache, on 16-float vectors. Shape and cache only, never timing.
     */
    static boolean supports(ConvGeometry g) {
        long tiles = (long) g.n() * Sgemm.ceilDiv(g.h(), TILE) * Sgemm.ceilDiv(g.w(), TILE);
        return WinogradConv.enabled() && GridGemm.SPECIES.length() == VL && WeightCache.current() != null
                && WinogradConv.computes(g) && g.c() >= WinogradConv.MIN_CHANNELS && g.k() >= WinogradConv.MIN_CHANNELS
                && tiles <= MAX_TILES;
    }

    /**
     * Floats between output channels in the strips: one cache line more than a strip, so the 16
     * lanes of a scatter do not fall into one L1 set (measured, 64→64 at 32×32: strips of 4 KiB
     * made the output transform 133 µs of the layer's 400).
     */
    private static int strip(WinogradConv.Plan p) {
        return p.outPlane() + WinogradConv.LINE;
    }

    /** Output channels rounded up to whole register tiles. */
    private static int kPadded(int k) {
        return ConvGrid.roundUp(k, KB);
    }

    /**
     * U' in blocks of 64 output channels (kp/64, 36, c, 64): U'[((kk/64)·36 + ξ)·c·64 + ci·64 + kk%64] =
     * U_ξ[kk][ci] (zero for kk ≥ k), from WinogradConv's panel-packed transform (the same floats). A
     * register tile streams one contiguous run (c·64 floats); measured, rows of kp floats (stride
     * kp·4 bytes per ci) made 256→256 at 8×8 1.4× slower than the grid path.
     */
    private static float[] transposedWeights(MemorySegment w, long wOff, int k, int c) {
        int mr = GridGemm.MR, ps = WinogradConv.positionStride(k, c), kp = kPadded(k);
        float[] wf = new float[k * c * 9];
        MemorySegment.copy(w, ValueLayout.JAVA_FLOAT, wOff * Float.BYTES, wf, 0, wf.length);
        float[] ap = new float[POSITIONS * ps];
        WinogradConv.transformWeights(wf, k, c, false, ap);
        float[] u = new float[POSITIONS * c * kp];
        for (int xi = 0; xi < POSITIONS; xi++)
            for (int ci = 0; ci < c; ci++)
                for (int kk = 0; kk < k; kk++)
                    u[((kk / KB) * POSITIONS + xi) * c * KB + ci * KB + kk % KB] = ap[xi * ps + (kk / mr) * mr * c + ci * mr + kk % mr];
        return u;
    }

    /** y = conv(x, w) + bias for x (n, c, h, w), w (k, c, 3, 3), y (n, k, h, w), all contiguous; w native (cached). */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        int k = g.k(), c = g.c(), kp = kPadded(k);
        float[] u = WeightCache.current().packed(w, wOff, "winograd-forward-channels", k, c * 9, () -> transposedWeights(w, wOff, k, c));
        int th = Sgemm.ceilDiv(g.h(), TILE), tw = Sgemm.ceilDiv(g.w(), TILE), rows = g.n() * th, nt = rows * tw;
        int groups = Sgemm.ceilDiv(nt, TT);
        int ntp = ConvGrid.roundUp(groups * TT, VL);
        WinogradConv.Plan p = new WinogradConv.Plan(g, th, tw, TILE * tw + 2, rows, ntp);
        ConvScratch s = ConvScratch.get();
        int xs = p.vStride();
        float[] v = s.buffer(V, (long) POSITIONS * xs);
        float[] out = s.buffer(OUT, (long) kp * strip(p));
        float[] bf = s.buffer(BIAS, kp);
        java.util.Arrays.fill(bf, 0, kp, 0f);
        if (bias != null) MemorySegment.copy(bias, ValueLayout.JAVA_FLOAT, bOff * Float.BYTES, bf, 0, k);
        // 1. input transform, input channels split over the threads
        Parallel.forRange(c, 8, (c0, c1) -> {
            ConvScratch ts = ConvScratch.get();
            float[] padded = ts.buffer(PADDED, (long) p.imagesPerBlock() * p.hp() * p.wp());
            WinogradConv.inputTransform(p, x, xOff, 0, rows, c0, c1, padded,
                    ts.ints(PATCH_AT, nt), v, ts.buffer(TMP, POSITIONS * VL));
        });
        // 2. products and output transform per (64 channels, range of tile groups); enough ranges for every thread
        int kBlocks = kp / KB, ranges = Math.min(groups, Sgemm.ceilDiv(Parallel.threads(), kBlocks));
        Parallel.forRange(kBlocks * ranges, 1, (u0, u1) -> {
            ConvScratch ts = ConvScratch.get();
            int ms = Sgemm.ceilDiv(groups, ranges) * TT * KB + WinogradConv.LINE;
            float[] m = ts.buffer(M, (long) POSITIONS * ms);
            float[] tmp = ts.buffer(TMP, POSITIONS * VL);
            int[] scatter = new int[VL];
            for (int l = 0; l < VL; l++) scatter[l] = l * strip(p);
            for (int unit = u0; unit < u1; unit++) {
                int kb = unit / ranges, r = unit % ranges;
                int g0 = (int) ((long) groups * r / ranges), g1 = (int) ((long) groups * (r + 1) / ranges);
                int t0 = g0 * TT, t1 = g1 * TT;
                for (int xi = 0; xi < POSITIONS; xi++) {
                    for (int t = t0; t < t1; t += TT) {
                        int ua = (kb * POSITIONS + xi) * c * KB, va = xi * xs + t, ma = xi * ms + (t - t0) * KB;
                        if (nt - t <= 4) tile4x4(c, u, ua, KB, v, va, ntp, m, ma);   // the last group, 4 tiles or fewer
                        else tile6x4(c, u, ua, KB, v, va, ntp, m, ma);
                    }
                }
                outputTransform(p, kb * KB, Math.min(KB, k - kb * KB), t0, Math.min(t1, nt), m, ms, bf, out, scatter, tmp);
            }
        });
        // 3. the strips into y, output channels split over the threads
        Parallel.forRange(k, 8, (k0, k1) -> WinogradConv.writeOut(p, 0, rows, k0, k1 - k0, out, k0 * strip(p), strip(p), y, yOff));
    }

    /**
     * m[mAt + j·KB + q·VL + l] = Σ_ci v[vAt + ci·ntp + j] · u[uAt + ci·ku + q·VL + l] for j < 6, q < 4, l < 16:
     * 6 tiles × 64 output channels of one position's product, in order over ci.
     */
    private static void tile6x4(int c, float[] u, int uAt, int ku, float[] v, int vAt, int ntp, float[] m, int mAt) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z,
                c30 = z, c31 = z, c32 = z, c33 = z, c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        for (int ci = 0, a = uAt, b = vAt; ci < c; ci++, a += ku, b += ntp) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, u, a), w1 = FloatVector.fromArray(SPECIES, u, a + VL),
                        w2 = FloatVector.fromArray(SPECIES, u, a + 2 * VL), w3 = FloatVector.fromArray(SPECIES, u, a + 3 * VL);
            FloatVector d = FloatVector.broadcast(SPECIES, v[b]);
            c00 = w0.fma(d, c00); c01 = w1.fma(d, c01); c02 = w2.fma(d, c02); c03 = w3.fma(d, c03);
            d = FloatVector.broadcast(SPECIES, v[b + 1]);
            c10 = w0.fma(d, c10); c11 = w1.fma(d, c11); c12 = w2.fma(d, c12); c13 = w3.fma(d, c13);
            d = FloatVector.broadcast(SPECIES, v[b + 2]);
            c20 = w0.fma(d, c20); c21 = w1.fma(d, c21); c22 = w2.fma(d, c22); c23 = w3.fma(d, c23);
            d = FloatVector.broadcast(SPECIES, v[b + 3]);
            c30 = w0.fma(d, c30); c31 = w1.fma(d, c31); c32 = w2.fma(d, c32); c33 = w3.fma(d, c33);
            d = FloatVector.broadcast(SPECIES, v[b + 4]);
            c40 = w0.fma(d, c40); c41 = w1.fma(d, c41); c42 = w2.fma(d, c42); c43 = w3.fma(d, c43);
            d = FloatVector.broadcast(SPECIES, v[b + 5]);
            c50 = w0.fma(d, c50); c51 = w1.fma(d, c51); c52 = w2.fma(d, c52); c53 = w3.fma(d, c53);
        }
        int o = mAt;
        c00.intoArray(m, o); c01.intoArray(m, o + VL); c02.intoArray(m, o + 2 * VL); c03.intoArray(m, o + 3 * VL); o += KB;
        c10.intoArray(m, o); c11.intoArray(m, o + VL); c12.intoArray(m, o + 2 * VL); c13.intoArray(m, o + 3 * VL); o += KB;
        c20.intoArray(m, o); c21.intoArray(m, o + VL); c22.intoArray(m, o + 2 * VL); c23.intoArray(m, o + 3 * VL); o += KB;
        c30.intoArray(m, o); c31.intoArray(m, o + VL); c32.intoArray(m, o + 2 * VL); c33.intoArray(m, o + 3 * VL); o += KB;
        c40.intoArray(m, o); c41.intoArray(m, o + VL); c42.intoArray(m, o + 2 * VL); c43.intoArray(m, o + 3 * VL); o += KB;
        c50.intoArray(m, o); c51.intoArray(m, o + VL); c52.intoArray(m, o + 2 * VL); c53.intoArray(m, o + 3 * VL);
    }

    /** tile6x4 for 4 tiles (a group with 4 or fewer live tiles: 8×8 images at batch 1 have 4); rows 4 and 5 of m are left as they were. */
    private static void tile4x4(int c, float[] u, int uAt, int ku, float[] v, int vAt, int ntp, float[] m, int mAt) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z,
                c30 = z, c31 = z, c32 = z, c33 = z;
        for (int ci = 0, a = uAt, b = vAt; ci < c; ci++, a += ku, b += ntp) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, u, a), w1 = FloatVector.fromArray(SPECIES, u, a + VL),
                        w2 = FloatVector.fromArray(SPECIES, u, a + 2 * VL), w3 = FloatVector.fromArray(SPECIES, u, a + 3 * VL);
            FloatVector d = FloatVector.broadcast(SPECIES, v[b]);
            c00 = w0.fma(d, c00); c01 = w1.fma(d, c01); c02 = w2.fma(d, c02); c03 = w3.fma(d, c03);
            d = FloatVector.broadcast(SPECIES, v[b + 1]);
            c10 = w0.fma(d, c10); c11 = w1.fma(d, c11); c12 = w2.fma(d, c12); c13 = w3.fma(d, c13);
            d = FloatVector.broadcast(SPECIES, v[b + 2]);
            c20 = w0.fma(d, c20); c21 = w1.fma(d, c21); c22 = w2.fma(d, c22); c23 = w3.fma(d, c23);
            d = FloatVector.broadcast(SPECIES, v[b + 3]);
            c30 = w0.fma(d, c30); c31 = w1.fma(d, c31); c32 = w2.fma(d, c32); c33 = w3.fma(d, c33);
        }
        int o = mAt;
        c00.intoArray(m, o); c01.intoArray(m, o + VL); c02.intoArray(m, o + 2 * VL); c03.intoArray(m, o + 3 * VL); o += KB;
        c10.intoArray(m, o); c11.intoArray(m, o + VL); c12.intoArray(m, o + 2 * VL); c13.intoArray(m, o + 3 * VL); o += KB;
        c20.intoArray(m, o); c21.intoArray(m, o + VL); c22.intoArray(m, o + 2 * VL); c23.intoArray(m, o + 3 * VL); o += KB;
        c30.intoArray(m, o); c31.intoArray(m, o + VL); c32.intoArray(m, o + 2 * VL); c33.intoArray(m, o + 3 * VL);
    }

    /**
     * y = Aᵀ M A + bias for output channels k0 .. k0+kr and tiles [t0, t1) (M (36, tiles from t0, KB) at
     * stride ms), 16 channels a vector, scattered into the strips out (k, rows, 4, 4·tw) (one lane per plane).
     */
    private static void outputTransform(WinogradConv.Plan p, int k0, int kr, int t0, int t1, float[] m, int ms, float[] bias,
                                        float[] out, int[] scatter, float[] tmp) {
        int tw = p.tw(), rowLen = TILE * tw, plane = strip(p);
        for (int q = 0; q < kr; q += VL) {
            FloatVector b = FloatVector.fromArray(SPECIES, bias, k0 + q);
            var live = SPECIES.indexInRange(q, kr);
            for (int t = t0; t < t1; t++) {
                int at = (t - t0) * KB + q;
                for (int i = 0; i < ALPHA; i++) WinogradConv.transformOutput(m, at + i * ALPHA * ms, ms, tmp, i * TILE * VL);
                int rb = t / tw, tx = t % tw;
                int o0 = (k0 + q) * plane + rb * TILE * rowLen + TILE * tx;
                for (int j = 0; j < TILE; j++) {
                    FloatVector e0 = FloatVector.fromArray(SPECIES, tmp, j * VL);
                    FloatVector e1 = FloatVector.fromArray(SPECIES, tmp, (TILE + j) * VL);
                    FloatVector e2 = FloatVector.fromArray(SPECIES, tmp, (2 * TILE + j) * VL);
                    FloatVector e3 = FloatVector.fromArray(SPECIES, tmp, (3 * TILE + j) * VL);
                    FloatVector e4 = FloatVector.fromArray(SPECIES, tmp, (4 * TILE + j) * VL);
                    FloatVector e5 = FloatVector.fromArray(SPECIES, tmp, (5 * TILE + j) * VL);
                    FloatVector s12 = e1.add(e2), s34 = e3.add(e4), d12 = e1.sub(e2), d34 = e3.sub(e4);
                    int o = o0 + j;
                    e0.add(s12).add(s34).add(b).intoArray(out, o, scatter, 0, live);
                    d34.fma(FloatVector.broadcast(SPECIES, 2f), d12).add(b).intoArray(out, o + rowLen, scatter, 0, live);
                    s34.fma(FloatVector.broadcast(SPECIES, 4f), s12).add(b).intoArray(out, o + 2 * rowLen, scatter, 0, live);
                    d34.fma(FloatVector.broadcast(SPECIES, 8f), d12).add(e5).add(b).intoArray(out, o + 3 * rowLen, scatter, 0, live);
                }
            }
        }
    }
}
