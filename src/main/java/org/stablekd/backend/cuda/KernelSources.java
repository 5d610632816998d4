package org.stablekd.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The CUDA sources packaged in the jar (src/main/cuda → org/stablekd/cuda/src/), for NVRTC when the
 * jar has no usable fatbin. {@link #FILES} must list exactly the files of src/main/cuda (a test
 * checks it); the compiled unit is {@link #unitySource()}, the same one native/build-kernels.sh
 * generates for nvcc.
 */
final class KernelSources {
    /** The fatbin nvcc built (absent when the build had no nvcc). */
    static final String FATBIN_RESOURCE = "/org/stablekd/cuda/kernels.fatbin";
    static final String SOURCE_DIR = "/org/stablekd/cuda/src/";
    /** The shared header first, then one file per kernel family (sorted, like the build script's glob). */
    static final List<String> FILES = List.of(
            "common.cuh",
            "attention.cu", "batchnorm.cu", "copy.cu", "dkd_loss.cu", "elementwise.cu",
            "kd_loss.cu", "pool.cu", "reduce.cu", "sgd.cu", "softmax.cu");
    static final String UNITY_NAME = "stablekd_kernels.cu";

    private KernelSources() {}

    /** One translation unit including every kernel family file. */
    static String unitySource() {
        StringBuilder sb = new StringBuilder("// every kernel family of src/main/cuda (KernelSources.unitySource)\n");
        for (String f : FILES) if (f.endsWith(".cu")) sb.append("#include \"").append(f).append("\"\n");
        return sb.toString();
    }

    /** The text of one packaged source file. */
    static String read(String file) {
        try (InputStream in = KernelSources.class.getResourceAsStream(SOURCE_DIR + file)) {
            if (in == null) throw new IllegalStateException("CUDA source " + SOURCE_DIR + file + " is not in the jar; rebuild with mvn package");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading CUDA source " + file, e);
        }
    }

    /** The fatbin's bytes, or null when the build had no nvcc. */
    static byte[] fatbin() {
        try (InputStream in = KernelSources.class.getResourceAsStream(FATBIN_RESOURCE)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + FATBIN_RESOURCE, e);
        }
    }
}
