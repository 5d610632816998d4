"""Writes the op golden fixtures, src/test/resources/golden/ops-v1/<case>.safetensors.

Each file holds one op case computed by PyTorch (float32, CPU):
  input.<arg>   the op's inputs and parameters (before the op; BN running stats included)
  output        the op's output
  grad_out      a random upstream gradient, same shape as output
  grad.<arg>    the gradient of every input that requires one, from output.backward(grad_out)
  after.<arg>   state the op updates in place (BN running_mean / running_var after a step)
and metadata: format, case, op, description, torch_version, seed, and the op's attributes as
strings (stride "h,w", padding "h,w", groups, kernel_size, ceil_mode "true"/"false", ...).
OpGoldenTest (src/test/java/org/stablekd/golden) replays every file on our engine.

Deterministic: each case seeds torch from a hash of its name (adding a case changes no other
file), one thread. Run from the repository root:
    /usr/bin/python3 scripts/golden/make_op_fixtures.py
Changing a case's meaning or the file layout means a new directory (ops-v2), not an edit.
"""
import collections
import os
import sys
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

FORMAT = "stablekd-golden-ops-v1"
OUT_DIR = os.path.join("src", "test", "resources", "golden", "ops-v1")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def randn(*shape, scale=1.0):
    return torch.randn(*shape, dtype=torch.float32) * scale


def pair(v):
    return f"{v[0]},{v[1]}" if isinstance(v, tuple) else f"{v},{v}"


def emit(name, op, description, inputs, run, grads, attrs, seed):
    """Runs `run(**leaves)` -> (output, after dict), backprops a random grad_out, writes the file."""
    leaves = {}
    for k, v in inputs.items():
        leaf = v.clone()
        if k in grads:
            leaf.requires_grad_(True)
        leaves[k] = leaf
    out, after = run(**leaves)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)

    tensors = collections.OrderedDict()
    for k, v in inputs.items():
        tensors["input." + k] = v  # the values before the op ran (running stats are updated in place)
    tensors["output"] = out.detach()
    tensors["grad_out"] = grad_out
    for k in grads:
        tensors["grad." + k] = leaves[k].grad
    for k, v in after.items():
        tensors["after." + k] = v.detach().clone()

    meta = collections.OrderedDict(format=FORMAT, case=name, op=op, description=description,
                                   torch_version=torch.__version__, seed=str(seed))
    meta.update((k, str(v)) for k, v in attrs.items())
    path = os.path.join(OUT_DIR, name + ".safetensors")
    safetensors_io.write(path, tensors, meta)
    return path


def seeded(name):
    seed = zlib.crc32(name.encode("utf-8"))
    torch.manual_seed(seed)
    return seed


# ---------------------------------------------------------------- convolution and linear

