package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.WeightCache;

/**
 * Depthwise forward (groups = c = k) for the small planes of MobileNet-style models at inference
 * (16×16 down to 2×2), NCHW kept: the output planes, flattened, are cut into vectors, and each tap
 * of the filter is one masked vector read of the input at a fixed offset:
 * <pre>
 *   y[plane][e] = bias + Σ_t w[ch][t] · x[plane][index(e) + off(t)]   where lane e is valid for tap t
 *   index(e) = oh·sh·w + ow·sw  (e = oh·q + ow),   off(t = i·s + j) = (i − padH)·w + (j − padW)
 * </pre>
 * With stride 1 and p×q = h×w, index(e) = e, so the read is one contiguous (masked) load; with
 * other strides it is a gather. A lane is valid for a tap when the input pixel it reads lies inside
 * the image; the masks, indices and offsets depend only on the geometry and are made once per
 * geometry ({@link Plan}).
 *
 * <p>Planes of fewer than VL pixels that divide VL are <em>packed</em>: one vector holds VL/(p·q)
 * consecutive planes (4 planes of 2×2 in 16 lanes), and the weights become per-lane vectors
 * (the (taps, c) transposed weights, each channel repeated over its plane's lanes by a shuffle).
 * Otherwise a plane takes ⌈p·q/VL⌉ vectors, the last one masked.
 *
 * <p>Why: the per-plane path of {@link DepthwiseConv} copies each plane scalar by scalar into a
 * padded, phase-split buffer, and its channels-last path transposes every element in and out;
 * at these sizes those copies cost 5–20× the multiply-adds (192→192 3×3 at 4×4: 18 µs for 28 k
 * MACs). Here the input is staged with one bulk copy per block of planes (so that loads near the
 * ends stay in bounds) and the results are stored straight into y.
 *
 * <p>Each output is one in-order sum (bias, then the taps in order), whatever the thread split:
 * results do not depend on the thread count (Note [Determinism]). Threads take ranges of units
 * (a packed vector or a plane), at least {@link #MIN_CHUNK_MACS} multiply-adds each.
 */
final class DepthwiseFlat {
    private static final VectorSpecies<Float> SPECIES = Sgemm.SPECIES;
    private static final int VL = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Output planes of at most this many pixels run here. */
    static final int MAX_PLANE = 256;
    /** Input floats staged per block (64 KiB: stays in L1/L2 while its taps are read). */
    private static final int STAGE_FLOATS = 16 * 1024;
    /**
     * Fewer multiply-adds than this per thread run on the caller alone (a hand-off costs more);
     * {@code -Dstablekd.minChunkMacs=N} overrides it (for measuring).
     */
    static final long MIN_CHUNK_MACS = Long.getLong("stablekd.minChunkMacs", 1 << 16);

    private DepthwiseFlat() {}

    static boolean supports(ConvGeometry g) {
        return g.depthwise() && g.p() * g.q() <= MAX_PLANE;
    }

    /** Per geometry (without the batch size): the lane masks, indices and tap offsets. */
    private static final class Plan {
        /** Planes per vector: VL/(p·q) when packed, else 1. */
        final int planesPerVector;
        /** Vectors per unit: 1 when packed, else ⌈p·q/VL⌉. */
        final int slots;
        final int taps;
        /** off(t) = (i − padH)·w + (j − padW). */
        final int[] tapOffset;
        /** valid[(slot·taps + t)·VL + lane]: the lane reads inside the image for tap t. */
        final boolean[] valid;
        /** live[slot·VL + lane]: the lane holds an output (all true but the last slot's tail). */
        final boolean[] live;
        /** index[slot·VL + lane]: the input offset the lane reads at tap offset 0, from the unit's first input element; null when it is slot·VL + lane (contiguous). */
        final int[] index;
        /** Packed: lane → its plane within the vector. */
        final VectorShuffle<Float> expand;
        /** Staging margin on either side of a block, in floats: every read stays in bounds. */
        final int margin;
        /** Split: the input is staged phase-split (see {@link #splits}), so every tap reads contiguously. */
        final boolean split;
        /** Split: lanes per group (a run of even or odd columns of one row); groups per vector = VL/group. */
        final int group;
        /** Split: per block of 2·group input lanes, the even columns to its first group lanes, the odd ones to the next. */
        final VectorShuffle<Float> evenOdd;
        /** Split: splitAt[v·(VL/group) + j], where group j of a plane's input vector v goes (from the unit's first staged element). */
        final int[] splitAt;
        /** Split: groupLanes[j·VL + lane]: the lane belongs to group j. */
        final boolean[] groupLanes;

