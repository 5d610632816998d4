"""Writes the training-step golden fixtures, src/test/resources/golden/steps-v1/, from PyTorch.

Run from the repository root with Debian's PyTorch (1.13, CPU; not a pyenv python):
    /usr/bin/python3 scripts/golden/make_step_fixtures.py
The output is deterministic (same bytes on every run). TrainStepGoldenTest and
ModelBackwardTest (src/test/java/org/stablekd/models) read it and never need PyTorch.

The networks are make_model_fixtures.py's (RepDistiller / torchvision module paths, so the
state_dict() names are the reference names), started from its deterministic fill_state()
(reproduced bit for bit by ModelFill.java, so no weights are stored). The teacher of the KD case
is filled with every name prefixed by "teacher." so that it does not share the student's values.
Inputs are hash_uniform(name, N·C·H·W) reshaped to (N,C,H,W) (also ModelFill's formula), name
"input", "input.1", "input.2", ...: the first whose differentiated forwards keep every ReLU input
and max-pool choice at least KINK_MARGIN (in units of its channel's standard deviation) from its
kink (KinkMonitor: otherwise float32 rounding decides a ReLU's gradient, and the fixture tests
luck). The name is in the metadata (input_name), with the margin reached (kink_margin). Labels
are stored.

Everything is computed in float64 (filled in float32 first, so the start is float32-exact) and
stored as float32: the fixtures are the exact answer for the float32 start, not PyTorch's own
float32 rounding. The script prints how far PyTorch's float32 run is from it, per kind of tensor
and on the Java tests' scale, as the yardstick for stablekd's tolerances (testing/Tolerance.java).

Storage: a tensor of at most FULL_MAX elements is stored whole under its key. A larger one is
stored as SAMPLES elements of its flattened form, at indices (k·SAMPLE_PRIME) mod n for
k = 0..SAMPLES−1 (distinct: the prime divides no tensor size, checked), plus, under
"stats.<key>", float64 [RMS, max |x|] of the whole tensor (each is within any elementwise bound
that holds for every element, so a test compares them at its elementwise tolerance). These three
numbers are also in every file's metadata (full_max, samples, sample_prime). A whole resnet8
gradient is 312 KB and vgg8's 16 MB; sampled, all eight files are about 530 KB.

Files (metadata: format, case, model, classes, input "CxHxW", batch, input_name, kink_margin,
torch_version, computed_in, full_max, samples, sample_prime, and the case's hyperparameters):
  sgd_resnet8.safetensors   two SGD steps of resnet8 (10 classes, 3x32x32, batch 8, train mode),
      CE loss; torch.optim.SGD(lr, momentum, weight_decay, nesterov=False, dampening 0) as in the
      metadata. labels; for s in 1, 2: step<s>.loss (float64 scalar), step<s>.grad.<param>
      (gradient of that step's loss, before weight decay), step<s>.param.<param> (after the
      step), step<s>.momentum.<param> (SGD momentum buffer after the step), step<s>.buffer.<bn
      buffer> (running_mean, running_var, num_batches_tracked after the step).
  kd_resnet20_resnet8.safetensors   one KD step: teacher resnet20 (eval, no grad), student
      resnet8 (train), loss = ce_weight·CE + kd_weight·τ²·KL(softmax(t/τ) ‖ softmax(s/τ))
      (batchmean), SGD as above. labels, loss, loss.ce, loss.kd (weighted terms, float64),
      teacher_logits, grad.<param>, param.<param>, momentum.<param>, buffer.<student bn buffer>,
      teacher.<every teacher state entry after the step> (unchanged).
  backward_<model>.safetensors   one train-mode forward + backward of CE on a batch of 2 with
      labels (3, 7): labels, loss, grad.input, grad.<param>, buffer.<bn buffer> after it.

Changing a fixture's meaning means a new directory (steps-v2), not an edit.
"""
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_fixtures as zoo  # noqa: E402  (the PyTorch zoo and fill_state)
import safetensors_io  # noqa: E402

OUT_DIR = os.path.join("src", "test", "resources", "golden", "steps-v1")
FORMAT = "stablekd-golden-steps-v1"
FULL_MAX = 64
SAMPLES = 64
FLOOR = 1e-2   # the Java tests' scale floor for a structurally zero gradient (see StepFixture.compareAll)
SAMPLE_PRIME = 1000003