def conv_case(name, description, n, c, h, w, k, kernel, stride, padding, groups, bias):
    seed = seeded(name)
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    inputs = collections.OrderedDict(x=randn(n, c, h, w), weight=randn(k, c // groups, kh, kw, scale=0.3))
    if bias:
        inputs["bias"] = randn(k, scale=0.5)

    def run(x, weight, bias=None):
        return F.conv2d(x, weight, bias, stride=stride, padding=padding, groups=groups), {}

    attrs = {"stride": pair(stride), "padding": pair(padding), "groups": groups}
    return emit(name, "conv2d", description, inputs, run, list(inputs), attrs, seed)


@case
def conv2d_cases():
    return [
        conv_case("conv2d_3x3_s1_p1_bias", "3x3 stride 1 padding 1 with bias", 2, 3, 7, 6, 4, 3, 1, 1, 1, True),
        conv_case("conv2d_3x3_s1_p0_nobias", "3x3 stride 1 no padding, no bias", 2, 3, 6, 7, 5, 3, 1, 0, 1, False),
        conv_case("conv2d_3x3_s2_p1_nobias", "3x3 stride 2 padding 1 (downsampling), no bias", 2, 4, 8, 8, 5, 3, 2, 1, 1, False),
        conv_case("conv2d_3x3_s2_p1_odd", "3x3 stride 2 padding 1 on odd sizes (floor of the output size)", 2, 3, 9, 7, 4, 3, 2, 1, 1, True),
        conv_case("conv2d_groups2", "3x3 groups=2 padding 1 with bias", 2, 4, 6, 6, 6, 3, 1, 1, 2, True),
        conv_case("conv2d_depthwise_s1", "depthwise 3x3 stride 1 padding 1 (groups = channels)", 2, 6, 7, 7, 6, 3, 1, 1, 6, False),
        conv_case("conv2d_depthwise_s2", "depthwise 3x3 stride 2 padding 1 (MobileNetV2)", 2, 4, 8, 7, 4, 3, 2, 1, 4, True),
        conv_case("conv2d_1x1_s2", "1x1 stride 2 (downsample shortcut), no bias", 2, 4, 7, 8, 6, 1, 2, 0, 1, False),
        conv_case("conv2d_7x7_s2_p3", "7x7 stride 2 padding 3 (ImageNet ResNet stem)", 1, 3, 12, 11, 4, 7, 2, 3, 1, False),
        conv_case("conv2d_rect_kernel_stride_pad", "3x2 kernel, stride (1,2), padding (0,1): no axis mixed up",
                  2, 3, 6, 7, 4, (3, 2), (1, 2), (0, 1), 1, True),
    ]


def linear_case(name, description, n, fin, fout, bias):
    seed = seeded(name)
    inputs = collections.OrderedDict(x=randn(n, fin), weight=randn(fout, fin, scale=0.4))
    if bias:
        inputs["bias"] = randn(fout, scale=0.5)

    def run(x, weight, bias=None):
        return F.linear(x, weight, bias), {}

    return emit(name, "linear", description, inputs, run, list(inputs), {}, seed)


@case
def linear_cases():
    return [
        linear_case("linear_bias", "linear 7 -> 5 with bias, batch 4", 4, 7, 5, True),
        linear_case("linear_nobias", "linear 9 -> 3 without bias, batch 5", 5, 9, 3, False),
    ]


# ---------------------------------------------------------------- batch norm

def bn_case(name, description, training):
    seed = seeded(name)
    n, c, h, w = 4, 3, 3, 5
    inputs = collections.OrderedDict(
        x=randn(n, c, h, w) * 1.5 + 0.7,
        weight=torch.rand(c) + 0.5,
        bias=randn(c, scale=0.5),
        running_mean=randn(c, scale=0.5),       # non-trivial running statistics
        running_var=torch.rand(c) * 1.5 + 0.5,
    )
    momentum, eps = 0.1, 1e-5

    def run(x, weight, bias, running_mean, running_var):
        y = F.batch_norm(x, running_mean, running_var, weight, bias, training=training, momentum=momentum, eps=eps)
        return y, {"running_mean": running_mean, "running_var": running_var}

    attrs = {"training": str(training).lower(), "momentum": momentum, "eps": eps}
    return emit(name, "batch_norm", description, inputs, run, ["x", "weight", "bias"], attrs, seed)


@case
def batch_norm_cases():
    return [
        bn_case("batch_norm_train", "training step: batch statistics, running stats updated (momentum 0.1, unbiased var)", True),
        bn_case("batch_norm_eval", "eval: running statistics used, left unchanged", False),
    ]


# ---------------------------------------------------------------- pooling

def pool_case(name, op, description, n, c, h, w, kernel, stride, padding, ceil_mode):
    seed = seeded(name)
    inputs = collections.OrderedDict(x=randn(n, c, h, w))

    def run(x):
        if op == "max_pool2d":
            return F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode), {}
        return F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=True), {}

    attrs = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": str(ceil_mode).lower()}
    if op == "avg_pool2d":
        attrs["count_include_pad"] = "true"
    return emit(name, op, description, inputs, run, ["x"], attrs, seed)


