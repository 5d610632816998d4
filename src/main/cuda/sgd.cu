// One SGD step over a whole parameter slab (params, grads and the momentum buffer are three
// float32 slabs of n elements with one layout: NOTES.md, Note [Parameter slabs]). PyTorch
// semantics with dampening 0, per element (RefOptimizer):
//
//   d   = grad + weight_decay·p
//   buf = momentum·buf + d
//   p  -= lr · (nesterov ? d + momentum·buf : buf)
//
// Launch: one launch for every parameter of the model — a 1-D grid-stride loop of 256 threads,
// grid = min(ceil(n / 256), 65535·8). Each element is independent, so the result does not depend
// on the grid. The step is memory bound (4 reads + 2 writes of 4 bytes per element).
#include "common.cuh"

extern "C" __global__ void sgd_step_f32(float* params, const float* grads, float* momentum_buf, i64 n,
                                        float lr, float momentum, float weight_decay, int nesterov) {
    GRID_STRIDE_LOOP(i, n) {
        float p = params[i];
        float d = grads[i] + weight_decay * p;
        float buf = momentum * momentum_buf[i] + d;
        momentum_buf[i] = buf;
        params[i] = p - lr * (nesterov ? d + momentum * buf : buf);
    }
}
