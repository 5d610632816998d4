// 2-D pooling on planes of x (planes = n·c, h, w) float32 → y (planes, p, q), PyTorch semantics
// (RefPool; the geometry comes from PoolGeometry: kernel kh×kw, stride sh×sw, padding ph×pw):
//
//   max:  y = max over the window clipped to the input; argmax = hh·w + ww of the first maximum
//         (NaN propagates). Backward: each dx pixel gathers the dy of the windows whose argmax
//         it is — a gather, not an atomicAdd scatter, so overlapping windows add in a fixed order.
//   avg:  y = Σ window / divisor, divisor = the window clipped to the padded input
//         (count_include_pad=True); backward gathers dy/divisor over the windows covering a pixel.
//   global avg: y (planes) = mean of each plane; backward dx = dy/(h·w) broadcast.
//
// Launch: 1-D grid-stride loops, 256 threads, one thread per output (forward) or per input pixel
// (backward). global_avg_pool_forward: one warp per plane (8 planes per 256-thread block), lanes
// striding over the plane and a shuffle tree at the end.
#include "common.cuh"

// The divisor of average pooling at output (i, j) (PoolGeometry.avgDivisor).
static __device__ __forceinline__ int avg_divisor(int i, int j, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
    int h0 = i * sh - ph, w0 = j * sw - pw;
    int h1 = min(h0 + kh, h + ph), w1 = min(w0 + kw, w + pw);
    return (h1 - h0) * (w1 - w0);
}

extern "C" __global__ void max_pool_forward_f32(const float* x, float* y, int* argmax, i64 planes, int h, int w, int p, int q,
                                                int kh, int kw, int sh, int sw, int ph, int pw) {
    GRID_STRIDE_LOOP(o, planes * p * q) {
        i64 plane = o / (p * q);
        int rest = (int)(o - plane * p * q), i = rest / q, j = rest - i * q;
        int h0 = max(i * sh - ph, 0), h1 = min(i * sh - ph + kh, h);
        int w0 = max(j * sw - pw, 0), w1 = min(j * sw - pw + kw, w);
        const float* xp = x + plane * h * w;
        float best = NEG_INF;
        int best_idx = h0 * w + w0;
        for (int hh = h0; hh < h1; ++hh)
            for (int ww = w0; ww < w1; ++ww) {
                float v = xp[hh * w + ww];
                if (v > best || v != v) { best = v; best_idx = hh * w + ww; }
            }
        y[o] = best;
        argmax[o] = best_idx;
    }
}

// The outputs i whose window [i·s − pad, i·s − pad + k) contains input row hh: lo ≤ i < hi.
static __device__ __forceinline__ void windows_covering(int hh, int k, int s, int pad, int out, int* lo, int* hi) {
    int a = hh + pad - k + 1;                  // i·s ≥ a
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = min((hh + pad) / s + 1, out);        // i·s ≤ hh + pad
}

extern "C" __global__ void max_pool_backward_f32(const float* dy, const int* argmax, float* dx, i64 planes, int h, int w, int p, int q,
                                                 int kh, int kw, int sh, int sw, int ph, int pw) {
    GRID_STRIDE_LOOP(e, planes * h * w) {
        i64 plane = e / (h * w);
        int pix = (int)(e - plane * h * w), hh = pix / w, ww = pix - hh * w;
        int i0, i1, j0, j1;
        windows_covering(hh, kh, sh, ph, p, &i0, &i1);
        windows_covering(ww, kw, sw, pw, q, &j0, &j1);
        const float* dyp = dy + plane * p * q;
        const int* ap = argmax + plane * p * q;
        float acc = 0.f;
        for (int i = i0; i < i1; ++i)
            for (int j = j0; j < j1; ++j)
                if (ap[i * q + j] == pix) acc += dyp[i * q + j];
        dx[e] = acc;
    }
}

extern "C" __global__ void avg_pool_forward_f32(const float* x, float* y, i64 planes, int h, int w, int p, int q,
                                                int kh, int kw, int sh, int sw, int ph, int pw) {
    GRID_STRIDE_LOOP(o, planes * p * q) {
        i64 plane = o / (p * q);
        int rest = (int)(o - plane * p * q), i = rest / q, j = rest - i * q;
        int h0 = max(i * sh - ph, 0), h1 = min(i * sh - ph + kh, h);
        int w0 = max(j * sw - pw, 0), w1 = min(j * sw - pw + kw, w);
        const float* xp = x + plane * h * w;
        float sum = 0.f;
        for (int hh = h0; hh < h1; ++hh)
            for (int ww = w0; ww < w1; ++ww) sum += xp[hh * w + ww];
        y[o] = sum / (float)avg_divisor(i, j, h, w, kh, kw, sh, sw, ph, pw);
    }
}

extern "C" __global__ void avg_pool_backward_f32(const float* dy, float* dx, i64 planes, int h, int w, int p, int q,
                                                 int kh, int kw, int sh, int sw, int ph, int pw) {
    GRID_STRIDE_LOOP(e, planes * h * w) {
        i64 plane = e / (h * w);
        int pix = (int)(e - plane * h * w), hh = pix / w, ww = pix - hh * w;
        int i0, i1, j0, j1;
        windows_covering(hh, kh, sh, ph, p, &i0, &i1);
        windows_covering(ww, kw, sw, pw, q, &j0, &j1);
        const float* dyp = dy + plane * p * q;
        float acc = 0.f;
        for (int i = i0; i < i1; ++i)
            for (int j = j0; j < j1; ++j)
                acc += dyp[i * q + j] / (float)avg_divisor(i, j, h, w, kh, kw, sh, sw, ph, pw);
        dx[e] = acc;
    }
}

// One warp per plane: block of 256 threads = 8 planes.
extern "C" __global__ void global_avg_pool_forward_f32(const float* x, float* y, i64 planes, int hw) {
    const int lane = threadIdx.x & 31;
    const i64 plane = (i64)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (plane >= planes) return;  // whole warps leave together
    const float* xp = x + plane * hw;
    float sum = 0.f;
    for (int k = lane; k < hw; k += 32) sum += xp[k];
    sum = warp_sum(sum);
    if (lane == 0) y[plane] = sum / (float)hw;
}

extern "C" __global__ void global_avg_pool_backward_f32(const float* dy, float* dx, i64 planes, int hw) {
    const float inv = 1.f / (float)hw;
    GRID_STRIDE_LOOP(e, planes * hw) { dx[e] = dy[e / hw] * inv; }
}
