package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.stablekd.backend.ConvGeometry;

/**
 * Both gradients of {@link DirectChannelsLast}'s batch layers (3×3 stride 2 pad 1, and 1×1 stride 2
 * pad 0 to at most 64 output pixels), with the channels along the vectors, on
 * {@link WinogradChannelsLast#tile6x4}'s register tile (6 rows × 64 columns, each broadcast feeding
 * four FMAs). For x (n, c, h, w), w (k, c, r, s), dy (n, k, p, q), len = taps·c:
 * <pre>
 *   weight gradient  dWt (k, len) += dYv (k, B·P) · patches (B·P, len)     per chunk of B images
 *                    patches[pix][tap·c + ci] = x at output pixel pix's tap (zero-padded), channels-last
 *                    dYv[kk][b·P + pix] = dy[b][kk][pix]   (dy's planes as they are)
 *   input gradient   dxt[pix][ci] = Σ_{tap ∈ taps of pix's phase, kk} dyt[pix's output under tap][kk] · w[kk][ci][tap]
 * </pre>
 * The input gradient splits x's pixels into the four phases of stride 2 (row and column parity):
 * a phase's pixels all take the same taps (1, 2, 2 and 4 of the 9 for 3×3; one phase and one tap
 * for 1×1, the other three get zero), so each group of 6 pixels of a phase is one product of depth
 * taps·k against wᵀ packed per phase, (tap, kk) rows of c; dy is read channels-last with a zero
 * row and column past its end (the taps that fall outside).
 *
 * <p>Why: the shared-padding grid ({@link GridConv}) ran resnet8x4's 128→256 stride-2 layer's
 * backward at batch 64 in 32 ms, against 17 ms for PyTorch 2.13's channels-last oneDNN on the
 * same 2-vCPU host (2026-12-06); its 8×8 outputs carry 27 % garbage and its products read
 * unaligned taps from L2 (see benchmarks/results/cpu.md for this class's figures).
 *
 * <p>Threads: one contiguous range of images per thread; each thread adds its images' weight
 * gradient into its own partial (k, len) in image order, and the caller folds the partials in
 * thread order: the bits depend on the thread count, not on the timing (Note [Determinism]). The
 * input gradient of an image is written by one thread; each dx is one in-order sum over (tap, kk).
 */
final class DirectChannelsLastGrad {
    private static final int VL = 16, KB = DirectChannelsLast.KB, PX = DirectChannelsLast.PX;
    /** Depth of one weight-gradient product: a block of 64 patch columns is 32 KiB, in L1. */
    private static final int WEIGHT_DEPTH = 128;
    // ConvScratch slots (the caller's: PACKED_T, PARTIALS; each thread's: the rest) and int slot
    private static final int XT = 72, PATCH = 73, DYV = 74, PARTIALS = 75, PACKED_T = 76, DXT = 77, ROWS = 78, TMP = 79, M = 80,
            OFFSETS = 6;

    private DirectChannelsLastGrad() {}

    /** DirectChannelsLast's batch shapes with c a multiple of 64 and even h, w (stride 2 phases of equal size). */
    static boolean supports(ConvGeometry g) {
        return DirectChannelsLast.supportsBatch(g) && g.c() % KB == 0 && g.h() % 2 == 0 && g.w() % 2 == 0;
    }

