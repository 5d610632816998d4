package org.stablekd.backend;

import java.lang.reflect.InvocationTargetException;
import org.stablekd.backend.cpu.CpuBackend;
import org.stablekd.backend.ref.RefBackend;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;

/**
 * Backend discovery and selection. The host backend is chosen by {@code -Dstablekd.backend=ref|cpu}
 * (default {@code cpu}) or, for a block of code, by {@link #use}. An op the chosen host backend
 * does not support for a dtype (e.g. F64 on {@code cpu}) runs on {@code ref}.
 *
 * <p>{@code -Dstablekd.backend=cuda} asks for the GPU: {@link #computeDevice()} is then
 * {@code cuda:0} when the CUDA backend loads, else the CPU with one line on stderr saying why;
 * host tensors still run on {@code cpu}. Tensors on a CUDA device run on the CUDA backend, which
 * is found by reflection on first use, so the CPU path never loads JavaCPP classes.
 */
public final class Backends {
    private static final ThreadLocal<Backend> OVERRIDE = new ThreadLocal<>();
    private static volatile Backend defaultHost;
    private static volatile Availability cuda;
    private static volatile boolean fallbackReported;

    private Backends() {}

    /** A device backend, or the one-line reason there is none (e.g. "no GPU visible"). */
    public record Availability(Backend backend, String reason) {
        public static Availability of(Backend backend) {
            return new Availability(backend, null);
        }

        public static Availability unavailable(String reason) {
            return new Availability(null, reason);
        }

        public boolean available() {
            return backend != null;
        }
    }

    public static Backend ref() {
        return RefBackend.INSTANCE;
    }

    public static Backend cpu() {
        return CpuBackend.INSTANCE;
    }

    /** A host backend by name: {@code ref} or {@code cpu} ({@code cuda} means cpu for host tensors). */
    public static Backend named(String name) {
        return switch (name) {
            case "ref" -> ref();
            case "cpu", "cuda" -> cpu();
            default -> throw new IllegalArgumentException("unknown backend '" + name + "'; choose ref, cpu or cuda");
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

    /**
     * The CUDA backend, loaded once (org.stablekd.backend.cuda.CudaBackend#tryLoad, by reflection),
     * or why it is unavailable: no driver, no GPU, a missing library, or no CUDA classes in this build.
     */
    public static Availability cuda() {
        Availability a = cuda;
        if (a == null) {
            synchronized (Backends.class) {
                a = cuda;
                if (a == null) {
                    a = loadCuda();
                    cuda = a;
                }
            }
        }
        return a;
    }

    private static Availability loadCuda() {
        try {
            Class<?> c = Class.forName("org.stablekd.backend.cuda.CudaBackend");
            return (Availability) c.getMethod("tryLoad").invoke(null);
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            return Availability.unavailable("this build has no CUDA backend (" + e.getMessage() + " missing)");
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return Availability.unavailable("the CUDA backend failed to load: " + firstLine(cause));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return Availability.unavailable("the CUDA backend failed to load: " + firstLine(e));
        }
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /**
     * Where training tensors should live: {@code cuda:0} when {@code -Dstablekd.backend=cuda} and
     * the CUDA backend is available, else the CPU. Asking for CUDA without one prints one line,
     * once: "stablekd: CUDA unavailable (reason); running on the CPU".
     */
    public static Device computeDevice() {
        if (!"cuda".equals(System.getProperty("stablekd.backend"))) return Device.CPU;
        Availability a = cuda();
        if (a.available()) return a.backend().device();
        if (!fallbackReported) {
            fallbackReported = true;
            System.err.println(fallbackMessage(a.reason()));
        }
        return Device.CPU;
    }

    /** The one line printed when CUDA was asked for and is unavailable. */
    public static String fallbackMessage(String reason) {
        return "stablekd: CUDA unavailable (" + reason + "); running on the CPU";
    }

    /** The backend that runs {@code op} for tensors of {@code dtype} on {@code device}. */
    public static Backend select(Op op, DType dtype, Device device) {
        if (device.isHost()) {
            Backend b = host();
            if (b.supports(op, dtype)) return b;
            if (ref().supports(op, dtype)) return ref();
            throw new IllegalArgumentException(op.name().toLowerCase() + " is not implemented for dtype " + dtype);
        }
        if (device.kind() == Device.Kind.CUDA) {
            Availability a = cuda();
            if (!a.available()) {
                throw new IllegalArgumentException(op.name().toLowerCase() + ": no backend for device " + device + ": " + a.reason());
            }
            if (a.backend().supports(op, dtype)) return a.backend();
            throw new IllegalArgumentException(op.name().toLowerCase() + " is not implemented on " + device + " for dtype " + dtype
                    + "; copy the tensors to the CPU (org.stablekd.backend.cuda.CudaTensors.toHost) for this op");
        }
        if (device.kind() == Device.Kind.SIM) {
            Backend b = org.stablekd.backend.sim.SimBackend.select(op, dtype);
            if (b != null) return b;
            throw new IllegalArgumentException(op.name().toLowerCase() + " is not implemented on " + device + " for dtype " + dtype);
        }
        throw new IllegalArgumentException(op.name().toLowerCase() + ": no backend for device " + device + " in this build");
    }

    /** The backend that owns {@code device}'s memory (its transfers); fails with the reason if it cannot load. */
    public static Backend forDevice(Device device) {
        return switch (device.kind()) {
            case CPU -> host();
            case SIM -> org.stablekd.backend.sim.SimBackend.select(Op.COPY, DType.F32);
            case CUDA -> {
                Availability a = cuda();
                if (!a.available()) throw new IllegalStateException("no backend for " + device + ": " + a.reason());
                yield a.backend();
            }
        };
    }
}
