package org.stablekd.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.sim.SimBackend;
import org.stablekd.tensor.Device;

/** --device resolution with the CUDA backend present (stood in for by the simulated one) and absent. */
class DeviceChoiceTest {
    static final Backends.Availability PRESENT = Backends.Availability.of(SimBackend.select(Op.COPY, org.stablekd.tensor.DType.F32));
    static final Backends.Availability ABSENT = Backends.Availability.unavailable("no CUDA driver (libcuda.so.1 not found)");

    @Test
    void theDefaultIsCudaWhereItLoadsElseTheCpuWithOneLine() {
        DeviceChoice.Choice present = DeviceChoice.resolve(null, () -> PRESENT);
        assertEquals(Device.SIM, present.device());
        assertNull(present.note());
        DeviceChoice.Choice absent = DeviceChoice.resolve("auto", () -> ABSENT);
        assertEquals(Device.CPU, absent.device());
        assertEquals("running on the CPU: CUDA unavailable (no CUDA driver (libcuda.so.1 not found))", absent.note());
    }

    @Test
    void anExplicitChoiceIsKeptOrRefusedWithTheReason() {
        assertEquals(Device.CPU, DeviceChoice.resolve("cpu", () -> PRESENT).device());
        assertNull(DeviceChoice.resolve("cpu", () -> ABSENT).note());
        assertEquals(Device.SIM, DeviceChoice.resolve("CUDA:0", () -> PRESENT).device());
        var e = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.resolve("cuda", () -> ABSENT));
        assertEquals("--device cuda: CUDA is unavailable here (no CUDA driver (libcuda.so.1 not found)); use --device cpu", e.getMessage());
        var bad = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.resolve("gpu", () -> PRESENT));
        assertEquals("--device must be cpu or cuda, not 'gpu'", bad.getMessage());
    }
}