        Plan(ConvGeometry g) {
            int h = g.h(), w = g.w(), p = g.p(), q = g.q(), hwOut = p * q, hwIn = h * w;
            boolean packed = hwOut < VL && VL % hwOut == 0 && g.c() % (VL / hwOut) == 0;
            planesPerVector = packed ? VL / hwOut : 1;
            slots = packed ? 1 : (hwOut + VL - 1) / VL;
            taps = g.r() * g.s();
            tapOffset = new int[taps];
            split = splits(g);
            int pp = planesPerVector;
            for (int i = 0; i < g.r(); i++) {
                for (int j = 0; j < g.s(); j++) {
                    // split: row 2·oh + i − 1 is phase row pr = (i+1) mod 2, at oh − 1 for i = 0 (dr = −1), else oh; columns alike
                    int pr = (i + 1) % 2, pc = (j + 1) % 2, dr = i == 0 ? -1 : 0, dc = j == 0 ? -1 : 0;
                    tapOffset[i * g.s() + j] = split ? (pr * 2 + pc) * pp * hwOut + dr * q + dc : (i - g.padH()) * w + (j - g.padW());
                }
            }
            group = split ? Math.min(q, VL / 2) : 0;
            int[] eo = new int[VL];
            for (int lane = 0; lane < VL; lane++) {
                int block = split ? lane / (2 * group) : 0, i = split ? lane % (2 * group) : lane;
                eo[lane] = !split ? lane : i < group ? block * 2 * group + 2 * i : block * 2 * group + 2 * (i - group) + 1;
            }
            evenOdd = split ? VectorShuffle.fromArray(SPECIES, eo, 0) : null;
            int groups = split ? VL / group : 0, vectors = hwIn / VL;
            splitAt = new int[split ? vectors * groups : 0];
            groupLanes = new boolean[groups * VL];
            for (int v = 0; v < vectors && split; v++) {
                for (int jg = 0; jg < groups; jg++) {
                    int e0 = v * VL + jg / 2 * 2 * group + jg % 2, r = e0 / w, c0 = e0 % w;   // the group's first input element
                    splitAt[v * groups + jg] = ((r % 2) * 2 + jg % 2) * pp * hwOut + r / 2 * q + c0 / 2;
                }
            }
            for (int jg = 0; jg < groups; jg++)
                for (int lane = jg * group; lane < (jg + 1) * group; lane++) groupLanes[jg * VL + lane] = true;
            valid = new boolean[slots * taps * VL];
            live = new boolean[slots * VL];
            int[] idx = new int[slots * VL];
            boolean contiguous = true;
            for (int slot = 0; slot < slots; slot++) {
                for (int lane = 0; lane < VL; lane++) {
                    int e = slot * VL + lane, plane = packed ? lane / hwOut : 0, pos = packed ? lane % hwOut : e;
                    if (!packed && pos >= hwOut) continue;   // dead lane: no output, reads nothing
                    int oh = pos / q, ow = pos % q;
                    live[e] = true;
                    idx[e] = plane * hwIn + oh * g.strideH() * w + ow * g.strideW();
                    if (split) idx[e] = e;   // phase planes are output-sized: every tap reads contiguously
                    contiguous &= idx[e] == e;
                    for (int i = 0; i < g.r(); i++) {
                        for (int j = 0; j < g.s(); j++) {
                            int ih = oh * g.strideH() + i - g.padH(), iw = ow * g.strideW() + j - g.padW();
                            valid[(slot * taps + i * g.s() + j) * VL + lane] = ih >= 0 && ih < h && iw >= 0 && iw < w;
                        }
                    }
                }
            }
            index = contiguous ? null : idx;
            int[] expandAt = new int[VL];
            for (int lane = 0; lane < VL; lane++) expandAt[lane] = lane / hwOut % VL;
            expand = packed ? VectorShuffle.fromArray(SPECIES, expandAt, 0) : null;
            margin = VL + (g.r() + g.padH() + 1) * w + g.s() + g.padW();
        }

