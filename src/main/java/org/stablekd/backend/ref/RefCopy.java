package org.stablekd.backend.ref;

import java.lang.foreign.MemorySegment;
import org.stablekd.backend.CopyKernels;
import org.stablekd.tensor.Tensor;

/** Reference strided copy: walks the row-major index of the shape, any strides on either side. */
final class RefCopy implements CopyKernels {

    @Override
    public void copy(Tensor src, Tensor dst) {
        copy(src.shape().dims(), src.segment(), src.offset(), src.strides(),
                dst.segment(), dst.offset(), dst.strides(), src.dtype().bytes);
    }

    /** Copies element by element as raw bytes of width {@code bytes}, so it serves every dtype. */
    static void copy(int[] dims, MemorySegment src, long srcOff, long[] srcStrides,
                     MemorySegment dst, long dstOff, long[] dstStrides, int bytes) {
        long numel = 1;
        for (int d : dims) numel *= d;
        int[] idx = new int[dims.length];
        for (long e = 0; e < numel; e++) {
            long si = srcOff, di = dstOff;
            for (int i = 0; i < dims.length; i++) {
                si += idx[i] * srcStrides[i];
                di += idx[i] * dstStrides[i];
            }
            MemorySegment.copy(src, si * bytes, dst, di * bytes, bytes);
            for (int i = dims.length - 1; i >= 0; i--) {
                if (++idx[i] < dims[i]) break;
                idx[i] = 0;
            }
        }
    }
}
