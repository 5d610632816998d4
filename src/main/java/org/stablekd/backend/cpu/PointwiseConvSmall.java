package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

/**
 * A 1×1 stride-1 convolution over few pixels in all (n·h·w ≤ {@link #MAX_PIXELS}: MobileNetV2's
 * last layers at batch 1 run 160→1280 over 2×2 pixels), vectorized across output channels:
 * <pre>
 *   y[b][kk][t] = bias[kk] + Σ_ci x[b][ci][t] · wᵀ[ci][kk]        wᵀ: the weights transposed, in panels of KT channels
 * </pre>
 * one broadcast of x per (ci, pixel) against vectors of wᵀ. The grid path would pad a 2×2 image
 * to 3×3 and round it to a 48-pixel tile (12× the work), and SGEMM would pad the 4 pixels to a
 * 32-wide panel. Register tile: up to 4 pixels × 2 vectors of channels, summed over ci in order
 * (one in-order sum per output, Note [Determinism]). wᵀ is made per call, or once per weight
 * tensor under an inference {@link WeightCache}. Threads take blocks of output channels.
 */
final class PointwiseConvSmall {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();
    /** Output channels per tile (two vectors). */
    private static final int KT = 2 * VL;
    /** Pixels per tile. */
    private static final int PT = 4;
    /** At most this many pixels over the whole batch take this path. */
    static final int MAX_PIXELS = 16;
    private static final int WT = 16, XS = 17, TILE = 18, OUT = 1, BIAS = 2;   // ConvScratch slots (the lowering path uses 0..5, GridConv 6..15; 1 and 2 are free here)

    private PointwiseConvSmall() {}

    static boolean supports(ConvGeometry g) {
        return g.r() == 1 && g.s() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0
                && g.groups() == 1 && (long) g.n() * g.p() * g.q() <= MAX_PIXELS;
    }

    private static int channelsPadded(int k) {
        return ConvGrid.roundUp(k, KT);
    }

    /**
     * wᵀ in panels of KT channels, (kp/KT, c, KT): panel u holds wᵀ[ci][u·KT + j] at (u·c + ci)·KT + j,
     * zero for channels ≥ k. A tile reads its panel front to back (one stream the prefetcher
     * follows; reading rows of the plain (c, kp) wᵀ was c streams, and at batch 1 these layers
     * wait on their weights: 160→1280 streams 800 KB per call).
     */
    private static float[] transposed(ConvGeometry g, MemorySegment w, long wOff, float[] into) {
        int c = g.c(), k = g.k(), kp = channelsPadded(k);
        float[] wt = into != null ? into : new float[c * kp];
        for (int ci = 0; ci < c; ci++) {
            for (int kk = 0; kk < kp; kk++) wt[(kk / KT * c + ci) * KT + kk % KT] = kk < k ? w.getAtIndex(ValueLayout.JAVA_FLOAT, wOff + (long) kk * c + ci) : 0f;
        }
        return wt;
    }

