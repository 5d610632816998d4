package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
import static org.bytedeco.cuda.global.cudart.CU_STREAM_DEFAULT;
import static org.bytedeco.cuda.global.cudart.cuCtxSetCurrent;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetName;
import static org.bytedeco.cuda.global.cudart.cuDevicePrimaryCtxRetain;
import static org.bytedeco.cuda.global.cudart.cuDeviceTotalMem;
import static org.bytedeco.cuda.global.cudart.cuInit;
import static org.bytedeco.cuda.global.cudart.cuStreamCreate;
import static org.bytedeco.cuda.global.cudart.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.SizeTPointer;
import org.stablekd.tensor.Device;

/**
 * One GPU as the backend uses it: the device's primary context (shared with the CUDA runtime, so
 * cuBLAS and cuDNN see the same context), one compute stream on which every kernel, library call
 * and copy of the backend is queued in order, and the cuBLAS and cuDNN handles bound to it.
 *
 * <p>Stream order is what makes the caching allocator safe: a block released by one op and
 * handed to the next is only touched by work queued after everything that used it before.
 *
 * <p>The driver API binds a context per thread; {@link #makeCurrent()} does so once per thread
 * (every launch calls it). The handles are not meant for concurrent use: one thread drives the
 * GPU at a time (the training loop), as in PyTorch's default stream use.
 *
 * <p>Options (system properties): {@code stablekd.cuda.tf32=true} lets cuBLAS and cuDNN use TF32
 * tensor cores for float32 (faster, ~1e-3 relative error; off by default so results match the
 * CPU); {@code stablekd.cuda.workspaceMiB} (default 256) caps cuDNN's workspace;
 * {@code stablekd.cuda.deterministic} (default true) allows only deterministic cuDNN algorithms,
 * chosen by a fixed preference order rather than by measured time (see {@link ConvAlgorithms}).
 */
final class CudaContext {
    final Device device;
    final int ordinal;
    final String name;
    final int ccMajor, ccMinor, multiprocessors;
    final long totalMemory;
    final boolean tf32;
    final boolean deterministic;
    final long workspaceLimit;

    final CUctx_st context = new CUctx_st();
    final CUstream_st stream = new CUstream_st();
    final cublasContext cublasHandle = new cublasContext();
    final cudnnContext cudnnHandle = new cudnnContext();

    private final ThreadLocal<Boolean> current = new ThreadLocal<>();

    CudaContext(int ordinal) {
        this.ordinal = ordinal;
        this.device = Device.cuda(ordinal);
        Check.cu(cuInit(0), "cuInit");
        int[] dev = new int[1];
        Check.cu(cuDeviceGet(dev, ordinal), "cuDeviceGet(" + ordinal + ")");
        byte[] nameBytes = new byte[256];
        Check.cu(cuDeviceGetName(nameBytes, nameBytes.length, dev[0]), "cuDeviceGetName");
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) len++;
        this.name = new String(nameBytes, 0, len, StandardCharsets.UTF_8);
        this.ccMajor = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev[0]);
        this.ccMinor = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev[0]);
        this.multiprocessors = attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev[0]);
        try (SizeTPointer total = new SizeTPointer(1)) {
            Check.cu(cuDeviceTotalMem(total, dev[0]), "cuDeviceTotalMem");
            this.totalMemory = total.get();
        }
        this.tf32 = Boolean.getBoolean("stablekd.cuda.tf32");
        this.deterministic = !"false".equals(System.getProperty("stablekd.cuda.deterministic"));
        this.workspaceLimit = Long.getLong("stablekd.cuda.workspaceMiB", 256) << 20;

        Check.cu(cuDevicePrimaryCtxRetain(context, dev[0]), "cuDevicePrimaryCtxRetain");
        makeCurrent();
        Check.cu(cuStreamCreate(stream, CU_STREAM_DEFAULT), "cuStreamCreate");

        Check.cublas(cublas.cublasCreate_v2(cublasHandle), "cublasCreate");
        Check.cublas(cublas.cublasSetStream_v2(cublasHandle, stream), "cublasSetStream");
        Check.cublas(cublas.cublasSetMathMode(cublasHandle, tf32 ? cublas.CUBLAS_TF32_TENSOR_OP_MATH : cublas.CUBLAS_DEFAULT_MATH),
                "cublasSetMathMode");

        Check.cudnn(cudnn.cudnnCreate(cudnnHandle), "cudnnCreate");
        Check.cudnn(cudnn.cudnnSetStream(cudnnHandle, stream), "cudnnSetStream");
    }

    private static int attribute(int attribute, int dev) {
        int[] v = new int[1];
        Check.cu(cuDeviceGetAttribute(v, attribute, dev), "cuDeviceGetAttribute(" + attribute + ")");
        return v[0];
    }

    /** Binds this context to the calling thread (once per thread). */
    void makeCurrent() {
        if (current.get() == null) {
            Check.cu(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            current.set(Boolean.TRUE);
        }
    }

    /** Waits until everything queued on the compute stream is done. */
    void sync() {
        makeCurrent();
        Check.cu(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** e.g. "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.2 GiB)". */
    String describe() {
        return String.format("%s (sm_%d%d, %d SMs, %.1f GiB)", name, ccMajor, ccMinor, multiprocessors, totalMemory / (double) (1L << 30));
    }
}
