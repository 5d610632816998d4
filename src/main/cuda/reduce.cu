// Reductions over contiguous float32 buffers, deterministic (NOTES.md, Note [Determinism]).
//
//   Σ x              sum_partials_f32 → sum_final_f32
//   Σ (a − b)²       sum_sq_diff_partials_f32 → sum_final_f32      (MSE: scale = 1/n)
//   out[j] = Σ_i x[i, j] over rows of x (rows, cols)   sum_rows_f32  (linear-layer bias gradients)
//
// Launch: a full sum is two passes — the host (CudaReduce) launches P blocks of 256 threads (P
// depends on n only, at most 1024), each writes one double partial; then one block of 1024 threads adds the
// P partials in a fixed tree and writes out[0] = scale·Σ. Accumulating in double costs nothing
// here (memory bound) and keeps long sums of floats close to the reference.
// sum_rows_final_f32 finishes the per-row losses of softmax.cu, kd_loss.cu and dkd_loss.cu the same way.
//
// sum_rows_f32 launch: one thread per column walking down the rows in order — reads are coalesced
// across the threads of a warp (neighbouring columns), and each column's order is fixed.
#include "common.cuh"

// 256 threads a block for the partial passes; the final pass uses 1024 (must match the host).
extern "C" __global__ void sum_partials_f32(const float* x, i64 n, double* partials) {
    __shared__ double scratch[32];
    double acc = 0.0;
    GRID_STRIDE_LOOP(i, n) acc += (double)x[i];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

extern "C" __global__ void sum_sq_diff_partials_f32(const float* a, const float* b, i64 n, double* partials) {
    __shared__ double scratch[32];
    double acc = 0.0;
    GRID_STRIDE_LOOP(i, n) {
        double d = (double)a[i] - (double)b[i];
        acc += d * d;
    }
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// One block. partials: count doubles; out[0] = scale · Σ partials.
extern "C" __global__ void sum_final_f32(const double* partials, int count, double scale, float* out) {
    __shared__ double scratch[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) out[0] = (float)(acc * scale);
}

// Per-row float values (losses) summed the same way: out[0] = scale · Σ rows. One block.
extern "C" __global__ void sum_rows_final_f32(const float* row_values, int count, double scale, float* out) {
    __shared__ double scratch[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += (double)row_values[i];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) out[0] = (float)(acc * scale);
}

// x (rows, cols) → out (cols). 1-D grid over columns, 256 threads.
extern "C" __global__ void sum_rows_f32(const float* x, int rows, int cols, float* out) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    double acc = 0.0;
    for (int i = 0; i < rows; ++i) acc += (double)x[(i64)i * cols + j];
    out[j] = (float)acc;
}

// Top-k hits of logits (rows, cols) against int labels (rows): out[0] = top-1 hits, out[1] =
// top-k hits. One block of 1024 threads (a metric, read once per step at most): thread t walks
// rows t, t+1024, …, then the block adds the counts (block_sum, a fixed tree: deterministic, and
// nothing to zero first). A label's rank counts the classes ahead of it (a higher score, or an
// equal one at a lower index: PyTorch's topk order); a row with a NaN or an out-of-range label is
// a miss. Counts ≤ rows, exact in float up to 2^24.
extern "C" __global__ void topk_hits_f32(const float* logits, const int* labels, int rows, int cols, int k, float* out) {
    __shared__ double scratch[32];
    double top1 = 0.0, topk = 0.0;
    for (int i = threadIdx.x; i < rows; i += blockDim.x) {
        int y = labels[i];
        if (y < 0 || y >= cols) continue;
        const float* row = logits + (i64)i * cols;
        float target = row[y];
        int ahead = 0;
        bool nan = false;
        for (int c = 0; c < cols; ++c) {
            float v = row[c];
            if (isnan(v)) { nan = true; break; }
            if (v > target || (v == target && c < y)) ++ahead;
        }
        if (nan) continue;
        if (ahead == 0) top1 += 1.0;
        if (ahead < k) topk += 1.0;
    }
    top1 = block_sum(top1, scratch);
    topk = block_sum(topk, scratch);
    if (threadIdx.x == 0) {
        out[0] = (float)top1;
        out[1] = (float)topk;
    }
}
