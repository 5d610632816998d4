package org.stablekd.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The argument block of one kernel launch, in native memory, as cuLaunchKernel wants it: an array
 * of pointers, entry i pointing at the bytes of argument i. Values sit in 8-byte aligned slots of
 * one buffer; the typed adders record a signature that {@link #check} compares with the
 * {@link Kernel}'s declared one, so a launch with a missing or mistyped argument fails in Java
 * with both lists in the message instead of reading garbage on the GPU.
 *
 * <p>One instance per thread ({@link #get()}), reused: cuLaunchKernel copies the values at the
 * call, so the buffer is free again as soon as the launch returns.
 */
final class KernelArgs {
    static final int MAX_ARGS = 32;
    static final int MAX_BYTES = 2048;
    /** copy.cu's StridedLayout: sizes[8], src_strides[8], dst_strides[8] (i64), rank, unused (i32). */
    static final int LAYOUT_RANK = 8;
    static final int LAYOUT_BYTES = 3 * LAYOUT_RANK * 8 + 8;

    private static final ThreadLocal<KernelArgs> PER_THREAD = ThreadLocal.withInitial(KernelArgs::new);

    private final MemorySegment values;
    private final MemorySegment pointers;
    private final StringBuilder signature = new StringBuilder();
    private int count;
    private long used;
    private PointerPointer<?> kernelParams;

    KernelArgs() {
        Arena arena = Arena.ofAuto();
        values = arena.allocate(MAX_BYTES, 16);
        pointers = arena.allocate(MAX_ARGS * 8L, 8);
    }

    /** This thread's instance, emptied. */
    static KernelArgs get() {
        return PER_THREAD.get().clear();
    }

    KernelArgs clear() {
        count = 0;
        used = 0;
        signature.setLength(0);
        return this;
    }

    private MemorySegment slot(String type, long bytes) {
        if (count == MAX_ARGS) throw new IllegalStateException("more than " + MAX_ARGS + " kernel arguments");
        long at = (used + 7) & ~7L;
        if (at + bytes > MAX_BYTES) throw new IllegalStateException("kernel arguments exceed " + MAX_BYTES + " bytes");
        MemorySegment s = values.asSlice(at, bytes);
        pointers.setAtIndex(ValueLayout.JAVA_LONG, count++, s.address());
        used = at + bytes;
        if (!signature.isEmpty()) signature.append(' ');
        signature.append(type);
        return s;
    }

    /** A device pointer (0 passes a null pointer, for optional outputs). */
    KernelArgs ptr(long devicePointer) {
        slot("ptr", 8).set(ValueLayout.JAVA_LONG, 0, devicePointer);
        return this;
    }

    KernelArgs i32(int v) {
        slot("i32", 4).set(ValueLayout.JAVA_INT, 0, v);
        return this;
    }

    KernelArgs i64(long v) {
        slot("i64", 8).set(ValueLayout.JAVA_LONG, 0, v);
        return this;
    }

    KernelArgs f32(double v) {
        slot("f32", 4).set(ValueLayout.JAVA_FLOAT, 0, (float) v);
        return this;
    }

    KernelArgs f64(double v) {
        slot("f64", 8).set(ValueLayout.JAVA_DOUBLE, 0, v);
        return this;
    }

    /** copy.cu's StridedLayout by value; the arrays hold {@code rank} ≤ 8 entries. */
    KernelArgs layout(long[] sizes, long[] srcStrides, long[] dstStrides, int rank) {
        if (rank > LAYOUT_RANK) throw new IllegalArgumentException("strided copy of rank " + rank + " > " + LAYOUT_RANK);
        MemorySegment s = slot("layout", LAYOUT_BYTES);
        s.fill((byte) 0);
        for (int i = 0; i < rank; i++) {
            s.setAtIndex(ValueLayout.JAVA_LONG, i, sizes[i]);
            s.setAtIndex(ValueLayout.JAVA_LONG, LAYOUT_RANK + i, srcStrides[i]);
            s.setAtIndex(ValueLayout.JAVA_LONG, 2L * LAYOUT_RANK + i, dstStrides[i]);
        }
        s.set(ValueLayout.JAVA_INT, 3L * LAYOUT_RANK * 8, rank);
        return this;
    }

    String signature() {
        return signature.toString();
    }

    int count() {
        return count;
    }

    /** The address of the pointer array (cuLaunchKernel's kernelParams). */
    long pointerArray() {
        return pointers.address();
    }

    /**
     * The pointer array as cuLaunchKernel's {@code void** kernelParams}: a PointerPointer view
     * (made once, owns nothing). Not a plain Pointer: the bridge's Pointer overload is
     * {@code @ByPtrPtr} and would hand the driver the address of a stack slot holding ours.
     */
    PointerPointer<?> kernelParams() {
        if (kernelParams == null) kernelParams = new PointerPointer<>(new RawPointer(pointers.address()));
        return kernelParams;
    }

    /** The bytes of argument i (for tests). */
    MemorySegment argument(int i) {
        long address = pointers.getAtIndex(ValueLayout.JAVA_LONG, i);
        return values.asSlice(address - values.address());
    }

    /** Throws when the arguments do not match the kernel's declared parameter list. */
    void check(Kernel k) {
        if (!k.signature.contentEquals(signature)) {
            throw new IllegalStateException("launch of " + k.symbol() + " (" + k.file + ") with arguments (" + signature
                    + ") but it takes (" + k.signature + ")");
        }
    }
}
