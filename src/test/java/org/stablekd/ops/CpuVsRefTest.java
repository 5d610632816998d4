package org.stablekd.ops;

import static org.stablekd.testing.Close.assertClose;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.DType;
import org.stablekd.testing.Tolerance;

/**
 * Generated: every registry case on the {@code cpu} backend against the {@code ref} oracle, forward
 * and backward, F32; the unrecorded ops' cases forward only.
 */
class CpuVsRefTest {

    @TestFactory
    Stream<DynamicTest> forwardAndBackward() {
        return OpRegistry.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            OpHarness.Result ref = OpHarness.run(c, Backends.ref(), DType.F32, false);
            OpHarness.Result cpu = OpHarness.run(c, Backends.cpu(), DType.F32, false);
            assertClose(cpu.output(), ref.output(), Tolerance.F32_VS_REF, c.name() + " forward");
            for (int i = 0; i < ref.grads().size(); i++) {
                assertClose(cpu.grads().get(i), ref.grads().get(i), Tolerance.F32_VS_REF, c.name() + " gradient of differentiable input " + i);
            }
            for (int i = 0; i < ref.inputsAfter().size(); i++) {
                assertClose(cpu.inputsAfter().get(i), ref.inputsAfter().get(i), Tolerance.F32_VS_REF, c.name() + " input " + i + " after the op (in-place state)");
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> unrecordedOps() {
        return OpRegistry.unrecorded().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            OpHarness.Result ref = OpHarness.forward(c, Backends.ref(), DType.F32);
            OpHarness.Result cpu = OpHarness.forward(c, Backends.cpu(), DType.F32);
            assertClose(cpu.output(), ref.output(), Tolerance.F32_VS_REF, c.name() + " output");
            for (int i = 0; i < ref.inputsAfter().size(); i++) {
                assertClose(cpu.inputsAfter().get(i), ref.inputsAfter().get(i), Tolerance.F32_VS_REF, c.name() + " input " + i + " after the op");
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> stridedInputs() {
        return OpRegistry.all().stream().map(c -> DynamicTest.dynamicTest(c.name() + " (strided views)", () -> {
            OpHarness.Result contiguous = OpHarness.run(c, Backends.ref(), DType.F32, false);
            OpHarness.Result strided = OpHarness.run(c, Backends.cpu(), DType.F32, true);
            assertClose(strided.output(), contiguous.output(), Tolerance.F32_VS_REF, c.name() + " forward on strided inputs");
        }));
    }
}
