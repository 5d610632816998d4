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
     * x (n, c, h, w) at element xOff, stride 1: the grid is h×w. tmp: scratch of h·w floats.
     */
    static void fillInput(MemorySegment x, long xOff, int c, int h, int w, int img0, int nb, float[] grid, int pl, float[] tmp) {
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
     * Stride-2 input grid: plane (ph·c + ci), ph = 2·pr + pc < phases (4, or 1 for a 1×1 layer that
     * reads only phase 0), holds x[b][ci][2y+pr][2x+pc] on the h/2 × w/2 grid. tmp: h·w floats.
     */
    static void fillPhases(MemorySegment x, long xOff, int c, int h, int w, int phases, int img0, int nb, float[] grid, int pl, float[] tmp) {
        int gh = h / 2, gw = w / 2, ws = gw + 1, hs = gh + 1, hw = h * w;
        for (int ci = 0; ci < c; ci++) {
            for (int ph = 0; ph < phases; ph++) Arrays.fill(grid, (ph * c + ci) * pl, (ph * c + ci) * pl + ws, 0f);
            for (int b = 0; b < nb; b++) {
                MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, (xOff + ((long) (img0 + b) * c + ci) * hw) * Float.BYTES, tmp, 0, hw);
                for (int ph = 0; ph < phases; ph++) {
                    int pr = ph >> 1, pc = ph & 1;
                    int row = (ph * c + ci) * pl + (1 + b * hs) * ws;
                    for (int y = 0; y < gh; y++, row += ws) {
                        grid[row] = 0f;
                        int src = (2 * y + pr) * w + pc;
                        for (int xx = 0; xx < gw; xx++) grid[row + 1 + xx] = tmp[src + 2 * xx];
                    }
                    Arrays.fill(grid, row, row + ws, 0f);
                }
            }
            for (int ph = 0; ph < phases; ph++) {
                int base = (ph * c + ci) * pl;
                Arrays.fill(grid, base + (1 + nb * hs) * ws, base + pl, 0f);
            }
        }
    }

    /**
     * Output-layout grid (origin 0) of channels [0, c) of images [img0, img0+nb) of dy (n, c, h, w),
     * zero at the garbage positions and past the last image up to {@code cpl}: the weight
     * gradient's left operand.
     */
    static void fillOutput(MemorySegment dy, long dyOff, int c, int h, int w, int img0, int nb, float[] grid, int cpl, float[] tmp) {
        int ws = w + 1, hs = h + 1, hw = h * w;
        for (int ci = 0; ci < c; ci++) {
            int base = ci * cpl;
            for (int b = 0; b < nb; b++) {
                long src = dyOff + ((long) (img0 + b) * c + ci) * hw;
                int row = base + b * hs * ws;
                for (int y = 0; y < h; y++, row += ws, src += w) {
                    copyRow(dy, src, grid, row, w);
                    grid[row + w] = 0f;
                }
                Arrays.fill(grid, row, row + ws, 0f);
            }
            Arrays.fill(grid, base + nb * hs * ws, base + cpl, 0f);
        }
    }

    /**
     * y (n, m, h, w) images [img0, img0+nb) = the output grid's planes [0, m) (plane stride cpl),
     * plus bias[ch] when bias is not null, then max(0, ·) if relu (a ReLU fused into the copy out).
     * tmp: h·w floats.
     */
    static void extract(float[] grid, int cpl, int m, int h, int w, int img0, int nb, float[] bias, boolean relu,
                        MemorySegment y, long yOff, float[] tmp) {
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
     * dx (n, c, 2h, 2w) images [img0, img0+nb) from phase output grids: plane (ph·cPlanes + ci)
     * holds phase ph = 2·pr + pc of channel ci on the h×w grid; with phases = 1 only the even
     * rows and columns are there and the rest of dx is zero. tmp: 4·h·w floats.
     */
    static void extractPhases(float[] grid, int cpl, int cPlanes, int c, int h, int w, int phases, int img0, int nb,
                              MemorySegment dx, long dxOff, float[] tmp) {
        int ws = w + 1, hs = h + 1, ow = 2 * w, hw4 = 4 * h * w;
        for (int b = 0; b < nb; b++) {
            for (int ci = 0; ci < c; ci++) {
                if (phases < 4) Arrays.fill(tmp, 0, hw4, 0f);
                for (int ph = 0; ph < phases; ph++) {
                    int pr = ph >> 1, pc = ph & 1;
                    int row = (ph * cPlanes + ci) * cpl + b * hs * ws;
                    for (int yy = 0; yy < h; yy++, row += ws) {
                        int dst = (2 * yy + pr) * ow + pc;
                        for (int xx = 0; xx < w; xx++) tmp[dst + 2 * xx] = grid[row + xx];
                    }
                }
                MemorySegment.copy(tmp, 0, dx, ValueLayout.JAVA_FLOAT, (dxOff + ((long) (img0 + b) * c + ci) * hw4) * Float.BYTES, hw4);
            }
        }
    }
}
