package org.stablekd.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Moves tensor elements between memory and a safetensors data section (little-endian,
 * unaligned). Bulk copies go through {@link MemorySegment#copy} with explicit byte orders, so
 * they are correct on any host; conversions (F16/BF16 → F32, I64 → I32) go element by element.
 */
final class TensorCodec {
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorCodec() {}

    /** A new host tensor from the bytes {@code src} of entry {@code e}. */
    static Tensor decode(Path file, SafetensorsHeader.Entry e, MemorySegment src) throws SafetensorsFormatException {
        Tensor t = Tensor.empty(e.dtype().loadsAs, Shape.of(e.shape()));
        MemorySegment dst = t.segment(); // a fresh tensor is contiguous from element 0
        long n = e.numel();
        switch (e.dtype()) {
            case F32 -> MemorySegment.copy(src, F32_LE, 0, dst, ValueLayout.JAVA_FLOAT, 0, n);
            case F64 -> MemorySegment.copy(src, F64_LE, 0, dst, ValueLayout.JAVA_DOUBLE, 0, n);
            case I32 -> MemorySegment.copy(src, I32_LE, 0, dst, ValueLayout.JAVA_INT, 0, n);
            case F16 -> {
                for (long i = 0; i < n; i++) dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.float16ToFloat(src.getAtIndex(I16_LE, i)));
            }
            case BF16 -> {
                for (long i = 0; i < n; i++) dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.intBitsToFloat((src.getAtIndex(I16_LE, i) & 0xFFFF) << 16));
            }
            case I64 -> {
                for (long i = 0; i < n; i++) {
                    long v = src.getAtIndex(U64_LE, i);
                    if (v != (int) v) {
                        throw new SafetensorsFormatException(file, "tensor '" + e.name() + "' (I64) holds " + v + " at element " + i
                                + ", outside the I32 range stablekd keeps integer tensors in");
                    }
                    dst.setAtIndex(ValueLayout.JAVA_INT, i, (int) v);
                }
            }
        }
        return t;
    }

    /** Writes the elements of {@code t} (any strides) in row-major order into {@code dst}. */
    static void encode(Tensor t, MemorySegment dst) {
        long n = t.numel();
        if (t.isContiguous()) {
            MemorySegment src = t.segment();
            long at = t.offset();
            switch (t.dtype()) {
                case F32 -> MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, at * 4, dst, F32_LE, 0, n);
                case F64 -> MemorySegment.copy(src, ValueLayout.JAVA_DOUBLE, at * 8, dst, F64_LE, 0, n);
                case I32 -> MemorySegment.copy(src, ValueLayout.JAVA_INT, at * 4, dst, I32_LE, 0, n);
                case F16, BF16 -> MemorySegment.copy(src, ValueLayout.JAVA_SHORT, at * 2, dst, I16_LE, 0, n);
            }
            return;
        }
        DType d = t.dtype();
        for (long i = 0; i < n; i++) {
            long s = t.storageIndex(i);
            switch (d) {
                case F32 -> dst.setAtIndex(F32_LE, i, t.segment().getAtIndex(ValueLayout.JAVA_FLOAT, s));
                case F64 -> dst.setAtIndex(F64_LE, i, t.segment().getAtIndex(ValueLayout.JAVA_DOUBLE, s));
                case I32 -> dst.setAtIndex(I32_LE, i, t.segment().getAtIndex(ValueLayout.JAVA_INT, s));
                case F16, BF16 -> dst.setAtIndex(I16_LE, i, t.segment().getAtIndex(ValueLayout.JAVA_SHORT, s));
            }
        }
    }
}