        boolean packed() {
            return planesPerVector > 1;
        }

        /**
         * A stride-2 3×3 pad-1 layer on even planes whose rows tile the vectors is staged
         * phase-split: per unit, phase plane (pr, pc) of its planes (rows ≡ pr, columns ≡ pc mod 2,
         * p×q each) at (pr·2 + pc)·(planes·p·q) + plane·p·q; then tap (i, j) reads one phase plane
         * at a shift of 0 or −1 row and column, contiguously, instead of a gather per tap.
         */
        static boolean splits(ConvGeometry g) {
            int w = g.w(), h = g.h();
            return g.strideH() == 2 && g.strideW() == 2 && g.r() == 3 && g.s() == 3 && g.padH() == 1 && g.padW() == 1
                    && h % 2 == 0 && w % 2 == 0 && (h * w) % VL == 0 && (VL % w == 0 || w % VL == 0);
        }
    }

    private static final ConcurrentHashMap<ConvGeometry, Plan> PLANS = new ConcurrentHashMap<>();

    private static Plan plan(ConvGeometry g) {
        ConvGeometry key = ConvGeometry.of(1, g.c(), g.h(), g.w(), g.k(), g.r(), g.s(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.groups());
        return PLANS.computeIfAbsent(key, Plan::new);
    }

    /** Per-thread staging buffer (its own, so it never collides with the other convolution paths' scratch). */
    private static final ThreadLocal<float[][]> STAGE = ThreadLocal.withInitial(() -> new float[2][0]);

    private static float[] stage(int slot, int size) {
        float[][] s = STAGE.get();
        if (s[slot].length < size) s[slot] = new float[size];
        return s[slot];
    }

    /** wT (taps, c + VL): wT[t][ch] = w[ch][t], zero past c (so a VL-wide read at any channel stays in bounds). */
    private static float[] transposed(ConvGeometry g, MemorySegment w, long wOff, float[] into) {
        int c = g.c(), taps = g.r() * g.s(), cp = c + VL;
        float[] wt = into != null ? into : new float[taps * cp];
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < taps; t++) wt[t * cp + ch] = w.getAtIndex(F, wOff + (long) ch * taps + t);
        for (int t = 0; t < taps; t++) java.util.Arrays.fill(wt, t * cp + c, (t + 1) * cp, 0f);
        return wt;
    }

    /** y = conv(x, w) + bias, then max(0, ·) if relu. */
    static void forward(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                        MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        Plan plan = plan(g);
        int c = g.c(), taps = plan.taps, hwIn = g.h() * g.w();
        int pp = plan.planesPerVector, units = g.n() * c / pp;
        float[] wt = null;
        if (plan.packed()) {
            WeightCache cache = WeightCache.current();
            wt = cache != null && w.isNative()
                    ? cache.packed(w, wOff, "depthwise-lanes", c, taps, () -> transposed(g, w, wOff, null))
                    : transposed(g, w, wOff, stage(1, taps * (c + VL)));
        }
        final float[] wT = wt;
        long macsPerUnit = (long) plan.slots * VL * taps;
        int grain = (int) Math.max(1, (MIN_CHUNK_MACS + macsPerUnit - 1) / macsPerUnit);
        if (rowsAreVectors(g)) {
            Parallel.forRange(units, grain, (u0, u1) -> {
                for (int u = u0; u < u1; u++) rowPlane(g, x, xOff, w, wOff, bias, bOff, y, yOff, u, relu);
            });
            return;
        }
        int unitInput = pp * hwIn, block = Math.max(1, STAGE_FLOATS / unitInput);
        Parallel.forRange(units, grain, (u0, u1) -> {
            float[] xs = stage(0, 2 * plan.margin + block * unitInput);
            for (int b0 = u0; b0 < u1; b0 += block) {
                int b1 = Math.min(u1, b0 + block);
                if (plan.split) splitStage(g, plan, x, xOff, b0, b1, xs);
                else MemorySegment.copy(x, F, (xOff + (long) b0 * unitInput) * Float.BYTES, xs, plan.margin, (b1 - b0) * unitInput);
                if (wT != null) packedUnits(g, plan, xs, b0, b1, wT, bias, bOff, y, yOff, relu);
                else planeUnits(g, plan, xs, b0, b1, w, wOff, bias, bOff, y, yOff, relu);
            }
        });
    }

