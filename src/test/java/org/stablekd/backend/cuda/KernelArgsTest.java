package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The launch argument block, without a GPU: values where cuLaunchKernel reads them, and the signature check. */
class KernelArgsTest {

    @Test
    void valuesArePackedInAlignedSlotsBehindThePointerArray() {
        KernelArgs a = new KernelArgs().ptr(0x1234_5678_9abcL).i32(-7).f32(2.5).i64(1L << 40).f64(0.125);
        assertEquals("ptr i32 f32 i64 f64", a.signature());
        assertEquals(5, a.count());
        assertEquals(0x1234_5678_9abcL, a.argument(0).get(ValueLayout.JAVA_LONG, 0));
        assertEquals(-7, a.argument(1).get(ValueLayout.JAVA_INT, 0));
        assertEquals(2.5f, a.argument(2).get(ValueLayout.JAVA_FLOAT, 0));
        assertEquals(1L << 40, a.argument(3).get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0.125, a.argument(4).get(ValueLayout.JAVA_DOUBLE, 0));
        MemorySegment pointers = MemorySegment.ofAddress(a.pointerArray()).reinterpret(5 * 8);
        for (int i = 0; i < 5; i++) {
            long address = pointers.getAtIndex(ValueLayout.JAVA_LONG, i);
            assertEquals(0, address % 8, "argument " + i + " is 8-byte aligned");
            assertEquals(a.argument(i).address(), address);
        }
    }

    @Test
    void kernelParamsIsAPointerPointerOverTheArgumentArray() {
        KernelArgs a = new KernelArgs().ptr(42).i32(3).f32(1.5);
        var params = a.kernelParams();
        assertEquals(a.pointerArray(), params.address(), "void** kernelParams is our array itself, not a slot holding its address");
        assertEquals(0, params.position());
        for (int i = 0; i < a.count(); i++) assertEquals(a.argument(i).address(), params.get(i).address(), "kernelParams[" + i + "]");
        assertSame(params, a.clear().ptr(7).kernelParams(), "one view per instance, nothing allocated per launch");
    }

    @Test
    void theStridedLayoutMatchesTheStructInCopyCu() {
        KernelArgs a = new KernelArgs().layout(new long[] {2, 3}, new long[] {30, 1}, new long[] {3, 1}, 2);
        MemorySegment s = a.argument(0);
        assertEquals(2, s.getAtIndex(ValueLayout.JAVA_LONG, 0));
        assertEquals(3, s.getAtIndex(ValueLayout.JAVA_LONG, 1));
        assertEquals(0, s.getAtIndex(ValueLayout.JAVA_LONG, 2));
        assertEquals(30, s.getAtIndex(ValueLayout.JAVA_LONG, 8));
        assertEquals(3, s.getAtIndex(ValueLayout.JAVA_LONG, 16));
        assertEquals(2, s.get(ValueLayout.JAVA_INT, 192), "rank after the three arrays of 8 i64");
        assertEquals(200, KernelArgs.LAYOUT_BYTES);
    }

    @Test
    void aLaunchWithTheWrongArgumentsFailsInJava() {
        KernelArgs a = new KernelArgs().ptr(1).ptr(2).i32(3);  // relu takes (ptr ptr i64)
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.check(Kernel.RELU_FORWARD_F32));
        assertTrue(e.getMessage().contains("relu_forward_f32") && e.getMessage().contains("ptr ptr i64"), e.getMessage());
        new KernelArgs().ptr(1).ptr(2).i64(3).check(Kernel.RELU_FORWARD_F32);
    }

    @Test
    void gridsCoverEveryElementAndStayWithinTheCap() {
        assertEquals(1, KernelModule.gridFor(1));
        assertEquals(1, KernelModule.gridFor(256));
        assertEquals(2, KernelModule.gridFor(257));
        assertEquals(KernelModule.MAX_GRID, KernelModule.gridFor(1L << 40));
        assertEquals(1, CudaReduce.partialsFor(10));
        assertEquals(CudaReduce.MAX_PARTIALS, CudaReduce.partialsFor(1L << 30));
    }
}