KINK_MARGIN = 5e-6   # see KinkMonitor
MAX_SALT = 2000

LR, MOMENTUM, WEIGHT_DECAY = 0.05, 0.9, 5e-4
CE_WEIGHT, KD_WEIGHT, TAU = 0.1, 0.9, 4.0
LABELS8 = [3, 7, 0, 9, 1, 5, 2, 8]

# (model, (C, H, W)) of ModelBackwardTest: one of every block type
BACKWARD_CASES = [
    ("resnet8", (3, 32, 32)),
    ("wrn_16_1", (3, 32, 32)),
    ("mobile_half", (3, 32, 32)),
    ("ShuffleV1", (1, 28, 28)),
    ("ShuffleV2", (1, 28, 28)),
    ("vgg8", (1, 28, 28)),
]


# ====================================================================== kinks

class KinkMonitor:
    """Watches every ReLU and max pool of a float64 forward that will be differentiated.

    float32 decides which side of a kink a value near it lands on: a ReLU input within rounding
    of 0 (or two max-pool candidates within rounding of each other) is counted by one
    implementation and dropped by another, and that element's whole upstream gradient moves
    (a resnet8 at batch 8 from input "input" has a layer1.0.bn1 output of 1.2e-7·std: stablekd's
    float32 and PyTorch's land on opposite sides, and layer1.0's gradients move by 1 %). So the
    generator picks an input whose smallest distance to any kink, in units of the standard
    deviation of the channel it is in, is at least KINK_MARGIN. Exact zeros are left out: a
    ReLU of an average of zeros is 0 in every precision, and its gradient is 0 either way.
    """

    def __init__(self):
        self.margin, self.where = math.inf, None
        self.count = 0

    def _note(self, distance, x, what):
        d = distance.detach()
        if d.dim() == 4:
            std = x.detach().std(dim=(0, 2, 3), keepdim=True).expand_as(d)
        elif d.dim() == 2:
            std = x.detach().std(dim=0, keepdim=True).expand_as(d)
        else:
            std = torch.full_like(d, x.detach().std().item())
        keep = d != 0
        self.count += int(keep.sum())
        if keep.any():
            r = (d[keep] / std[keep].clamp_min(1e-30)).min().item()
            if r < self.margin:
                self.margin, self.where = r, what

    def __enter__(self):
        self._relu, self._max_pool2d = F.relu, F.max_pool2d
        monitor = self

        def relu(x, inplace=False):
            if torch.is_grad_enabled() and x.requires_grad and x.dtype == torch.float64:
                monitor._note(x.abs(), x, "relu %s" % (tuple(x.shape),))
            return monitor._relu(x, inplace=inplace)

        def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
            if torch.is_grad_enabled() and x.requires_grad and x.dtype == torch.float64:
                if padding != 0 or dilation != 1 or ceil_mode:
                    raise NotImplementedError("kink check of a padded / dilated / ceil max pool")
                k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
                st = k if stride is None else (stride if isinstance(stride, int) else stride[0])
                n, c = x.shape[:2]
                win = F.unfold(x.detach(), k, stride=st).view(n, c, k * k, -1)
                top = win.topk(2, dim=2).values
                gap = (top[:, :, 0] - top[:, :, 1]) * (top[:, :, 0] > 0)   # windows of zeros: harmless
                monitor._note(gap.unsqueeze(-1), x, "max_pool2d %s" % (tuple(x.shape),))
            return monitor._max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)

        F.relu, F.max_pool2d = relu, max_pool2d
        return self

    def __exit__(self, *exc):
        F.relu, F.max_pool2d = self._relu, self._max_pool2d


# ====================================================================== building blocks

def filled(name, cin, h, dtype, prefix=""):
    """A zoo model (10 classes) filled in float32 by fill_state's formula, then cast to dtype."""
    m = zoo.build(name, 10, cin, h)
    with torch.no_grad():
        for key, t in m.state_dict().items():
            v = zoo.fill_values(prefix + key, tuple(t.shape))
            t.copy_(torch.from_numpy(v.reshape(t.shape)).to(t.dtype))
    return m.to(dtype)


