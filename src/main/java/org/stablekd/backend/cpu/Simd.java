package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * What every CPU kernel shares: the float species, fixed once (512-bit / 16 lanes on AVX-512,
 * 256-bit / 8 lanes on AVX2), element-indexed loads and stores on off-heap segments, and the
 * element-span split over {@link Parallel}. Package-private: incubator types never reach a
 * public signature.
 */
final class Simd {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();
    /** Ints of the same shape: as many lanes as {@link #F}, so float masks cast to int masks. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    /**
     * Elementwise work is cut into spans of whole {@code SPAN}-element blocks (vector-aligned,
     * sizes only), and a thread gets at least {@code SPAN_GRAIN} blocks: below ~64K elements a
     * kernel runs inline on the caller, where waking a worker would cost more than it saves.
     */
    static final int SPAN = 1 << 13;
    static final int SPAN_GRAIN = 4;

    private Simd() {}

    private static final ThreadLocal<float[]> LANE_BUFFER = ThreadLocal.withInitial(() -> new float[LANES]);

    /**
     * The sum of a vector's lanes, added in lane order. Never {@code reduceLanes(ADD)} on floats:
     * its order is unspecified and differs between interpreted, C1 and C2 code, so a result would
     * depend on when the JIT compiled the kernel (NOTES.md, Note [Determinism]).
     */
    static float sumLanes(FloatVector v) {
        float[] lanes = LANE_BUFFER.get();
        v.intoArray(lanes, 0);
        float s = 0f;
        for (int i = 0; i < LANES; i++) s += lanes[i];
        return s;
    }

    /** Lanes {@code [i, i+LANES)} of a float buffer ({@code i} in elements). */
    static FloatVector load(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(F, s, i * Float.BYTES, ORDER);
    }

    static void store(FloatVector v, MemorySegment s, long i) {
        v.intoMemorySegment(s, i * Float.BYTES, ORDER);
    }

    /** Masked: lanes outside {@code live} are neither read (they load as 0) nor written. */
    static FloatVector load(MemorySegment s, long i, VectorMask<Float> live) {
        return FloatVector.fromMemorySegment(F, s, i * Float.BYTES, ORDER, live);
    }

    static void store(FloatVector v, MemorySegment s, long i, VectorMask<Float> live) {
        v.intoMemorySegment(s, i * Float.BYTES, ORDER, live);
    }

    static void storeInts(IntVector v, MemorySegment s, long i, VectorMask<Integer> live) {
        v.intoMemorySegment(s, i * Integer.BYTES, ORDER, live);
    }

    static float get(MemorySegment s, long i) {
        return s.getAtIndex(FLOAT, i);
    }

    static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(FLOAT, i, v);
    }

    /** Body of one span of elements: {@code [from, from+count)}. */
    @FunctionalInterface
    interface Span {
        void run(long from, long count);
    }

    /** Runs {@code body} over {@code [0, n)} in block-aligned spans, in parallel when n is large. */
    static void forSpans(long n, Span body) {
        if (n <= 0) return;
        long blocks = (n + SPAN - 1) / SPAN;
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException(n + " elements is more than one kernel call handles");
        Parallel.forRange((int) blocks, SPAN_GRAIN, (b0, b1) -> {
            long from = (long) b0 * SPAN;
            body.run(from, Math.min(n, (long) b1 * SPAN) - from);
        });
    }

    /**
     * A per-thread double scratch of at least {@code n} entries (reused; contents undefined). One
     * user at a time per thread: do not hold it across a call that may take it too.
     */
    static double[] doubles(int n) {
        double[] d = DOUBLES.get();
        if (d.length < n) {
            d = new double[Math.max(n, 2 * d.length)];
            DOUBLES.set(d);
        }
        return d;
    }

    private static final ThreadLocal<double[]> DOUBLES = ThreadLocal.withInitial(() -> new double[64]);

    /** A per-thread float scratch of at least {@code n} entries (reused; contents undefined). */
    static float[] floats(int n) {
        float[] f = FLOATS.get();
        if (f.length < n) {
            f = new float[Math.max(n, 2 * f.length)];
            FLOATS.set(f);
        }
        return f;
    }

    private static final ThreadLocal<float[]> FLOATS = ThreadLocal.withInitial(() -> new float[1024]);

    /** Throws unless every tensor is F32: these kernels read and write float32 only. */
    static void requireF32(String what, Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() != DType.F32) {
                throw new IllegalArgumentException("cpu " + what + ": the cpu kernels compute in F32, got " + t.dtype()
                        + " of shape " + t.shape() + " (other dtypes run on the ref backend; see Backends.select)");
            }
        }
    }
}
