package org.stablekd.backend.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP pointer at a raw address that JavaCPP did not allocate: a device pointer from our
 * allocator (for cuBLAS and cuDNN, which take {@code void*}), or a host address from an FFM
 * segment. It owns nothing and frees nothing.
 */
final class RawPointer extends Pointer {
    RawPointer(long address) {
        this.address = address;
    }
}