def input_name(salt):
    return "input" if salt == 0 else "input.%d" % salt


def input_batch(n, c, h, w, dtype, salt=0):
    v = zoo.hash_uniform(input_name(salt), n * c * h * w).astype(np.float32)  # multiples of 2^-23: exact
    return torch.from_numpy(v.reshape(n, c, h, w)).to(dtype)


def bn_buffers(model):
    return {k: t for k, t in model.state_dict().items()
            if k.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")}


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY,
                           nesterov=False, dampening=0)


def record_params(out, prefix, model, opt):
    for k, p in model.named_parameters():
        out[prefix + "param." + k] = p.detach().clone()
    for k, p in model.named_parameters():
        out[prefix + "momentum." + k] = opt.state[p]["momentum_buffer"].clone()
    for k, t in bn_buffers(model).items():
        out[prefix + "buffer." + k] = t.clone()


def record_grads(out, prefix, model):
    for k, p in model.named_parameters():
        if p.grad is None:
            raise RuntimeError("no gradient for " + k)
        out[prefix + "grad." + k] = p.grad.detach().clone()


# ====================================================================== cases: name → (tensors, metadata)

def sgd_resnet8(dtype, salt):
    m = filled("resnet8", 3, 32, dtype)
    m.train()
    x = input_batch(8, 3, 32, 32, dtype, salt)
    y = torch.tensor(LABELS8, dtype=torch.int64)
    opt = sgd(m)
    out = {"labels": y.to(torch.int32)}
    for s in (1, 2):
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        out["step%d.loss" % s] = loss.detach().clone()
        record_grads(out, "step%d." % s, m)
        opt.step()
        record_params(out, "step%d." % s, m, opt)
    meta = {"model": "resnet8", "classes": 10, "input": "3x32x32", "batch": 8, "steps": 2,
            "lr": LR, "momentum": MOMENTUM, "weight_decay": WEIGHT_DECAY, "nesterov": "false", "dampening": 0}
    return out, meta


def kd_resnet20_resnet8(dtype, salt):
    teacher = filled("resnet20", 3, 32, dtype, prefix="teacher.")
    teacher.eval()
    student = filled("resnet8", 3, 32, dtype)
    student.train()
    x = input_batch(8, 3, 32, 32, dtype, salt)
    y = torch.tensor(LABELS8, dtype=torch.int64)
    opt = sgd(student)
    opt.zero_grad(set_to_none=False)
    with torch.no_grad():
        t = teacher(x)
    s = student(x)
    ce = CE_WEIGHT * F.cross_entropy(s, y)
    kd = KD_WEIGHT * F.kl_div(F.log_softmax(s / TAU, 1), F.softmax(t / TAU, 1), reduction="batchmean") * TAU * TAU
    loss = ce + kd
    loss.backward()
    out = {"labels": y.to(torch.int32), "loss": loss.detach().clone(), "loss.ce": ce.detach().clone(),
           "loss.kd": kd.detach().clone(), "teacher_logits": t.clone()}
    record_grads(out, "", student)
    opt.step()
    record_params(out, "", student, opt)
    for k, v in teacher.state_dict().items():
        out["teacher." + k] = v.clone()
    meta = {"model": "resnet8", "teacher": "resnet20", "teacher_fill_prefix": "teacher.", "classes": 10,
            "input": "3x32x32", "batch": 8, "lr": LR, "momentum": MOMENTUM, "weight_decay": WEIGHT_DECAY,
            "nesterov": "false", "dampening": 0, "ce_weight": CE_WEIGHT, "kd_weight": KD_WEIGHT, "tau": TAU}
    return out, meta


def backward_case(name, chw):
    c, h, w = chw

    def run(dtype, salt):
        m = filled(name, c, h, dtype)
        m.train()
        x = input_batch(2, c, h, w, dtype, salt).requires_grad_(True)
        y = torch.tensor(LABELS8[:2], dtype=torch.int64)
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        out = {"labels": y.to(torch.int32), "loss": loss.detach().clone(), "grad.input": x.grad.clone()}
        record_grads(out, "", m)
        for k, t in bn_buffers(m).items():
            out["buffer." + k] = t.clone()
        meta = {"model": name, "classes": 10, "input": "%dx%dx%d" % chw, "batch": 2}
        return out, meta
    return run