    /**
     * Stages units [b0, b1) phase-split at xs[margin..] (see {@link Plan#splits}): each input vector,
     * read straight from x, has its even and odd columns gathered into runs by one shuffle, and
     * each run goes to its phase row with one masked store.
     */
    private static void splitStage(ConvGeometry g, Plan plan, MemorySegment x, long xOff, int b0, int b1, float[] xs) {
        int pp = plan.planesPerVector, hwIn = g.h() * g.w(), hwOut = g.p() * g.q(), vectors = hwIn / VL;
        int group = plan.group, groups = VL / group;
        for (int plane = b0 * pp; plane < b1 * pp; plane++) {
            int u = plane / pp, base = plan.margin + (u - b0) * pp * hwIn + plane % pp * hwOut;
            long at = (xOff + (long) plane * hwIn) * Float.BYTES;
            for (int v = 0; v < vectors; v++, at += VL * Float.BYTES) {
                FloatVector xv = FloatVector.fromMemorySegment(SPECIES, x, at, ORDER).rearrange(plan.evenOdd);
                for (int jg = 0; jg < groups; jg++) {
                    xv.intoArray(xs, base + plan.splitAt[v * groups + jg] - jg * group, VectorMask.fromArray(SPECIES, plan.groupLanes, jg * VL));
                }
            }
        }
    }

    /**
     * Units [b0, b1) of packed planes, their input staged at xs[margin..]: four units at a time
     * (four independent FMA chains; each tap's mask loaded once for the four), then one at a time.
     */
    private static void packedUnits(ConvGeometry g, Plan plan, float[] xs, int b0, int b1, float[] wT,
                                    MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int c = g.c(), cp = c + VL, taps = plan.taps, pp = plan.planesPerVector, unitInput = pp * g.h() * g.w();
        VectorShuffle<Float> expand = plan.expand;
        int[] off = plan.tapOffset;
        boolean[] valid = plan.valid;
        int u = b0;
        if (plan.index == null) {
            for (; u + 4 <= b1 && (u + 3) * pp % c == u * pp % c + 3 * pp; u += 4) {   // the four units' channels are consecutive
                int ch0 = u * pp % c, base = plan.margin + (u - b0) * unitInput;
                FloatVector a0 = packedBias(bias, bOff, ch0, pp, expand), a1 = packedBias(bias, bOff, ch0 + pp, pp, expand);
                FloatVector a2 = packedBias(bias, bOff, ch0 + 2 * pp, pp, expand), a3 = packedBias(bias, bOff, ch0 + 3 * pp, pp, expand);
                for (int t = 0; t < taps; t++) {
                    VectorMask<Float> m = VectorMask.fromArray(SPECIES, valid, t * VL);
                    int at = base + off[t], wa = t * cp + ch0;
                    a0 = FloatVector.fromArray(SPECIES, xs, at, m).fma(FloatVector.fromArray(SPECIES, wT, wa).rearrange(expand), a0);
                    a1 = FloatVector.fromArray(SPECIES, xs, at + unitInput, m).fma(FloatVector.fromArray(SPECIES, wT, wa + pp).rearrange(expand), a1);
                    a2 = FloatVector.fromArray(SPECIES, xs, at + 2 * unitInput, m).fma(FloatVector.fromArray(SPECIES, wT, wa + 2 * pp).rearrange(expand), a2);
                    a3 = FloatVector.fromArray(SPECIES, xs, at + 3 * unitInput, m).fma(FloatVector.fromArray(SPECIES, wT, wa + 3 * pp).rearrange(expand), a3);
                }
                if (relu) {
                    a0 = a0.max(0f); a1 = a1.max(0f); a2 = a2.max(0f); a3 = a3.max(0f);
                }
                long yAt = (yOff + (long) u * VL) * Float.BYTES;
                a0.intoMemorySegment(y, yAt, ORDER);
                a1.intoMemorySegment(y, yAt + VL * Float.BYTES, ORDER);
                a2.intoMemorySegment(y, yAt + 2 * VL * Float.BYTES, ORDER);
                a3.intoMemorySegment(y, yAt + 3 * VL * Float.BYTES, ORDER);
            }
        }
        for (; u < b1; u++) packedUnit(g, plan, xs, u, plan.margin + (u - b0) * unitInput, wT, bias, bOff, y, yOff, relu);
    }