@case
def pool_cases():
    return [
        pool_case("max_pool2d_k3_s2_p1", "max_pool2d", "3x3 stride 2 padding 1 (ImageNet ResNet stem)", 2, 3, 8, 7, 3, 2, 1, False),
        pool_case("max_pool2d_k2_s2", "max_pool2d", "2x2 stride 2 (VGG)", 2, 3, 8, 6, 2, 2, 0, False),
        pool_case("max_pool2d_k2_s2_ceil", "max_pool2d", "2x2 stride 2 ceil_mode on odd sizes: a partial last window",
                  2, 2, 7, 5, 2, 2, 0, True),
        pool_case("max_pool2d_k3_s2_p1_ceil", "max_pool2d", "3x3 stride 2 padding 1 ceil_mode: last window starts in the input, ends in padding",
                  1, 2, 8, 9, 3, 2, 1, True),
        pool_case("avg_pool2d_k2_s2", "avg_pool2d", "2x2 stride 2", 2, 3, 6, 8, 2, 2, 0, False),
        pool_case("avg_pool2d_k3_s2_p1", "avg_pool2d", "3x3 stride 2 padding 1, padding counts in the divisor",
                  2, 2, 7, 8, 3, 2, 1, False),
        pool_case("avg_pool2d_k2_s2_ceil", "avg_pool2d", "2x2 stride 2 ceil_mode on odd sizes: the partial window's divisor excludes what lies beyond the input",
                  1, 2, 7, 5, 2, 2, 0, True),
        pool_case("avg_pool2d_k3_s2_p1_ceil", "avg_pool2d", "3x3 stride 2 padding 1 ceil_mode: divisor counts padding but not beyond it",
                  1, 2, 8, 6, 3, 2, 1, True),
        pool_case("avg_pool2d_k2_s2_p1_ceil_dropped", "avg_pool2d", "2x2 stride 2 padding 1 ceil_mode: a last window that would start in the padding is dropped",
                  1, 2, 5, 7, 2, 2, 1, True),
        pool_case("avg_pool2d_k2_s2_ceil_even", "avg_pool2d", "2x2 stride 2 ceil_mode on even sizes (MobileNetV2 head, 4x4 -> 2x2)",
                  2, 3, 4, 4, 2, 2, 0, True),
    ]


@case
def global_avg_pool_cases():
    name = "global_avg_pool"
    seed = seeded(name)
    inputs = collections.OrderedDict(x=randn(3, 4, 5, 6))

    def run(x):
        return F.adaptive_avg_pool2d(x, 1).flatten(1), {}

    return [emit(name, "global_avg_pool", "adaptive_avg_pool2d(x, 1).flatten(1): (N,C,H,W) -> (N,C)", inputs, run, ["x"], {}, seed)]


# ---------------------------------------------------------------- softmax and losses

def softmax_case(name, op, temperature):
    seed = seeded(name)
    inputs = collections.OrderedDict(x=randn(4, 10, scale=5.0))  # wide logits: exercises the max shift
    fn = F.softmax if op == "softmax" else F.log_softmax

    def run(x):
        return fn(x / temperature, dim=1), {}

    return emit(name, op, f"{op}(x / {temperature}, dim=1)", inputs, run, ["x"], {"temperature": temperature}, seed)


@case
def softmax_cases():
    return [
        softmax_case("softmax_t1", "softmax", 1.0),
        softmax_case("softmax_t4", "softmax", 4.0),
        softmax_case("log_softmax_t1", "log_softmax", 1.0),
        softmax_case("log_softmax_t4", "log_softmax", 4.0),
    ]


