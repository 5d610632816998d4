// Attention maps for attention transfer (Zagoruyko & Komodakis; RefDistill): f (n, c, p) float32
// with p = h·w →
//
//   q (n, p) = mean_c f²,   a = q / max(‖q_row‖₂, eps)
//   backward: dq = (da − a·(a·da))/‖q‖  (or da/eps where the norm is clamped);  df = 2·f·dq/c
//
// Launch: one block of 256 threads per sample row (n blocks); each thread owns pixels k of the
// row (striding by 256), sums over channels in order, and one block reduction gives ‖q‖² (or
// a·da). The backward needs dq for every pixel before df, so it is two kernels: dq per row into a
// buffer (n, p), then df elementwise over (n, c, p).
#include "common.cuh"

extern "C" __global__ void attention_map_forward_f32(const float* f, float* q, float* a, int c, int p, float eps) {
    __shared__ float scratch[32];
    const i64 row = blockIdx.x;
    const float* fr = f + row * c * p;
    float sq = 0.f;
    for (int k = threadIdx.x; k < p; k += blockDim.x) {
        float s = 0.f;
        for (int ch = 0; ch < c; ++ch) { float v = fr[(i64)ch * p + k]; s += v * v; }
        s /= (float)c;
        q[row * p + k] = s;
        sq += s * s;
    }
    const float den = fmaxf(sqrtf(block_sum(sq, scratch)), eps);
    for (int k = threadIdx.x; k < p; k += blockDim.x) a[row * p + k] = q[row * p + k] / den;
}

extern "C" __global__ void attention_map_dq_f32(const float* q, const float* da, float* dq, int p, float eps) {
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * p;
    float sq = 0.f;
    for (int k = threadIdx.x; k < p; k += blockDim.x) sq += q[base + k] * q[base + k];
    const float norm = sqrtf(block_sum(sq, scratch));
    if (norm >= eps) {
        float dot = 0.f;
        for (int k = threadIdx.x; k < p; k += blockDim.x) dot += q[base + k] / norm * da[base + k];
        dot = block_sum(dot, scratch);
        for (int k = threadIdx.x; k < p; k += blockDim.x) dq[base + k] = (da[base + k] - q[base + k] / norm * dot) / norm;
    } else {
        for (int k = threadIdx.x; k < p; k += blockDim.x) dq[base + k] = da[base + k] / eps;
    }
}

// df (n, c, p) = 2·f·dq[row, k]/c
extern "C" __global__ void attention_map_backward_f32(const float* f, const float* dq, float* df, int c, int p, i64 total) {
    const float two_over_c = 2.f / (float)c;
    GRID_STRIDE_LOOP(e, total) {
        i64 row = e / ((i64)c * p);
        int k = (int)(e % p);
        df[e] = two_over_c * f[e] * dq[row * p + k];
    }
}