    /** One unit of packed planes (input at xs[base..]), contiguous or gathered. */
    private static void packedUnit(ConvGeometry g, Plan plan, float[] xs, int u, int base, float[] wT,
                                   MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int c = g.c(), cp = c + VL, pp = plan.planesPerVector, ch0 = u * pp % c;
        int[] index = plan.index, off = plan.tapOffset;
        FloatVector acc = packedBias(bias, bOff, ch0, pp, plan.expand);
        for (int t = 0; t < plan.taps; t++) {
            VectorMask<Float> m = VectorMask.fromArray(SPECIES, plan.valid, t * VL);
            FloatVector xv = index == null ? FloatVector.fromArray(SPECIES, xs, base + off[t], m)
                    : FloatVector.fromArray(SPECIES, xs, base + off[t], index, 0, m);
            acc = xv.fma(FloatVector.fromArray(SPECIES, wT, t * cp + ch0).rearrange(plan.expand), acc);
        }
        if (relu) acc = acc.max(0f);
        acc.intoMemorySegment(y, (yOff + (long) u * VL) * Float.BYTES, ORDER);
    }

    /** The bias of channels [ch0, ch0+pp), each repeated over its plane's lanes (zero without a bias). */
    private static FloatVector packedBias(MemorySegment bias, long bOff, int ch0, int pp, VectorShuffle<Float> expand) {
        if (bias == null) return FloatVector.zero(SPECIES);
        return FloatVector.fromMemorySegment(SPECIES, bias, (bOff + ch0) * Float.BYTES, ORDER, SPECIES.indexInRange(0, pp)).rearrange(expand);
    }