def ce_case(name, smoothing):
    seed = seeded(name)
    n, classes = 6, 10
    inputs = collections.OrderedDict(logits=randn(n, classes, scale=3.0), labels=torch.randint(0, classes, (n,), dtype=torch.int64))

    def run(logits, labels):
        return F.cross_entropy(logits, labels, reduction="mean", label_smoothing=smoothing), {}

    return emit(name, "cross_entropy", f"cross_entropy(logits, labels), mean, label_smoothing={smoothing}",
                inputs, run, ["logits"], {"label_smoothing": smoothing}, seed)


@case
def cross_entropy_cases():
    return [ce_case("cross_entropy", 0.0), ce_case("cross_entropy_smooth0.1", 0.1)]


def kd_case(name, tau):
    seed = seeded(name)
    inputs = collections.OrderedDict(student=randn(5, 10, scale=3.0), teacher=randn(5, 10, scale=4.0))

    def run(student, teacher):
        loss = F.kl_div(F.log_softmax(student / tau, dim=1), F.softmax(teacher / tau, dim=1), reduction="batchmean") * tau * tau
        return loss, {}

    return emit(name, "kd_loss", f"kl_div(log_softmax(s/{tau}), softmax(t/{tau}), batchmean) * {tau}^2",
                inputs, run, ["student", "teacher"], {"temperature": tau}, seed)


@case
def kd_cases():
    return [kd_case("kd_loss_t4", 4.0), kd_case("kd_loss_t1", 1.0)]


@case
def mse_cases():
    name = "mse_loss"
    seed = seeded(name)
    inputs = collections.OrderedDict(input=randn(2, 3, 4, 5), target=randn(2, 3, 4, 5))

    def run(input, target):
        return F.mse_loss(input, target, reduction="mean"), {}

    return [emit(name, "mse_loss", "mse_loss(input, target), mean over all elements (feature distillation)",
                 inputs, run, ["input", "target"], {}, seed)]


# ---------------------------------------------------------------- distillation methods

def dkd_reference(student, teacher, labels, alpha, beta, tau):
    """mdistiller's dkd_loss semantics, written independently of its code.

    TCKD: KL between the binary [target, rest] distributions of teacher and student.
    NCKD: KL between the distributions over the non-target classes; the target logit is pushed
    down by 1000 before the softmax (mdistiller's gt_mask trick), which renormalizes without it.
    Both are summed over the batch, times tau^2, divided by the batch size.
    """
    n, classes = student.shape
    is_target = F.one_hot(labels, classes).to(torch.bool)
    p_s = F.softmax(student / tau, dim=1)
    p_t = F.softmax(teacher / tau, dim=1)

    def binary(p):  # (n, 2): [p_target, sum of the other classes]
        return torch.stack([p[is_target], p.masked_fill(is_target, 0.0).sum(dim=1)], dim=1)

    tckd = F.kl_div(torch.log(binary(p_s)), binary(p_t), reduction="sum") * tau ** 2 / n
    push = 1000.0 * is_target.to(student.dtype)
    log_s_hat = F.log_softmax(student / tau - push, dim=1)
    t_hat = F.softmax(teacher / tau - push, dim=1)
    nckd = F.kl_div(log_s_hat, t_hat, reduction="sum") * tau ** 2 / n
    return alpha * tckd + beta * nckd


def dkd_case(name, description, n, classes, alpha, beta, tau, teacher_margin=0.0):
    seed = seeded(name)
    labels = torch.randint(0, classes, (n,), dtype=torch.int64)
    teacher = randn(n, classes, scale=3.0) + teacher_margin * F.one_hot(labels, classes).to(torch.float32)
    inputs = collections.OrderedDict(student=randn(n, classes, scale=3.0), teacher=teacher, labels=labels)

    def run(student, teacher, labels):
        return dkd_reference(student, teacher, labels, alpha, beta, tau), {}

    attrs = {"alpha": alpha, "beta": beta, "temperature": tau}
    return emit(name, "dkd_loss", description, inputs, run, ["student"], attrs, seed)