    /** y = conv(x, w) + bias, then max(0, ·) if relu. */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int n = g.n(), c = g.c(), k = g.k(), hw = g.p() * g.q(), kp = channelsPadded(k), pixels = n * hw;
        WeightCache cache = WeightCache.current();
        float[] wt = cache != null && w.isNative()
                ? cache.packed(w, wOff, "pointwise-small-panels", c, kp, () -> transposed(g, w, wOff, null))
                : transposed(g, w, wOff, ConvScratch.get().buffer(WT, (long) c * kp));
        // the pixels' inputs side by side: xs[ci·pixels + t], t = b·hw + pixel
        float[] xs = ConvScratch.get().buffer(XS, (long) c * pixels);
        if (n == 1) MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, xOff * Float.BYTES, xs, 0, c * hw);   // already in that order
        for (int b = 0; b < n && n > 1; b++) {
            for (int ci = 0; ci < c; ci++) {
                MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, (xOff + ((long) b * c + ci) * hw) * Float.BYTES, xs, ci * pixels + b * hw, hw);
            }
        }
        float[] bs = ConvScratch.get().buffer(BIAS, k);   // the bias on the heap, read by every thread (zeros if none)
        if (bias != null) MemorySegment.copy(bias, ValueLayout.JAVA_FLOAT, bOff * Float.BYTES, bs, 0, k);
        else java.util.Arrays.fill(bs, 0, k, 0f);
        long macsPerBlock = (long) KT * pixels * c;
        int grain = (int) Math.max(1, (DepthwiseFlat.MIN_CHUNK_MACS + macsPerBlock - 1) / macsPerBlock);
        Parallel.forRange(kp / KT, grain, (u0, u1) -> {
            // channels [ka, kb) of every image, staged as out[b][kk − ka][pixel], then copied to y in one piece per image
            int ka = u0 * KT, kb = Math.min(k, u1 * KT), rows = kb - ka;
            ConvScratch sc = ConvScratch.get();
            float[] tile = sc.buffer(TILE, PT * KT), out = sc.buffer(OUT, (long) n * rows * hw);
            for (int u = u0; u < u1; u++) {
                int k0 = u * KT, k1 = Math.min(k, k0 + KT);
                for (int t0 = 0; t0 < pixels; t0 += PT) {
                    int pt = Math.min(PT, pixels - t0);
                    tile(c, kp, k0, pixels, t0, pt, xs, wt, tile);
                    for (int i = 0; i < pt; i++) {
                        int t = t0 + i, b = t / hw, pix = t % hw, at = (b * rows + k0 - ka) * hw + pix;
                        if (relu) for (int kk = k0; kk < k1; kk++, at += hw) out[at] = Math.max(tile[i * KT + kk - k0] + bs[kk], 0f);
                        else for (int kk = k0; kk < k1; kk++, at += hw) out[at] = tile[i * KT + kk - k0] + bs[kk];
                    }
                }
            }
            for (int b = 0; b < n; b++) {
                MemorySegment.copy(out, b * rows * hw, y, ValueLayout.JAVA_FLOAT, (yOff + ((long) b * k + ka) * hw) * Float.BYTES, rows * hw);
            }
        });
    }

    // tile[i·KT + j] = Σ_ci xs[ci·pixels + t0 + i] · wᵀ[ci][k0 + j], i < pt (pixels past pt repeat the last)
    private static void tile(int c, int kp, int k0, int pixels, int t0, int pt, float[] xs, float[] wt, float[] tile) {
        int p0 = t0, p1 = t0 + Math.min(1, pt - 1), p2 = t0 + Math.min(2, pt - 1), p3 = t0 + Math.min(3, pt - 1);
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int ci = 0, wr = k0 * c, xr = 0; ci < c; ci++, wr += KT, xr += pixels) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, wt, wr), w1 = FloatVector.fromArray(SPECIES, wt, wr + VL);
            FloatVector v = FloatVector.broadcast(SPECIES, xs[xr + p0]);
            a00 = v.fma(w0, a00); a01 = v.fma(w1, a01);
            v = FloatVector.broadcast(SPECIES, xs[xr + p1]);
            a10 = v.fma(w0, a10); a11 = v.fma(w1, a11);
            v = FloatVector.broadcast(SPECIES, xs[xr + p2]);
            a20 = v.fma(w0, a20); a21 = v.fma(w1, a21);
            v = FloatVector.broadcast(SPECIES, xs[xr + p3]);
            a30 = v.fma(w0, a30); a31 = v.fma(w1, a31);
        }
        a00.intoArray(tile, 0); a01.intoArray(tile, VL); a10.intoArray(tile, KT); a11.intoArray(tile, KT + VL);
        a20.intoArray(tile, 2 * KT); a21.intoArray(tile, 2 * KT + VL); a30.intoArray(tile, 3 * KT); a31.intoArray(tile, 3 * KT + VL);
    }
}
