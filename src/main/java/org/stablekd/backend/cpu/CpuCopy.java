package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.CopyKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * Strided copy, dtype-agnostic: it moves elements of {@code bytes} width, so it serves F32, F64,
 * F16/BF16 and I32 alike. Every layout op goes through it (reshape's contiguous copy, concat into
 * narrowed views, narrow, channel shuffle's permuted view, conv's bias broadcast).
 *
 * <p>First the shape is simplified: size-1 dims dropped, neighbouring dims merged where both
 * sides are contiguous across them. Then one of four paths:
 * <ol>
 *   <li>one contiguous run on both sides: a bulk copy ({@link MemorySegment#copy}), in parallel
 *       spans when large;</li>
 *   <li>innermost dim contiguous on both sides: a bulk copy per row, rows split over threads;</li>
 *   <li>transpose-like (innermost dim contiguous in dst only, another dim contiguous in src, e.g.
 *       NCHW → NHWC): the same element walk in 16×8 tiles of those two dims;</li>
 *   <li>otherwise a general N-d walk, element by element along the innermost dim (any strides,
 *       stride 0 broadcast sources included).</li>
 * </ol>
 * dst must not overlap src nor itself (a stride-0 dst would write one element many times).
 */
final class CpuCopy implements CopyKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.RESHAPE, Op.CONCAT, Op.NARROW, Op.CHANNEL_SHUFFLE, Op.COPY);

    /**
     * Tiles of the transpose-like path: TILE rows of the src-contiguous dim (16 floats = one cache
     * line) by TILE_B elements of the last dim. TILE_B stays at 8: strided src lines often sit a
     * power of two apart (an NCHW plane), all in one L1 set, and a set holds 8.
     */
    private static final int TILE = 16, TILE_B = 8;

    /** Bytes a thread must have to copy before the copy is split (memcpy is cheap to start). */
    private static final long PARALLEL_BYTES = 1 << 18;

    private static final CpuCopy INSTANCE = new CpuCopy();

    private CpuCopy() {}

    static CopyKernels kernels() {
        return INSTANCE;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (!src.shape().equals(dst.shape()) || src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException("cpu copy: source " + src.shape() + " " + src.dtype()
                    + " and destination " + dst.shape() + " " + dst.dtype() + " must have one shape and dtype");
        }
        if (src.numel() == 0) return;
        Layout l = Layout.simplify(src.shape().dims(), src.strides(), dst.strides());
        copy(l.dims, src.segment(), src.offset(), l.srcStrides, dst.segment(), dst.offset(), l.dstStrides, src.dtype().bytes);
    }

    /** Dims and the two stride lists after dropping size-1 dims and merging contiguous neighbours (rank ≥ 1). */
    record Layout(int[] dims, long[] srcStrides, long[] dstStrides) {
        static Layout simplify(int[] dims, long[] ss, long[] ds) {
            int[] d = new int[Math.max(1, dims.length)];
            long[] s = new long[d.length], t = new long[d.length];
            int r = 0;
            for (int i = 0; i < dims.length; i++) {
                if (dims[i] == 1) continue;
                // merge into the previous kept dim when both sides step over it contiguously
                if (r > 0 && s[r - 1] == ss[i] * dims[i] && t[r - 1] == ds[i] * dims[i]
                        && (long) d[r - 1] * dims[i] <= Integer.MAX_VALUE) {
                    d[r - 1] *= dims[i];
                    s[r - 1] = ss[i];
                    t[r - 1] = ds[i];
                    continue;
                }
                d[r] = dims[i];
                s[r] = ss[i];
                t[r] = ds[i];
                r++;
            }
            if (r == 0) { // one element
                d[0] = 1;
                s[0] = 1;
                t[0] = 1;
                r = 1;
            }
            return new Layout(Arrays.copyOf(d, r), Arrays.copyOf(s, r), Arrays.copyOf(t, r));
        }
    }

    // ---------------------------------------------------------------- kernel

    // src, dst: (dims) with strides in elements from element offsets so, do; elements of
    // `bytes` width.  Requires the simplified layout (no size-1 dims unless rank 1).
    static void copy(int[] dims, MemorySegment src, long so, long[] ss, MemorySegment dst, long dO, long[] ds, int bytes) {
        int rank = dims.length, inner = dims[rank - 1];
        long outer = 1;
        for (int i = 0; i < rank - 1; i++) outer *= dims[i];
        boolean rowsContiguous = ss[rank - 1] == 1 && ds[rank - 1] == 1;
        if (rank == 1 && rowsContiguous) {
            bulk(src, so, dst, dO, inner, bytes);
            return;
        }
        int k = rowsContiguous ? -1 : transposedDim(ss, ds);
        if (k >= 0) {
            tiled(dims, k, src, so, ss, dst, dO, ds, bytes);
            return;
        }
        long rowBytes = (long) inner * bytes;
        int grain = (int) Math.max(1, PARALLEL_BYTES / Math.max(1, rowBytes));
        if (outer > Integer.MAX_VALUE) throw new IllegalArgumentException("cpu copy: " + outer + " rows is more than one call handles");
        Parallel.forRange((int) outer, grain, (r0, r1) -> rows(dims, src, so, ss, dst, dO, ds, bytes, r0, r1, rowsContiguous));
    }

    /**
     * For a transpose-like layout — the last dim contiguous in dst but strided in src, and some
     * other dim contiguous in src — that dim, else -1.
     */
    static int transposedDim(long[] ss, long[] ds) {
        int last = ss.length - 1;
        if (ds[last] != 1 || ss[last] == 1) return -1;
        for (int k = last - 1; k >= 0; k--) if (ss[k] == 1) return k;
        return -1;
    }

    // Transpose-like copy: TILE×TILE_B tiles of dims (k, last), so the strided side (src along
    // last) reuses each cache line it touches TILE times instead of once.  Work items are
    // (index over the other dims, TILE rows of k), split over threads.
    private static void tiled(int[] dims, int k, MemorySegment src, long so, long[] ss, MemorySegment dst, long dO, long[] ds, int bytes) {
        int rank = dims.length, last = rank - 1, a = dims[k], b = dims[last];
        int[] od = new int[rank - 2];
        long[] os = new long[rank - 2], odst = new long[rank - 2];
        long outer = 1;
        for (int i = 0, o = 0; i < last; i++) {
            if (i == k) continue;
            od[o] = dims[i];
            os[o] = ss[i];
            odst[o] = ds[i];
            outer *= dims[i];
            o++;
        }
        int aTiles = (a + TILE - 1) / TILE;
        long items = outer * aTiles;
        if (items > Integer.MAX_VALUE) throw new IllegalArgumentException("cpu copy: " + items + " tiles is more than one call handles");
        int grain = (int) Math.max(1, PARALLEL_BYTES / ((long) TILE * b * bytes));
        Parallel.forRange((int) items, grain, (i0, i1) -> {
            for (int item = i0; item < i1; item++) {
                long si = so, di = dO, rem = item / aTiles;
                for (int d = od.length - 1; d >= 0; d--) {
                    long idx = rem % od[d];
                    rem /= od[d];
                    si += idx * os[d];
                    di += idx * odst[d];
                }
                int a0 = item % aTiles * TILE, a1 = Math.min(a, a0 + TILE);
                for (int b0 = 0; b0 < b; b0 += TILE_B) {
                    int b1 = Math.min(b, b0 + TILE_B);
                    for (int i = a0; i < a1; i++) {
                        row(src, si + i * ss[k] + b0 * ss[last], ss[last], dst, di + i * ds[k] + b0, 1, b1 - b0, bytes);
                    }
                }
            }
        });
    }

    // One contiguous run of n elements: memmove in block spans, split over threads when large.
    private static void bulk(MemorySegment src, long so, MemorySegment dst, long dO, long n, int bytes) {
        long total = n * bytes;
        if (total < 2 * PARALLEL_BYTES) {
            MemorySegment.copy(src, so * bytes, dst, dO * bytes, total);
            return;
        }
        long spans = (total + PARALLEL_BYTES - 1) / PARALLEL_BYTES;
        long perSpan = (n + spans - 1) / spans;
        Parallel.forRange((int) spans, 1, (s0, s1) -> {
            long from = s0 * perSpan, to = Math.min(n, s1 * perSpan);
            if (to > from) MemorySegment.copy(src, (so + from) * bytes, dst, (dO + from) * bytes, (to - from) * bytes);
        });
    }

    // Rows [r0, r1) of the outer index space (all dims but the last), walked with a running
    // multi-index; each row is a bulk copy when contiguous, else an element loop.
    private static void rows(int[] dims, MemorySegment src, long so, long[] ss, MemorySegment dst, long dO, long[] ds,
                             int bytes, int r0, int r1, boolean contiguous) {
        int rank = dims.length, inner = dims[rank - 1];
        int[] idx = new int[Math.max(0, rank - 1)];
        long si = so, di = dO;
        // position of row r0
        long rem = r0;
        for (int k = rank - 2; k >= 0; k--) {
            idx[k] = (int) (rem % dims[k]);
            rem /= dims[k];
            si += idx[k] * ss[k];
            di += idx[k] * ds[k];
        }
        long sIn = ss[rank - 1], dIn = ds[rank - 1];
        for (int r = r0; r < r1; r++) {
            if (contiguous) {
                MemorySegment.copy(src, si * bytes, dst, di * bytes, (long) inner * bytes);
            } else {
                row(src, si, sIn, dst, di, dIn, inner, bytes);
            }
            // next row: odometer over the outer dims
            for (int k = rank - 2; k >= 0; k--) {
                si += ss[k];
                di += ds[k];
                if (++idx[k] < dims[k]) break;
                si -= (long) dims[k] * ss[k];
                di -= (long) dims[k] * ds[k];
                idx[k] = 0;
            }
        }
    }

    // One strided row of n elements: dst[di + j·dIn] = src[si + j·sIn]; moved as raw bits.
    private static void row(MemorySegment src, long si, long sIn, MemorySegment dst, long di, long dIn, int n, int bytes) {
        switch (bytes) {
            case 4 -> {
                for (int j = 0; j < n; j++, si += sIn, di += dIn) {
                    dst.setAtIndex(ValueLayout.JAVA_INT, di, src.getAtIndex(ValueLayout.JAVA_INT, si));
                }
            }
            case 8 -> {
                for (int j = 0; j < n; j++, si += sIn, di += dIn) {
                    dst.setAtIndex(ValueLayout.JAVA_LONG, di, src.getAtIndex(ValueLayout.JAVA_LONG, si));
                }
            }
            case 2 -> {
                for (int j = 0; j < n; j++, si += sIn, di += dIn) {
                    dst.setAtIndex(ValueLayout.JAVA_SHORT, di, src.getAtIndex(ValueLayout.JAVA_SHORT, si));
                }
            }
            default -> {
                for (int j = 0; j < n; j++, si += sIn, di += dIn) MemorySegment.copy(src, si * bytes, dst, di * bytes, bytes);
            }
        }
    }
}
