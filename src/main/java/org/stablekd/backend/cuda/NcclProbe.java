package org.stablekd.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

/**
 * Whether NCCL can be loaded here, asked before any JavaCPP class is touched (as
 * {@link CudaProbe} does for the CUDA backend): JavaCPP's CUDA presets ship only NCCL's JNI
 * bridge (libjninccl.so, which links libnccl.so.2), not NCCL itself (that is in the
 * {@code -redist} jar, which this project does not use), so the library comes from the machine.
 */
@SuppressWarnings("restricted") // dlopen; the launchers pass --enable-native-access=ALL-UNNAMED
public final class NcclProbe {
    /** The library libjninccl.so links (its ELF NEEDED entry). */
    public static final String LIBRARY = "libnccl.so.2";

    private NcclProbe() {}

    /** Null when libnccl.so.2 can be opened, else one sentence saying what is missing and how to get it. */
    public static String unavailableReason() {
        return reasonFor(LIBRARY);
    }

    /** {@link #unavailableReason()} for another library name (tests). */
    static String reasonFor(String library) {
        try {
            SymbolLookup.libraryLookup(library, Arena.global());
            return null;
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return "NCCL (" + library + ") not found on LD_LIBRARY_PATH: JavaCPP's CUDA presets ship only its bridge, so install "
                    + "NVIDIA's NCCL 2 for CUDA 13 (Debian/Ubuntu package libnccl2 from NVIDIA's repository, or the "
                    + "nvidia-nccl-cu13 wheel) and put the directory holding " + library + " on LD_LIBRARY_PATH";
        }
    }
}
