package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The availability probe, without a GPU: it must check every library the JavaCPP bridges link
 * (read from the bridges' ELF dynamic sections in the presets' natives jar), so a missing one is
 * the one-line reason and not a LinkageError; and a LinkageError that gets through anyway
 * becomes one line naming the missing library.
 */
class CudaProbeTest {
    /** Linked by the bridges and not ours to probe: the driver (probed first, separately) and the C/C++ runtime. */
    private static final Set<String> NOT_PROBED = Set.of("libcuda.so.1", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6");

    @Test
    void theProbeChecksEveryLibraryTheBridgesLink() throws IOException {
        int seen = 0;
        for (String bridge : List.of("libjnicudart.so", "libjnicublas.so", "libjnicudnn.so")) {
            for (String lib : needed("org/bytedeco/cuda/linux-x86_64/" + bridge)) {
                seen++;
                if (!NOT_PROBED.contains(lib)) {
                    assertTrue(CudaProbe.libraries().contains(lib), bridge + " links " + lib + ", which CudaProbe does not check: " + CudaProbe.libraries());
                }
            }
        }
        assertTrue(seen >= 10, "read the NEEDED entries of three bridges");
        // NVRTC's bridge is loaded only without a fitting fatbin, after KernelModule probes its one library
        for (String lib : needed("org/bytedeco/cuda/linux-x86_64/libjninvrtc.so")) {
            assertTrue(NOT_PROBED.contains(lib) || lib.equals(KernelModule.NVRTC_LIBRARY), "libjninvrtc.so links " + lib + ", which KernelModule does not probe");
        }
    }

    @Test
    void aLinkageErrorBecomesOneLineNamingTheMissingLibrary() {
        // the shape JavaCPP's Loader gives (seen on this machine, which has no libcuda)
        var cause = new UnsatisfiedLinkError("/root/.javacpp/cache/cuda-13.3-9.25-1.5.14-linux-x86_64.jar/org/bytedeco/cuda/linux-x86_64/libjnicudnn.so: "
                + "libcudnn_cnn.so.9: cannot open shared object file: No such file or directory");
        var e = new UnsatisfiedLinkError("no jnicudnn in java.library.path: /usr/java/packages/lib:/usr/lib64:/lib64:/lib:/usr/lib");
        e.initCause(cause);
        String reason = CudaProbe.linkageReason(e);
        assertTrue(reason.startsWith("libcudnn_cnn.so.9 not found"), reason);
        assertFalse(reason.contains("\n"), reason);
        // a second use of the class is a NoClassDefFoundError whose cause says why the first failed
        var again = new NoClassDefFoundError("Could not initialize class org.bytedeco.cuda.global.cudnn");
        again.initCause(new ExceptionInInitializerError("Exception java.lang.UnsatisfiedLinkError: no jnicudart in java.library.path [in thread \"main\"]"));
        String second = CudaProbe.linkageReason(again);
        assertTrue(second.contains("Could not initialize class org.bytedeco.cuda.global.cudnn"), second);
        assertFalse(second.contains("\n"), second);
        assertNotNull(CudaProbe.linkageReason(new ExceptionInInitializerError()));
    }

    @Test
    void theReaderFindsWhatReadelfShows() throws IOException {
        assertEquals(List.of("libcuda.so.1", "libcudart.so.13", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6"),
                needed("org/bytedeco/cuda/linux-x86_64/libjnicudart.so"));
    }

    /** The DT_NEEDED entries of an ELF64 little-endian shared library on the class path. */
    static List<String> needed(String resource) throws IOException {
        byte[] bytes;
        try (InputStream in = CudaProbeTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertNotNull(in, resource + " is not on the test class path (the presets' linux-x86_64 natives jar)");
            bytes = in.readAllBytes();
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3A)), shnum = Short.toUnsignedInt(b.getShort(0x3C));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            if (b.getInt(sh + 4) != 6) continue;  // SHT_DYNAMIC
            long offset = b.getLong(sh + 0x18), size = b.getLong(sh + 0x20);
            int strtab = (int) (shoff + (long) b.getInt(sh + 0x28) * shentsize);  // sh_link: its string table
            long strOffset = b.getLong(strtab + 0x18);
            for (long e = offset; e + 16 <= offset + size; e += 16) {
                long tag = b.getLong((int) e);
                if (tag == 0) break;  // DT_NULL
                if (tag != 1) continue;  // DT_NEEDED
                int start = (int) (strOffset + b.getLong((int) e + 8)), end = start;
                while (bytes[end] != 0) end++;
                out.add(new String(bytes, start, end - start, StandardCharsets.US_ASCII));
            }
        }
        return out;
    }
}
