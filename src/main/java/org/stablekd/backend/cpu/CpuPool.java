package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.F;
import static org.stablekd.backend.cpu.Simd.I;
import static org.stablekd.backend.cpu.Simd.LANES;
import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.load;
import static org.stablekd.backend.cpu.Simd.set;
import static org.stablekd.backend.cpu.Simd.store;
import static org.stablekd.backend.cpu.Simd.storeInts;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.stablekd.backend.Op;
import org.stablekd.backend.PoolGeometry;
import org.stablekd.backend.PoolKernels;
import org.stablekd.tensor.Tensor;

/**
 * Pooling on planes: x (n·c, h, w) → y (n·c, p, q), one plane per work item, planes split over
 * threads (each plane writes only its own outputs, so backwards need no atomics).
 *
 * <p>Windowed pooling is vectorized across LANES outputs of one output row. The plane is first
 * copied into a per-thread buffer with its columns padded (−∞ for max, 0 for average) so every
 * window position (hh, kw) is one load — a gather {0, s, 2s, …} for stride s > 1 — with no
 * bounds tests; padded values never win a max and add nothing to a sum. Rows are clipped to the
 * input instead of padded. This also makes max pooling branch-free: a scalar max over random data
 * mispredicts about once per window.
 */
final class CpuPool implements PoolKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.MAX_POOL2D, Op.AVG_POOL2D, Op.GLOBAL_AVG_POOL);

    /** Input values a thread should get before planes are split over threads. */
    private static final int GRAIN_VALUES = 1 << 14;

    private static final CpuPool INSTANCE = new CpuPool();

    private CpuPool() {}

    static PoolKernels kernels() {
        return INSTANCE;
    }

    // ---------------------------------------------------------------- padded plane buffer

    /**
     * Columns of one padded buffer row: the input's w plus pw on the left, and on the right as far
     * as a whole LANES-wide vector of outputs reads ((⌈q/LANES⌉·LANES − 1)·s + kw).
     */
    static int paddedWidth(PoolGeometry g) {
        int vectorOutputs = (g.q() + LANES - 1) / LANES * LANES;
        return Math.max(g.w() + 2 * g.pw(), (vectorOutputs - 1) * g.sw() + g.kw());
    }

    // x: (h, w) plane at xo → buf: (h, width) with input column c at buf column c + pw, `pad` elsewhere
    static void padPlane(MemorySegment x, long xo, int h, int w, int pw, int width, float pad, float[] buf) {
        for (int hh = 0; hh < h; hh++) {
            int row = hh * width;
            Arrays.fill(buf, row, row + pw, pad);
            MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, (xo + (long) hh * w) * Float.BYTES, buf, row + pw, w);
            Arrays.fill(buf, row + pw + w, row + width, pad);
        }
    }

    /** {0, s, 2s, …}: the gather map of a strided window position. */
    static int[] strideMap(int s) {
        int[] map = new int[LANES];
        for (int l = 0; l < LANES; l++) map[l] = l * s;
        return map;
    }

    // LANES values buf[at + l·s] (a plain load when s == 1)
    private static FloatVector window(float[] buf, int at, int s, int[] map) {
        return s == 1 ? FloatVector.fromArray(F, buf, at) : FloatVector.fromArray(F, buf, at, map, 0);
    }

    // ---------------------------------------------------------------- kernels (one plane)

    // buf: the plane padded with −∞ (padPlane); y: (p, q) at yo; argmax: (p, q) I32 at ao = hh·w + ww.
    // PyTorch's rule, lane by lane in window scan order: a value wins if it is greater or NaN, so
    // the first maximum wins ties and the last NaN wins; a window of −∞ reports its first element.
    static void maxPlane(PoolGeometry g, float[] buf, int width, int[] map, MemorySegment y, long yo, MemorySegment argmax, long ao) {
        int w = g.w(), q = g.q(), s = g.sw(), pw = g.pw();
        IntVector laneStart = IntVector.zero(I).addIndex(s); // lane l's window starts l·s columns further
        FloatVector negInf = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < g.p(); i++) {
            int h0 = i * g.sh() - g.ph();
            int hs = Math.max(h0, 0), he = Math.min(h0 + g.kh(), g.h());
            for (int j0 = 0; j0 < q; j0 += LANES) {
                IntVector col0 = laneStart.add(j0 * s - pw); // input column of each window's left edge
                IntVector idx = col0.max(0).add(hs * w);     // its first real element
                FloatVector best = negInf;
                for (int hh = hs; hh < he; hh++) {
                    int at = hh * width + j0 * s;
                    for (int k = 0; k < g.kw(); k++) {
                        FloatVector v = window(buf, at + k, s, map);
                        VectorMask<Float> take = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN));
                        best = best.blend(v, take);
                        idx = idx.blend(col0.add(hh * w + k), take.cast(I));
                    }
                }
                long o = (long) i * q + j0;
                VectorMask<Float> live = F.indexInRange(j0, q);
                store(best, y, yo + o, live);
                storeInts(idx, argmax, ao + o, live.cast(I));
            }
        }
    }

    // dx: (h, w) at xo, overwritten; dy, argmax: (p, q).  dx[argmax] += dy, in output order.
    static void maxBackwardPlane(PoolGeometry g, MemorySegment dy, long dyo, MemorySegment argmax, long ao, MemorySegment dx, long xo) {
        int hw = g.h() * g.w(), pq = g.p() * g.q();
        CpuPointwise.fill(dx, xo, 0f, hw);
        for (int o = 0; o < pq; o++) {
            int at = argmax.getAtIndex(ValueLayout.JAVA_INT, ao + o);
            if (at < 0 || at >= hw) {
                throw new IllegalArgumentException("max_pool2d backward: argmax " + at + " is outside the " + g.h() + "x" + g.w() + " plane");
            }
            set(dx, xo + at, get(dx, xo + at) + get(dy, dyo + o));
        }
    }

    // The PoolGeometry.avgDivisor of outputs (i, j0..j0+LANES): (min(kh, h+ph−h0))·(min(kw, w+pw−w0)).
    private static FloatVector avgDivisors(PoolGeometry g, int i, int j0, IntVector laneStart) {
        int h0 = i * g.sh() - g.ph();
        int rows = Math.min(g.kh(), g.h() + g.ph() - h0);
        IntVector w0 = laneStart.add(j0 * g.sw() - g.pw());
        IntVector cols = w0.neg().add(g.w() + g.pw()).min(g.kw());
        return ((FloatVector) cols.convert(VectorOperators.I2F, 0)).mul(rows);
    }

    // buf: the plane padded with 0; y: (p, q) at yo = window sum / avgDivisor (count_include_pad=True)
    static void avgPlane(PoolGeometry g, float[] buf, int width, int[] map, MemorySegment y, long yo) {
        int q = g.q(), s = g.sw();
        IntVector laneStart = IntVector.zero(I).addIndex(s);
        for (int i = 0; i < g.p(); i++) {
            int h0 = i * g.sh() - g.ph();
            int hs = Math.max(h0, 0), he = Math.min(h0 + g.kh(), g.h());
            for (int j0 = 0; j0 < q; j0 += LANES) {
                FloatVector sum = FloatVector.zero(F);
                for (int hh = hs; hh < he; hh++) {
                    int at = hh * width + j0 * s;
                    for (int k = 0; k < g.kw(); k++) sum = sum.add(window(buf, at + k, s, map));
                }
                store(sum.div(avgDivisors(g, i, j0, laneStart)), y, yo + (long) i * q + j0, F.indexInRange(j0, q));
            }
        }
    }

    // dy: (p, q) at dyo → buf: the (h, width) padded plane, zeroed here, += dy/divisor over each
    // output's window (scatter form, in output order); the caller copies the real columns out.
    static void avgBackwardPlane(PoolGeometry g, MemorySegment dy, long dyo, float[] buf, int width, int[] map) {
        int q = g.q(), s = g.sw();
        Arrays.fill(buf, 0, g.h() * width, 0f);
        IntVector laneStart = IntVector.zero(I).addIndex(s);
        FloatVector zero = FloatVector.zero(F);
        for (int i = 0; i < g.p(); i++) {
            int h0 = i * g.sh() - g.ph();
            int hs = Math.max(h0, 0), he = Math.min(h0 + g.kh(), g.h());
            for (int j0 = 0; j0 < q; j0 += LANES) {
                VectorMask<Float> live = F.indexInRange(j0, q);
                // dead lanes add exactly 0 (their divisor may be 0, so zero them after dividing)
                FloatVector v = zero.blend(load(dy, dyo + (long) i * q + j0, live).div(avgDivisors(g, i, j0, laneStart)), live);
                for (int hh = hs; hh < he; hh++) {
                    int at = hh * width + j0 * s;
                    for (int k = 0; k < g.kw(); k++) {
                        if (s == 1) {
                            FloatVector.fromArray(F, buf, at + k).add(v).intoArray(buf, at + k);
                        } else {
                            FloatVector.fromArray(F, buf, at + k, map, 0).add(v).intoArray(buf, at + k, map, 0);
                        }
                    }
                }
            }
        }
    }

    /** True when one window covers the whole plane exactly: a global average (ResNet's AvgPool(8) on 8×8). */
    private static boolean wholePlane(PoolGeometry g) {
        return g.p() == 1 && g.q() == 1 && g.kh() == g.h() && g.kw() == g.w() && g.ph() == 0 && g.pw() == 0;
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public void maxForward(PoolGeometry g, Tensor x, Tensor y, Tensor argmax) {
        Simd.requireF32("max_pool2d", x, y);
        MemorySegment xs = x.segment(), ys = y.segment(), as = argmax.segment();
        long xo = x.offset(), yo = y.offset(), ao = argmax.offset();
        long hw = (long) g.h() * g.w(), pq = (long) g.p() * g.q();
        int width = paddedWidth(g);
        int[] map = strideMap(g.sw());
        Parallel.forRange(planes(g), grainPlanes(hw), (p0, p1) -> {
            float[] buf = Simd.floats(g.h() * width);
            for (int p = p0; p < p1; p++) {
                padPlane(xs, xo + p * hw, g.h(), g.w(), g.pw(), width, Float.NEGATIVE_INFINITY, buf);
                maxPlane(g, buf, width, map, ys, yo + p * pq, as, ao + p * pq);
            }
        });
    }

    @Override
    public void maxBackward(PoolGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        Simd.requireF32("max_pool2d backward", dy, dx);
        MemorySegment dys = dy.segment(), as = argmax.segment(), dxs = dx.segment();
        long dyo = dy.offset(), ao = argmax.offset(), dxo = dx.offset();
        long hw = (long) g.h() * g.w(), pq = (long) g.p() * g.q();
        Parallel.forRange(planes(g), grainPlanes(hw), (p0, p1) -> {
            for (int p = p0; p < p1; p++) maxBackwardPlane(g, dys, dyo + p * pq, as, ao + p * pq, dxs, dxo + p * hw);
        });
    }

    @Override
    public void avgForward(PoolGeometry g, Tensor x, Tensor y) {
        Simd.requireF32("avg_pool2d", x, y);
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        int hw = g.h() * g.w();
        long pq = (long) g.p() * g.q();
        if (wholePlane(g)) {
            globalAvgForward(xs, xo, ys, yo, planes(g), hw);
            return;
        }
        int width = paddedWidth(g);
        int[] map = strideMap(g.sw());
        Parallel.forRange(planes(g), grainPlanes(hw), (p0, p1) -> {
            float[] buf = Simd.floats(g.h() * width);
            for (int p = p0; p < p1; p++) {
                padPlane(xs, xo + (long) p * hw, g.h(), g.w(), g.pw(), width, 0f, buf);
                avgPlane(g, buf, width, map, ys, yo + p * pq);
            }
        });
    }

    @Override
    public void avgBackward(PoolGeometry g, Tensor dy, Tensor dx) {
        Simd.requireF32("avg_pool2d backward", dy, dx);
        MemorySegment dys = dy.segment(), dxs = dx.segment();
        long dyo = dy.offset(), dxo = dx.offset();
        int h = g.h(), w = g.w(), hw = h * w;
        long pq = (long) g.p() * g.q();
        if (wholePlane(g)) {
            globalAvgBackward(dys, dyo, dxs, dxo, planes(g), hw);
            return;
        }
        int width = paddedWidth(g);
        int[] map = strideMap(g.sw());
        Parallel.forRange(planes(g), grainPlanes(hw), (p0, p1) -> {
            float[] buf = Simd.floats(h * width);
            for (int p = p0; p < p1; p++) {
                avgBackwardPlane(g, dys, dyo + p * pq, buf, width, map);
                for (int hh = 0; hh < h; hh++) {
                    MemorySegment.copy(buf, hh * width + g.pw(), dxs, ValueLayout.JAVA_FLOAT, (dxo + (long) p * hw + (long) hh * w) * Float.BYTES, w);
                }
            }
        });
    }

    @Override
    public void globalAvgForward(Tensor x, Tensor y) {
        Simd.requireF32("global_avg_pool", x, y);
        globalAvgForward(x.segment(), x.offset(), y.segment(), y.offset(), x.dim(0) * x.dim(1), x.dim(2) * x.dim(3));
    }

    @Override
    public void globalAvgBackward(Tensor dy, Tensor dx) {
        Simd.requireF32("global_avg_pool backward", dy, dx);
        globalAvgBackward(dy.segment(), dy.offset(), dx.segment(), dx.offset(), dx.dim(0) * dx.dim(1), dx.dim(2) * dx.dim(3));
    }

    // x: (planes, hw) → y: (planes) = Σ plane / hw
    static void globalAvgForward(MemorySegment xs, long xo, MemorySegment ys, long yo, int planes, int hw) {
        if (hw < LANES) {
            smallGlobalAvgForward(xs, xo, ys, yo, planes, hw);
            return;
        }
        Parallel.forRange(planes, grainPlanes(hw), (p0, p1) -> {
            for (int p = p0; p < p1; p++) set(ys, yo + p, (float) (CpuReduce.sum(xs, xo + (long) p * hw, hw) / hw));
        });
    }

    /** Planes per block of the small-plane path (its input and output staged on the heap). */
    private static final int SMALL_BLOCK = 1024;

    /**
     * The same for planes of fewer than LANES values (MobileNetV2's 2×2 head pool: 1280 of them):
     * CpuReduce.sum's float sum of such a plane is 0 + its values in order, so this is that sum
     * without the per-plane call, read from and written to heap copies of whole blocks of planes.
     */
    private static void smallGlobalAvgForward(MemorySegment xs, long xo, MemorySegment ys, long yo, int planes, int hw) {
        Parallel.forRange(planes, grainPlanes(hw), (p0, p1) -> {
            float[] buf = Simd.floats(SMALL_BLOCK * (hw + 1));
            for (int b0 = p0; b0 < p1; b0 += SMALL_BLOCK) {
                int nb = Math.min(SMALL_BLOCK, p1 - b0), out = SMALL_BLOCK * hw;
                MemorySegment.copy(xs, ValueLayout.JAVA_FLOAT, (xo + (long) b0 * hw) * Float.BYTES, buf, 0, nb * hw);
                for (int p = 0; p < nb; p++) {
                    float sum = 0f;
                    for (int i = 0; i < hw; i++) sum += buf[p * hw + i];
                    buf[out + p] = (float) ((double) sum / hw);
                }
                MemorySegment.copy(buf, out, ys, ValueLayout.JAVA_FLOAT, (yo + b0) * Float.BYTES, nb);
            }
        });
    }

    // dy: (planes) → dx: (planes, hw) = dy / hw over each plane
    static void globalAvgBackward(MemorySegment dys, long dyo, MemorySegment dxs, long dxo, int planes, int hw) {
        Parallel.forRange(planes, grainPlanes(hw), (p0, p1) -> {
            for (int p = p0; p < p1; p++) CpuPointwise.fill(dxs, dxo + (long) p * hw, (float) (get(dys, dyo + p) / (double) hw), hw);
        });
    }

    private static int planes(PoolGeometry g) {
        return Math.multiplyExact(g.n(), g.c());
    }

    private static int grainPlanes(long valuesPerPlane) {
        return (int) Math.max(1, GRAIN_VALUES / Math.max(1, valuesPerPlane));
    }
}
