// Softmax at a temperature and cross-entropy over rows of (rows, cols) float32 logits.
//
//   lse(z/T)       = max + log Σ_j exp(z_j/T − max)
//   log_softmax_j  = z_j/T − lse               softmax_j = exp(log_softmax_j)
//   backward (T):  softmax:     dx = y·(dy − Σ dy·y)/T
//                  log_softmax: dx = (dy − exp(y)·Σ dy)/T
//   cross-entropy with label smoothing ε, C classes, target label l (per row):
//                  loss_i = −(1−ε)·lp_l − ε/C·Σ_j lp_j
//                  dz_j   = g/rows · (p_j − (1−ε)·[j = l] − ε/C)
//   A label outside [0, C) gives NaN (the host backends throw; a kernel cannot, so it is loud).
//
// Launch: one block per row, ROW_THREADS = 128 threads striding over the columns (rows here are
// 10–1000 classes: 4 warps keep every thread busy and the block reductions short). Per-row loss
// values go to a buffer that reduce.cu's sum_rows_final_f32 adds in a fixed order.
#include "common.cuh"

extern "C" __global__ void softmax_forward_f32(const float* x, float* y, int cols, float inv_t, int log_output) {
    __shared__ float scratch[32];
    const float* z = x + (i64)blockIdx.x * cols;
    float* out = y + (i64)blockIdx.x * cols;
    const float lse = row_lse(z, cols, inv_t, scratch);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float lp = z[j] * inv_t - lse;
        out[j] = log_output ? lp : expf(lp);
    }
}

extern "C" __global__ void softmax_backward_f32(const float* y, const float* dy, float* dx, int cols, float inv_t, int log_output) {
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * cols;
    float dot = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) dot += log_output ? dy[base + j] : dy[base + j] * y[base + j];
    dot = block_sum(dot, scratch);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float yj = y[base + j], d = dy[base + j];
        float dz = log_output ? d - expf(yj) * dot : yj * (d - dot);
        dx[base + j] = dz * inv_t;
    }
}

extern "C" __global__ void cross_entropy_rows_f32(const float* logits, const int* labels, float* row_loss, int cols, float smoothing) {
    __shared__ float scratch[32];
    const float* z = logits + (i64)blockIdx.x * cols;
    const int label = labels[blockIdx.x];
    const float lse = row_lse(z, cols, 1.f, scratch);
    float lp_sum = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) lp_sum += z[j] - lse;
    lp_sum = block_sum(lp_sum, scratch);
    if (threadIdx.x == 0) {
        if (label < 0 || label >= cols) {
            row_loss[blockIdx.x] = QUIET_NAN;
        } else {
            float lp_label = z[label] - lse;
            row_loss[blockIdx.x] = -(1.f - smoothing) * lp_label - smoothing / cols * lp_sum;
        }
    }
}

extern "C" __global__ void cross_entropy_backward_f32(const float* logits, const int* labels, const float* g, float* dlogits,
                                                      int cols, float smoothing, float inv_rows) {
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * cols;
    const int label = labels[blockIdx.x];
    const float scale = g[0] * inv_rows;
    const float lse = row_lse(logits + base, cols, 1.f, scratch);
    const bool bad = label < 0 || label >= cols;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float target = (j == label ? 1.f - smoothing : 0.f) + smoothing / cols;
        dlogits[base + j] = bad ? QUIET_NAN : scale * (expf(logits[base + j] - lse) - target);
    }
}
