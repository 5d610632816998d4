package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * cuDNN's alpha/beta parameters are plain {@code Pointer}s, which JavaCPP's bridge passes as
 * {@code (char*) address + position}: the float the library reads is at that byte. Each scalar
 * must therefore sit at position 0 of its own allocation and hold its value there.
 */
class HostScalarsTest {

    /** The float cuDNN reads through a {@code void*} parameter given p. */
    @SuppressWarnings("restricted")
    private static float readAsVoidPointer(Pointer p) {
        return MemorySegment.ofAddress(p.address() + p.position()).reinterpret(4).get(ValueLayout.JAVA_FLOAT, 0);
    }

    @Test
    void oneAndZeroAreWhatAVoidPointerParameterReads() {
        HostScalars s = HostScalars.get();
        assertEquals(0, s.one.position());
        assertEquals(0, s.zero.position());
        assertEquals(1f, readAsVoidPointer(s.one));
        assertEquals(0f, readAsVoidPointer(s.zero), "beta = 0 must be exactly 0 (cuDNN blends the old output otherwise)");
        assertNotEquals(s.one.address(), s.zero.address());
    }

    @Test
    void alphaAndBetaAreSeparateAndHoldTheirValues() {
        HostScalars s = HostScalars.get();
        var alpha = s.alpha(0.5);
        var beta = s.beta(0);
        assertEquals(0, alpha.position());
        assertEquals(0, beta.position());
        assertEquals(0.5f, readAsVoidPointer(alpha));
        assertEquals(0f, readAsVoidPointer(beta));
        assertEquals(2f, readAsVoidPointer(s.alpha(2)));
        assertEquals(0f, readAsVoidPointer(beta), "setting alpha leaves beta alone");
    }
}
