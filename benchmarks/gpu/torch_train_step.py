#!/usr/bin/env python3
"""PyTorch side of the GPU training-step comparison (GpuTrainStepBenchmark is the Java side).

The same step, timed the same way: a CIFAR ResNet (RepDistiller's resnet{8,14,20,32,44,56,110},
post-activation BasicBlocks, filters 16/16/32/64), random N(0,1) images and uniform labels,
forward, loss (cross-entropy, or 0.1·CE + 0.9·KD at τ=4 with a frozen teacher), backward, SGD
(momentum 0.9, wd 5e-4); the host clock read after torch.cuda.synchronize() each step; median
and p10/p90 over the measured steps after 10 warm-up steps. FP32, TF32 off, cudnn.benchmark on
(the Java side searches cuDNN algorithms per shape too).

--amp: autocast to bfloat16 (weights and SGD stay float32, as torch.autocast does) and
--channels-last: NHWC memory format for the models and the images; together, PyTorch's usual fast
configuration, to set beside the FP32 eager one.

Usage (on the GPU machine, in the same device call as the Java benchmark):
  python3 benchmarks/gpu/torch_train_step.py --model resnet20 --batch 64 --steps 200 [--teacher resnet56] [--amp] [--channels-last]
"""
import contextlib
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class CifarResNet(nn.Module):
    def __init__(self, depth, classes=100, filters=(16, 16, 32, 64)):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, filters[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(filters[0])
        layers, cin = [], filters[0]
        for stage, cout in enumerate(filters[1:]):
            blocks = []
            for i in range(n):
                blocks.append(BasicBlock(cin, cout, 2 if (i == 0 and stage > 0) else 1))
                cin = cout
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(filters[3], classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.avg_pool2d(x, 8), 1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet20")
    p.add_argument("--teacher", default=None)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--amp", action="store_true", help="autocast to bfloat16")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    torch.manual_seed(0)
    student = CifarResNet(int(a.model.removeprefix("resnet"))).to(dev).train()
    teacher = CifarResNet(int(a.teacher.removeprefix("resnet"))).to(dev).eval() if a.teacher else None
    opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(a.batch, 3, 32, 32, device=dev)
    if a.channels_last:
        student = student.to(memory_format=torch.channels_last)
        teacher = teacher.to(memory_format=torch.channels_last) if teacher is not None else None
        x = x.to(memory_format=torch.channels_last)

    def autocast():
        return torch.autocast("cuda", dtype=torch.bfloat16) if a.amp else contextlib.nullcontext()

    y = torch.randint(0, 100, (a.batch,), device=dev)
    tau = 4.0
    times = []
    for s in range(10 + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        with autocast():
            logits = student(x)
            loss = F.cross_entropy(logits, y)
            if teacher is not None:
                with torch.no_grad():
                    t = teacher(x)
                kd = F.kl_div(F.log_softmax(logits / tau, 1), F.softmax(t / tau, 1), reduction="batchmean") * tau * tau
                loss = 0.1 * loss + 0.9 * kd
        loss.backward()
        opt.step()
        torch.cuda.synchronize()
        if s >= 10:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    med = statistics.median(times)
    print(f"device: {torch.cuda.get_device_name()} (torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()})")
    mode = ("AMP bf16" if a.amp else "fp32 eager") + (" + channels_last" if a.channels_last else "")
    print(f"step: {a.model}" + (f" <- {a.teacher} (0.1*CE + 0.9*KD, tau=4)" if teacher else " (cross-entropy)") + f", batch {a.batch}, {mode}")
    print(f"step ms: median {med:.3f} (p10 {times[len(times) // 10]:.3f}, p90 {times[len(times) * 9 // 10]:.3f}) "
          f"over {a.steps} steps after 10 warm-up; {a.batch / med * 1000:.0f} images/s")


if __name__ == "__main__":
    main()
