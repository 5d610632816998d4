package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.set;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.Op;
import org.stablekd.backend.PoolGeometry;
import org.stablekd.backend.PoolKernels;
import org.stablekd.tensor.Tensor;

/**
 * Pooling on planes: x (n·c, h, w) → y (n·c, p, q), one plane per work item, planes split over
 * threads (each plane writes only its own outputs, so backwards need no atomics).
 *
 * <p>Window max/avg are scalar loops over the clipped window: a CIFAR pooled row has at most 16
 * outputs (one AVX-512 vector), so vectorizing across outputs would be mostly tail, and pooling
 * is a rounding error next to the convolutions around it. Global average pooling (the hot one, at
 * the head of every model) is a vector plane sum / broadcast store.
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

    // ---------------------------------------------------------------- kernels (one plane)

    // x: (h, w) at xo; y: (p, q) at yo; argmax: (p, q) I32 at ao = index hh·w + ww of the winner.
    // PyTorch's rule: the first maximum in scan order wins, a NaN always wins (so the last NaN).
    static void maxPlane(PoolGeometry g, MemorySegment x, long xo, MemorySegment y, long yo, MemorySegment argmax, long ao) {
        int h = g.h(), w = g.w();
        for (int i = 0; i < g.p(); i++) {
            int h0 = i * g.sh() - g.ph();
            int hs = Math.max(h0, 0), he = Math.min(h0 + g.kh(), h);
            for (int j = 0; j < g.q(); j++) {
                int w0 = j * g.sw() - g.pw();
                int ws = Math.max(w0, 0), we = Math.min(w0 + g.kw(), w);
                float best = Float.NEGATIVE_INFINITY;
                int bestIdx = hs * w + ws;
                for (int hh = hs; hh < he; hh++) {
                    long row = xo + (long) hh * w;
                    for (int ww = ws; ww < we; ww++) {
                        float v = get(x, row + ww);
                        if (v > best || v != v) {
                            best = v;
                            bestIdx = hh * w + ww;
                        }
                    }
                }
                long o = (long) i * g.q() + j;
                set(y, yo + o, best);
                argmax.setAtIndex(ValueLayout.JAVA_INT, ao + o, bestIdx);
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

    // y = window sum / PoolGeometry.avgDivisor (padding counts, count_include_pad=True).
    static void avgPlane(PoolGeometry g, MemorySegment x, long xo, MemorySegment y, long yo) {
        int h = g.h(), w = g.w();
        for (int i = 0; i < g.p(); i++) {
            int h0 = i * g.sh() - g.ph();
            int hs = Math.max(h0, 0), he = Math.min(h0 + g.kh(), h);
            for (int j = 0; j < g.q(); j++) {
                int w0 = j * g.sw() - g.pw();
                int ws = Math.max(w0, 0), we = Math.min(w0 + g.kw(), w);
                float sum = 0;
                for (int hh = hs; hh < he; hh++) {
                    long row = xo + (long) hh * w;
                    for (int ww = ws; ww < we; ww++) sum += get(x, row + ww);
                }
                set(y, yo + (long) i * g.q() + j, sum / g.avgDivisor(i, j));
            }
        }
    }

    // dx (h, w) overwritten: every output's dy/divisor spread over its clipped window (scatter form).
    static void avgBackwardPlane(PoolGeometry g, MemorySegment dy, long dyo, MemorySegment dx, long xo) {
        int h = g.h(), w = g.w();
        CpuPointwise.fill(dx, xo, 0f, (long) h * w);
        for (int i = 0; i < g.p(); i++) {
            int h0 = i * g.sh() - g.ph();
            int hs = Math.max(h0, 0), he = Math.min(h0 + g.kh(), h);
            for (int j = 0; j < g.q(); j++) {
                int w0 = j * g.sw() - g.pw();
                int ws = Math.max(w0, 0), we = Math.min(w0 + g.kw(), w);
                float v = get(dy, dyo + (long) i * g.q() + j) / g.avgDivisor(i, j);
                for (int hh = hs; hh < he; hh++) {
                    long row = xo + (long) hh * w;
                    for (int ww = ws; ww < we; ww++) set(dx, row + ww, get(dx, row + ww) + v);
                }
            }
        }
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public void maxForward(PoolGeometry g, Tensor x, Tensor y, Tensor argmax) {
        Simd.requireF32("max_pool2d", x, y);
        MemorySegment xs = x.segment(), ys = y.segment(), as = argmax.segment();
        long xo = x.offset(), yo = y.offset(), ao = argmax.offset();
        long hw = (long) g.h() * g.w(), pq = (long) g.p() * g.q();
        Parallel.forRange(planes(g), grainPlanes(hw), (p0, p1) -> {
            for (int p = p0; p < p1; p++) maxPlane(g, xs, xo + p * hw, ys, yo + p * pq, as, ao + p * pq);
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
        long hw = (long) g.h() * g.w(), pq = (long) g.p() * g.q();
        Parallel.forRange(planes(g), grainPlanes(hw), (p0, p1) -> {
            for (int p = p0; p < p1; p++) avgPlane(g, xs, xo + p * hw, ys, yo + p * pq);
        });
    }

    @Override
    public void avgBackward(PoolGeometry g, Tensor dy, Tensor dx) {
        Simd.requireF32("avg_pool2d backward", dy, dx);
        MemorySegment dys = dy.segment(), dxs = dx.segment();
        long dyo = dy.offset(), dxo = dx.offset();
        long hw = (long) g.h() * g.w(), pq = (long) g.p() * g.q();
        Parallel.forRange(planes(g), grainPlanes(hw), (p0, p1) -> {
            for (int p = p0; p < p1; p++) avgBackwardPlane(g, dys, dyo + p * pq, dxs, dxo + p * hw);
        });
    }

    // x: (planes, hw) → y: (planes); y = Σ plane / hw
    @Override
    public void globalAvgForward(Tensor x, Tensor y) {
        Simd.requireF32("global_avg_pool", x, y);
        int planes = x.dim(0) * x.dim(1), hw = x.dim(2) * x.dim(3);
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        Parallel.forRange(planes, grainPlanes(hw), (p0, p1) -> {
            for (int p = p0; p < p1; p++) set(ys, yo + p, (float) (CpuReduce.sum(xs, xo + (long) p * hw, hw) / hw));
        });
    }

    // dy: (planes) → dx: (planes, hw) = dy / hw broadcast over each plane
    @Override
    public void globalAvgBackward(Tensor dy, Tensor dx) {
        Simd.requireF32("global_avg_pool backward", dy, dx);
        int planes = dx.dim(0) * dx.dim(1), hw = dx.dim(2) * dx.dim(3);
        MemorySegment dys = dy.segment(), dxs = dx.segment();
        long dyo = dy.offset(), dxo = dx.offset();
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
