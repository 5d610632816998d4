#!/usr/bin/env python3
"""PyTorch side of the fused KD loss measurement (GpuKdLossBenchmark is the Java side).

The logit loss of a KD step, 0.1*CE(s, y) + 0.9*tau^2*KL(softmax(t/tau) || softmax(s/tau)) at
tau=4, forward and backward w.r.t. the student logits, over rows x classes float32 logits
(default 8192 x 1000, N(0, 2^2), uniform labels), against a device-to-device copy of the
logits: median of 20 runs timed with CUDA events after 3 warm-ups. Bytes as on the Java side
(fwd+bwd: read s and t twice, write dS once = 5 tensors), so GB/s compare directly.

Usage (on the GPU machine): python3 benchmarks/gpu/torch_kd_loss.py [--rows 8192] [--classes 1000]
"""
import argparse
import statistics

import torch
import torch.nn.functional as F


def median_ms(fn, warmup=3, reps=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=8192)
    p.add_argument("--classes", type=int, default=1000)
    a = p.parse_args()
    dev = torch.device("cuda")
    torch.manual_seed(0)
    s = (2 * torch.randn(a.rows, a.classes, device=dev)).requires_grad_()
    t = 2 * torch.randn(a.rows, a.classes, device=dev)
    y = torch.randint(0, a.classes, (a.rows,), device=dev)
    out = torch.empty_like(t)
    tau = 4.0
    f = 4 * a.rows * a.classes

    def loss_fwd_bwd():
        ce = F.cross_entropy(s, y)
        kd = F.kl_div(F.log_softmax(s / tau, 1), F.softmax(t / tau, 1), reduction="batchmean") * tau * tau
        (0.1 * ce + 0.9 * kd).backward()
        s.grad = None

    copy_ms = median_ms(lambda: out.copy_(t))
    copy_gbs = 2 * f / copy_ms / 1e6
    loss_ms = median_ms(loss_fwd_bwd)
    gbs = 5 * f / loss_ms / 1e6
    print(f"device: {torch.cuda.get_device_name()} (torch {torch.__version__}); logits {a.rows} x {a.classes} float32")
    print(f"torch copy_ (D2D)                 {copy_ms:.4f} ms  {copy_gbs:.1f} GB/s")
    print(f"torch CE + KD fwd+bwd (eager)     {loss_ms:.4f} ms  {gbs:.1f} GB/s  {100 * gbs / copy_gbs:.0f} % of copy")


if __name__ == "__main__":
    main()
