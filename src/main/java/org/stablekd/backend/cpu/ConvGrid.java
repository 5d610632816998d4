package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The shared-padding grid: how {@link GridConv} lays out a block of images so that every 3×3
 * (pad 1) or 1×1 (pad 0) convolution, stride 1 or 2, reads each tap at one fixed offset.
 *
 * <p>Layout, for nb images of H×W (always the convolution's <em>output</em> size), one channel
 * per plane, row stride WS = W+1, image stride IS = (H+1)·WS:
 * <pre>
 *   input grid   element (b, y, x) at ORIGIN + (b·(H+1) + y)·WS + x,  ORIGIN = WS + 1
 *   output grid  element (b, y, x) at          (b·(H+1) + y)·WS + x   (t, the output index)
 * </pre>
 * Every other float of a plane is zero: the one column between two rows is the right padding of
 * the first and the left padding of the second, the one row between two images the bottom
 * padding of one and the top padding of the next. So output t = (b, oh, ow) reads its neighbour
 * (b, oh+di, ow+dj), di, dj ∈ [-1, 1], at t + ORIGIN + di·WS + dj: one offset per tap, the same
 * for every pixel of every image of the block, zero outside the image. Output positions with
 * y = H or x = W are garbage (computed, never read back). Costs (H+1)(W+1)/(HW) of the work:
 * 1.06 at 32×32, 1.13 at 16×16, 1.27 at 8×8.
 *
 * <p>Stride 2 (even input sizes): the input is split into four phases (even/odd rows × even/odd
 * columns), each H×W like the output; tap u = i − pad ∈ [-1, 1] of a row reads phase
 * floorMod(u, 2) at offset floorDiv(u, 2) ∈ {-1, 0}. So a strided layer is a stride-1 grid
 * product over 4·C planes with 9 taps per input channel; its input gradient is four stride-1
 * products, one per phase (see {@link GridConv}).
 *
 * <p>Planes are heap scratch of {@link #inputPlane} or {@link #outputPlane} floats (with room for
 * whole vector tiles past the last image, always zero on the input side).
 */
final class ConvGrid {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private ConvGrid() {}

    /** dst[d .. d+w) = the w floats of src at element s (vector copies, a masked one for the tail). */
    static void copyRow(MemorySegment src, long s, float[] dst, int d, int w) {
        long at = s * Float.BYTES;
        int x = 0;
        for (; x + VL <= w; x += VL, at += VL * Float.BYTES) FloatVector.fromMemorySegment(SPECIES, src, at, ORDER).intoArray(dst, d + x);
        if (x < w) {
            var live = SPECIES.indexInRange(x, w);
            FloatVector.fromMemorySegment(SPECIES, src, at, ORDER, live).intoArray(dst, d + x, live);
        }
    }

    /** dst at element s .. +w = src[d .. d+w) + bias, then max(0, ·) if relu (vector copies, a masked one for the tail). */
    static void copyRow(float[] src, int d, float bias, boolean relu, MemorySegment dst, long s, int w) {
        long at = s * Float.BYTES;
        int x = 0;
        for (; x + VL <= w; x += VL, at += VL * Float.BYTES) {
            FloatVector v = FloatVector.fromArray(SPECIES, src, d + x).add(bias);
            (relu ? v.max(0f) : v).intoMemorySegment(dst, at, ORDER);
        }
        if (x < w) {
            var live = SPECIES.indexInRange(x, w);
            FloatVector v = FloatVector.fromArray(SPECIES, src, d + x, live).add(bias);
            (relu ? v.max(0f) : v).intoMemorySegment(dst, at, ORDER, live);
        }
    }

    static int rowStride(int w) {
        return w + 1;
    }

    static int imageStride(int h, int w) {
        return (h + 1) * (w + 1);
    }

    static int origin(int w) {
        return w + 2;
    }

    /** Outputs of a block of nb images (t range), rounded up to whole tiles of {@code tile}. */
    static int outputPlane(int nb, int h, int w, int tile) {
        return roundUp(nb * imageStride(h, w), tile);
    }

    /**
     * Outputs a product must compute for nb images, in whole tiles: up to the last pixel of the
     * last image, (nb−1)·IS + (h−1)·WS + w; the last image's padding row and everything after it
     * are garbage, so they are left out (a 16×16 image: 288 outputs instead of 336 at 48 a tile).
     */
    static int usedOutputs(int nb, int h, int w, int tile) {
        return roundUp((nb - 1) * imageStride(h, w) + (h - 1) * rowStride(w) + w, tile);
    }

    /** Floats of one input plane: every output tile plus the reach of the farthest tap (ORIGIN + WS + 1). */
    static int inputPlane(int nb, int h, int w, int tile) {
        return roundUp(outputPlane(nb, h, w, tile) + 2 * rowStride(w) + 2, 16);
    }

    static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    /**
     * Input grid planes {@code [0, c)} (plane stride pl) = channels of images [img0, img0+nb) of
     * x (n, c, h, w) at element xOff, stride 1: the grid is h×w.
     */
    static void fillInput(MemorySegment x, long xOff, int c, int h, int w, int img0, int nb, float[] grid, int pl) {
        int ws = w + 1, hs = h + 1, hw = h * w;
        for (int ci = 0; ci < c; ci++) {
            int base = ci * pl;
            Arrays.fill(grid, base, base + ws, 0f);                                  // top padding row
            for (int b = 0; b < nb; b++) {
                long src = xOff + ((long) (img0 + b) * c + ci) * hw;
                int row = base + (1 + b * hs) * ws;
                for (int y = 0; y < h; y++, row += ws, src += w) {
                    grid[row] = 0f;                                                    // the column between rows
                    copyRow(x, src, grid, row + 1, w);
                }
                Arrays.fill(grid, row, row + ws, 0f);                                  // the row between images
            }
            Arrays.fill(grid, base + (1 + nb * hs) * ws, base + pl, 0f);               // past the last image
        }
    }

    /**
     * y (n, m, h, w) images [img0, img0+nb) = the output grid's planes [0, m) (plane stride cpl),
     * plus bias[ch] when bias is not null, then max(0, ·) if relu (a ReLU fused into the copy out).
     */
    static void extract(float[] grid, int cpl, int m, int h, int w, int img0, int nb, float[] bias, boolean relu,
                        MemorySegment y, long yOff) {
        int ws = w + 1, hs = h + 1, hw = h * w;
        for (int b = 0; b < nb; b++) {
            for (int ch = 0; ch < m; ch++) {
                float bv = bias == null ? 0f : bias[ch];
                int row = ch * cpl + b * hs * ws;
                long dst = yOff + ((long) (img0 + b) * m + ch) * hw;
                for (int yy = 0; yy < h; yy++, row += ws, dst += w) copyRow(grid, row, bv, relu, y, dst, w);
            }
        }
    }

    /**
     * Stride-2 input grid: plane (ph·c + ci), ph = 2·pr + pc < phases (4, or 1 for a 1×1 layer that
     * reads only phase 0), holds x[b][ci][2y+pr][2x+pc] on the h/2 × w/2 grid. The grid rows of
     * phases (pr, 0) and (pr, 1) are the even and odd columns of input row 2y + pr, split by
     * two-vector permutes of 2·VL consecutive floats read straight from x (masked at the row's
     * end). Against a copy of the plane and a scalar loop per phase, measured on the 2-vCPU Zen 4
     * (2026-12-06, batch 64, 2 threads, alternating in one JVM, µs per call, forward and both
     * gradients with {@link #extractPhases}): 16→32 3×3 at 32×32 2485 → 1972 and 4611 → 4014,
     * 32→64 3×3 at 16×16 1798 → 1582 and 3457 → 3092, 16→32 1×1 589 → 380 and 1189 → 914, 32→64
     * 1×1 362 → 341 and 796 → 802.
     */
    static void fillPhases(MemorySegment x, long xOff, int c, int h, int w, int phases, int img0, int nb, float[] grid, int pl) {
        int gh = h / 2, gw = w / 2, ws = gw + 1, hs = gh + 1, hw = h * w, rowPhases = phases == 4 ? 2 : 1;
        for (int ci = 0; ci < c; ci++) {
            for (int ph = 0; ph < phases; ph++) Arrays.fill(grid, (ph * c + ci) * pl, (ph * c + ci) * pl + ws, 0f);
            for (int b = 0; b < nb; b++) {
                long src = xOff + ((long) (img0 + b) * c + ci) * hw;
                for (int pr = 0; pr < rowPhases; pr++) {
                    int even = (2 * pr * c + ci) * pl + (1 + b * hs) * ws, odd = phases == 4 ? ((2 * pr + 1) * c + ci) * pl + (1 + b * hs) * ws : -1;
                    for (int y = 0; y < gh; y++, even += ws, odd += phases == 4 ? ws : 0) splitRow(x, src + (long) (2 * y + pr) * w, gw, grid, even, odd);
                    Arrays.fill(grid, even, even + ws, 0f);
                    if (odd >= 0) Arrays.fill(grid, odd, odd + ws, 0f);
                }
            }
            for (int ph = 0; ph < phases; ph++) {
                int base = (ph * c + ci) * pl;
                Arrays.fill(grid, base + (1 + nb * hs) * ws, base + pl, 0f);
            }
        }
    }

    private static final FloatVector EVEN = everyOther(0), ODD = everyOther(1), ZIP_LO = zip(0), ZIP_HI = zip(VL / 2);

    /** Index vector {first, first + 2, …, first + 2·(VL−1)}: every other lane of two concatenated vectors (for selectFrom). */
    private static FloatVector everyOther(int first) {
        float[] idx = new float[VL];
        for (int i = 0; i < VL; i++) idx[i] = first + 2 * i;
        return FloatVector.fromArray(SPECIES, idx, 0);
    }

    /** Index vector interleaving lanes from..from+VL/2 of two vectors: a[from], b[from], a[from+1], b[from+1], … */
    private static FloatVector zip(int from) {
        float[] idx = new float[VL];
        for (int i = 0; i < VL; i++) idx[i] = (i % 2 == 0 ? 0 : VL) + from + i / 2;
        return FloatVector.fromArray(SPECIES, idx, 0);
    }

    /** grid[even + 1 + i] = x[s + 2i], grid[odd + 1 + i] = x[s + 2i + 1] (odd ≥ 0) for i < gw; column 0 of both zero. */
    private static void splitRow(MemorySegment x, long s, int gw, float[] grid, int even, int odd) {
        grid[even] = 0f;
        if (odd >= 0) grid[odd] = 0f;
        for (int i = 0; i < gw; i += VL) {
            int n = Math.min(VL, gw - i), m = 2 * n;   // outputs per phase, input floats
            long at = (s + 2L * i) * Float.BYTES;
            FloatVector a, b;
            if (m == 2 * VL) {
                a = FloatVector.fromMemorySegment(SPECIES, x, at, ORDER);
                b = FloatVector.fromMemorySegment(SPECIES, x, at + (long) VL * Float.BYTES, ORDER);
            } else if (m > VL) {
                a = FloatVector.fromMemorySegment(SPECIES, x, at, ORDER);
                b = FloatVector.fromMemorySegment(SPECIES, x, at + (long) VL * Float.BYTES, ORDER, SPECIES.indexInRange(0, m - VL));
            } else {
                a = FloatVector.fromMemorySegment(SPECIES, x, at, ORDER, SPECIES.indexInRange(0, m));
                b = FloatVector.zero(SPECIES);
            }
            if (n == VL) {
                EVEN.selectFrom(a, b).intoArray(grid, even + 1 + i);
                if (odd >= 0) ODD.selectFrom(a, b).intoArray(grid, odd + 1 + i);
            } else {
                var live = SPECIES.indexInRange(0, n);
                EVEN.selectFrom(a, b).intoArray(grid, even + 1 + i, live);
                if (odd >= 0) ODD.selectFrom(a, b).intoArray(grid, odd + 1 + i, live);
            }
        }
    }

    /**
     * dx (n, c, 2h, 2w) images [img0, img0+nb) from phase output grids: plane (ph·cPlanes + ci)
     * holds phase ph = 2·pr + pc of channel ci on the h×w grid. Each dx row 2·yy + pr interleaves
     * the grid rows of phases (pr, 0) and (pr, 1) by two-vector permutes, written straight into dx
     * (masked at the row's end); with phases = 1 only the even rows and columns are there and the
     * rest of dx is zero.
     */
    static void extractPhases(float[] grid, int cpl, int cPlanes, int c, int h, int w, int phases, int img0, int nb,
                                 MemorySegment dx, long dxOff) {
        int ws = w + 1, hs = h + 1, ow = 2 * w;
        long hw4 = 4L * h * w;
        for (int b = 0; b < nb; b++) {
            for (int ci = 0; ci < c; ci++) {
                long plane = dxOff + ((long) (img0 + b) * c + ci) * hw4;
                for (int pr = 0; pr < 2; pr++) {
                    int even = (2 * pr * cPlanes + ci) * cpl + b * hs * ws, odd = phases == 4 ? ((2 * pr + 1) * cPlanes + ci) * cpl + b * hs * ws : -1;
                    for (int yy = 0; yy < h; yy++, even += ws, odd += phases == 4 ? ws : 0) {
                        long row = plane + (long) (2 * yy + pr) * ow;
                        if (phases < 4 && pr == 1) zeroRow(dx, row, ow);
                        else zipRow(grid, even, odd, w, dx, row);
                    }
                }
            }
        }
    }

    /** dx[d + 2i] = grid[even + i], dx[d + 2i + 1] = grid[odd + i] (0 where odd < 0) for i < w. */
    private static void zipRow(float[] grid, int even, int odd, int w, MemorySegment dx, long d) {
        for (int i = 0; i < w; i += VL) {
            int n = Math.min(VL, w - i), m = 2 * n;
            long at = (d + 2L * i) * Float.BYTES;
            FloatVector a, b = FloatVector.zero(SPECIES);
            if (n == VL) {
                a = FloatVector.fromArray(SPECIES, grid, even + i);
                if (odd >= 0) b = FloatVector.fromArray(SPECIES, grid, odd + i);
            } else {
                var live = SPECIES.indexInRange(0, n);
                a = FloatVector.fromArray(SPECIES, grid, even + i, live);
                if (odd >= 0) b = FloatVector.fromArray(SPECIES, grid, odd + i, live);
            }
            FloatVector lo = ZIP_LO.selectFrom(a, b), hi = ZIP_HI.selectFrom(a, b);
            if (m == 2 * VL) {
                lo.intoMemorySegment(dx, at, ORDER);
                hi.intoMemorySegment(dx, at + (long) VL * Float.BYTES, ORDER);
            } else if (m > VL) {
                lo.intoMemorySegment(dx, at, ORDER);
                hi.intoMemorySegment(dx, at + (long) VL * Float.BYTES, ORDER, SPECIES.indexInRange(0, m - VL));
            } else {
                lo.intoMemorySegment(dx, at, ORDER, SPECIES.indexInRange(0, m));
            }
        }
    }

    private static void zeroRow(MemorySegment dx, long d, int n) {
        dx.asSlice(d * Float.BYTES, (long) n * Float.BYTES).fill((byte) 0);
    }
}
