package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.F;
import static org.stablekd.backend.cpu.Simd.LANES;
import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.load;
import static org.stablekd.backend.cpu.Simd.set;
import static org.stablekd.backend.cpu.Simd.store;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.stablekd.backend.Op;
import org.stablekd.backend.PointwiseKernels;
import org.stablekd.tensor.Tensor;

/**
 * Elementwise kernels: one vector pass, memory-bound. All buffers (n) contiguous from their
 * element offsets; an output may be the same buffer as an input (each element is read before it
 * is written). Semantics follow RefPointwise exactly, NaN included: relu(NaN) = 0 (a compare and
 * blend, not max), relu6 and add_relu propagate NaN (Math.max/min semantics).
 */
final class CpuPointwise implements PointwiseKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.RELU, Op.RELU6, Op.SCALE, Op.ADD_SCALAR,
            Op.ADD, Op.SUB, Op.MUL, Op.ADD_RELU, Op.FILL);

    private static final CpuPointwise INSTANCE = new CpuPointwise();

    private CpuPointwise() {}

    static PointwiseKernels kernels() {
        return INSTANCE;
    }

    // ---------------------------------------------------------------- unary kernels: y = f(x)

    // y = x > 0 ? x : 0
    static void relu(MemorySegment x, long xo, MemorySegment y, long yo, long n) {
        FloatVector zero = FloatVector.zero(F);
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) {
            FloatVector v = load(x, xo + i);
            store(zero.blend(v, v.compare(VectorOperators.GT, 0f)), y, yo + i);
        }
        for (; i < n; i++) {
            float v = get(x, xo + i);
            set(y, yo + i, v > 0 ? v : 0f);
        }
    }

    // y = min(max(x, 0), 6)
    static void relu6(MemorySegment x, long xo, MemorySegment y, long yo, long n) {
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) {
            store(load(x, xo + i).max(0f).min(6f), y, yo + i);
        }
        for (; i < n; i++) set(y, yo + i, Math.min(Math.max(get(x, xo + i), 0f), 6f));
    }

    // y = x·c
    static void scale(MemorySegment x, long xo, float c, MemorySegment y, long yo, long n) {
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) store(load(x, xo + i).mul(c), y, yo + i);
        for (; i < n; i++) set(y, yo + i, get(x, xo + i) * c);
    }

    // y = x + c
    static void addScalar(MemorySegment x, long xo, float c, MemorySegment y, long yo, long n) {
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) store(load(x, xo + i).add(c), y, yo + i);
        for (; i < n; i++) set(y, yo + i, get(x, xo + i) + c);
    }

    // ---------------------------------------------------------------- binary kernels: y = a ∘ b

    static void add(MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment y, long yo, long n) {
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) store(load(a, ao + i).add(load(b, bo + i)), y, yo + i);
        for (; i < n; i++) set(y, yo + i, get(a, ao + i) + get(b, bo + i));
    }

    static void sub(MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment y, long yo, long n) {
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) store(load(a, ao + i).sub(load(b, bo + i)), y, yo + i);
        for (; i < n; i++) set(y, yo + i, get(a, ao + i) - get(b, bo + i));
    }

    static void mul(MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment y, long yo, long n) {
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) store(load(a, ao + i).mul(load(b, bo + i)), y, yo + i);
        for (; i < n; i++) set(y, yo + i, get(a, ao + i) * get(b, bo + i));
    }

    // y = max(a + b, 0): the end of a residual block in one pass
    static void addRelu(MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment y, long yo, long n) {
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) {
            store(load(a, ao + i).add(load(b, bo + i)).max(0f), y, yo + i);
        }
        for (; i < n; i++) set(y, yo + i, Math.max(get(a, ao + i) + get(b, bo + i), 0f));
    }

    // y = a + c·b (one FMA per element)
    static void axpy(MemorySegment a, long ao, float c, MemorySegment b, long bo, MemorySegment y, long yo, long n) {
        FloatVector cv = FloatVector.broadcast(F, c);
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) {
            store(load(b, bo + i).fma(cv, load(a, ao + i)), y, yo + i);
        }
        for (; i < n; i++) set(y, yo + i, Math.fma(get(b, bo + i), c, get(a, ao + i)));
    }

    // ---------------------------------------------------------------- activation backwards

    // dx = r > 0 ? dy : 0, r = the forward output (relu, add_relu)
    static void reluBackward(MemorySegment r, long ro, MemorySegment dy, long dyo, MemorySegment dx, long dxo, long n) {
        FloatVector zero = FloatVector.zero(F);
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) {
            store(zero.blend(load(dy, dyo + i), load(r, ro + i).compare(VectorOperators.GT, 0f)), dx, dxo + i);
        }
        for (; i < n; i++) set(dx, dxo + i, get(r, ro + i) > 0 ? get(dy, dyo + i) : 0f);
    }

    // dx = 0 < r < 6 ? dy : 0, r = the forward input (relu6)
    static void relu6Backward(MemorySegment r, long ro, MemorySegment dy, long dyo, MemorySegment dx, long dxo, long n) {
        FloatVector zero = FloatVector.zero(F);
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) {
            FloatVector v = load(r, ro + i);
            var pass = v.compare(VectorOperators.GT, 0f).and(v.compare(VectorOperators.LT, 6f));
            store(zero.blend(load(dy, dyo + i), pass), dx, dxo + i);
        }
        for (; i < n; i++) {
            float v = get(r, ro + i);
            set(dx, dxo + i, v > 0 && v < 6 ? get(dy, dyo + i) : 0f);
        }
    }

    // y = v everywhere
    static void fill(MemorySegment y, long yo, float v, long n) {
        if (Float.floatToRawIntBits(v) == 0) {
            y.asSlice(yo * Float.BYTES, n * Float.BYTES).fill((byte) 0);
            return;
        }
        FloatVector vv = FloatVector.broadcast(F, v);
        long i = 0;
        for (long bound = F.loopBound(n); i < bound; i += LANES) store(vv, y, yo + i);
        for (; i < n; i++) set(y, yo + i, v);
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public void unary(Op op, Tensor x, double c, Tensor y) {
        Simd.requireF32(op.name().toLowerCase(), x, y);
        MemorySegment xs = x.segment(), ys = y.segment();
        long xo = x.offset(), yo = y.offset();
        float cf = (float) c;
        switch (op) {
            case RELU -> Simd.forSpans(x.numel(), (i, n) -> relu(xs, xo + i, ys, yo + i, n));
            case RELU6 -> Simd.forSpans(x.numel(), (i, n) -> relu6(xs, xo + i, ys, yo + i, n));
            case SCALE -> Simd.forSpans(x.numel(), (i, n) -> scale(xs, xo + i, cf, ys, yo + i, n));
            case ADD_SCALAR -> Simd.forSpans(x.numel(), (i, n) -> addScalar(xs, xo + i, cf, ys, yo + i, n));
            default -> throw new IllegalArgumentException(op + " is not a unary pointwise op (RELU, RELU6, SCALE, ADD_SCALAR)");
        }
    }

    @Override
    public void binary(Op op, Tensor a, Tensor b, Tensor y) {
        Simd.requireF32(op.name().toLowerCase(), a, b, y);
        MemorySegment as = a.segment(), bs = b.segment(), ys = y.segment();
        long ao = a.offset(), bo = b.offset(), yo = y.offset();
        switch (op) {
            case ADD -> Simd.forSpans(a.numel(), (i, n) -> add(as, ao + i, bs, bo + i, ys, yo + i, n));
            case SUB -> Simd.forSpans(a.numel(), (i, n) -> sub(as, ao + i, bs, bo + i, ys, yo + i, n));
            case MUL -> Simd.forSpans(a.numel(), (i, n) -> mul(as, ao + i, bs, bo + i, ys, yo + i, n));
            case ADD_RELU -> Simd.forSpans(a.numel(), (i, n) -> addRelu(as, ao + i, bs, bo + i, ys, yo + i, n));
            default -> throw new IllegalArgumentException(op + " is not a binary pointwise op (ADD, SUB, MUL, ADD_RELU)");
        }
    }

    @Override
    public void activationBackward(Op op, Tensor ref, Tensor dy, Tensor dx) {
        Simd.requireF32(op.name().toLowerCase() + " backward", ref, dy, dx);
        MemorySegment rs = ref.segment(), ds = dy.segment(), xs = dx.segment();
        long ro = ref.offset(), dyo = dy.offset(), xo = dx.offset();
        switch (op) {
            case RELU, ADD_RELU -> Simd.forSpans(ref.numel(), (i, n) -> reluBackward(rs, ro + i, ds, dyo + i, xs, xo + i, n));
            case RELU6 -> Simd.forSpans(ref.numel(), (i, n) -> relu6Backward(rs, ro + i, ds, dyo + i, xs, xo + i, n));
            default -> throw new IllegalArgumentException(op + " is not an activation (RELU, RELU6, ADD_RELU)");
        }
    }

    @Override
    public void axpy(Tensor a, double c, Tensor b, Tensor y) {
        Simd.requireF32("axpy", a, b, y);
        MemorySegment as = a.segment(), bs = b.segment(), ys = y.segment();
        long ao = a.offset(), bo = b.offset(), yo = y.offset();
        float cf = (float) c;
        Simd.forSpans(a.numel(), (i, n) -> axpy(as, ao + i, cf, bs, bo + i, ys, yo + i, n));
    }

    @Override
    public void fillFromScalar(Tensor g, double scale, Tensor y) {
        Simd.requireF32("fillFromScalar", g, y);
        fill(y, get(g.segment(), g.offset()) * scale);
    }

    @Override
    public void fill(Tensor y, double v) {
        Simd.requireF32("fill", y);
        MemorySegment ys = y.segment();
        long yo = y.offset();
        float vf = (float) v;
        Simd.forSpans(y.numel(), (i, n) -> fill(ys, yo + i, vf, n));
    }
}
