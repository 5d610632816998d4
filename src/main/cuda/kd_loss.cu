// Hinton's distillation loss over rows of (rows, cols) float32 logits, student s and teacher t,
// at temperature τ (RefSoftmaxLoss has the same formulas in double):
//
//   ls = log_softmax(s/τ), lt = log_softmax(t/τ), pt = exp(lt), ps = exp(ls)
//   KL_i   = Σ_j pt_j·(lt_j − ls_j)                  loss = τ²/rows · Σ_i KL_i
//   dS     = g·τ/rows · (ps − pt)                    dT   = g·τ/rows · pt·((lt − ls) − KL_i)
//
// kd_ce_fused_f32 is KD_CE_LOSS, a KD step's whole logit loss, over each row in one kernel:
//   loss_i = w_ce·CE(s_i, label_i) + w_kd·τ²·KL_i     (the host averages over rows)
//   dS     = g/rows · (w_ce·(softmax(s) − onehot) + w_kd·τ·(ps − pt))
// i.e. both softmaxes at τ, the plain softmax for CE, the KL, the CE and the gradient w.r.t. the
// student logits from one read of each row; the forward asks for the losses, the backward for dS
// (either output may be null; g null means 1). An out-of-range label gives NaN.
//
// Launch: one block per row, ROW_THREADS = 128 (see softmax.cu); per-row values go to a buffer
// summed by reduce.cu's sum_rows_final_f32 in a fixed order.
#include "common.cuh"

// Σ_j pt_j·(lt_j − ls_j) of one row, in every thread.
static __device__ float kd_row_kl(const float* s, const float* t, int cols, float inv_tau, float lse_s, float lse_t, float* scratch) {
    float kl = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float lt = t[j] * inv_tau - lse_t, ls = s[j] * inv_tau - lse_s;
        kl += expf(lt) * (lt - ls);
    }
    return block_sum(kl, scratch);
}

extern "C" __global__ void kd_loss_rows_f32(const float* student, const float* teacher, float* row_kl, int cols, float inv_tau) {
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * cols;
    const float* s = student + base;
    const float* t = teacher + base;
    const float lse_s = row_lse(s, cols, inv_tau, scratch);
    const float lse_t = row_lse(t, cols, inv_tau, scratch);
    const float kl = kd_row_kl(s, t, cols, inv_tau, lse_s, lse_t, scratch);
    if (threadIdx.x == 0) row_kl[blockIdx.x] = kl;
}

// d_student and d_teacher may each be null (not wanted). tau_over_rows = τ/rows.
extern "C" __global__ void kd_loss_backward_f32(const float* student, const float* teacher, const float* g,
                                                float* d_student, float* d_teacher, int cols, float inv_tau, float tau_over_rows) {
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * cols;
    const float* s = student + base;
    const float* t = teacher + base;
    const float scale = g[0] * tau_over_rows;
    const float lse_s = row_lse(s, cols, inv_tau, scratch);
    const float lse_t = row_lse(t, cols, inv_tau, scratch);
    const float kl = d_teacher ? kd_row_kl(s, t, cols, inv_tau, lse_s, lse_t, scratch) : 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float ls = s[j] * inv_tau - lse_s, lt = t[j] * inv_tau - lse_t;
        float pt = expf(lt);
        if (d_student) d_student[base + j] = scale * (expf(ls) - pt);
        if (d_teacher) d_teacher[base + j] = scale * pt * ((lt - ls) - kl);
    }
}

// Fused KD + CE loss and student gradient (see the top). row_loss: (rows); d_student: (rows, cols).
extern "C" __global__ void kd_ce_fused_f32(const float* student, const float* teacher, const int* labels, const float* g,
                                           float* row_loss, float* d_student, int cols, float tau,
                                           float kd_weight, float ce_weight, float inv_rows) {
    __shared__ float scratch[32];
    const i64 base = (i64)blockIdx.x * cols;
    const float* s = student + base;
    const float* t = teacher + base;
    const int label = labels[blockIdx.x];
    const bool bad = label < 0 || label >= cols;
    const float inv_tau = 1.f / tau;
    const float lse_s_tau = row_lse(s, cols, inv_tau, scratch);
    const float lse_t_tau = row_lse(t, cols, inv_tau, scratch);
    const float lse_s = row_lse(s, cols, 1.f, scratch);
    const float kl = row_loss ? kd_row_kl(s, t, cols, inv_tau, lse_s_tau, lse_t_tau, scratch) : 0.f;
    const float scale = (g ? g[0] : 1.f) * inv_rows;
    for (int j = threadIdx.x; d_student && j < cols; j += blockDim.x) {
        float ps_tau = expf(s[j] * inv_tau - lse_s_tau), pt_tau = expf(t[j] * inv_tau - lse_t_tau);
        float p = expf(s[j] - lse_s);
        float d = ce_weight * (p - (j == label ? 1.f : 0.f)) + kd_weight * tau * (ps_tau - pt_tau);
        d_student[base + j] = bad ? QUIET_NAN : d * scale;
    }
    if (row_loss && threadIdx.x == 0) {
        float ce = bad ? QUIET_NAN : lse_s - s[label];
        row_loss[blockIdx.x] = ce_weight * ce + kd_weight * tau * tau * kl;
    }
}
