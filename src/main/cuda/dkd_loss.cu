// Decoupled KD (Zhao et al., CVPR 2022) over rows of (rows, cols) float32 logits with a target
// class g per row (RefDistill has the same formulas in double). With s = softmax(student/τ),
// t = softmax(teacher/τ), s_o = Σ_{j≠g} s_j, and ŝ, t̂ the softmaxes over the classes j ≠ g only:
//
//   TCKD_i = t_g·log(t_g/s_g) + t_o·log(t_o/s_o)        NCKD_i = Σ_{j≠g} t̂_j·log(t̂_j/ŝ_j)
//   loss   = τ²/rows · Σ_i (α·TCKD_i + β·NCKD_i)          (0·log 0 = 0, as PyTorch's kl_div)
//   dz_g   = g·τ/rows · (−α·(s_o − t_o))
//   dz_j   = g·τ/rows · (α·ŝ_j·(s_o − t_o) + β·(ŝ_j − t̂_j))   for j ≠ g
//
// Precision: s_o is never formed as 1 − s_g (a confident teacher has t_o ≈ 1e-5, where 1 − t_g
// in float keeps three digits). Instead, with lse = log Σ_j exp(z_j/τ) and
// lse_hat = log Σ_{j≠g} exp(z_j/τ):  log s_o = lse_hat − lse  and  log ŝ_j = z_j/τ − lse_hat.
//
// Launch: one block per row, ROW_THREADS = 128 (see softmax.cu); per-row losses are summed by
// reduce.cu's sum_rows_final_f32 in a fixed order. A label outside [0, cols) gives NaN.
#include "common.cuh"

// The two log-normalizers of one row z·inv_tau: over all classes (lse) and without the target (lse_hat).
struct DkdNormalizers {
    float lse;
    float lse_hat;
};

static __device__ DkdNormalizers dkd_normalizers(const float* z, int cols, int target, float inv_tau, float* scratch) {
    float m_hat = NEG_INF;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) if (j != target) m_hat = fmaxf(m_hat, z[j] * inv_tau);
    m_hat = block_max(m_hat, scratch);
    const float zg = z[target] * inv_tau;
    const float m = fmaxf(m_hat, zg);
    float sum_hat = 0.f, sum_hat_at_m = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        if (j == target) continue;
        float v = z[j] * inv_tau;
        sum_hat += expf(v - m_hat);
        sum_hat_at_m += expf(v - m);
    }
    sum_hat = block_sum(sum_hat, scratch);
    sum_hat_at_m = block_sum(sum_hat_at_m, scratch);
    DkdNormalizers r;
    r.lse = m + logf(sum_hat_at_m + expf(zg - m));
    r.lse_hat = m_hat + logf(sum_hat);
    return r;
}

// p·(log p − log q), 0 where p = 0
static __device__ __forceinline__ float kl_term(float p, float log_p, float log_q) {
    return p == 0.f ? 0.f : p * (log_p - log_q);
}

extern "C" __global__ void dkd_loss_rows_f32(const float* student, const float* teacher, const int* labels, float* row_loss,
                                             int cols, float inv_tau, float alpha, float beta) {
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * cols;
    const float* s = student + base;
    const float* t = teacher + base;
    const int g = labels[blockIdx.x];
    if (g < 0 || g >= cols) {
        if (threadIdx.x == 0) row_loss[blockIdx.x] = QUIET_NAN;
        return;  // the whole block leaves together: no barrier is skipped by part of it
    }
    const DkdNormalizers ns = dkd_normalizers(s, cols, g, inv_tau, scratch);
    const DkdNormalizers nt = dkd_normalizers(t, cols, g, inv_tau, scratch);
    float nckd = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        if (j == g) continue;
        float lt_hat = t[j] * inv_tau - nt.lse_hat, ls_hat = s[j] * inv_tau - ns.lse_hat;
        nckd += kl_term(expf(lt_hat), lt_hat, ls_hat);
    }
    nckd = block_sum(nckd, scratch);
    if (threadIdx.x == 0) {
        float ls_g = s[g] * inv_tau - ns.lse, lt_g = t[g] * inv_tau - nt.lse;
        float ls_o = ns.lse_hat - ns.lse, lt_o = nt.lse_hat - nt.lse;
        float tckd = kl_term(expf(lt_g), lt_g, ls_g) + kl_term(expf(lt_o), lt_o, ls_o);
        row_loss[blockIdx.x] = alpha * tckd + beta * nckd;
    }
}

// tau_over_rows = τ/rows; g: the loss's incoming gradient (one element).
extern "C" __global__ void dkd_loss_backward_f32(const float* student, const float* teacher, const int* labels, const float* g,
                                                 float* d_student, int cols, float inv_tau, float alpha, float beta, float tau_over_rows) {
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * cols;
    const float* s = student + base;
    const float* t = teacher + base;
    const int target = labels[blockIdx.x];
    if (target < 0 || target >= cols) {
        for (int j = threadIdx.x; j < cols; j += blockDim.x) d_student[base + j] = QUIET_NAN;
        return;
    }
    const float scale = g[0] * tau_over_rows;
    const DkdNormalizers ns = dkd_normalizers(s, cols, target, inv_tau, scratch);
    const DkdNormalizers nt = dkd_normalizers(t, cols, target, inv_tau, scratch);
    const float d = expf(ns.lse_hat - ns.lse) - expf(nt.lse_hat - nt.lse);  // s_o − t_o
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float v;
        if (j == target) {
            v = -alpha * d;
        } else {
            float s_hat = expf(s[j] * inv_tau - ns.lse_hat), t_hat = expf(t[j] * inv_tau - nt.lse_hat);
            v = alpha * s_hat * d + beta * (s_hat - t_hat);
        }
        d_student[base + j] = scale * v;
    }
}
