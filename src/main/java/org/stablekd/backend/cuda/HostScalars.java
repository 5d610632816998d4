package org.stablekd.backend.cuda;

import org.bytedeco.javacpp.FloatPointer;

/**
 * The alpha and beta floats that cuDNN and cuBLAS read from host memory (their default pointer
 * mode), one set per thread. Each scalar is its own allocation at position 0, never a position
 * into a shared array: cuDNN's bridge declares alpha/beta as plain {@code Pointer}, for which
 * JavaCPP adds the position in bytes, not floats (a FloatPointer at position 1 there reads one
 * byte into {1f, 0f}, about 5.8e-39, and cuDNN blends the old output instead of overwriting it).
 */
final class HostScalars {
    private static final ThreadLocal<HostScalars> PER_THREAD = ThreadLocal.withInitial(HostScalars::new);

    /** 1f and 0f: cuDNN's "overwrite" (alpha 1, beta 0) and "accumulate" (alpha 1, beta 1). */
    final FloatPointer one = new FloatPointer(1f), zero = new FloatPointer(0f);
    private final FloatPointer alpha = new FloatPointer(1), beta = new FloatPointer(1);

    private HostScalars() {}

    /** This thread's scalars. */
    static HostScalars get() {
        return PER_THREAD.get();
    }

    /** alpha = v (read by the library during the call, so reusing it for the next call is safe). */
    FloatPointer alpha(double v) {
        return alpha.put(0, (float) v);
    }

    FloatPointer beta(double v) {
        return beta.put(0, (float) v);
    }
}
