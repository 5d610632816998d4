// Shared device helpers for stablekd's own kernels: types, the grid-stride loop and deterministic
// warp/block reductions. Device code only, and no #include of system headers, so the same text
// compiles with nvcc (native/build-kernels.sh) and with NVRTC at first use (KernelLoader).
//
// Every reduction here combines values in an order fixed by blockDim alone (shuffle trees, then
// warp partials in warp order), so a result is bit-identical run to run (NOTES.md, Note
// [Determinism]). Block sizes used with them are multiples of 32, at most 1024.
#ifndef STABLEKD_COMMON_CUH
#define STABLEKD_COMMON_CUH

typedef long long i64;

// -inf without <math.h> (NVRTC has no INFINITY macro)
#define NEG_INF (__int_as_float(0xff800000))
#define QUIET_NAN (__int_as_float(0x7fffffff))

// for (i64 i = global thread index; i < n; i += all threads of the grid)
#define GRID_STRIDE_LOOP(i, n) \
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (i64)(n); i += (i64)blockDim.x * gridDim.x)

template <typename T>
static __device__ __forceinline__ T warp_sum(T v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

static __device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Sum over the whole block, returned to every thread. scratch: 32 T in shared memory.
template <typename T>
static __device__ T block_sum(T v, T* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();                       // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        T w = lane < warps ? scratch[lane] : (T)0;
        w = warp_sum(w);
        if (lane == 0) scratch[0] = w;
    }
    __syncthreads();
    return scratch[0];
}

// Max over the whole block, returned to every thread. scratch: 32 floats in shared memory.
static __device__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : NEG_INF;
        w = warp_max(w);
        if (lane == 0) scratch[0] = w;
    }
    __syncthreads();
    return scratch[0];
}

// log Σ_j exp(z_j·inv_t) of one row z (cols values), in every thread of the block, with the max
// subtracted first. scratch: 32 floats in shared memory. Used by the softmax and loss kernels.
static __device__ float row_lse(const float* z, int cols, float inv_t, float* scratch) {
    float m = NEG_INF;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) m = fmaxf(m, z[j] * inv_t);
    m = block_max(m, scratch);
    float s = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += expf(z[j] * inv_t - m);
    s = block_sum(s, scratch);
    return m + logf(s);
}

#endif  // STABLEKD_COMMON_CUH
