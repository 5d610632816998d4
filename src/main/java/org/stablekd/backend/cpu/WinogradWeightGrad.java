package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;

/**
 * The weight gradient of a 3×3, stride 1, pad 1 convolution by Winograd F(4×4, 3×3), the
 * transpose of {@link WinogradConv}'s forward. The forward is Y_t = Aᵀ [Σ_c U_c ⊙ V_{t,c}] A per
 * output tile t, with U = G w Gᵀ; so, with dM_t = A dY_t Aᵀ (6×6 from the tile's 4×4 gradient),
 * <pre>
 *   dU_ξ (k, c) = Σ_t dM_ξ (t, k) · V_ξ (t, c)        for each of the 36 positions ξ
 *   dw[k][c]    = Gᵀ dU[k][c] G                        (6×6 to 3×3)
 * </pre>
 * 36 products of depth "tiles" instead of the direct gradient's 9 of depth "pixels": 4× fewer
 * multiplies.
 *
 * <p>Organization, per segment of whole images (fixed by the shape, a multiple of the thread count):
 * <ol>
 *   <li>per image (threads split the images): x is copied channels-last into a zero-padded
 *       plane and dy channels-last into a plane of whole tiles; every tile's 6×6 patch is then
 *       transformed a vector of channels at a time (vectors along c: the same transforms as the
 *       forward's, with the channels in the lanes) into V (36, tiles, c) and dM (36, tiles, k);</li>
 *   <li>per position ξ (threads split the 36): dU_ξ += dM_ξᵀ V_ξ on an 8 × 3-vector register tile
 *       ({@link GridGemm}'s shape), the accumulators loaded from and stored to dU around the segment.</li>
 * </ol>
 * Last, dw = Gᵀ dU G in double (threads split k). Channels-last puts the product's two operands in
 * rows (tile-major), so neither needs a transposition after its transform.
 *
 * <p>Determinism: each dU_ξ(k, c) is one in-order sum over the tiles of the batch (the segments
 * continue it exactly: a float stored and reloaded is the same float), so the result is
 * bit-identical for any thread count (Note [Determinism]).
 *
 * <p>Accuracy: dM multiplies dy by up to 8·8 and V x by up to 5·5 before the sum; measured on
 * uniform data the error per weight is below 1e-5 · Σ|dy||x| over its products (docs/design.md,
 * Kernel families, states the bound; {@code WinogradWeightGradTest} checks it).
 *
 * <p>Runs where {@link #supports} (AVX-512: the register tile needs 32 vector registers; c and k
 * whole numbers of vectors: both transforms run a vector of channels at a time) and
 * {@link WinogradWeightGradBands} does not (CpuConv asks that first: layers of up to 64 channels,
 * where its L2-resident bands win); elsewhere the direct grid path computes the gradient.
 */
final class WinogradWeightGrad {
    private static final VectorSpecies<Float> SPECIES = GridGemm.SPECIES;
    private static final int VL = SPECIES.length();
    private static final int TILE = WinogradConv.TILE, ALPHA = WinogradConv.ALPHA, POSITIONS = WinogradConv.POSITIONS;
    /** Output channels per register tile. */
    private static final int MR = 8;
    /** Floats of V and dM per segment (8 MiB together): L3-resident, streamed once per position. */
    private static final int SEGMENT_FLOATS = 2 << 20;
    // ConvScratch slots
    private static final int V = 28, DM = 29, DU = 30, X_CL = 31, DY_CL = 32, TMP = 33;

    private WinogradWeightGrad() {}

    /** True where the weight gradient runs here: the layers whose forward WinogradConv runs, on AVX-512, c and k whole numbers of vectors. */
    static boolean supports(ConvGeometry g) {
        return VL == 16 && WinogradConv.supports(g) && g.c() % VL == 0 && g.k() % VL == 0;
    }

    /** Shape-only plan: tiles per image and images per segment. */
    private record Plan(ConvGeometry g, int th, int tw, int imagesPerSegment) {
        int tilesPerImage() { return th * tw; }
        int xRow() { return TILE * tw + 2; }                 // padded x plane: (4·th + 2) × (4·tw + 2)
        int dyRow() { return TILE * tw; }                    // dy plane of whole tiles: 4·th × 4·tw
        int segmentTiles() { return imagesPerSegment * tilesPerImage(); }
        /** Floats between positions: one cache line past the data (see WinogradConv.Plan.vStride). */
        int vStride() { return segmentTiles() * g.c() + WinogradConv.LINE; }
        int dmStride() { return segmentTiles() * g.k() + WinogradConv.LINE; }
        int duStride() { return g.k() * g.c() + WinogradConv.LINE; }
    }

