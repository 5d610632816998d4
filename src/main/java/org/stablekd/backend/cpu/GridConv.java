package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.stablekd.backend.ConvGeometry;

/**
 * Direct convolution on the shared-padding grid ({@link ConvGrid}) for the layers of the CIFAR
 * ResNets, WRNs and VGGs: 3×3 pad 1 or 1×1 pad 0, stride 1 or 2 (even sizes), one group.
 * Shapes, for x (n, c, h, w), w (k, c, r, s), y (n, k, p, q); all grids are p×q:
 * <pre>
 *   forward          Y (k, T)  = W (k, c·r·s) · X[taps]        X = x in the input grid (4 phases if strided)
 *   input gradient   DX_ph (c, T) = Wᵀ_ph (c, k·taps_ph) · DY[taps_ph]   one product per phase of x
 *   weight gradient  dW (k, c·r·s) += DYo (k, T) · X[taps]ᵀ     DYo = dy in the output grid (zero at garbage)
 * </pre>
 * where X[taps] is the implicit im2col matrix: row (ci, i, j) is the input plane of ci (or of its
 * phase) read from the offset of tap (i, j). T runs over a block of whole images at once, so
 * small images (8×8) make products as long as large ones, nothing is packed per pixel, and no
 * gather is needed for any stride. Products run on {@link GridGemm} (forward, input gradient)
 * and {@link DotRows} (weight gradient); the only data movement is one copy of each operand into
 * its grid and one copy of the result out of it.
 *
 * <p>The input gradient of a stride-1 layer reads DY at the mirrored offsets (a correlation
 * with the flipped kernel); of a stride-2 layer, phase (pr, pc) of dx gathers exactly the taps
 * whose input row and column fall in that phase (1, 2, 2 and 4 of the 9).
 *
 * <p>Threads: images are split into one contiguous range per thread, each processed in blocks of
 * {@link #blockImages} images with its own grids; every output is written by one thread.
 * With fewer images than threads the forward and input gradient split each image's tiles
 * instead. The weight gradient keeps lane partials per range and folds them in range order
 * (Note [Determinism]).
 */
final class GridConv {
    // ConvScratch slots (the lowering path in CpuConv uses 0..5)
    private static final int X_GRID = 6, OUT_GRID = 7, TMP = 8, PACKED = 9, WEIGHTS = 10, PARTIALS = 11, TILE = 12, BIAS = 13;
    /** Floats of a block's grids (input and output): about 384 KiB, half the L2 of a core. */
    private static final long BLOCK_FLOATS = 96 * 1024;

    private GridConv() {}

    /** True for the layers this path runs: 3×3 pad 1 or 1×1 pad 0, stride 1 or 2 (even h, w), one group. */
    static boolean supports(ConvGeometry g) {
        if (g.groups() != 1 || g.r() != g.s() || g.strideH() != g.strideW() || g.padH() != g.padW()) return false;
        int r = g.r(), stride = g.strideH();
        if ((r != 1 && r != 3) || g.padH() != (r - 1) / 2) return false;
        return stride == 1 || (stride == 2 && g.h() % 2 == 0 && g.w() % 2 == 0);
    }

    /** Input phases in the grid: 4 for a strided 3×3, else 1 (a strided 1×1 reads only the even rows and columns). */
    private static int phases(ConvGeometry g) {
        return g.strideH() == 2 && g.r() == 3 ? 4 : 1;
    }

    /** Images per block, so that the block's input and output grids stay in L2. */
    private static int blockImages(ConvGeometry g, int inPlanes, int outPlanes, int perThread) {
        long perImage = (long) (inPlanes + outPlanes) * ConvGrid.imageStride(g.p(), g.q());
        return (int) Math.max(1, Math.min(perThread, BLOCK_FLOATS / perImage));
    }

    private static void fillX(ConvGeometry g, MemorySegment x, long xOff, int img0, int nb, float[] grid, int pl, float[] tmp) {
        if (g.strideH() == 1) ConvGrid.fillInput(x, xOff, g.c(), g.h(), g.w(), img0, nb, grid, pl, tmp);
        else ConvGrid.fillPhases(x, xOff, g.c(), g.h(), g.w(), phases(g), img0, nb, grid, pl, tmp);
    }

