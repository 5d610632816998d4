package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

/**
 * A 1×1 stride-1 convolution straight from the NCHW planes, for small batches of small images
 * (MobileNetV2's 16×16, 8×8 and 4×4 layers at batch 1): per image,
 * <pre>
 *   y_b (k, P) = bias (k) + W (k, c) · x_b (c, P)        P = h·w pixels, at least VL
 * </pre>
 * vectorized along the pixels: a register tile is {@link #MR} output channels × one vector of
 * pixels; per input channel, one load of x's row, MR broadcasts of W, MR FMAs. x and y are read
 * and written in place (a pixel tail is masked), so nothing is packed or transposed; W is read
 * from a heap copy, made once per weight tensor under an inference {@link WeightCache}.
 *
 * <p>Why: the grid path rounds each image up to whole 48-pixel tiles and copies x into its grid
 * and y out of it, which at 4×4–16×16 costs more than the product (48→288 at 4×4: 12 µs for
 * 221 k multiply-adds). Each output is one in-order sum (bias, then ci = 0..c−1), whatever the
 * thread split (Note [Determinism]). Threads take ranges of (image, channel block, pixel vector)
 * tiles, at least {@link DepthwiseFlat#MIN_CHUNK_MACS} multiply-adds each.
 */
final class PointwiseConvPlanes {
    private static final VectorSpecies<Float> SPECIES = Sgemm.SPECIES;
    private static final int VL = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Output channels per register tile. */
    static final int MR = 4;
    /**
     * At most this many pixels over the whole batch take this path (measured at batch 1: 72→12 at
     * 16×16 1.8× faster than the grid path, 12→72 even; 32→64 at 32×32 1.3× slower).
     */
    static final int MAX_PIXELS = 256;

    private PointwiseConvPlanes() {}

    static boolean supports(ConvGeometry g) {
        int pixels = g.h() * g.w();
        return g.r() == 1 && g.s() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0
                && g.groups() == 1 && pixels >= VL && (long) g.n() * pixels <= MAX_PIXELS;
    }

    /** Per-thread copy of W when no cache is in force (training). */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] copy(MemorySegment w, long wOff, int size, float[] into) {
        float[] wf = into != null && into.length >= size ? into : new float[size];
        MemorySegment.copy(w, F, wOff * Float.BYTES, wf, 0, size);
        return wf;
    }

    /** y = conv(x, w) + bias, then max(0, ·) if relu. */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int n = g.n(), c = g.c(), k = g.k(), pixels = g.h() * g.w();
        WeightCache cache = WeightCache.current();
        float[] wf;
        if (cache != null && w.isNative()) {
            wf = cache.packed(w, wOff, "pointwise-planes", k, c, () -> copy(w, wOff, k * c, null));
        } else {
            float[][] s = SCRATCH.get();
            wf = s[0] = copy(w, wOff, k * c, s[0]);
        }
        int blocks = (k + MR - 1) / MR, vectors = (pixels + VL - 1) / VL, tiles = n * blocks * vectors;
        long macsPerTile = (long) MR * VL * c;
        int grain = (int) Math.max(1, (DepthwiseFlat.MIN_CHUNK_MACS + macsPerTile - 1) / macsPerTile);
        Parallel.forRange(tiles, grain, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int b = t / (blocks * vectors), kb = t / vectors % blocks, v = t % vectors;
                tile(c, k, pixels, kb * MR, v * VL, wf, x, xOff + (long) b * c * pixels, bias, bOff, y, yOff + (long) b * k * pixels, relu);
            }
        });
    }

    /** Channels [k0, k0+MR) ∩ [0, k) × pixels [j, j+VL) ∩ [0, P) of one image (x at xImg, y at yImg). */
    private static void tile(int c, int k, int pixels, int k0, int j, float[] wf, MemorySegment x, long xImg,
                             MemorySegment bias, long bOff, MemorySegment y, long yImg, boolean relu) {
        VectorMask<Float> m = SPECIES.indexInRange(j, pixels);
        // rows past k repeat the last row (computed, never stored)
        int r0 = Math.min(k0, k - 1) * c, r1 = Math.min(k0 + 1, k - 1) * c, r2 = Math.min(k0 + 2, k - 1) * c, r3 = Math.min(k0 + 3, k - 1) * c;
        FloatVector a0 = biasOf(bias, bOff, k0, k), a1 = biasOf(bias, bOff, k0 + 1, k), a2 = biasOf(bias, bOff, k0 + 2, k), a3 = biasOf(bias, bOff, k0 + 3, k);
        long at = (xImg + j) * Float.BYTES, step = (long) pixels * Float.BYTES;
        for (int ci = 0; ci < c; ci++, at += step) {
            FloatVector xv = FloatVector.fromMemorySegment(SPECIES, x, at, ORDER, m);
            a0 = xv.fma(FloatVector.broadcast(SPECIES, wf[r0 + ci]), a0);
            a1 = xv.fma(FloatVector.broadcast(SPECIES, wf[r1 + ci]), a1);
            a2 = xv.fma(FloatVector.broadcast(SPECIES, wf[r2 + ci]), a2);
            a3 = xv.fma(FloatVector.broadcast(SPECIES, wf[r3 + ci]), a3);
        }
        if (relu) {
            a0 = a0.max(0f); a1 = a1.max(0f); a2 = a2.max(0f); a3 = a3.max(0f);
        }
        long row = (yImg + (long) k0 * pixels + j) * Float.BYTES;
        int rows = Math.min(MR, k - k0);
        a0.intoMemorySegment(y, row, ORDER, m);
        if (rows > 1) a1.intoMemorySegment(y, row + step, ORDER, m);
        if (rows > 2) a2.intoMemorySegment(y, row + 2 * step, ORDER, m);
        if (rows > 3) a3.intoMemorySegment(y, row + 3 * step, ORDER, m);
    }

    private static FloatVector biasOf(MemorySegment bias, long bOff, int kk, int k) {
        return bias == null || kk >= k ? FloatVector.zero(SPECIES) : FloatVector.broadcast(SPECIES, bias.getAtIndex(F, bOff + kk));
    }
}