CASES = [("sgd_resnet8", sgd_resnet8), ("kd_resnet20_resnet8", kd_resnet20_resnet8)] + \
        [("backward_" + n, backward_case(n, chw)) for n, chw in BACKWARD_CASES]


# ====================================================================== storage

def sample_indices(n):
    if math.gcd(n, SAMPLE_PRIME) != 1:
        raise ValueError("sample prime divides tensor size %d" % n)
    return (torch.arange(SAMPLES, dtype=torch.int64) * SAMPLE_PRIME) % n


def stored(tensors):
    """Whole float32 tensors up to FULL_MAX elements, else samples + float64 [RMS, max |x|]."""
    out = {}
    for k, t in tensors.items():
        t = t.detach()
        if not t.dtype.is_floating_point:
            out[k] = t
        elif t.dim() == 0 and t.dtype == torch.float64:
            out[k] = t  # losses: float64 scalars
        elif t.numel() <= FULL_MAX:
            out[k] = t.to(torch.float32)
        else:
            flat = t.reshape(-1)
            out[k] = flat[sample_indices(flat.numel())].to(torch.float32)
            d = flat.double()
            out["stats." + k] = torch.tensor([d.pow(2).mean().sqrt().item(), d.abs().max().item()], dtype=torch.float64)
    return out


def float32_yardstick(exact, f32):
    """Per kind of tensor (grad, param, ...): PyTorch float32's largest |diff| from float64, over the
    scale the Java tests use (max |x| of the tensor, at least FLOOR · the largest under its prefix)."""
    largest = {}
    for k, b in exact.items():
        if b.dtype.is_floating_point:
            largest[group_prefix(k)] = max(largest.get(group_prefix(k), 0.0), b.abs().max().item())
    worst = {}
    for k, b in exact.items():
        if not b.dtype.is_floating_point:
            continue
        a, b = f32[k].double(), b.double()
        scale = max(b.abs().max().item(), FLOOR * largest[group_prefix(k)]) if b.dim() else abs(b.item())
        if scale == 0:
            continue
        rest = re.sub(r"^step\d\.", "", k)
        kind = "grad.input" if rest == "grad.input" else rest.split(".", 1)[0]
        r = (a - b).abs().max().item() / scale
        if r > worst.get(kind, (-1, ""))[0]:
            worst[kind] = (r, k)
    return ", ".join("%s %.2g (%s)" % (kind, r, k) for kind, (r, k) in sorted(worst.items()))


def group_prefix(key):
    """The prefix a Java test compares a tensor under: step1.grad., grad., teacher., ... (loss keys: themselves)."""
    m = re.match(r"^((?:step\d\.)?(?:grad|param|momentum|buffer)\.|teacher\.)", key)
    return m.group(1) if m else key


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for case, fn in CASES:
        for salt in range(MAX_SALT):
            with KinkMonitor() as kinks:
                exact, meta = fn(torch.float64, salt)
            if kinks.margin >= KINK_MARGIN:
                break
        else:
            raise RuntimeError("%s: no input among %d keeps every kink %.1g·std away" % (case, MAX_SALT, KINK_MARGIN))
        f32, _ = fn(torch.float32, salt)
        meta = dict(meta)
        meta.update({"format": FORMAT, "case": case, "torch_version": torch.__version__, "computed_in": "float64",
                     "full_max": FULL_MAX, "samples": SAMPLES, "sample_prime": SAMPLE_PRIME,
                     "input_name": input_name(salt), "kink_margin": "%.3g" % kinks.margin})
        path = os.path.join(OUT_DIR, case + ".safetensors")
        safetensors_io.write(path, stored(exact), meta)
        size = os.path.getsize(path)
        total += size
        loss = exact.get("loss", exact.get("step1.loss"))
        print("%-28s %7d bytes  input %-9s (nearest of %d kinks: %.2g·std at %s)  loss %.6f" % (
            case, size, input_name(salt), kinks.count, kinks.margin, kinks.where, loss.item()))
        print("%28s float32 PyTorch vs float64, max |diff| / max |x| per kind: %s" % ("", float32_yardstick(exact, f32)))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
