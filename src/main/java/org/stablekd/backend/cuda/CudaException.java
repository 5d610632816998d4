package org.stablekd.backend.cuda;

/** A failed CUDA, cuBLAS, cuDNN or NVRTC call; the message names the call and the error. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaException(String message) {
        super(message);
    }
}
