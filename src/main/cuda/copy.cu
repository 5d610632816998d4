// Strided copy: dst[index] = src[index] for every row-major index of a shape, any strides on
// either side (in elements). It serves every layout op (contiguous copies, concat into narrowed
// views, narrow, channel shuffle as a permuted view, broadcast of a bias row through stride 0)
// and every dtype: the kernels move raw 2-, 4- or 8-byte words.
//
// The host (CudaCopy) drops size-1 dims and merges dims that are contiguous on both sides first,
// so most copies reach here with rank 1–3; fully contiguous copies never reach here (cuMemcpy).
//
// Launch: 1-D, 256 threads, grid-stride over the n elements; thread i decodes its index digit by
// digit from the last dim (the one with the smallest strides, so neighbouring threads touch
// neighbouring addresses on at least one side).
#include "common.cuh"

#define STRIDED_MAX_RANK 8

// Passed by value (200 bytes; kernel parameters may be up to 4 KiB). Field order fixes the
// layout the host writes: three arrays of 8 i64, then rank.
struct StridedLayout {
    i64 sizes[STRIDED_MAX_RANK];
    i64 src_strides[STRIDED_MAX_RANK];
    i64 dst_strides[STRIDED_MAX_RANK];
    int rank;
    int unused;
};

template <typename Word>
__device__ __forceinline__ void copy_strided(const Word* src, Word* dst, const StridedLayout& l, i64 n) {
    GRID_STRIDE_LOOP(e, n) {
        i64 rest = e, s = 0, d = 0;
        for (int k = l.rank - 1; k >= 0; --k) {
            i64 idx = rest % l.sizes[k];
            rest /= l.sizes[k];
            s += idx * l.src_strides[k];
            d += idx * l.dst_strides[k];
        }
        dst[d] = src[s];
    }
}

extern "C" __global__ void copy_strided_b2(const unsigned short* src, unsigned short* dst, StridedLayout layout, i64 n) {
    copy_strided(src, dst, layout, n);
}

extern "C" __global__ void copy_strided_b4(const unsigned int* src, unsigned int* dst, StridedLayout layout, i64 n) {
    copy_strided(src, dst, layout, n);
}

extern "C" __global__ void copy_strided_b8(const unsigned long long* src, unsigned long long* dst, StridedLayout layout, i64 n) {
    copy_strided(src, dst, layout, n);
}