    /**
     * Units [b0, b1), one plane each, their input staged at xs[margin..]: contiguous plans four
     * planes at a time (four independent FMA chains sharing each (slot, tap) mask), the rest one
     * plane at a time.
     */
    private static void planeUnits(ConvGeometry g, Plan plan, float[] xs, int b0, int b1, MemorySegment w, long wOff,
                                   MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int c = g.c(), taps = plan.taps, hwIn = g.h() * g.w(), hwOut = g.p() * g.q(), slots = plan.slots;
        int[] off = plan.tapOffset;
        boolean[] valid = plan.valid, live = plan.live;
        float[] wk = stage(1, 4 * taps);
        int u = b0;
        for (; plan.index == null && u + 4 <= b1; u += 4) {
            int base = plan.margin + (u - b0) * hwIn;
            for (int i = 0; i < 4; i++) MemorySegment.copy(w, F, (wOff + (long) ((u + i) % c) * taps) * Float.BYTES, wk, i * taps, taps);
            float bi0 = biasOf(bias, bOff, u % c), bi1 = biasOf(bias, bOff, (u + 1) % c);
            float bi2 = biasOf(bias, bOff, (u + 2) % c), bi3 = biasOf(bias, bOff, (u + 3) % c);
            for (int slot = 0; slot < slots; slot++) {
                FloatVector a0 = FloatVector.broadcast(SPECIES, bi0), a1 = FloatVector.broadcast(SPECIES, bi1);
                FloatVector a2 = FloatVector.broadcast(SPECIES, bi2), a3 = FloatVector.broadcast(SPECIES, bi3);
                for (int t = 0; t < taps; t++) {
                    VectorMask<Float> m = VectorMask.fromArray(SPECIES, valid, (slot * taps + t) * VL);
                    int at = base + slot * VL + off[t];
                    a0 = FloatVector.fromArray(SPECIES, xs, at, m).fma(FloatVector.broadcast(SPECIES, wk[t]), a0);
                    a1 = FloatVector.fromArray(SPECIES, xs, at + hwIn, m).fma(FloatVector.broadcast(SPECIES, wk[taps + t]), a1);
                    a2 = FloatVector.fromArray(SPECIES, xs, at + 2 * hwIn, m).fma(FloatVector.broadcast(SPECIES, wk[2 * taps + t]), a2);
                    a3 = FloatVector.fromArray(SPECIES, xs, at + 3 * hwIn, m).fma(FloatVector.broadcast(SPECIES, wk[3 * taps + t]), a3);
                }
                if (relu) {
                    a0 = a0.max(0f); a1 = a1.max(0f); a2 = a2.max(0f); a3 = a3.max(0f);
                }
                long at = (yOff + (long) u * hwOut + (long) slot * VL) * Float.BYTES, step = (long) hwOut * Float.BYTES;
                VectorMask<Float> m = VectorMask.fromArray(SPECIES, live, slot * VL);
                a0.intoMemorySegment(y, at, ORDER, m);
                a1.intoMemorySegment(y, at + step, ORDER, m);
                a2.intoMemorySegment(y, at + 2 * step, ORDER, m);
                a3.intoMemorySegment(y, at + 3 * step, ORDER, m);
            }
        }
        for (; u < b1; u++) planeUnit(g, plan, xs, u, plan.margin + (u - b0) * hwIn, wk, w, wOff, bias, bOff, y, yOff, relu);
    }

    private static float biasOf(MemorySegment bias, long bOff, int ch) {
        return bias == null ? 0f : bias.getAtIndex(F, bOff + ch);
    }

    /** One plane (input at xs[base..]), contiguous or gathered. */
    private static void planeUnit(ConvGeometry g, Plan plan, float[] xs, int u, int base, float[] wk, MemorySegment w, long wOff,
                                  MemorySegment bias, long bOff, MemorySegment y, long yOff, boolean relu) {
        int ch = u % g.c(), taps = plan.taps, hwOut = g.p() * g.q();
        int[] index = plan.index, off = plan.tapOffset;
        MemorySegment.copy(w, F, (wOff + (long) ch * taps) * Float.BYTES, wk, 0, taps);
        float b = biasOf(bias, bOff, ch);
        long yPlane = yOff + (long) u * hwOut;
        for (int slot = 0; slot < plan.slots; slot++) {
            FloatVector acc = FloatVector.broadcast(SPECIES, b);
            for (int t = 0; t < taps; t++) {
                VectorMask<Float> m = VectorMask.fromArray(SPECIES, plan.valid, (slot * taps + t) * VL);
                FloatVector xv = index == null ? FloatVector.fromArray(SPECIES, xs, base + slot * VL + off[t], m)
                        : FloatVector.fromArray(SPECIES, xs, base + off[t], index, slot * VL, m);
                acc = xv.fma(FloatVector.broadcast(SPECIES, wk[t]), acc);
            }
            if (relu) acc = acc.max(0f);
            acc.intoMemorySegment(y, (yPlane + (long) slot * VL) * Float.BYTES, ORDER, VectorMask.fromArray(SPECIES, plan.live, slot * VL));
        }
    }

    /**
     * A stride-1 3×3 pad-1 layer whose rows are exactly one vector (w = VL: 16×16 planes with
     * AVX-512) runs {@link #rowPlane}: nothing is staged and nothing is masked.
     */
    static boolean rowsAreVectors(ConvGeometry g) {
        return g.w() == VL && g.strideH() == 1 && g.strideW() == 1 && g.r() == 3 && g.s() == 3 && g.padH() == 1 && g.padW() == 1;
    }

