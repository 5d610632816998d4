package org.stablekd.backend.cuda;

import org.junit.jupiter.api.Assumptions;
import org.stablekd.backend.Backends;

/** Shared by the gpu-tagged tests: the backend, or a skip that says why there is none. */
final class GpuTests {
    private GpuTests() {}

    static CudaBackend requireGpu() {
        Backends.Availability a = Backends.cuda();
        Assumptions.assumeTrue(a.available(), () -> "no GPU for the CUDA tests: " + a.reason());
        return (CudaBackend) a.backend();
    }
}
