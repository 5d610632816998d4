package org.stablekd.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds out, before any JavaCPP class is touched, whether the CUDA backend can run here, and if
 * not says why in one sentence: the libraries are opened with dlopen (the same search JavaCPP's
 * bridges do: LD_LIBRARY_PATH, then the system), and the driver is asked for its version and GPU
 * count through two FFM calls. Nothing here throws; a missing piece is a reason string.
 */
@SuppressWarnings("restricted") // dlopen and two downcalls; the launchers pass --enable-native-access=ALL-UNNAMED
final class CudaProbe {
    /** CUDA 13 needs a driver that reports at least 13.0 (r580). */
    static final int MIN_DRIVER_VERSION = 13000;
    static final int CUDA_ERROR_NO_DEVICE = 100;
    static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;

    /**
     * Libraries the backend needs, with the sentence printed when one is missing: every library
     * the JavaCPP bridges (libjnicudart, libjnicublas, libjnicudnn) link besides libcuda and the
     * C/C++ runtime ({@code CudaProbeTest} reads their ELF NEEDED entries), in dependency order so
     * the first failure names the missing one. libcudnn.so.9 itself is not linked by the bridge
     * but is cuDNN's front library, kept as a check that the install is whole.
     */
    private static final String[][] LIBRARIES = {
        {"libcudart.so.13", "CUDA 13 runtime (libcudart.so.13) not found on LD_LIBRARY_PATH"},
        {"libcublasLt.so.13", "cuBLAS 13 (libcublasLt.so.13) not found on LD_LIBRARY_PATH"},
        {"libcublas.so.13", "cuBLAS 13 (libcublas.so.13) not found on LD_LIBRARY_PATH"},
        {"libcudnn.so.9", "cuDNN 9 not found on LD_LIBRARY_PATH (libcudnn.so.9)"},
        {"libcudnn_graph.so.9", "cuDNN 9's graph library (libcudnn_graph.so.9) not found on LD_LIBRARY_PATH"},
        {"libcudnn_ops.so.9", "cuDNN 9's ops library (libcudnn_ops.so.9) not found on LD_LIBRARY_PATH"},
        {"libcudnn_cnn.so.9", "cuDNN 9's convolution library (libcudnn_cnn.so.9) not found on LD_LIBRARY_PATH"},
        {"libcudnn_adv.so.9", "cuDNN 9's adv library (libcudnn_adv.so.9) not found on LD_LIBRARY_PATH"},
    };

    /** The library names {@link #unavailableReason()} checks besides libcuda.so.1, in order. */
    static List<String> libraries() {
        return Arrays.stream(LIBRARIES).map(l -> l[0]).toList();
    }

    private static final Pattern MISSING_LIBRARY = Pattern.compile("(lib[A-Za-z0-9_+.-]+\\.so[0-9.]*): cannot open shared object file");

    /**
     * One line for a LinkageError while the backend loads (a JavaCPP bridge that would not link,
     * or a bridge class whose initialization failed before): the missing library where the
     * error chain names one, else the first message in the chain. Never a stack trace.
     */
    static String linkageReason(Throwable e) {
        String first = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (m == null) continue;
            Matcher missing = MISSING_LIBRARY.matcher(m);
            if (missing.find()) {
                return missing.group(1) + " not found: a JavaCPP CUDA bridge links it (put the CUDA 13 / cuDNN 9 libraries on "
                        + "LD_LIBRARY_PATH and run with -Dorg.bytedeco.javacpp.pathsFirst=true)";
            }
            if (first == null) first = firstLine(m);
        }
        return "JavaCPP's CUDA bridges did not load (they need glibc 2.34+ and the CUDA 13 / cuDNN 9 libraries on LD_LIBRARY_PATH "
                + "with -Dorg.bytedeco.javacpp.pathsFirst=true): " + (first != null ? first : e.getClass().getSimpleName());
    }

    static String firstLine(String m) {
        if (m == null) return "(no message)";
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private CudaProbe() {}

    /** Null when everything the backend needs is present, else the reason it is not. */
    static String unavailableReason() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "the CUDA backend is built for linux-x86_64, this is " + os + "/" + arch;
        }
        Optional<SymbolLookup> driver = open("libcuda.so.1");
        if (driver.isEmpty()) return "no CUDA driver (libcuda.so.1 not found)";
        String gpu = checkDriverAndGpu(driver.get());
        if (gpu != null) return gpu;
        for (String[] lib : LIBRARIES) {
            if (open(lib[0]).isEmpty()) return lib[1];
        }
        return null;
    }

    /** True when dlopen finds the library (used for NVRTC, needed only without a fatbin). */
    static boolean present(String library) {
        return open(library).isPresent();
    }

    private static Optional<SymbolLookup> open(String library) {
        try {
            return Optional.of(SymbolLookup.libraryLookup(library, Arena.global()));
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return Optional.empty();
        }
    }

    /** cuInit, cuDriverGetVersion, cuDeviceGetCount through FFM; null when a GPU is usable. */
    private static String checkDriverAndGpu(SymbolLookup driver) {
        try {
            Linker linker = Linker.nativeLinker();
            FunctionDescriptor intOfInt = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
            FunctionDescriptor intOfPtr = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS);
            MethodHandle cuInit = linker.downcallHandle(driver.find("cuInit").orElseThrow(), intOfInt);
            MethodHandle cuDriverGetVersion = linker.downcallHandle(driver.find("cuDriverGetVersion").orElseThrow(), intOfPtr);
            MethodHandle cuDeviceGetCount = linker.downcallHandle(driver.find("cuDeviceGetCount").orElseThrow(), intOfPtr);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
                int rc = (int) cuDriverGetVersion.invokeExact(out);
                int version = rc == 0 ? out.get(ValueLayout.JAVA_INT, 0) : 0;
                if (rc == 0 && version < MIN_DRIVER_VERSION) {
                    return "the CUDA driver supports CUDA " + version / 1000 + "." + version % 1000 / 10
                            + "; CUDA 13 needs driver r580 or newer";
                }
                rc = (int) cuInit.invokeExact(0);
                if (rc == CUDA_ERROR_NO_DEVICE) return "no GPU visible (cuInit: CUDA_ERROR_NO_DEVICE)";
                if (rc == CUDA_ERROR_INSUFFICIENT_DRIVER) return "the CUDA driver is older than the CUDA 13 runtime (CUDA_ERROR_INSUFFICIENT_DRIVER)";
                if (rc != 0) return "the CUDA driver failed to initialize (cuInit returned " + rc + ")";
                rc = (int) cuDeviceGetCount.invokeExact(out);
                if (rc != 0) return "the CUDA driver cannot count GPUs (cuDeviceGetCount returned " + rc + ")";
                if (out.get(ValueLayout.JAVA_INT, 0) == 0) return "no GPU visible (the driver reports 0 devices)";
            }
            return null;
        } catch (Throwable t) {
            return "the CUDA driver could not be queried (" + t.getClass().getSimpleName() + ": " + t.getMessage() + ")";
        }
    }
}