    /** base[(ci·r + i)·s + j] = where tap (ci, i, j) of output t = 0 sits in the input grid (plane stride pl). */
    private static void tapRows(ConvGeometry g, int pl, int[] base) {
        int c = g.c(), r = g.r(), s = g.s(), pad = g.padH(), ws = ConvGrid.rowStride(g.q()), o = ConvGrid.origin(g.q());
        boolean strided = g.strideH() == 2;
        for (int ci = 0, row = 0; ci < c; ci++) {
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < s; j++, row++) {
                    int ui = i - pad, uj = j - pad, plane = ci;
                    if (strided) {
                        plane = ((Math.floorMod(ui, 2) << 1) | Math.floorMod(uj, 2)) * c + ci;
                        ui = Math.floorDiv(ui, 2);
                        uj = Math.floorDiv(uj, 2);
                    }
                    base[row] = plane * pl + o + ui * ws + uj;
                }
            }
        }
    }

    private static float[] weights(ConvGeometry g, MemorySegment w, long wOff, ConvScratch s) {
        int size = g.k() * g.c() * g.r() * g.s();
        float[] wf = s.buffer(WEIGHTS, size);
        MemorySegment.copy(w, ValueLayout.JAVA_FLOAT, wOff * Float.BYTES, wf, 0, size);
        return wf;
    }

    private static int tmpSize(ConvGeometry g) {
        return Math.max(g.h() * g.w(), 4 * g.p() * g.q());
    }

    // ---------------------------------------------------------------- forward

    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff) {
        int n = g.n(), k = g.k(), rows = g.c() * g.r() * g.s(), hh = g.p(), ww = g.q(), tile = GridGemm.NR;
        int inPlanes = phases(g) * g.c(), outPlanes = ConvGrid.roundUp(k, GridGemm.MR);
        int threads = Parallel.threads();
        int nb = blockImages(g, inPlanes, outPlanes, Sgemm.ceilDiv(n, threads));
        int pl = ConvGrid.inputPlane(nb, hh, ww, tile), cpl = ConvGrid.outputPlane(nb, hh, ww, tile);
        ConvScratch s = ConvScratch.get();
        float[] ap = s.buffer(PACKED, GridGemm.packedSize(k, rows));   // the caller's, read by every thread
        GridGemm.pack(k, rows, weights(g, w, wOff, s), 0, rows, ap, 0);
        int[] base = s.ints(rows);
        tapRows(g, pl, base);
        float[] bf = null;
        if (bias != null) {
            bf = s.buffer(BIAS, k);
            MemorySegment.copy(bias, ValueLayout.JAVA_FLOAT, bOff * Float.BYTES, bf, 0, k);
        }
        final float[] biasF = bf;
        if (n >= threads) {
            Parallel.forRange(n, 1, (i0, i1) -> {
                ConvScratch ts = ConvScratch.get();
                float[] xg = ts.buffer(X_GRID, (long) inPlanes * pl), cg = ts.buffer(OUT_GRID, (long) outPlanes * cpl);
                float[] tmp = ts.buffer(TMP, tmpSize(g));
                for (int b0 = i0; b0 < i1; b0 += nb) {
                    int m = Math.min(nb, i1 - b0);
                    fillX(g, x, xOff, b0, m, xg, pl, tmp);
                    GridGemm.multiply(k, rows, ap, 0, xg, base, 0, 0, ConvGrid.outputPlane(m, hh, ww, tile), cg, 0, cpl);
                    ConvGrid.extract(cg, cpl, k, hh, ww, b0, m, biasF, y, yOff, tmp);
                }
            });
            return;
        }
        // fewer images than threads: one image at a time, its tiles split over the threads
        float[] xg = s.buffer(X_GRID, (long) inPlanes * pl), cg = s.buffer(OUT_GRID, (long) outPlanes * cpl);
        float[] tmp = s.buffer(TMP, tmpSize(g));
        int tiles = ConvGrid.outputPlane(1, hh, ww, tile) / tile;
        for (int img = 0; img < n; img++) {
            fillX(g, x, xOff, img, 1, xg, pl, tmp);
            Parallel.forRange(tiles, 1, (u0, u1) -> GridGemm.multiply(k, rows, ap, 0, xg, base, 0, u0 * tile, u1 * tile, cg, 0, cpl));
            ConvGrid.extract(cg, cpl, k, hh, ww, img, 1, biasF, y, yOff, tmp);
        }
    }

    // ---------------------------------------------------------------- input gradient

    static void backwardInput(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff, MemorySegment dx, long dxOff) {
        int n = g.n(), c = g.c(), k = g.k(), r = g.r(), s = g.s(), hh = g.p(), ww = g.q(), tile = GridGemm.NR;
        boolean strided = g.strideH() == 2;
        int phases = phases(g), cPlanes = ConvGrid.roundUp(c, GridGemm.MR), outPlanes = phases * cPlanes;
        int threads = Parallel.threads();
        int nb = blockImages(g, k, outPlanes, Sgemm.ceilDiv(n, threads));
        int pl = ConvGrid.inputPlane(nb, hh, ww, tile), cpl = ConvGrid.outputPlane(nb, hh, ww, tile);
        int ws = ConvGrid.rowStride(ww), o = ConvGrid.origin(ww), pad = g.padH();
        // per phase: its taps (i, j); rows (kk, tap) read DY at the mirrored offset; A = Wᵀ restricted to those taps
        ConvScratch sc = ConvScratch.get();
        float[] wf = weights(g, w, wOff, sc);
        int[] rowsOf = new int[phases + 1], packedAt = new int[phases + 1];   // prefix sums over phases
        int[] taps = new int[r * s * 2];                                      // (i, j) per tap, phase by phase
        int nt = 0;
        for (int ph = 0; ph < phases; ph++) {
            int count = 0;
            for (int i = 0; i < r; i++)
                for (int j = 0; j < s; j++) {
                    int ui = i - pad, uj = j - pad;
                    int tapPhase = strided ? (Math.floorMod(ui, 2) << 1) | Math.floorMod(uj, 2) : 0;
                    if (tapPhase != ph) continue;
                    taps[2 * nt] = i;
                    taps[2 * nt + 1] = j;
                    nt++;
                    count++;
                }
            rowsOf[ph + 1] = rowsOf[ph] + k * count;
            packedAt[ph + 1] = packedAt[ph] + GridGemm.packedSize(c, k * count);
        }
        int totalRows = rowsOf[phases];
        float[] at = sc.buffer(TMP, (long) c * k * r * s);                   // Wᵀ of one phase before packing
        float[] ap = sc.buffer(PACKED, packedAt[phases]);
        int[] base = sc.ints(totalRows);
        for (int ph = 0, tap0 = 0; ph < phases; ph++) {
            int count = (rowsOf[ph + 1] - rowsOf[ph]) / k, rowsPh = k * count;
            for (int kk = 0; kk < k; kk++) {
                for (int q = 0; q < count; q++) {
                    int i = taps[2 * (tap0 + q)], j = taps[2 * (tap0 + q) + 1];
                    int ui = i - pad, uj = j - pad;
                    int di = strided ? Math.floorDiv(ui, 2) : ui, dj = strided ? Math.floorDiv(uj, 2) : uj;
                    int row = kk * count + q;
                    base[rowsOf[ph] + row] = kk * pl + o - di * ws - dj;
                    for (int ci = 0; ci < c; ci++) at[ci * rowsPh + row] = wf[((kk * c + ci) * r + i) * s + j];
                }
            }
            GridGemm.pack(c, rowsPh, at, 0, rowsPh, ap, packedAt[ph]);
            tap0 += count;
        }
        final int fnb = nb;
        Parallel.forRange(n, 1, (i0, i1) -> {
            ConvScratch ts = ConvScratch.get();
            float[] dg = ts.buffer(X_GRID, (long) k * pl), cg = ts.buffer(OUT_GRID, (long) outPlanes * cpl);
            float[] tmp = ts.buffer(TMP, tmpSize(g));
            for (int b0 = i0; b0 < i1; b0 += fnb) {
                int m = Math.min(fnb, i1 - b0), t1 = ConvGrid.outputPlane(m, hh, ww, tile);
                ConvGrid.fillInput(dy, dyOff, k, hh, ww, b0, m, dg, pl, tmp);
                for (int ph = 0; ph < phases; ph++) {
                    GridGemm.multiply(c, rowsOf[ph + 1] - rowsOf[ph], ap, packedAt[ph], dg, base, rowsOf[ph], 0, t1,
                            cg, ph * cPlanes * cpl, cpl);
                }
                if (strided) ConvGrid.extractPhases(cg, cpl, cPlanes, c, hh, ww, phases, b0, m, dx, dxOff, tmp);
                else ConvGrid.extract(cg, cpl, c, hh, ww, b0, m, null, dx, dxOff, tmp);
            }
        });
    }

    // ---------------------------------------------------------------- weight gradient

    /**
     * True where the weight gradient runs on {@link GridWeightGemm} (dy transposed, registers held
     * over the block); false for 16 channels or fewer with 16 lanes, where it runs on
     * {@link DotRows} (lane partials) instead of leaving half of every tile empty.
     */
    static boolean transposedWeightGradient(int k) {
        return GridWeightGemm.VL < 16 || k > 16;
    }

    static void backwardWeight(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                               MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        int n = g.n(), k = g.k(), rows = g.c() * g.r() * g.s(), hh = g.p(), ww = g.q(), vl = DotRows.VL;
        boolean transposed = transposedWeightGradient(k);
        int inPlanes = phases(g) * g.c(), kp = GridWeightGemm.channelsPadded(k);
        int chunks = Math.min(Parallel.threads(), n);
        int nb = blockImages(g, inPlanes, transposed ? kp : k, Sgemm.ceilDiv(n, chunks));
        int pl = ConvGrid.inputPlane(nb, hh, ww, vl), cpl = ConvGrid.outputPlane(nb, hh, ww, vl);
        // one partial per chunk: dw as (rows, kp) when transposed, else lanes of dw (k, rows); then dbias (k)
        int dwSize = transposed ? rows * kp : k * rows * vl, size = dwSize + k;
        ConvScratch s = ConvScratch.get();
        int[] base = s.ints(rows);
        tapRows(g, pl, base);
        float[] partials = s.buffer(PARTIALS, (long) chunks * size);   // the caller's, filled by every chunk
        Parallel.forChunks(chunks, chunk -> {
            int start = (int) ((long) n * chunk / chunks), end = (int) ((long) n * (chunk + 1) / chunks);
            ConvScratch ts = ConvScratch.get();
            float[] xg = ts.buffer(X_GRID, (long) inPlanes * pl);
            float[] dg = ts.buffer(OUT_GRID, (long) (transposed ? kp : k) * cpl);
            float[] tmp = ts.buffer(TMP, Math.max(tmpSize(g), k * hh * ww)), buf = ts.buffer(TILE, Math.max(DotRows.TILE, GridWeightGemm.TILE));
            int part = chunk * size;
            Arrays.fill(partials, part, part + size, 0f);
            for (int b0 = start; b0 < end; b0 += nb) {
                int m = Math.min(nb, end - b0);
                fillX(g, x, xOff, b0, m, xg, pl, tmp);
                if (transposed) {
                    int len = m * ConvGrid.imageStride(hh, ww);
                    GridWeightGemm.transpose(dy, dyOff, k, hh, ww, b0, m, dg, len, tmp, ts.index);
                    GridWeightGemm.accumulate(rows, kp, len, xg, base, dg, partials, part, buf);
                } else {
                    ConvGrid.fillOutput(dy, dyOff, k, hh, ww, b0, m, dg, cpl, tmp);
                    DotRows.accumulate(k, rows, ConvGrid.outputPlane(m, hh, ww, vl), dg, 0, cpl, xg, base, partials, part, buf);
                }
                if (dbias != null) {
                    for (int img = b0; img < b0 + m; img++) {
                        CpuConv.addRowSums(dy, dyOff + (long) img * k * hh * ww, k, hh * ww, partials, part + dwSize);
                    }
                }
            }
        });
        for (int kk = 0; kk < k; kk++) {
            for (int row = 0; row < rows; row++) {
                float sum = 0f;
                for (int c = 0; c < chunks; c++) {
                    sum += transposed ? partials[c * size + row * kp + kk] : DotRows.reduce(partials, c * size + (kk * rows + row) * vl);
                }
                dw.setAtIndex(ValueLayout.JAVA_FLOAT, dwOff + (long) kk * rows + row, sum);
            }
        }
        if (dbias != null) {
            for (int ch = 0; ch < k; ch++) {
                float sum = 0f;
                for (int c = 0; c < chunks; c++) sum += partials[c * size + dwSize + ch];
                dbias.setAtIndex(ValueLayout.JAVA_FLOAT, dbOff + ch, sum);
            }
        }
    }
}
