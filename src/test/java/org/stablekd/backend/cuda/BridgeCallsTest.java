package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.junit.jupiter.api.Test;

/**
 * Which JavaCPP overloads the CUDA backend binds to, read from its bytecode without a GPU. The
 * overload decides how the bridge converts a pointer argument, and a wrong one is silent until
 * the driver reads garbage: the first kernel launch crashed the JVM that way (issue 15).
 */
class BridgeCallsTest {
    /** Bridge functions whose untyped {@code void**} parameter is an output the bridge writes back into the Pointer. */
    private static final Set<String> POINTER_OUTPUTS = Set.of("cuMemHostAlloc", "cuMemAllocHost");

    @Test
    void kernelLaunchesPassTheParameterArrayAsPointerPointer() {
        List<BridgeCalls> launches = BridgeCalls.all().stream().filter(c -> c.target().getName().startsWith("cuLaunchKernel")).toList();
        assertFalse(launches.isEmpty(), "KernelModule launches kernels");
        for (BridgeCalls c : launches) {
            Class<?>[] types = c.target().getParameterTypes();
            assertEquals(PointerPointer.class, types[types.length - 2], c + ": kernelParams must be the PointerPointer overload");
            assertEquals(PointerPointer.class, types[types.length - 1], c + ": extra must be the PointerPointer overload");
        }
    }

    @Test
    void anUntypedPointerGoesToAPointerToPointerParameterOnlyAsAnOutput() {
        int checked = 0;
        for (BridgeCalls c : BridgeCalls.all()) {
            Class<?>[] types = c.target().getParameterTypes();
            for (int i = 0; i < types.length; i++) {
                if (types[i] == Pointer.class && c.parameterHas(i, ByPtrPtr.class)) {
                    checked++;
                    assertTrue(POINTER_OUTPUTS.contains(c.target().getName()),
                            c + ": parameter " + i + " is @ByPtrPtr, so the bridge passes the address of a slot holding our pointer; "
                                    + "pass a PointerPointer (an array we own) unless the function writes a pointer back");
                }
            }
        }
        assertTrue(checked > 0, "the pinned uploader's cuMemHostAlloc is such an output");
    }

    @Test
    void noCodeMovesAJavaCppPointersPosition() {
        // a position means elements to a typed parameter and bytes to a void* one: scalars and
        // arrays are passed at position 0 of their own allocation instead (HostScalars)
        for (BridgeCalls.Invoke i : BridgeCalls.invokes()) {
            boolean javacpp = i.owner().startsWith("org/bytedeco/");
            assertFalse(javacpp && i.name().equals("position") && i.descriptor().startsWith("(J)"), i.caller() + " calls " + i.owner() + ".position");
        }
    }
}
