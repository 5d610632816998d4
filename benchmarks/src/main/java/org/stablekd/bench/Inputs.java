package org.stablekd.bench;

import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/** Random (never zero) F32 inputs and the backend under test, shared by the benchmarks. */
final class Inputs {
    private Inputs() {}

    static Tensor random(Rng rng, int... dims) {
        return Tensor.uniform(rng, DType.F32, -1, 1, dims);
    }

    static Backend backend(String name) {
        return Backends.named(name);
    }
}
