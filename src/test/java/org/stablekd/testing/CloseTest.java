package org.stablekd.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/**
 * The run-twice checks (TrainingStepDeterminismGpuTest and the CPU ones) must not pass on two
 * runs that both produce NaN, as assertArrayEquals would (it treats NaN as equal to NaN).
 */
class CloseTest {

    @Test
    void twoAllNanRunsAreNotBitIdentical() {
        float[] nan = {Float.NaN, Float.NaN};
        assertThrows(AssertionFailedError.class, () -> Close.assertBitIdentical(nan, nan.clone(), "all NaN"));
        assertThrows(AssertionFailedError.class, () -> TrainingStepRun.assertBitIdentical(Map.of("loss", nan), Map.of("loss", nan.clone()), "all NaN"));
        float[] inf = {Float.POSITIVE_INFINITY};
        assertThrows(AssertionFailedError.class, () -> Close.assertBitIdentical(inf, inf.clone(), "infinity"));
        Close.assertBitIdentical(new float[] {1f, -0f}, new float[] {1f, -0f}, "finite and the same bits");
        assertThrows(AssertionFailedError.class, () -> Close.assertBitIdentical(new float[] {0f}, new float[] {-0f}, "0 and -0 differ in bits"));
    }
}
