package org.stablekd.tensor;

import java.lang.foreign.ValueLayout;

/**
 * Element types. Compute today is F32 (and F64 on the reference backend, for gradient checks);
 * BF16/F16 exist for storage and conversion (safetensors) and are ready for mixed precision.
 * I32 holds class labels and indices.
 */
public enum DType {
    F32(4, true),
    F64(8, true),
    BF16(2, true),
    F16(2, true),
    I32(4, false);

    public final int bytes;
    public final boolean floating;

    DType(int bytes, boolean floating) {
        this.bytes = bytes;
        this.floating = floating;
    }

    /** The Java layout of one element (little-endian machines only; checked at startup). */
    public ValueLayout layout() {
        return switch (this) {
            case F32 -> ValueLayout.JAVA_FLOAT;
            case F64 -> ValueLayout.JAVA_DOUBLE;
            case BF16, F16 -> ValueLayout.JAVA_SHORT;
            case I32 -> ValueLayout.JAVA_INT;
        };
    }
}
