package org.stablekd.backend.cpu;

import java.util.EnumSet;
import java.util.Set;
import org.stablekd.backend.ReduceKernels;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;

/** Vector API kernels of this family (not written yet: the ref kernels stand in, and {@link #SUPPORTED} is empty). */
final class CpuReduce {
    /** The ops this family runs fast for F32. */
    static final Set<Op> SUPPORTED = EnumSet.noneOf(Op.class);

    private CpuReduce() {}

    static ReduceKernels kernels() {
        return Backends.ref().reduce();
    }
}
