package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_INVALID_PTX;
import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_NO_BINARY_FOR_GPU;
import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;
import static org.bytedeco.cuda.global.cudart.cuModuleGetFunction;
import static org.bytedeco.cuda.global.cudart.cuModuleLoadData;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Our kernels on the GPU: the module loaded from the jar's fatbin (nvcc at build time: sm_80,
 * sm_90 cubins and compute_90 PTX) or, when the jar has none or none fits this GPU, compiled from
 * the packaged sources with NVRTC for exactly this GPU. Every {@link Kernel} is resolved at load,
 * so a missing kernel fails at startup, not mid-training.
 */
class KernelModule {
    /** Threads per block of the 1-D elementwise kernels (see elementwise.cu). */
    static final int THREADS = 256;
    /** Threads per block of the row kernels (softmax.cu, kd_loss.cu, dkd_loss.cu). */
    static final int ROW_THREADS = 128;
    /** What libjninvrtc links (CudaProbeTest checks), probed only when the fatbin does not fit. */
    static final String NVRTC_LIBRARY = "libnvrtc.so.13";
    /** Grid cap of the grid-stride loops. */
    static final long MAX_GRID = 65535L * 8;

    private final CudaContext ctx;
    private final Map<Kernel, CUfunc_st> functions = new EnumMap<>(Kernel.class);
    /** "fatbin" or "NVRTC sm_XY": where the kernels came from (for logs and reports). */
    final String origin;

    /** For CPU tests only: no context, no kernels; a subclass overrides {@link #launch} to record launches. */
    KernelModule(String origin) {
        this.ctx = null;
        this.origin = origin;
    }

    KernelModule(CudaContext ctx) {
        this.ctx = ctx;
        ctx.makeCurrent();
        CUmod_st module = new CUmod_st();
        String from = null;
        // -Dstablekd.cuda.nvrtc=true ignores the fatbin (to test the NVRTC path on a GPU machine)
        boolean forceNvrtc = Boolean.getBoolean("stablekd.cuda.nvrtc");
        byte[] fatbin = forceNvrtc ? null : KernelSources.fatbin();
        String fatbinProblem = forceNvrtc ? "-Dstablekd.cuda.nvrtc=true" : "the jar has no kernels.fatbin (built without nvcc)";
        if (fatbin != null) {
            int rc = loadImage(module, fatbin);
            if (rc == CUDA_SUCCESS) {
                from = "fatbin";
            } else if (rc == CUDA_ERROR_NO_BINARY_FOR_GPU || rc == CUDA_ERROR_INVALID_PTX || rc == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
                fatbinProblem = "the fatbin has no image for sm_" + ctx.ccMajor + ctx.ccMinor + " (" + Check.driverError(rc) + ")";
            } else {
                Check.cu(rc, "cuModuleLoadData(kernels.fatbin)");
            }
        }
        if (from == null) {
            if (!CudaProbe.present(NVRTC_LIBRARY)) {
                throw new CudaException(fatbinProblem + ", and NVRTC (" + NVRTC_LIBRARY + ") is not on LD_LIBRARY_PATH to compile src/main/cuda");
            }
            Check.cu(loadImage(module, compileWithNvrtc(ctx.ccMajor, ctx.ccMinor)), "cuModuleLoadData(NVRTC cubin)");
            from = "NVRTC sm_" + ctx.ccMajor + ctx.ccMinor;
        }
        this.origin = from;
        for (Kernel k : Kernel.values()) {
            CUfunc_st f = new CUfunc_st();
            Check.cu(cuModuleGetFunction(f, module, k.symbol()), "cuModuleGetFunction(" + k.symbol() + ") from " + origin);
            functions.put(k, f);
        }
    }

    private static int loadImage(CUmod_st module, byte[] image) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(image.length + 1L, 16);
            MemorySegment.copy(image, 0, seg, ValueLayout.JAVA_BYTE, 0, image.length);
            return cuModuleLoadData(module, new RawPointer(seg.address()));
        }
    }

    /** NVRTC: the unity source with every file of src/main/cuda as a named header, to a cubin for sm_XY. */
    static byte[] compileWithNvrtc(int major, int minor) {
        List<String> files = KernelSources.FILES;
        String[] names = files.toArray(String[]::new);
        String[] texts = files.stream().map(KernelSources::read).toArray(String[]::new);
        _nvrtcProgram program = new _nvrtcProgram();
        try (BytePointer src = new BytePointer(KernelSources.unitySource());
             BytePointer unitName = new BytePointer(KernelSources.UNITY_NAME);
             PointerPointer<?> headers = new PointerPointer<>(texts);
             PointerPointer<?> includeNames = new PointerPointer<>(names);
             PointerPointer<?> options = new PointerPointer<>("--gpu-architecture=sm_" + major + minor, "-std=c++17")) {
            Check.nvrtc(nvrtc.nvrtcCreateProgram(program, src, unitName, names.length, headers, includeNames), "nvrtcCreateProgram");
            try {
                int rc = nvrtc.nvrtcCompileProgram(program, 2, options);
                if (rc != nvrtc.NVRTC_SUCCESS) {
                    throw new CudaException("NVRTC could not compile src/main/cuda for sm_" + major + minor + ": "
                            + nvrtc.nvrtcGetErrorString(rc).getString() + "\n" + log(program));
                }
                try (SizeTPointer size = new SizeTPointer(1)) {
                    Check.nvrtc(nvrtc.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize");
                    byte[] cubin = new byte[Math.toIntExact(size.get())];
                    Check.nvrtc(nvrtc.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN");
                    return cubin;
                }
            } finally {
                nvrtc.nvrtcDestroyProgram(program);
            }
        }
    }

    private static String log(_nvrtcProgram program) {
        try (SizeTPointer size = new SizeTPointer(1)) {
            if (nvrtc.nvrtcGetProgramLogSize(program, size) != nvrtc.NVRTC_SUCCESS) return "(no log)";
            byte[] text = new byte[Math.toIntExact(size.get())];
            nvrtc.nvrtcGetProgramLog(program, text);
            return new String(text, 0, Math.max(0, text.length - 1), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** A 1-D grid for a grid-stride loop over n elements with {@link #THREADS} threads. */
    static int gridFor(long n) {
        return (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS, MAX_GRID));
    }

    /** Queues kernel k on the compute stream; args are checked against k's declared parameters. */
    void launch(Kernel k, int grid, int block, KernelArgs args) {
        args.check(k);
        if (grid <= 0) return;  // nothing to do (empty tensors)
        ctx.makeCurrent();
        // the PointerPointer overload (void** as is); extra = null
        Check.cu(cuLaunchKernel(functions.get(k), grid, 1, 1, block, 1, 1, 0, ctx.stream,
                args.kernelParams(), (PointerPointer<?>) null), "cuLaunchKernel(" + k.symbol() + ", grid " + grid + ", block " + block + ")");
    }

    /** The common case: a grid-stride loop over n elements. */
    void launchElementwise(Kernel k, long n, KernelArgs args) {
        if (n == 0) {
            args.check(k);
            return;
        }
        launch(k, gridFor(n), THREADS, args);
    }
}