    private static Plan plan(ConvGeometry g) {
        int th = Sgemm.ceilDiv(g.h(), TILE), tw = Sgemm.ceilDiv(g.w(), TILE);
        long perImage = (long) POSITIONS * th * tw * (g.c() + g.k());
        int images = (int) Math.max(1, SEGMENT_FLOATS / perImage);
        int threads = Parallel.threads();
        images = Math.min(g.n(), Sgemm.ceilDiv(images, threads) * threads);   // whole images for every thread
        return new Plan(g, th, tw, images);
    }

    /** dw (k, c, 3, 3) and, if dbias != null, dbias (k) = Σ dy, for x (n, c, h, w) and dy (n, k, h, w). */
    static void backwardWeight(ConvGeometry g, MemorySegment x, long xOff, MemorySegment dy, long dyOff,
                               MemorySegment dw, long dwOff, MemorySegment dbias, long dbOff) {
        Plan p = plan(g);
        int c = g.c(), k = g.k();
        ConvScratch s = ConvScratch.get();
        float[] v = s.buffer(V, (long) POSITIONS * p.vStride());
        float[] dm = s.buffer(DM, (long) POSITIONS * p.dmStride());
        float[] du = s.buffer(DU, (long) POSITIONS * p.duStride());
        for (int i0 = 0; i0 < g.n(); i0 += p.imagesPerSegment()) {
            int first = i0, images = Math.min(p.imagesPerSegment(), g.n() - i0), tiles = images * p.tilesPerImage();
            // each image's transforms, then each position's products, one item each (Parallel.forChunks:
            // a thread done with its half takes the other's last; resnet8x4's step 1.3 % and 0.4 %
            // faster, 2026-12-07, one JVM switching every two steps)
            Parallel.forChunks(images, i -> transformImage(p, x, xOff, dy, dyOff, first + i, i, v, dm));
            Parallel.forChunks(POSITIONS, xi -> accumulate(p, xi, tiles, first == 0, v, dm, du));
        }
        Parallel.forRange(k, 1, (a, b) -> weightsFromPositions(c, p.duStride(), du, a, b, dw, dwOff));
        if (dbias != null) biasGradient(g, dy, dyOff, dbias, dbOff);
    }

    /** dbias[kk] = Σ over images and pixels of dy[img][kk] (threads split k). */
    static void biasGradient(ConvGeometry g, MemorySegment dy, long dyOff, MemorySegment dbias, long dbOff) {
        int k = g.k(), hw = g.h() * g.w();
        Parallel.forRange(k, 1, (a, b) -> {
            float[] sums = new float[b - a];
            for (int img = 0; img < g.n(); img++) CpuConv.addRowSums(dy, dyOff + ((long) img * k + a) * hw, b - a, hw, sums, 0);
            for (int kk = a; kk < b; kk++) dbias.setAtIndex(ValueLayout.JAVA_FLOAT, dbOff + kk, sums[kk - a]);
        });
    }

    // ---------------------------------------------------------------- step 1: the transforms