    /**
     * One plane of a {@link #rowsAreVectors} layer, straight from x: each input row is loaded once
     * (aligned) and kept for the three output rows that read it; its left and right neighbours
     * are lane shifts with a zero coming in (the padding), so a tap costs one FMA and at most one
     * shuffle, not a misaligned load. Sums in tap order from the bias, as the other paths.
     */
    private static void rowPlane(ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, long wOff,
                                 MemorySegment bias, long bOff, MemorySegment y, long yOff, int u, boolean relu) {
        int h = g.h(), ch = u % g.c();
        long wAt = wOff + (long) ch * 9;
        FloatVector w00 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt)), w01 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt + 1));
        FloatVector w02 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt + 2)), w10 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt + 3));
        FloatVector w11 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt + 4)), w12 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt + 5));
        FloatVector w20 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt + 6)), w21 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt + 7));
        FloatVector w22 = FloatVector.broadcast(SPECIES, w.getAtIndex(F, wAt + 8));
        FloatVector b = FloatVector.broadcast(SPECIES, biasOf(bias, bOff, ch)), zero = FloatVector.zero(SPECIES);
        long in = (xOff + (long) u * h * VL) * Float.BYTES, out = (yOff + (long) u * h * VL) * Float.BYTES, row = VL * Float.BYTES;
        // two output rows per step (two independent FMA chains): rows r, r+1 read input rows r−1 .. r+2
        FloatVector above = zero, cur = FloatVector.fromMemorySegment(SPECIES, x, in, ORDER);
        int r = 0;
        for (; r + 1 < h; r += 2) {
            FloatVector next = FloatVector.fromMemorySegment(SPECIES, x, in + (r + 1) * row, ORDER);
            FloatVector after = r + 2 < h ? FloatVector.fromMemorySegment(SPECIES, x, in + (r + 2) * row, ORDER) : zero;
            FloatVector curL = zero.slice(VL - 1, cur), curR = cur.slice(1, zero), nextL = zero.slice(VL - 1, next), nextR = next.slice(1, zero);
            FloatVector a0 = zero.slice(VL - 1, above).fma(w00, b), a1 = curL.fma(w00, b);   // left neighbours: lane k reads k − 1
            a0 = above.fma(w01, a0);
            a1 = cur.fma(w01, a1);
            a0 = above.slice(1, zero).fma(w02, a0);                                          // right neighbours: lane k reads k + 1
            a1 = curR.fma(w02, a1);
            a0 = curL.fma(w10, a0);
            a1 = nextL.fma(w10, a1);
            a0 = cur.fma(w11, a0);
            a1 = next.fma(w11, a1);
            a0 = curR.fma(w12, a0);
            a1 = nextR.fma(w12, a1);
            a0 = nextL.fma(w20, a0);
            a1 = zero.slice(VL - 1, after).fma(w20, a1);
            a0 = next.fma(w21, a0);
            a1 = after.fma(w21, a1);
            a0 = nextR.fma(w22, a0);
            a1 = after.slice(1, zero).fma(w22, a1);
            if (relu) {
                a0 = a0.max(0f);
                a1 = a1.max(0f);
            }
            a0.intoMemorySegment(y, out + r * row, ORDER);
            a1.intoMemorySegment(y, out + (r + 1) * row, ORDER);
            above = next;
            cur = after;
        }
        if (r < h) {   // odd h: the last row, below it the padding
            FloatVector acc = zero.slice(VL - 1, above).fma(w00, b);
            acc = above.fma(w01, acc);
            acc = above.slice(1, zero).fma(w02, acc);
            acc = zero.slice(VL - 1, cur).fma(w10, acc);
            acc = cur.fma(w11, acc);
            acc = cur.slice(1, zero).fma(w12, acc);
            acc = zero.fma(w20, acc);   // the padding row, as the other paths' masked reads: their zeros are summed too
            acc = zero.fma(w21, acc);
            acc = zero.fma(w22, acc);
            if (relu) acc = acc.max(0f);
            acc.intoMemorySegment(y, out + r * row, ORDER);
        }
    }
}