@case
def dkd_cases():
    return [
        dkd_case("dkd_loss_t4", "mdistiller dkd_loss, alpha 1, beta 8, tau 4", 6, 10, 1.0, 8.0, 4.0),
        dkd_case("dkd_loss_t1_wide", "mdistiller dkd_loss, alpha 0.5, beta 2, tau 1, 37 classes", 5, 37, 0.5, 2.0, 1.0),
        dkd_case("dkd_loss_confident_teacher", "mdistiller dkd_loss, alpha 1, beta 8, tau 4, teacher target logit +60 (t_g ~ 1)",
                 6, 10, 1.0, 8.0, 4.0, teacher_margin=60.0),
        dkd_case("dkd_loss_cifar100", "mdistiller dkd_loss, alpha 1, beta 6, tau 4, 100 classes", 8, 100, 1.0, 6.0, 4.0),
    ]


def attention(f):
    """RepDistiller's Attention.at with p = 2: F.normalize(mean over channels of f^2, one row per sample)."""
    return F.normalize(f.pow(2).mean(1).view(f.size(0), -1))


def attention_case(name, description, x):
    seed = seeded(name)
    inputs = collections.OrderedDict(x=x() if callable(x) else x)

    def run(x):
        return attention(x), {}

    return emit(name, "attention_map", description, inputs, run, ["x"], {}, seed)


def zero_and_tiny():
    x = randn(3, 4, 5, 6)
    x[1].zero_()      # a zero map: 0 / eps = 0, zero gradient
    x[2] *= 1e-7      # ||mean_c f^2|| ~ 1e-13 < eps: the clamped branch, a = q / 1e-12
    return x


@case
def attention_cases():
    return [
        attention_case("attention_map", "F.normalize(x.pow(2).mean(1).view(n, -1)) on (2,4,5,6)", lambda: randn(2, 4, 5, 6)),
        attention_case("attention_map_8x8", "F.normalize(x.pow(2).mean(1).view(n, -1)) on (3,16,8,8)", lambda: randn(3, 16, 8, 8, scale=2.0)),
        attention_case("attention_map_zero_and_tiny", "samples: normal, all zeros, scaled by 1e-7 (norm below eps 1e-12)", zero_and_tiny),
    ]


@case
def at_loss_cases():
    """RepDistiller's Attention.at_loss for one pair of features of different sizes and channels."""
    name = "at_loss_pool"
    seed = seeded(name)
    inputs = collections.OrderedDict(student=randn(2, 3, 8, 8), teacher=randn(2, 5, 4, 4, scale=1.5))

    def run(student, teacher):
        s, t = student, teacher
        if s.shape[2] > t.shape[2]:
            s = F.adaptive_avg_pool2d(s, (t.shape[2], t.shape[2]))
        elif s.shape[2] < t.shape[2]:
            t = F.adaptive_avg_pool2d(t, (s.shape[2], s.shape[2]))
        return (attention(s) - attention(t)).pow(2).mean(), {}

    return [emit(name, "at_loss", "RepDistiller at_loss: the 8x8 student feature adaptive-pooled to 4x4, "
                 "(at(f_s) - at(f_t)).pow(2).mean(), channels 3 vs 5", inputs, run, ["student", "teacher"], {}, seed)]


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    written = [p for make in CASES for p in make()]
    names = {os.path.basename(p) for p in written}
    stale = sorted(f for f in os.listdir(OUT_DIR) if f.endswith(".safetensors") and f not in names)
    for f in stale:  # a case removed from this script must not linger as a fixture
        os.remove(os.path.join(OUT_DIR, f))
    total = sum(os.path.getsize(p) for p in written)
    print(f"wrote {len(written)} fixtures to {OUT_DIR} ({total} bytes){', removed ' + ', '.join(stale) if stale else ''}")


if __name__ == "__main__":
    main()
