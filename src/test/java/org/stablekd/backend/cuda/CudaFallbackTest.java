package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;

/**
 * Where the CUDA backend cannot run (CI, the developers' machines): it says why in one sentence,
 * nothing throws, and CUDA tensors fail with that sentence. On a GPU machine these skip.
 */
class CudaFallbackTest {

    private static Backends.Availability unavailableHere() {
        Backends.Availability a = Backends.cuda();
        Assumptions.assumeFalse(a.available(), "a GPU is available here; the fallback is not exercised");
        return a;
    }

    @Test
    void theReasonIsOneSentenceWithoutAStackTrace() {
        String reason = unavailableHere().reason();
        assertNotNull(reason);
        assertFalse(reason.isBlank());
        assertFalse(reason.contains("\n"), "one line: " + reason);
        assertFalse(reason.contains("Exception") || reason.contains("\tat "), "no stack trace or exception name: " + reason);
        assertEquals(reason, CudaBackend.tryLoad().reason(), "loading again gives the same answer");
    }

    @Test
    void withoutTheDriverTheReasonNamesIt() {
        unavailableHere();
        Assumptions.assumeFalse(CudaProbe.present("libcuda.so.1"), "libcuda.so.1 is present here");
        assertEquals("no CUDA driver (libcuda.so.1 not found)", Backends.cuda().reason());
    }

    @Test
    void cudaTensorsFailWithTheReason() {
        String reason = unavailableHere().reason();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.select(Op.ADD, DType.F32, Device.cuda(0)));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void askingForCudaFallsBackToTheCpuWithOneLine() {
        String reason = unavailableHere().reason();
        String previous = System.getProperty("stablekd.backend");
        System.setProperty("stablekd.backend", "cuda");
        try {
            assertEquals(Device.CPU, Backends.computeDevice());
        } finally {
            if (previous == null) System.clearProperty("stablekd.backend");
            else System.setProperty("stablekd.backend", previous);
        }
        assertEquals("stablekd: CUDA unavailable (" + reason + "); running on the CPU", Backends.fallbackMessage(reason));
        assertEquals(Backends.cpu(), Backends.named("cuda"), "host tensors run on cpu when cuda is asked for");
    }
}
