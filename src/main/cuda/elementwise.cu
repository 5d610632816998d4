// Elementwise kernels over contiguous float32 buffers of n elements (outputs may alias inputs).
//
//   relu        y = max(x, 0)                 relu_backward   dx = out > 0 ? dy : 0  (RELU, ADD_RELU)
//   relu6       y = min(max(x, 0), 6)         relu6_backward  dx = 0 < in < 6 ? dy : 0
//   scale       y = x·c                       add_scalar      y = x + c
//   add/sub/mul y = a ∘ b                     add_relu        y = max(a + b, 0)
//   axpy        y = a + c·b                   fill_from_scalar y = scale·g[0]
//   mse_backward da = s·(a − b), db = −da with s = 2·g[0]/n (either output may be null)
//   bn_apply_relu   y = max((x − mean[ch])·inv_std[ch]·gamma[ch] + beta[ch], 0), x (n, c, hw):
//                   the fused BatchNorm-apply + ReLU of a conv block in training (its backward is
//                   batchnorm_backward_* with the ReLU output as mask, see batchnorm.cu)
//   bn_eval_relu    the same with the running statistics, inv_std = 1/√(run_var[ch] + eps)
//                   computed as batchnorm.cu's batchnorm_eval_f32 does
//
// Launch: 1-D, 256 threads a block (8 warps: enough to hide latency of these memory-bound loops),
// grid = min(ceil(n / 256), 65535·8) with a grid-stride loop, so any n works with one launch.
// The results do not depend on the grid (each element is computed alone).
#include "common.cuh"

extern "C" __global__ void relu_forward_f32(const float* x, float* y, i64 n) {
    GRID_STRIDE_LOOP(i, n) { float v = x[i]; y[i] = v > 0.f ? v : 0.f; }
}

extern "C" __global__ void relu6_forward_f32(const float* x, float* y, i64 n) {
    GRID_STRIDE_LOOP(i, n) { y[i] = fminf(fmaxf(x[i], 0.f), 6.f); }
}

extern "C" __global__ void scale_f32(const float* x, float* y, i64 n, float c) {
    GRID_STRIDE_LOOP(i, n) { y[i] = x[i] * c; }
}

extern "C" __global__ void add_scalar_f32(const float* x, float* y, i64 n, float c) {
    GRID_STRIDE_LOOP(i, n) { y[i] = x[i] + c; }
}

extern "C" __global__ void add_f32(const float* a, const float* b, float* y, i64 n) {
    GRID_STRIDE_LOOP(i, n) { y[i] = a[i] + b[i]; }
}

extern "C" __global__ void sub_f32(const float* a, const float* b, float* y, i64 n) {
    GRID_STRIDE_LOOP(i, n) { y[i] = a[i] - b[i]; }
}

extern "C" __global__ void mul_f32(const float* a, const float* b, float* y, i64 n) {
    GRID_STRIDE_LOOP(i, n) { y[i] = a[i] * b[i]; }
}

extern "C" __global__ void add_relu_f32(const float* a, const float* b, float* y, i64 n) {
    GRID_STRIDE_LOOP(i, n) { float v = a[i] + b[i]; y[i] = v > 0.f ? v : 0.f; }
}

// RELU and ADD_RELU: the mask is the forward output (> 0 where the value passed)
extern "C" __global__ void relu_backward_f32(const float* out, const float* dy, float* dx, i64 n) {
    GRID_STRIDE_LOOP(i, n) { dx[i] = out[i] > 0.f ? dy[i] : 0.f; }
}

// RELU6: the mask is the forward input (0 < in < 6)
extern "C" __global__ void relu6_backward_f32(const float* in, const float* dy, float* dx, i64 n) {
    GRID_STRIDE_LOOP(i, n) { float r = in[i]; dx[i] = (r > 0.f && r < 6.f) ? dy[i] : 0.f; }
}

extern "C" __global__ void axpy_f32(const float* a, float c, const float* b, float* y, i64 n) {
    GRID_STRIDE_LOOP(i, n) { y[i] = a[i] + c * b[i]; }
}

extern "C" __global__ void fill_from_scalar_f32(const float* g, float scale, float* y, i64 n) {
    const float v = g[0] * scale;
    GRID_STRIDE_LOOP(i, n) { y[i] = v; }
}

extern "C" __global__ void mse_backward_f32(const float* a, const float* b, const float* g, float two_over_n,
                                            float* da, float* db, i64 n) {
    const float s = g[0] * two_over_n;
    GRID_STRIDE_LOOP(i, n) {
        float d = s * (a[i] - b[i]);
        if (da) da[i] = d;
        if (db) db[i] = -d;
    }
}

// x, y: (n, c, hw) contiguous; mean, inv_std, gamma, beta: (c)
extern "C" __global__ void bn_apply_relu_f32(const float* x, const float* mean, const float* inv_std,
                                             const float* gamma, const float* beta, float* y,
                                             int c, int hw, i64 total) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = (int)((i / hw) % c);
        float v = (x[i] - mean[ch]) * inv_std[ch] * gamma[ch] + beta[ch];
        y[i] = v > 0.f ? v : 0.f;
    }
}

// x, y: (n, c, hw) contiguous; run_mean, run_var, gamma, beta: (c)
extern "C" __global__ void bn_eval_relu_f32(const float* x, const float* run_mean, const float* run_var,
                                            const float* gamma, const float* beta, float* y,
                                            int c, int hw, i64 total, float eps) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = (int)((i / hw) % c);
        float inv_std = 1.f / sqrtf(run_var[ch] + eps);
        float v = (x[i] - run_mean[ch]) * inv_std * gamma[ch] + beta[ch];
        y[i] = v > 0.f ? v : 0.f;
    }
}
