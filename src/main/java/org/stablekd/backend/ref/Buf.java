package org.stablekd.backend.ref;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * A host buffer seen as doubles, whatever its float dtype (F32 or F64), from a base offset.
 * The reference kernels compute in double through this, for both dtypes: they are the oracle.
 */
final class Buf {
    private final MemorySegment seg;
    private final long base;
    private final boolean f64;

    private Buf(MemorySegment seg, long base, boolean f64) {
        this.seg = seg;
        this.base = base;
        this.f64 = f64;
    }

    /** The buffer of a tensor, indexed from its element (0,…,0); null stays null. */
    static Buf of(Tensor t) {
        if (t == null) return null;
        if (t.dtype() != DType.F32 && t.dtype() != DType.F64 && t.dtype() != DType.I32) {
            throw new IllegalArgumentException("the ref backend computes in F32, F64 (and I32 labels), not " + t.dtype());
        }
        return new Buf(t.segment(), t.offset(), t.dtype() == DType.F64);
    }

    double get(long i) {
        return f64 ? seg.getAtIndex(ValueLayout.JAVA_DOUBLE, base + i) : seg.getAtIndex(ValueLayout.JAVA_FLOAT, base + i);
    }

    void set(long i, double v) {
        if (f64) seg.setAtIndex(ValueLayout.JAVA_DOUBLE, base + i, v);
        else seg.setAtIndex(ValueLayout.JAVA_FLOAT, base + i, (float) v);
    }

    /** An I32 element (labels, argmax indices). */
    int getInt(long i) {
        return seg.getAtIndex(ValueLayout.JAVA_INT, base + i);
    }

    void setInt(long i, int v) {
        seg.setAtIndex(ValueLayout.JAVA_INT, base + i, v);
    }
}
