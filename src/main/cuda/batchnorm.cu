// Batch normalization over x (n, c, hw) float32, statistics per channel over m = n·hw values
// (PyTorch semantics, as RefNorm):
//
//   training:  μ = Σx/m, σ² = Σ(x−μ)²/m (biased), inv_std = 1/√(σ²+eps)
//              run_mean = (1−momentum)·run_mean + momentum·μ
//              run_var  = (1−momentum)·run_var  + momentum·Σ(x−μ)²/(m−1)   (unbiased)
//   apply:     y = (x − μ)·inv_std·γ + β                 (eval: μ, σ² are the running stats)
//   backward:  x̂ = (x−μ)·inv_std, dβ = Σdy, dγ = Σdy·x̂
//              training: dx = γ·inv_std·(dy − dβ/m − x̂·dγ/m);  eval: dx = γ·inv_std·dy
//   fused ReLU: with relu_out ≠ null the incoming dy is first masked by relu_out > 0, which is
//              the backward of elementwise.cu's bn_apply_relu_f32 (BN-apply + ReLU in one pass).
//
// Launch: the per-channel reductions (stats, backward_reduce) run one block of 256 threads per
// channel, each thread striding over the m values of its channel (consecutive threads read
// consecutive addresses within an h·w plane), accumulating in double and combining in a fixed
// tree: deterministic. The elementwise passes (apply, eval, backward_dx) are 1-D grid-stride
// loops of 256 threads. Few channels (16 in a CIFAR ResNet's first stage) leave SMs idle in the
// reductions; a split-channel variant is future work once measured on the GPU.
#include "common.cuh"

extern "C" __global__ void batchnorm_stats_f32(const float* x, int n, int c, int hw, float momentum, float eps,
                                               float* save_mean, float* save_inv_std, float* run_mean, float* run_var) {
    __shared__ double scratch[32];
    const int ch = blockIdx.x;
    const i64 m = (i64)n * hw;
    double sum = 0.0;
    for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
        i64 i = k / hw, j = k - i * hw;
        sum += (double)x[(i * c + ch) * hw + j];
    }
    const double mean = block_sum(sum, scratch) / (double)m;
    double sq = 0.0;
    for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
        i64 i = k / hw, j = k - i * hw;
        double d = (double)x[(i * c + ch) * hw + j] - mean;
        sq += d * d;
    }
    sq = block_sum(sq, scratch);
    if (threadIdx.x == 0) {
        double var = sq / (double)m;
        save_mean[ch] = (float)mean;
        save_inv_std[ch] = (float)(1.0 / sqrt(var + (double)eps));
        run_mean[ch] = (float)((1.0 - momentum) * run_mean[ch] + momentum * mean);
        run_var[ch] = (float)((1.0 - momentum) * run_var[ch] + momentum * sq / (double)(m - 1));
    }
}

extern "C" __global__ void batchnorm_apply_f32(const float* x, const float* mean, const float* inv_std,
                                               const float* gamma, const float* beta, float* y, int c, int hw, i64 total) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = (int)((i / hw) % c);
        y[i] = (x[i] - mean[ch]) * inv_std[ch] * gamma[ch] + beta[ch];
    }
}

extern "C" __global__ void batchnorm_eval_f32(const float* x, const float* run_mean, const float* run_var,
                                              const float* gamma, const float* beta, float* y, int c, int hw, i64 total, float eps) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = (int)((i / hw) % c);
        float inv_std = 1.f / sqrtf(run_var[ch] + eps);
        y[i] = (x[i] - run_mean[ch]) * inv_std * gamma[ch] + beta[ch];
    }
}

// sum_dy (c) = Σdy, sum_dy_xhat (c) = Σdy·x̂ per channel (dβ and dγ). relu_out may be null.
extern "C" __global__ void batchnorm_backward_reduce_f32(const float* x, const float* dy, const float* relu_out,
                                                         const float* mean, const float* inv_std,
                                                         float* sum_dy, float* sum_dy_xhat, int n, int c, int hw) {
    __shared__ double scratch[32];
    const int ch = blockIdx.x;
    const i64 m = (i64)n * hw;
    const float mu = mean[ch], is = inv_std[ch];
    double s1 = 0.0, s2 = 0.0;
    for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
        i64 i = k / hw, j = k - i * hw;
        i64 idx = (i * c + ch) * hw + j;
        float d = dy[idx];
        if (relu_out && !(relu_out[idx] > 0.f)) d = 0.f;
        s1 += (double)d;
        s2 += (double)d * (double)((x[idx] - mu) * is);
    }
    s1 = block_sum(s1, scratch);
    s2 = block_sum(s2, scratch);
    if (threadIdx.x == 0) {
        sum_dy[ch] = (float)s1;
        sum_dy_xhat[ch] = (float)s2;
    }
}

// training != 0: batch statistics (sums from backward_reduce, inv_m = 1/m); else running ones.
extern "C" __global__ void batchnorm_backward_dx_f32(const float* x, const float* dy, const float* relu_out,
                                                     const float* mean, const float* inv_std, const float* gamma,
                                                     const float* sum_dy, const float* sum_dy_xhat, float* dx,
                                                     int c, int hw, i64 total, float inv_m, int training) {
    GRID_STRIDE_LOOP(i, total) {
        int ch = (int)((i / hw) % c);
        float d = dy[i];
        if (relu_out && !(relu_out[i] > 0.f)) d = 0.f;
        float gs = gamma[ch] * inv_std[ch];
        if (training) {
            float xhat = (x[i] - mean[ch]) * inv_std[ch];
            dx[i] = gs * (d - sum_dy[ch] * inv_m - xhat * sum_dy_xhat[ch] * inv_m);
        } else {
            dx[i] = gs * d;
        }
    }
}
