package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.cuGetErrorName;
import static org.bytedeco.cuda.global.cudart.cuGetErrorString;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.BytePointer;

/** Status checks for the four CUDA libraries: a failure is a {@link CudaException} naming the call. */
final class Check {
    private Check() {}

    /** Driver API (cu*). */
    static void cu(int status, String call) {
        if (status != CUDA_SUCCESS) throw new CudaException(call + " failed: " + driverError(status));
    }

    static String driverError(int status) {
        BytePointer name = new BytePointer(), text = new BytePointer();
        String n = cuGetErrorName(status, name) == CUDA_SUCCESS && !name.isNull() ? name.getString() : "CUDA error " + status;
        String t = cuGetErrorString(status, text) == CUDA_SUCCESS && !text.isNull() ? text.getString() : "";
        return t.isEmpty() ? n : n + " (" + t + ")";
    }

    static void cublas(int status, String call) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(call + " failed: " + cublas.cublasGetStatusString(status).getString());
        }
    }

    static void cudnn(int status, String call) {
        if (status != cudnn.CUDNN_STATUS_SUCCESS) {
            throw new CudaException(call + " failed: " + cudnn.cudnnGetErrorString(status).getString());
        }
    }

    static void nvrtc(int status, String call) {
        if (status != nvrtc.NVRTC_SUCCESS) {
            throw new CudaException(call + " failed: " + nvrtc.nvrtcGetErrorString(status).getString());
        }
    }
}
