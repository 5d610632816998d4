package org.stablekd.io;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.stablekd.tensor.DType;

/**
 * The element types of the safetensors format that stablekd reads, with their size in the file
 * and the engine dtype they load as: F16 and BF16 widen to F32, I64 narrows to I32 (checked).
 */
enum FileDType {
    F32(4, DType.F32),
    F64(8, DType.F64),
    F16(2, DType.F32),
    BF16(2, DType.F32),
    I32(4, DType.I32),
    I64(8, DType.I32);

    final int bytes;
    /** What a tensor of this file dtype becomes in memory. */
    final DType loadsAs;

    FileDType(int bytes, DType loadsAs) {
        this.bytes = bytes;
        this.loadsAs = loadsAs;
    }

    /** The file dtype of a name in a header, or null if stablekd does not read it. */
    static FileDType parse(String name) {
        for (FileDType d : values()) if (d.name().equals(name)) return d;
        return null;
    }

    /** How an engine dtype is written: its own name in the format. */
    static FileDType of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case F64 -> F64;
            case F16 -> F16;
            case BF16 -> BF16;
            case I32 -> I32;
        };
    }

    static String supportedList() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