    /** V and dM of one image's tiles, at tile index slot·tilesPerImage + ty·tw + tx of the segment. */
    private static void transformImage(Plan p, MemorySegment x, long xOff, MemorySegment dy, long dyOff, int img, int slot,
                                       float[] v, float[] dm) {
        ConvGeometry g = p.g();
        int c = g.c(), k = g.k(), h = g.h(), w = g.w(), xRow = p.xRow(), dyRow = p.dyRow();
        ConvScratch s = ConvScratch.get();
        float[] xcl = s.buffer(X_CL, (long) (TILE * p.th() + 2) * xRow * c);
        float[] dycl = s.buffer(DY_CL, (long) TILE * p.th() * dyRow * k);
        float[] tmp = s.buffer(TMP, POSITIONS * VL);
        float[] plane = s.buffer(TMP + 1, (long) h * w);
        // channels-last copies: x at (1 + yy, 1 + xx), dy at (yy, xx); the borders and the tiles' overhang stay zero
        zeroBorder(xcl, TILE * p.th() + 2, xRow, h, w, c);
        toChannelsLast(x, xOff + (long) img * c * h * w, c, h, w, plane, xcl, (xRow + 1) * c, xRow * c);
        if (dyRow != w || TILE * p.th() != h) java.util.Arrays.fill(dycl, 0, TILE * p.th() * dyRow * k, 0f);
        toChannelsLast(dy, dyOff + (long) img * k * h * w, k, h, w, plane, dycl, 0, dyRow * k);
        int vs = p.vStride(), ds = p.dmStride();
        for (int ty = 0, t = slot * p.tilesPerImage(); ty < p.th(); ty++) {
            for (int tx = 0; tx < p.tw(); tx++, t++) {
                for (int c0 = 0; c0 < c; c0 += VL) {
                    // V = Bᵀ d B: rows of the 6×6 patch into tmp (6, 6, VL), then its columns into v at ξ = 6i + j
                    int at = ((TILE * ty) * xRow + TILE * tx) * c + c0;
                    for (int i = 0; i < ALPHA; i++) WinogradConv.transformInput(xcl, at + i * xRow * c, c, tmp, i * ALPHA * VL, VL);
                    for (int j = 0; j < ALPHA; j++) WinogradConv.transformInput(tmp, j * VL, ALPHA * VL, v, j * vs + t * c + c0, ALPHA * vs);
                }
                for (int k0 = 0; k0 < k; k0 += VL) {
                    // dM = A dY Aᵀ: the 4 rows of the tile's gradient into tmp (4, 6, VL), then its 6 columns into dm
                    int at = ((TILE * ty) * dyRow + TILE * tx) * k + k0;
                    for (int a = 0; a < TILE; a++) gradientRow(dycl, at + a * dyRow * k, k, tmp, a * ALPHA * VL, VL);
                    for (int e = 0; e < ALPHA; e++) gradientRow(tmp, e * VL, ALPHA * VL, dm, e * ds + t * k + k0, ALPHA * ds);
                }
            }
        }
    }

    /** Zeroes what the image does not cover in a channels-last plane (rows × rowLen × ch) whose image sits at (1, 1): the padding and the tiles' overhang. */
    private static void zeroBorder(float[] cl, int rows, int rowLen, int h, int w, int ch) {
        int row = rowLen * ch;
        java.util.Arrays.fill(cl, 0, row, 0f);                                       // the top padding row
        for (int yy = 1; yy <= h; yy++) {
            java.util.Arrays.fill(cl, yy * row, yy * row + ch, 0f);                    // left padding
            java.util.Arrays.fill(cl, yy * row + (w + 1) * ch, (yy + 1) * row, 0f);    // right padding and overhang
        }
        java.util.Arrays.fill(cl, (h + 1) * row, rows * row, 0f);                     // bottom padding and overhang
    }

