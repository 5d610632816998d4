"""PyTorch side of the training-step benchmark (TrainStepBench): images/s of one SGD step.

Runs with PyTorch 2.13 (the anchor: `python3 -m pip install torch==2.13.0+cpu`, default python3)
or Debian's 1.13 (/usr/bin/python3, an extra column), from the repository root or anywhere:
    python3 benchmarks/pytorch_train_step.py                       # the default grid, every variant
    python3 benchmarks/pytorch_train_step.py --models resnet20 --inputs 1x32x32 --variants nchw,channels_last

One step = forward + cross-entropy + backward + SGD (momentum 0.9, weight decay 5e-4, lr 0.05)
+ zero_grad, on a fixed random batch (uniform [-1, 1) images, random labels), model in train
mode (batch-norm statistics), exactly what TrainStepBench times on our engine. Variants (--variants): memory format NCHW or
channels_last, each eager or under torch.compile (PyTorch 2 only; the compile happens in the
warm-up steps, which are not timed); the comparison takes the best variant. The models are
the zoo's PyTorch definitions from scripts/golden/make_model_fixtures.py (same module layout as
RepDistiller's). A model named kd:TEACHER:STUDENT is one knowledge-distillation step instead, as
TrainStepBench's: the frozen teacher (eval mode, no_grad) on the batch, the student's forward,
0.1·CE + 0.9·τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) at τ = 4, backward and SGD over the student
(channels_last and torch.compile apply to both networks). Each configuration: warm-up steps, then the median over timed steps; printed
as one CSV line per configuration: model,input,batch,classes,threads,variant,median_ms,img_per_s.
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "golden"))
from make_model_fixtures import build  # noqa: E402  (the zoo in PyTorch)

DEFAULT_MODELS = ["resnet20", "resnet8", "wrn_16_2", "resnet56"]
DEFAULT_INPUTS = ["1x32x32", "3x32x32"]


def classes_for(c):
    """Fashion-MNIST (1 channel) has 10 classes, CIFAR-100 (3 channels) 100: as in TrainStepBench."""
    return 10 if c == 1 else 100


VARIANTS = ["nchw", "channels_last", "compile_nchw", "compile_channels_last"]


def available_variants():
    """Every variant this torch can run: torch.compile exists from PyTorch 2.0."""
    return [v for v in VARIANTS if not v.startswith("compile") or hasattr(torch, "compile")]


def kd_loss(s, t, y, tau=4.0):
    """0.1·CE + 0.9·τ²·KL(softmax(t/τ) ‖ softmax(s/τ)), batch mean: our KD's CIFAR recipe."""
    kl = F.kl_div(F.log_softmax(s / tau, dim=1), F.softmax(t / tau, dim=1), reduction="batchmean")
    return 0.1 * F.cross_entropy(s, y) + 0.9 * tau * tau * kl


def make_step(model_name, chw, batch, seed, variant):
    """One training step of the workload as a function of no arguments (model, batch and optimizer built here)."""
    c, h, w = chw
    classes = classes_for(c)
    torch.manual_seed(seed)
    parts = model_name.split(":")
    teacher = None
    if len(parts) == 3:
        if parts[0] != "kd":
            raise SystemExit("pytorch_train_step.py: only kd:TEACHER:STUDENT workloads have a PyTorch anchor, not " + model_name)
        teacher = build(parts[1], classes, c, h).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
        model_name = parts[2]
    model = build(model_name, classes, c, h)
    model.train()
    x = torch.rand(batch, c, h, w) * 2 - 1
    y = torch.randint(0, classes, (batch,))
    if variant.endswith("channels_last"):
        model = model.to(memory_format=torch.channels_last)
        if teacher is not None:
            teacher = teacher.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    forward = torch.compile(model) if variant.startswith("compile") else model
    teacher_forward = (torch.compile(teacher) if variant.startswith("compile") else teacher) if teacher is not None else None

    def step():
        logits = forward(x)
        if teacher_forward is None:
            loss = F.cross_entropy(logits, y)
        else:
            with torch.no_grad():
                t = teacher_forward(x)
            loss = kd_loss(logits, t, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)
        return loss

    return step


def bench(model_name, chw, batch, warmup, steps, seed, variant):
    step = make_step(model_name, chw, batch, seed, variant)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def serve(models, chw, batch, seed, variants):
    """Blocks of steps on request, for compare_train_interleaved.sh (same protocol as our TrainStepServe):
    prints 'ready' once every (model, variant) is built; then per stdin line 'MODEL/VARIANT N' runs N
    steps and prints 'MODEL/VARIANT t1 ... tN' (ms each); 'quit' or end of input ends it. torch.compile
    compiles in the first steps asked for: the driver's warm-up."""
    steps = {"%s/%s" % (m, v): make_step(m, chw, batch, seed, v) for m in models for v in variants}
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if len(words) != 2 or words[0] not in steps or not words[1].isdigit():
            print("error: expected 'MODEL/VARIANT N' with MODEL/VARIANT one of %s, got %r" % (sorted(steps), line.strip()), flush=True)
            continue
        step, times = steps[words[0]], []
        for _ in range(int(words[1])):
            t0 = time.perf_counter()
            step()
            times.append("%.3f" % ((time.perf_counter() - t0) * 1e3))
        print(words[0], " ".join(times), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--inputs", default=",".join(DEFAULT_INPUTS), help="C x H x W, comma separated")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--steps", type=int, default=30, help="timed steps (median; at least 20)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--variants", default="all", help="comma separated among " + ",".join(VARIANTS)
                    + "; 'all' = every one this torch supports")
    ap.add_argument("--serve", action="store_true", help="run blocks of steps on request (compare_train_interleaved.sh); "
                    "one input only")
    args = ap.parse_args()
    if args.steps < 20:
        ap.error("--steps must be at least 20 (the median of fewer is too noisy)")
    variants = available_variants() if args.variants == "all" else args.variants.split(",")
    for v in variants:
        if v not in available_variants():
            ap.error("variant %s is not one of %s (for torch %s)" % (v, available_variants(), torch.__version__))
    torch.set_num_threads(args.threads)
    if args.serve:
        serve(args.models.split(","), tuple(int(v) for v in args.inputs.split(",")[0].lower().split("x")), args.batch, args.seed, variants)
        return
    print("# torch %s, %d threads, batch %d, %d warm-up + %d timed steps (median)"
          % (torch.__version__, torch.get_num_threads(), args.batch, args.warmup, args.steps), flush=True)
    print("model,input,batch,classes,threads,variant,median_ms,img_per_s", flush=True)
    for name in args.models.split(","):
        for spec in args.inputs.split(","):
            chw = tuple(int(v) for v in spec.lower().split("x"))
            for variant in variants:
                t = bench(name, chw, args.batch, args.warmup, args.steps, args.seed, variant)
                print("%s,%s,%d,%d,%d,%s,%.2f,%.1f" % (name, spec, args.batch, classes_for(chw[0]), args.threads, variant,
                                                       t * 1e3, args.batch / t), flush=True)


if __name__ == "__main__":
    main()