    /** dx (may be null) and dw with dbias (dw may be null, dbias null) of y = conv(x, w) + bias from dy. */
    static void backward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff, MemorySegment w, long wOff,
                         MemorySegment dx, long dxOff, MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        int n = g.n(), k = g.k(), c = g.c(), taps = g.r() * g.s(), len = taps * c, chunks = Math.min(Parallel.threads(), n);
        ConvScratch sc = ConvScratch.get();
        int[][] phaseTaps = phaseTaps(g);
        int[] phaseAt = new int[5];
        float[] wt = dx == null ? null : packTransposed(g, w, wOff, phaseTaps, sc.buffer(PACKED_T, (long) k * len), phaseAt);
        int size = k * len + k;   // a partial: dWt, then dbias
        float[] partials = dw == null ? null : sc.buffer(PARTIALS, (long) chunks * size);
        Parallel.forChunks(chunks, chunk -> {
            int start = (int) ((long) n * chunk / chunks), end = (int) ((long) n * (chunk + 1) / chunks);
            if (dw != null) weightGradient(g, x, xOff, dy, dyOff, dbias != null, start, end, partials, chunk * size);
            if (dx != null) for (int img = start; img < end; img++) inputGradient(g, dy, dyOff, phaseTaps, wt, phaseAt, img, dx, dxOff);
        });
        if (dw != null) fold(g, partials, chunks, size, dw, dwOff, dbias, dbOff);
    }

    // ---------------------------------------------------------------- weight gradient

    /** partials[part ..] = Σ over images [start, end), in order, of their dWt (and dbias sums): chunks of B images. */
    private static void weightGradient(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff, boolean bias,
                                       int start, int end, float[] partials, int part) {
        int k = g.k(), c = g.c(), h = g.h(), wd = g.w(), p = g.p(), q = g.q(), r = g.r(), s = g.strideH(), pad = g.padH();
        int taps = r * r, len = taps * c, pq = p * q, wp = wd + 2, inRows = s * (p - 1) + r;
        int perChunk = Math.max(1, WEIGHT_DEPTH / pq);
        ConvScratch sc = ConvScratch.get();
        float[] xt = sc.buffer(XT, (long) inRows * wp * c), rows = sc.buffer(ROWS, (long) c * inRows * wd), tmp = sc.buffer(TMP, VL * VL);
        float[] patches = sc.buffer(PATCH, (long) perChunk * pq * len), dyv = sc.buffer(DYV, (long) perChunk * pq * k);
        int[] at = DirectChannelsLast.offsets(g, 0, p, false, sc.ints(OFFSETS, taps + pq));   // the forward's taps and pixels in xt
        Arrays.fill(partials, part, part + k * len + k, 0f);
        for (int b0 = start; b0 < end; b0 += perChunk) {
            int nb = Math.min(perChunk, end - b0), depth = nb * pq;
            for (int b = 0; b < nb; b++) {
                int img = b0 + b;
                WinogradChannelsLast.toChannelsLast(x, xOff + (long) img * c * h * wd, c, h, wd, -pad, inRows, wp, rows, xt, tmp);
                for (int pix = 0; pix < pq; pix++) {
                    int row = (b * pq + pix) * len;
                    for (int t = 0; t < taps; t++) System.arraycopy(xt, at[taps + pix] + at[t], patches, row + t * c, c);
                }
                long dyImg = dyOff + (long) img * k * pq;
                for (int kk = 0; kk < k; kk++)
                    MemorySegment.copy(dy, ValueLayout.JAVA_FLOAT, (dyImg + (long) kk * pq) * Float.BYTES, dyv, kk * depth + b * pq, pq);
                if (bias) CpuConv.addRowSums(dy, dyImg, k, pq, partials, part + k * len);
            }
            // each block of 64 columns stays in L1 while every group of output channels passes
            for (int col = 0; col < len; col += KB) {
                for (int kk = 0, sixes = sixes(k); kk < k; ) {
                    int at0 = part + kk * len + col;
                    if (kk < 6 * sixes) {
                        WinogradChannelsLast.tile6x4(depth, len, len, dyv, kk * depth, patches, col, partials, at0, true);
                        kk += 6;
                    } else {
                        WinogradChannelsLast.tile4x4(depth, len, len, dyv, kk * depth, patches, col, partials, at0, true);
                        kk += 4;
                    }
                }
            }
        }
    }

    /** Groups of 6 output channels before the groups of 4 (k a multiple of 64: k mod 6 is 0, 2 or 4). */
    private static int sixes(int k) {
        int fours = k % 6 == 2 ? 2 : k % 6 == 4 ? 1 : 0;
        return (k - 4 * fours) / 6;
    }

    /** dw[kk][ci][tap] = Σ over chunks, in chunk order, of dWt[kk][tap·c + ci]; dbias likewise. */
    private static void fold(ConvGeometry g, float[] partials, int chunks, int size, MemorySegment dw, long dwOff,
                             MemorySegment dbias, long dbOff) {
        int k = g.k(), c = g.c(), taps = g.r() * g.s(), len = taps * c;
        for (int kk = 0; kk < k; kk++)
            for (int ci = 0; ci < c; ci++)
                for (int t = 0; t < taps; t++) {
                    int at = kk * len + t * c + ci;
                    float sum = partials[at];
                    for (int ch = 1; ch < chunks; ch++) sum += partials[ch * size + at];
                    dw.setAtIndex(ValueLayout.JAVA_FLOAT, dwOff + ((long) kk * c + ci) * taps + t, sum);
                }
        if (dbias == null) return;
        for (int kk = 0; kk < k; kk++) {
            float sum = partials[k * len + kk];
            for (int ch = 1; ch < chunks; ch++) sum += partials[ch * size + k * len + kk];
            dbias.setAtIndex(ValueLayout.JAVA_FLOAT, dbOff + kk, sum);
        }
    }

    // ---------------------------------------------------------------- input gradient

    /**
     * The taps (i·r + j, row-major) that reach each phase ph = (row parity)·2 + column parity of the
     * input: row i of a tap reaches input rows of parity (i − pad) mod 2, column j likewise.
     */
    private static int[][] phaseTaps(ConvGeometry g) {
        int r = g.r(), pad = g.padH();
        int[][] taps = new int[4][];
        for (int ph = 0; ph < 4; ph++) {
            int[] t = new int[r * r];
            int nt = 0;
            for (int i = 0; i < r; i++)
                for (int j = 0; j < r; j++)
                    if (Math.floorMod(i - pad, 2) == (ph >> 1) && Math.floorMod(j - pad, 2) == (ph & 1)) t[nt++] = i * r + j;
            taps[ph] = Arrays.copyOf(t, nt);
        }
        return taps;
    }

    /**
     * wt[phaseAt[ph] + (t·k + kk)·c + ci] = w[kk][ci][phaseTaps[ph][t]]; phaseAt gets each phase's
     * start and, at [4], the end.
     */
    private static float[] packTransposed(ConvGeometry g, MemorySegment w, long wOff, int[][] phaseTaps, float[] wt, int[] phaseAt) {
        int k = g.k(), c = g.c(), taps = g.r() * g.s();
        for (int ph = 0, at = 0; ph < 4; ph++) {
            phaseAt[ph] = at;
            for (int tap : phaseTaps[ph])
                for (int kk = 0; kk < k; kk++, at += c)
                    for (int ci = 0; ci < c; ci++) wt[at + ci] = w.getAtIndex(ValueLayout.JAVA_FLOAT, wOff + ((long) kk * c + ci) * taps + tap);
            phaseAt[ph + 1] = at;
        }
        return wt;
    }

    /** dx of one image: its dy turned channels-last, per phase groups of 6 pixels × 64 input channels, dx turned back to planes. */
    private static void inputGradient(ConvGeometry g, MemorySegment dy, long dyOff, int[][] phaseTaps, float[] wt, int[] phaseAt,
                                      int img, MemorySegment dx, long dxOff) {
        int k = g.k(), c = g.c(), h = g.h(), wd = g.w(), p = g.p(), q = g.q(), r = g.r(), pad = g.padH();
        int hp = h / 2, wq = wd / 2, dwp = q + 2;   // a phase's rows and columns; dyt's row length in pixels
        ConvScratch sc = ConvScratch.get();
        // dyt[(oy·dwp + 1 + ox)·k + kk] = dy[kk][oy][ox], zero at row p and column q (taps past the end)
        float[] dyt = sc.buffer(XT, (long) (p + 1) * dwp * k), rows = sc.buffer(ROWS, Math.max((long) k * p * q, (long) c * h * wd));
        float[] tmp = sc.buffer(TMP, VL * VL), patch = sc.buffer(PATCH, (long) PX * 4 * k), m = sc.buffer(M, (long) PX * c);
        float[] dxt = sc.buffer(DXT, (long) h * wd * c);
        WinogradChannelsLast.toChannelsLast(dy, dyOff + (long) img * k * p * q, k, p, q, 0, p + 1, dwp, rows, dyt, tmp);
        for (int ph = 0; ph < 4; ph++) {
            int py = ph >> 1, px = ph & 1, nt = phaseTaps[ph].length, pixels = hp * wq;
            if (nt == 0) {   // 1×1: no tap reaches this phase
                for (int u = 0; u < pixels; u++) {
                    int at = ((2 * (u / wq) + py) * wd + 2 * (u % wq) + px) * c;
                    Arrays.fill(dxt, at, at + c, 0f);
                }
                continue;
            }
            int depth = nt * k;
            for (int u0 = 0; u0 < pixels; u0 += PX) {
                int live = Math.min(PX, pixels - u0);
                // patch row j: the dy pixels under each tap of phase pixel u0 + j (the last live one repeated)
                for (int j = 0; j < PX; j++) {
                    int u = u0 + Math.min(j, live - 1), iy = 2 * (u / wq) + py, ix = 2 * (u % wq) + px;
                    for (int t = 0; t < nt; t++) {
                        int tap = phaseTaps[ph][t], oy = (iy + pad - tap / r) / 2, ox = (ix + pad - tap % r) / 2;
                        System.arraycopy(dyt, (oy * dwp + 1 + ox) * k, patch, j * depth + t * k, k);
                    }
                }
                for (int cb = 0; cb < c; cb += KB) {
                    if (live <= 4) WinogradChannelsLast.tile4x4(depth, c, c, patch, 0, wt, phaseAt[ph] + cb, m, cb);
                    else WinogradChannelsLast.tile6x4(depth, c, c, patch, 0, wt, phaseAt[ph] + cb, m, cb);
                }
                for (int j = 0; j < live; j++) {
                    int u = u0 + j, iy = 2 * (u / wq) + py, ix = 2 * (u % wq) + px;
                    System.arraycopy(m, j * c, dxt, (iy * wd + ix) * c, c);
                }
            }
        }
        WinogradChannelsLast.toPlanes(dxt, c, h, wd, wd, rows, null, 0, false, dx, dxOff + (long) img * c * h * wd, h * wd);
    }
}
