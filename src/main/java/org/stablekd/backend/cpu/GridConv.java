package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

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
 * its grid and one copy of the result out of it (plus, for the weight gradient, dy transposed or
 * packed into panels once per block).
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
    private static final int X_GRID = 6, OUT_GRID = 7, TMP = 8, PACKED = 9, WEIGHTS = 10, PARTIALS = 11, TILE = 12, BIAS = 13,
            DY_GRID = 14, DY_T = 15;
    /** Floats of a block's grids (input and output): about 384 KiB, half the L2 of a core. */
    private static final long BLOCK_FLOATS = 96 * 1024;
    /**
     * The block budget of a backward whose weight gradient runs on DotRows' packed triplets: its
     * tiles run over the whole block, so longer blocks amortize each tile's spill (measured on
     * 16→16 at 32×32, batch 64: 2 images per block ran both gradients ~1.4× faster than 1).
     */
    private static final long PACKED_BLOCK_FLOATS = 2 * BLOCK_FLOATS;

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

    /**
     * Images per block, so that the block's grids stay in L2 (measured: blocks of at least 1024
     * or 2048 outputs for 64 and 128 channels at 8×8 made no difference).
     */
    private static int blockImages(ConvGeometry g, int inPlanes, int outPlanes, int perThread) {
        return blockImages(g, inPlanes, outPlanes, perThread, BLOCK_FLOATS);
    }

    private static int blockImages(ConvGeometry g, int inPlanes, int outPlanes, int perThread, long budget) {
        long perImage = (long) (inPlanes + outPlanes) * ConvGrid.imageStride(g.p(), g.q());
        return (int) Math.max(1, Math.min(perThread, budget / perImage));
    }

    private static void fillX(ConvGeometry g, MemorySegment x, long xOff, int img0, int nb, float[] grid, int pl) {
        if (g.strideH() == 1) ConvGrid.fillInput(x, xOff, g.c(), g.h(), g.w(), img0, nb, grid, pl);
        else ConvGrid.fillPhases(x, xOff, g.c(), g.h(), g.w(), phases(g), img0, nb, grid, pl);
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

    /**
     * The forward's weight panels: packed once per weight tensor under an inference
     * {@link WeightCache}, else into the caller's scratch on every call (training).
     */
    private static float[] packedForward(ConvGeometry g, MemorySegment w, long wOff, ConvScratch s) {
        int k = g.k(), rows = g.c() * g.r() * g.s();
        WeightCache cache = WeightCache.current();
        if (cache != null && w.isNative()) {
            return cache.packed(w, wOff, "grid-forward", k, rows, () -> {
                float[] ap = new float[GridGemm.packedSize(k, rows)];
                float[] wf = new float[k * rows];
                MemorySegment.copy(w, ValueLayout.JAVA_FLOAT, wOff * Float.BYTES, wf, 0, k * rows);
                GridGemm.pack(k, rows, wf, 0, rows, ap, 0);
                return ap;
            });
        }
        float[] ap = s.buffer(PACKED, GridGemm.packedSize(k, rows));
        GridGemm.pack(k, rows, weights(g, w, wOff, s), 0, rows, ap, 0);
        return ap;
    }

    // ---------------------------------------------------------------- forward

    /**
     * Fewest multiply-adds per thread where one image's tiles are split over the threads (fewer
     * images than threads): the image is copied into the grid and out of it on the caller, so a
     * worker's share is read from and written to the caller's caches, and on a host where a cache
     * line takes ~0.5 µs between the two vCPUs that cost more than the products of a small layer.
     * Measured (2-vCPU Zen 5, 2026-12-06, batch-1 predictor on 2 threads, one JVM switching every
     * 300 calls): layers under 1.5 M multiply-adds on the caller alone made resnet20's call 6.4 %
     * and 9.2 % faster (its 3→16 and 16→32 stride-2 layers), resnet8x4's +1 % and 0.
     */
    static final long MIN_SPLIT_MACS = Long.getLong("stablekd.gridMinSplitMacs", 750_000);

    /** y = conv(x, w) + bias, then max(0, ·) if relu (in the copy out of the output grid). */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int n = g.n(), k = g.k(), rows = g.c() * g.r() * g.s(), hh = g.p(), ww = g.q(), tile = GridGemm.NR;
        int inPlanes = phases(g) * g.c(), outPlanes = ConvGrid.roundUp(k, GridGemm.MR);
        int threads = Parallel.threads();
        int nb = blockImages(g, inPlanes, outPlanes, Sgemm.ceilDiv(n, threads));
        int pl = ConvGrid.inputPlane(nb, hh, ww, tile), cpl = ConvGrid.outputPlane(nb, hh, ww, tile);
        ConvScratch s = ConvScratch.get();
        float[] ap = packedForward(g, w, wOff, s);   // read by every thread
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
                for (int b0 = i0; b0 < i1; b0 += nb) {
                    int m = Math.min(nb, i1 - b0);
                    fillX(g, x, xOff, b0, m, xg, pl);
                    GridGemm.multiply(k, rows, ap, 0, xg, base, 0, 0, ConvGrid.usedOutputs(m, hh, ww, tile), cg, 0, cpl);
                    ConvGrid.extract(cg, cpl, k, hh, ww, b0, m, biasF, relu, y, yOff);
                }
            });
            return;
        }
        // fewer images than threads: one image at a time, its tiles split over the threads
        float[] xg = s.buffer(X_GRID, (long) inPlanes * pl), cg = s.buffer(OUT_GRID, (long) outPlanes * cpl);
        int tiles = ConvGrid.usedOutputs(1, hh, ww, tile) / tile;
        long macsPerTile = (long) tile * k * rows;
        int grain = (int) Math.max(1, (MIN_SPLIT_MACS + macsPerTile - 1) / macsPerTile);
        for (int img = 0; img < n; img++) {
            fillX(g, x, xOff, img, 1, xg, pl);
            Parallel.forRange(tiles, grain, (u0, u1) -> GridGemm.multiply(k, rows, ap, 0, xg, base, 0, u0 * tile, u1 * tile, cg, 0, cpl));
            ConvGrid.extract(cg, cpl, k, hh, ww, img, 1, biasF, relu, y, yOff);
        }
    }

    // ---------------------------------------------------------------- input gradient

    /**
     * Packs the input gradient's weights and offset tables (in the caller's scratch): phase ph
     * of dx gathers rows [rowsOf[ph], rowsOf[ph+1]) of the table (kk, tap), which read the DY grid
     * (plane stride pl) at the mirrored offsets, with weights Wᵀ packed at packedAt[ph].
     * meta = rowsOf (phases+1 entries) then packedAt (phases+1). Returns the table.
     */
    private static int[] prepareInputGradient(ConvGeometry g, MemorySegment w, long wOff, int pl, ConvScratch sc, int[] meta) {
        int c = g.c(), k = g.k(), r = g.r(), s = g.s(), phases = phases(g), pad = g.padH();
        int ws = ConvGrid.rowStride(g.q()), o = ConvGrid.origin(g.q());
        boolean strided = g.strideH() == 2;
        float[] wf = weights(g, w, wOff, sc);
        int[] taps = sc.ints(1, r * s * 2);                                   // (i, j) per tap, phase by phase
        int nt = 0;
        meta[0] = 0;
        meta[phases + 1] = 0;
        for (int ph = 0; ph < phases; ph++) {
            int count = 0;
            for (int i = 0; i < r; i++)
                for (int j = 0; j < s; j++) {
                    int tapPhase = strided ? (Math.floorMod(i - pad, 2) << 1) | Math.floorMod(j - pad, 2) : 0;
                    if (tapPhase != ph) continue;
                    taps[2 * nt] = i;
                    taps[2 * nt + 1] = j;
                    nt++;
                    count++;
                }
            meta[ph + 1] = meta[ph] + k * count;
            meta[phases + 1 + ph + 1] = meta[phases + 1 + ph] + GridGemm.packedSize(c, k * count);
        }
        float[] at = sc.buffer(TMP, (long) c * k * r * s);                   // Wᵀ of one phase before packing
        float[] ap = sc.buffer(PACKED, meta[2 * phases + 1]);
        int[] base = sc.ints(0, meta[phases]);
        for (int ph = 0, tap0 = 0; ph < phases; ph++) {
            int row0 = meta[ph], count = (meta[ph + 1] - row0) / k, rowsPh = k * count;
            for (int kk = 0; kk < k; kk++) {
                for (int q = 0; q < count; q++) {
                    int i = taps[2 * (tap0 + q)], j = taps[2 * (tap0 + q) + 1];
                    int ui = i - pad, uj = j - pad;
                    int di = strided ? Math.floorDiv(ui, 2) : ui, dj = strided ? Math.floorDiv(uj, 2) : uj;
                    int row = kk * count + q;
                    base[row0 + row] = kk * pl + o - di * ws - dj;
                    for (int ci = 0; ci < c; ci++) at[ci * rowsPh + row] = wf[((kk * c + ci) * r + i) * s + j];
                }
            }
            GridGemm.pack(c, rowsPh, at, 0, rowsPh, ap, meta[phases + 1 + ph]);
            tap0 += count;
        }
        return base;
    }

    /** dx of images [b0, b0+m) from their DY grid dg (plane stride pl): one product per phase into cg, then out. */
    private static void inputGradientBlock(ConvGeometry g, int[] meta, float[] ap, int[] base, float[] dg, float[] cg, int cpl,
                                           int b0, int m, MemorySegment dx, long dxOff) {
        int c = g.c(), hh = g.p(), ww = g.q(), phases = phases(g), cPlanes = ConvGrid.roundUp(c, GridGemm.MR);
        int t1 = ConvGrid.usedOutputs(m, hh, ww, GridGemm.NR);
        for (int ph = 0; ph < phases; ph++) {
            GridGemm.multiply(c, meta[ph + 1] - meta[ph], ap, meta[phases + 1 + ph], dg, base, meta[ph], 0, t1,
                    cg, ph * cPlanes * cpl, cpl);
        }
        if (g.strideH() == 2) ConvGrid.extractPhases(cg, cpl, cPlanes, c, hh, ww, phases, b0, m, dx, dxOff);
        else ConvGrid.extract(cg, cpl, c, hh, ww, b0, m, null, false, dx, dxOff);
    }

    private static int inputGradientPlanes(ConvGeometry g) {
        return phases(g) * ConvGrid.roundUp(g.c(), GridGemm.MR);
    }

    static void backwardInput(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment w, long wOff, MemorySegment dx, long dxOff) {
        int n = g.n(), k = g.k(), hh = g.p(), ww = g.q(), tile = GridGemm.NR;
        int outPlanes = inputGradientPlanes(g);
        int nb = blockImages(g, k, outPlanes, Sgemm.ceilDiv(n, Parallel.threads()));
        int pl = ConvGrid.inputPlane(nb, hh, ww, tile), cpl = ConvGrid.outputPlane(nb, hh, ww, tile);
        int[] meta = new int[10];
        int[] base = prepareInputGradient(g, w, wOff, pl, ConvScratch.get(), meta);
        float[] ap = ConvScratch.get().buffer(PACKED, 0);
        Parallel.forRange(n, 1, (i0, i1) -> {
            ConvScratch ts = ConvScratch.get();
            float[] dg = ts.buffer(X_GRID, (long) k * pl), cg = ts.buffer(OUT_GRID, (long) outPlanes * cpl);
            for (int b0 = i0; b0 < i1; b0 += nb) {
                int m = Math.min(nb, i1 - b0);
                ConvGrid.fillInput(dy, dyOff, k, hh, ww, b0, m, dg, pl);
                inputGradientBlock(g, meta, ap, base, dg, cg, cpl, b0, m, dx, dxOff);
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

    /** True where the taps come in triplets of neighbours (3×3, stride 1): DotRows' packed form. */
    private static boolean tripletTaps(ConvGeometry g) {
        return g.r() == 3 && g.strideH() == 1;
    }

    /** Planes of dy (transposed or packed) the weight gradient adds to a block, for the block size. */
    private static int weightScratchPlanes(ConvGeometry g) {
        int k = g.k();
        if (transposedWeightGradient(k)) return GridWeightGemm.channelsPadded(k);
        return tripletTaps(g) ? DotRows.packedSize(k, 1) : 0;
    }

    /** Floats of one chunk's partial weight gradient (then k of bias). */
    private static int weightPartial(ConvGeometry g) {
        int rows = g.c() * g.r() * g.s(), k = g.k();
        return transposedWeightGradient(k) ? rows * GridWeightGemm.channelsPadded(k) : k * rows * DotRows.VL;
    }

    /**
     * partials[part..] += the weight gradient of one block: x grid xg and the DY grid dg (input
     * layout, plane stride pl: dy of output t sits at ORIGIN + t, zero at the garbage), block of
     * len = m·IS outputs. dyt: scratch for dy transposed or packed (weightScratchPlanes planes of
     * the block's output plane); buf: tile scratch.
     */
    private static void weightGradientBlock(ConvGeometry g, int[] base, float[] xg, float[] dg, int pl, int len,
                                            float[] dyt, float[] partials, int part, float[] buf, int[] idx) {
        int k = g.k(), rows = g.c() * g.r() * g.s(), o = ConvGrid.origin(g.q());
        if (transposedWeightGradient(k)) {
            int kp = GridWeightGemm.channelsPadded(k);
            GridWeightGemm.transposeGrid(dg, pl, o, k, len, dyt, idx);
            GridWeightGemm.accumulate(rows, kp, len, xg, base, dyt, partials, part, buf);
        } else if (tripletTaps(g)) {
            int lenV = ConvGrid.roundUp(len, DotRows.VL);
            DotRows.pack(k, lenV, dg, o, pl, dyt);
            DotRows.accumulateTriplets(k, rows, lenV, dyt, xg, base, partials, part, buf);
        } else {
            DotRows.accumulate(k, rows, ConvGrid.roundUp(len, DotRows.VL), dg, o, pl, xg, base, partials, part, buf);
        }
    }

    /** dw (and dbias) = Σ over chunks, in chunk order, of the partials. */
    private static void foldWeightPartials(ConvGeometry g, float[] partials, int chunks, MemorySegment dw, long dwOff,
                                           MemorySegment dbias, long dbOff) {
        int k = g.k(), rows = g.c() * g.r() * g.s(), vl = DotRows.VL, dwSize = weightPartial(g), size = dwSize + k;
        boolean transposed = transposedWeightGradient(k);
        int kp = GridWeightGemm.channelsPadded(k);
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

    private static void addBiasSums(ConvGeometry g, MemorySegment dy, long dyOff, int b0, int m, float[] partials, int at) {
        int k = g.k(), pq = g.p() * g.q();
        for (int img = b0; img < b0 + m; img++) CpuConv.addRowSums(dy, dyOff + (long) img * k * pq, k, pq, partials, at);
    }

    static void backwardWeight(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                               MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        backward(g, x, xOff, dy, dyOff, null, 0, null, 0, dw, dwOff, dbias, dbOff);
    }

    /**
     * Both gradients in one pass over the images (dx, or dw with dbias, may be null): each block's
     * DY grid is filled once and serves the input gradient's products and the weight gradient
     * (read at ORIGIN + t it is dy in the output layout, zero at the garbage), while hot in cache.
     */
    static void backward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                         MemorySegment w, long wOff, MemorySegment dx, long dxOff,
                         MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        if (dx != null && g.n() < Parallel.threads()) {
            // too few images to split: each gradient on its own, parallel inside
            backwardInput(g, dy, dyOff, w, wOff, dx, dxOff);
            if (dw != null) backward(g, x, xOff, dy, dyOff, null, 0, null, 0, dw, dwOff, dbias, dbOff);
            return;
        }
        int n = g.n(), k = g.k(), hh = g.p(), ww = g.q(), tile = GridGemm.NR;
        boolean wantX = dx != null, wantW = dw != null;
        int inPlanes = phases(g) * g.c();
        int outPlanes = wantX ? inputGradientPlanes(g) : 0;
        int chunks = Math.min(Parallel.threads(), n);
        int wPlanes = wantW ? weightScratchPlanes(g) : 0;
        boolean packed = wantW && !transposedWeightGradient(k) && tripletTaps(g);
        int nb = blockImages(g, k + (wantW ? inPlanes + wPlanes : 0), outPlanes, Sgemm.ceilDiv(n, chunks),
                packed ? PACKED_BLOCK_FLOATS : BLOCK_FLOATS);
        int pl = ConvGrid.inputPlane(nb, hh, ww, tile), cpl = ConvGrid.outputPlane(nb, hh, ww, tile);
        ConvScratch sc = ConvScratch.get();
        int[] meta = new int[10];
        int[] baseI = wantX ? prepareInputGradient(g, w, wOff, pl, sc, meta) : null;
        float[] ap = wantX ? sc.buffer(PACKED, 0) : null;
        int[] baseW = sc.ints(1, g.c() * g.r() * g.s());
        tapRows(g, pl, baseW);
        int dwSize = weightPartial(g), size = dwSize + k;
        float[] partials = wantW ? sc.buffer(PARTIALS, (long) chunks * size) : null;   // the caller's, filled by every chunk
        Parallel.forChunks(chunks, chunk -> {
            int start = (int) ((long) n * chunk / chunks), end = (int) ((long) n * (chunk + 1) / chunks);
            ConvScratch ts = ConvScratch.get();
            float[] dg = ts.buffer(DY_GRID, (long) k * pl);
            float[] cg = wantX ? ts.buffer(OUT_GRID, (long) outPlanes * cpl) : null;
            float[] xg = wantW ? ts.buffer(X_GRID, (long) inPlanes * pl) : null;
            float[] dyt = wPlanes > 0 ? ts.buffer(DY_T, (long) cpl * wPlanes) : null;
            float[] buf = ts.buffer(TILE, Math.max(DotRows.TILE, GridWeightGemm.TILE));
            int part = chunk * size;
            if (wantW) Arrays.fill(partials, part, part + size, 0f);
            for (int b0 = start; b0 < end; b0 += nb) {
                int m = Math.min(nb, end - b0);
                ConvGrid.fillInput(dy, dyOff, k, hh, ww, b0, m, dg, pl);
                if (wantX) inputGradientBlock(g, meta, ap, baseI, dg, cg, cpl, b0, m, dx, dxOff);
                if (wantW) {
                    fillX(g, x, xOff, b0, m, xg, pl);
                    weightGradientBlock(g, baseW, xg, dg, pl, m * ConvGrid.imageStride(hh, ww), dyt, partials, part, buf, ts.index);
                    if (dbias != null) addBiasSums(g, dy, dyOff, b0, m, partials, part + dwSize);
                }
            }
        });
        if (wantW) foldWeightPartials(g, partials, chunks, dw, dwOff, dbias, dbOff);
    }
}
