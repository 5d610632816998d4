package org.stablekd.backend;

import org.stablekd.backend.cpu.CpuBackend;
import org.stablekd.backend.ref.RefBackend;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;

/**
 * Backend discovery and selection. The host backend is chosen by {@code -Dstablekd.backend=ref|cpu}
 * (default {@code cpu}) or, for a block of code, by {@link #use}. An op the chosen host backend
 * does not support for a dtype (e.g. F64 on {@code cpu}) runs on {@code ref}.
 */
public final class Backends {
    private static final ThreadLocal<Backend> OVERRIDE = new ThreadLocal<>();
    private static volatile Backend defaultHost;

    private Backends() {}

    public static Backend ref() {
        return RefBackend.INSTANCE;
    }

    public static Backend cpu() {
        return CpuBackend.INSTANCE;
    }

    /** A backend by name: {@code ref} or {@code cpu}. */
    public static Backend named(String name) {
        return switch (name) {
            case "ref" -> ref();
            case "cpu" -> cpu();
            default -> throw new IllegalArgumentException("unknown backend '" + name + "'; choose ref or cpu");
        };
    }

    /** The host backend ops use on this thread now. */
    public static Backend host() {
        Backend b = OVERRIDE.get();
        if (b != null) return b;
        Backend d = defaultHost;
        if (d == null) {
            d = named(System.getProperty("stablekd.backend", "cpu"));
            defaultHost = d;
        }
        return d;
    }

    /** Runs ops on {@code backend} until the returned handle is closed (per thread, nestable). */
    public static Restore use(Backend backend) {
        Backend previous = OVERRIDE.get();
        OVERRIDE.set(backend);
        return () -> OVERRIDE.set(previous);
    }

    /** The backend that runs {@code op} for tensors of {@code dtype} on {@code device}. */
    public static Backend select(Op op, DType dtype, Device device) {
        if (device.isHost()) {
            Backend b = host();
            if (b.supports(op, dtype)) return b;
            if (ref().supports(op, dtype)) return ref();
            throw new IllegalArgumentException(op.name().toLowerCase() + " is not implemented for dtype " + dtype);
        }
        throw new IllegalArgumentException(op.name().toLowerCase() + ": no backend for device " + device + " in this build");
    }
}