    /** The planes (ch, h, w) at src[off..] into cl[at + yy·rowStride + xx·ch + ci] (channels-last). */
    private static void toChannelsLast(MemorySegment src, long off, int ch, int h, int w, float[] plane, float[] cl, int at, int rowStride) {
        for (int ci = 0; ci < ch; ci++) {
            MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, (off + (long) ci * h * w) * Float.BYTES, plane, 0, h * w);
            for (int yy = 0, i = 0; yy < h; yy++) {
                for (int xx = 0, o = at + yy * rowStride + ci; xx < w; xx++, i++, o += ch) cl[o] = plane[i];
            }
        }
    }

    /**
     * out[oAt + e·oStride] = (A y)[e] for the four vectors y[a] = in[iAt + a·iStride], A = (Aᵀ)ᵀ of the
     * forward's output transform: (y0, y0 + y1 + y2 + y3, y0 − y1 + y2 − y3, y0 + 2y1 + 4y2 + 8y3, y0 − 2y1 + 4y2 − 8y3, y3).
     */
    static void gradientRow(float[] in, int iAt, int iStride, float[] out, int oAt, int oStride) {
        FloatVector y0 = FloatVector.fromArray(SPECIES, in, iAt), y1 = FloatVector.fromArray(SPECIES, in, iAt + iStride),
                y2 = FloatVector.fromArray(SPECIES, in, iAt + 2 * iStride), y3 = FloatVector.fromArray(SPECIES, in, iAt + 3 * iStride);
        FloatVector four = FloatVector.broadcast(SPECIES, 4f), two = FloatVector.broadcast(SPECIES, 2f);
        FloatVector s02 = y0.add(y2), s13 = y1.add(y3), q02 = y2.fma(four, y0), q13 = y3.fma(four, y1);
        y0.intoArray(out, oAt);
        s02.add(s13).intoArray(out, oAt + oStride);
        s02.sub(s13).intoArray(out, oAt + 2 * oStride);
        q13.fma(two, q02).intoArray(out, oAt + 3 * oStride);          // y0 + 4y2 + 2(y1 + 4y3)
        q02.sub(q13.mul(two)).intoArray(out, oAt + 4 * oStride);
        y3.intoArray(out, oAt + 5 * oStride);
    }

    // ---------------------------------------------------------------- step 2: the products

    /** dU_ξ (k, c) (+)= Σ_{t < tiles} dM_ξ (t, k) V_ξ (t, c); from zero when fresh. */
    private static void accumulate(Plan p, int xi, int tiles, boolean fresh, float[] v, float[] dm, float[] du) {
        int c = p.g().c(), k = p.g().k();
        int vAt = xi * p.vStride(), dAt = xi * p.dmStride(), uAt = xi * p.duStride();
        for (int k0 = 0; k0 < k; k0 += MR) {
            // columns in tiles of 3 vectors, the last 4 as 2 + 2 (an 8 × 1 tile is bound by its 8 broadcasts)
            for (int c0 = 0, left = c / VL; left > 0; ) {
                int d = dAt + k0, b = vAt + c0, u = uAt + k0 * c + c0;
                int width = left == 4 || left == 2 ? 2 : left == 1 ? 1 : 3;
                if (width == 3) tile8x3(tiles, dm, d, k, v, b, c, du, u, c, fresh);
                else if (width == 2) tile8x2(tiles, dm, d, k, v, b, c, du, u, c, fresh);
                else tile8x1(tiles, dm, d, k, v, b, c, du, u, c, fresh);
                c0 += width * VL;
                left -= width;
            }
        }
    }

    private static FloatVector bc(float f) {
        return FloatVector.broadcast(SPECIES, f);
    }

    static FloatVector start(float[] du, int at, boolean fresh) {
        return fresh ? FloatVector.zero(SPECIES) : FloatVector.fromArray(SPECIES, du, at);
    }

    // 8 output channels × 3 vectors of input channels: du[u + r·ldu + j·VL] for r < 8, j < 3
    private static void tile8x3(int tiles, float[] dm, int d, int ldd, float[] v, int b, int ldv, float[] du, int u, int ldu, boolean fresh) {
        int v1 = VL, v2 = 2 * VL;
        FloatVector c00 = start(du, u, fresh), c01 = start(du, u + v1, fresh), c02 = start(du, u + v2, fresh);
        FloatVector c10 = start(du, u + ldu, fresh), c11 = start(du, u + ldu + v1, fresh), c12 = start(du, u + ldu + v2, fresh);
        FloatVector c20 = start(du, u + 2 * ldu, fresh), c21 = start(du, u + 2 * ldu + v1, fresh), c22 = start(du, u + 2 * ldu + v2, fresh);
        FloatVector c30 = start(du, u + 3 * ldu, fresh), c31 = start(du, u + 3 * ldu + v1, fresh), c32 = start(du, u + 3 * ldu + v2, fresh);
        FloatVector c40 = start(du, u + 4 * ldu, fresh), c41 = start(du, u + 4 * ldu + v1, fresh), c42 = start(du, u + 4 * ldu + v2, fresh);
        FloatVector c50 = start(du, u + 5 * ldu, fresh), c51 = start(du, u + 5 * ldu + v1, fresh), c52 = start(du, u + 5 * ldu + v2, fresh);
        FloatVector c60 = start(du, u + 6 * ldu, fresh), c61 = start(du, u + 6 * ldu + v1, fresh), c62 = start(du, u + 6 * ldu + v2, fresh);
        FloatVector c70 = start(du, u + 7 * ldu, fresh), c71 = start(du, u + 7 * ldu + v1, fresh), c72 = start(du, u + 7 * ldu + v2, fresh);
        for (int t = 0; t < tiles; t++, d += ldd, b += ldv) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, v, b), b1 = FloatVector.fromArray(SPECIES, v, b + v1),
                        b2 = FloatVector.fromArray(SPECIES, v, b + v2);
            FloatVector w = FloatVector.broadcast(SPECIES, dm[d]);
            c00 = w.fma(b0, c00); c01 = w.fma(b1, c01); c02 = w.fma(b2, c02);
            w = FloatVector.broadcast(SPECIES, dm[d + 1]);
            c10 = w.fma(b0, c10); c11 = w.fma(b1, c11); c12 = w.fma(b2, c12);
            w = FloatVector.broadcast(SPECIES, dm[d + 2]);
            c20 = w.fma(b0, c20); c21 = w.fma(b1, c21); c22 = w.fma(b2, c22);
            w = FloatVector.broadcast(SPECIES, dm[d + 3]);
            c30 = w.fma(b0, c30); c31 = w.fma(b1, c31); c32 = w.fma(b2, c32);
            w = FloatVector.broadcast(SPECIES, dm[d + 4]);
            c40 = w.fma(b0, c40); c41 = w.fma(b1, c41); c42 = w.fma(b2, c42);
            w = FloatVector.broadcast(SPECIES, dm[d + 5]);
            c50 = w.fma(b0, c50); c51 = w.fma(b1, c51); c52 = w.fma(b2, c52);
            w = FloatVector.broadcast(SPECIES, dm[d + 6]);
            c60 = w.fma(b0, c60); c61 = w.fma(b1, c61); c62 = w.fma(b2, c62);
            w = FloatVector.broadcast(SPECIES, dm[d + 7]);
            c70 = w.fma(b0, c70); c71 = w.fma(b1, c71); c72 = w.fma(b2, c72);
        }
        c00.intoArray(du, u); c01.intoArray(du, u + v1); c02.intoArray(du, u + v2); u += ldu;
        c10.intoArray(du, u); c11.intoArray(du, u + v1); c12.intoArray(du, u + v2); u += ldu;
        c20.intoArray(du, u); c21.intoArray(du, u + v1); c22.intoArray(du, u + v2); u += ldu;
        c30.intoArray(du, u); c31.intoArray(du, u + v1); c32.intoArray(du, u + v2); u += ldu;
        c40.intoArray(du, u); c41.intoArray(du, u + v1); c42.intoArray(du, u + v2); u += ldu;
        c50.intoArray(du, u); c51.intoArray(du, u + v1); c52.intoArray(du, u + v2); u += ldu;
        c60.intoArray(du, u); c61.intoArray(du, u + v1); c62.intoArray(du, u + v2); u += ldu;
        c70.intoArray(du, u); c71.intoArray(du, u + v1); c72.intoArray(du, u + v2);
    }

    // 8 output channels × 2 vectors of input channels
    static void tile8x2(int tiles, float[] dm, int d, int ldd, float[] v, int b, int ldv, float[] du, int u, int ldu, boolean fresh) {
        int v1 = VL;
        FloatVector c00 = start(du, u, fresh), c01 = start(du, u + v1, fresh), c10 = start(du, u + ldu, fresh), c11 = start(du, u + ldu + v1, fresh);
        FloatVector c20 = start(du, u + 2 * ldu, fresh), c21 = start(du, u + 2 * ldu + v1, fresh);
        FloatVector c30 = start(du, u + 3 * ldu, fresh), c31 = start(du, u + 3 * ldu + v1, fresh);
        FloatVector c40 = start(du, u + 4 * ldu, fresh), c41 = start(du, u + 4 * ldu + v1, fresh);
        FloatVector c50 = start(du, u + 5 * ldu, fresh), c51 = start(du, u + 5 * ldu + v1, fresh);
        FloatVector c60 = start(du, u + 6 * ldu, fresh), c61 = start(du, u + 6 * ldu + v1, fresh);
        FloatVector c70 = start(du, u + 7 * ldu, fresh), c71 = start(du, u + 7 * ldu + v1, fresh);
        for (int t = 0; t < tiles; t++, d += ldd, b += ldv) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, v, b), b1 = FloatVector.fromArray(SPECIES, v, b + v1);
            FloatVector w = bc(dm[d]);
            c00 = w.fma(b0, c00); c01 = w.fma(b1, c01);
            w = bc(dm[d + 1]);
            c10 = w.fma(b0, c10); c11 = w.fma(b1, c11);
            w = bc(dm[d + 2]);
            c20 = w.fma(b0, c20); c21 = w.fma(b1, c21);
            w = bc(dm[d + 3]);
            c30 = w.fma(b0, c30); c31 = w.fma(b1, c31);
            w = bc(dm[d + 4]);
            c40 = w.fma(b0, c40); c41 = w.fma(b1, c41);
            w = bc(dm[d + 5]);
            c50 = w.fma(b0, c50); c51 = w.fma(b1, c51);
            w = bc(dm[d + 6]);
            c60 = w.fma(b0, c60); c61 = w.fma(b1, c61);
            w = bc(dm[d + 7]);
            c70 = w.fma(b0, c70); c71 = w.fma(b1, c71);
        }
        c00.intoArray(du, u); c01.intoArray(du, u + v1); u += ldu;
        c10.intoArray(du, u); c11.intoArray(du, u + v1); u += ldu;
        c20.intoArray(du, u); c21.intoArray(du, u + v1); u += ldu;
        c30.intoArray(du, u); c31.intoArray(du, u + v1); u += ldu;
        c40.intoArray(du, u); c41.intoArray(du, u + v1); u += ldu;
        c50.intoArray(du, u); c51.intoArray(du, u + v1); u += ldu;
        c60.intoArray(du, u); c61.intoArray(du, u + v1); u += ldu;
        c70.intoArray(du, u); c71.intoArray(du, u + v1);
    }

    // 8 output channels × 1 vector of input channels (c = 16, or a last vector)
    private static void tile8x1(int tiles, float[] dm, int d, int ldd, float[] v, int b, int ldv, float[] du, int u, int ldu, boolean fresh) {
        FloatVector c0 = start(du, u, fresh), c1 = start(du, u + ldu, fresh), c2 = start(du, u + 2 * ldu, fresh),
                c3 = start(du, u + 3 * ldu, fresh), c4 = start(du, u + 4 * ldu, fresh), c5 = start(du, u + 5 * ldu, fresh),
                c6 = start(du, u + 6 * ldu, fresh), c7 = start(du, u + 7 * ldu, fresh);
        for (int t = 0; t < tiles; t++, d += ldd, b += ldv) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, v, b);
            c0 = b0.fma(bc(dm[d]), c0); c1 = b0.fma(bc(dm[d + 1]), c1); c2 = b0.fma(bc(dm[d + 2]), c2); c3 = b0.fma(bc(dm[d + 3]), c3);
            c4 = b0.fma(bc(dm[d + 4]), c4); c5 = b0.fma(bc(dm[d + 5]), c5); c6 = b0.fma(bc(dm[d + 6]), c6); c7 = b0.fma(bc(dm[d + 7]), c7);
        }
        c0.intoArray(du, u); c1.intoArray(du, u + ldu); c2.intoArray(du, u + 2 * ldu); c3.intoArray(du, u + 3 * ldu);
        c4.intoArray(du, u + 4 * ldu); c5.intoArray(du, u + 5 * ldu); c6.intoArray(du, u + 6 * ldu); c7.intoArray(du, u + 7 * ldu);
    }

    // ---------------------------------------------------------------- step 3: back to 3×3

    /** dw[kk][ci] = Gᵀ dU[kk][ci] G for kk in [k0, k1), in double; dU_ξ[kk][ci] = du[ξ·us + kk·c + ci]. */
    static void weightsFromPositions(int c, int us, float[] du, int k0, int k1, MemorySegment dw, long dwOff) {
        double[] u = new double[POSITIONS], half = new double[ALPHA * 3], out = new double[9];
        for (int kk = k0; kk < k1; kk++) {
            for (int ci = 0; ci < c; ci++) {
                for (int xi = 0; xi < POSITIONS; xi++) u[xi] = du[xi * us + kk * c + ci];
                for (int i = 0; i < ALPHA; i++) transposedWeightColumn(u, i * ALPHA, 1, half, i * 3, 1);   // rows: (6, 3)
                for (int b = 0; b < 3; b++) transposedWeightColumn(half, b, 3, out, b, 3);                // columns: (3, 3)
                long at = dwOff + ((long) kk * c + ci) * 9;
                for (int e = 0; e < 9; e++) dw.setAtIndex(ValueLayout.JAVA_FLOAT, at + e, (float) out[e]);
            }
        }
    }

    /** out[oAt + a·oStride] = (Gᵀ u)[a], a < 3, for u[e] = in[iAt + e·iStride], e < 6 (G as in WinogradWeightTransform). */
    private static void transposedWeightColumn(double[] in, int iAt, int iStride, double[] out, int oAt, int oStride) {
        double u0 = in[iAt], u1 = in[iAt + iStride], u2 = in[iAt + 2 * iStride], u3 = in[iAt + 3 * iStride],
                u4 = in[iAt + 4 * iStride], u5 = in[iAt + 5 * iStride];
        double s12 = u1 + u2, s34 = u3 + u4;
        out[oAt] = u0 * 0.25 - s12 * (1.0 / 6) + s34 * (1.0 / 24);
        out[oAt + oStride] = (u2 - u1) * (1.0 / 6) + (u3 - u4) * (1.0 / 12);
        out[oAt + 2 * oStride] = (s34 - s12) * (1.0 / 6) + u5;
    }
}
