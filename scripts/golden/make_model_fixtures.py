"""Writes the model-zoo golden fixtures, src/test/resources/golden/models-v1/, from PyTorch.

Run from the repository root with Debian's PyTorch (1.13, CPU; not a pyenv python):
    /usr/bin/python3 scripts/golden/make_model_fixtures.py
The output is deterministic (same bytes on every run); ZooTest and ModelGoldenTest
(src/test/java/org/stablekd/models) read it and never need PyTorch.

The PyTorch networks below are written here from the published architectures (RepDistiller's
models/*.py for the CIFAR models, torchvision's resnet for the ImageNet ones) with the same
module paths, so their state_dict() names are the reference names.

Files:
  param_counts.csv        model,classes,in_channels,params  (exact trainable-scalar counts)
  stage_shapes.csv        model,C,H,W,stage,shape           (batch 2, the model's standard input)
  state_dicts/<m>.txt     one line per state_dict() entry, in order: name dtype shape
                          (shapes written as Python tuples without spaces: (16,3,3,3), (16,), ())
  golden_cases.csv        case,model,classes,C,H,W
  golden/<case>.safetensors
      input (2,C,H,W); logits_eval, logits_train; stage<i>_eval for small stage outputs;
      for resnet8x4 also after_train.<bn>.running_mean|running_var|num_batches_tracked.
      Every parameter and buffer is filled by the deterministic formula of fill_state()
      (reproduced exactly by ModelFill.java), so no weights are stored. Order of events:
      fill, eval forward, train forward (updates running stats), read buffers.
  resnet8_state_dict.safetensors
      a real PyTorch state_dict() of resnet8 (100 classes; seeded PyTorch init, then train-mode
      forwards so running statistics and num_batches_tracked are non-trivial), saved as is.
  resnet8_state_dict_logits.safetensors
      input (2,3,32,32) and logits of that model in eval mode.

Changing a fixture's meaning means a new directory (models-v2), not an edit.
"""
import csv
import io
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_DIR = os.path.join("src", "test", "resources", "golden", "models-v1")
FORMAT = "stablekd-golden-models-v1"
STAGE_OUTPUT_MAX_NUMEL = 4096  # stage outputs up to this size go into the golden files


# ====================================================================== building blocks

def conv(cin, cout, k, stride=1, pad=0, groups=1, bias=False):
    return nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=bias)


def bn(c):
    return nn.BatchNorm2d(c)


def shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class Staged(nn.Module):
    """A network as named stages; forward runs them all."""

    def stage_fns(self):
        raise NotImplementedError

    def stage_outputs(self, x):
        outs = []
        for fn in self.stage_fns():
            x = fn(x)
            outs.append(x)
        return outs

    def forward(self, x):
        return self.stage_outputs(x)[-1]


def init_kaiming_fan_out(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


# ====================================================================== CIFAR ResNet (resnet.py)

class PostActBasicBlock(nn.Module):
    """conv-bn-relu-conv-bn + shortcut, relu. Members: conv1 bn1 conv2 bn2 <shortcut_name>."""

    def __init__(self, cin, cout, stride, shortcut_name):
        super().__init__()
        self.conv1 = conv(cin, cout, 3, stride, 1)
        self.bn1 = bn(cout)
        self.conv2 = conv(cout, cout, 3, 1, 1)
        self.bn2 = bn(cout)
        self.shortcut_name = shortcut_name
        if stride != 1 or cin != cout:
            setattr(self, shortcut_name, nn.Sequential(conv(cin, cout, 1, stride), bn(cout)))
        else:
            setattr(self, shortcut_name, None)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        sc = getattr(self, self.shortcut_name)
        return F.relu(y + (x if sc is None else sc(x)))


class BottleneckBlock(nn.Module):
    """1x1 → 3x3(stride) → 1x1 (×4) + shortcut, relu. Members conv1..3 bn1..3 <shortcut_name>."""

    def __init__(self, cin, planes, stride, shortcut_name):
        super().__init__()
        cout = planes * 4
        self.conv1 = conv(cin, planes, 1)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, stride, 1)
        self.bn2 = bn(planes)
        self.conv3 = conv(planes, cout, 1)
        self.bn3 = bn(cout)
        self.shortcut_name = shortcut_name
        if stride != 1 or cin != cout:
            setattr(self, shortcut_name, nn.Sequential(conv(cin, cout, 1, stride), bn(cout)))
        else:
            setattr(self, shortcut_name, None)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        sc = getattr(self, self.shortcut_name)
        return F.relu(y + (x if sc is None else sc(x)))


def basic_layer(cin, cout, blocks, stride, shortcut_name):
    layers = [PostActBasicBlock(cin, cout, stride, shortcut_name)]
    layers += [PostActBasicBlock(cout, cout, 1, shortcut_name) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class CifarResNet(Staged):
    """stem+layer1 | layer2 | layer3 | head(AvgPool(8), fc)."""

    def __init__(self, depth, filters, classes, cin):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = conv(cin, filters[0], 3, 1, 1)
        self.bn1 = bn(filters[0])
        self.layer1 = basic_layer(filters[0], filters[1], n, 1, "downsample")
        self.layer2 = basic_layer(filters[1], filters[2], n, 2, "downsample")
        self.layer3 = basic_layer(filters[2], filters[3], n, 2, "downsample")
        self.fc = nn.Linear(filters[3], classes)
        init_kaiming_fan_out(self)

    def stage_fns(self):
        return [lambda x: self.layer1(F.relu(self.bn1(self.conv1(x)))),
                self.layer2, self.layer3,
                lambda x: self.fc(torch.flatten(F.avg_pool2d(x, 8), 1))]


# ====================================================================== ResNet18/34/50 for CIFAR (resnetv2.py)

class CifarResNetV2(Staged):
    """3x3 stem, no maxpool: stem+layer1 | layer2 | layer3 | layer4 | head(global avg, linear)."""

    def __init__(self, bottleneck, blocks, classes, cin):
        super().__init__()
        self.conv1 = conv(cin, 64, 3, 1, 1)
        self.bn1 = bn(64)
        c = 64
        for i, (planes, n) in enumerate(zip([64, 128, 256, 512], blocks)):
            stride = 1 if i == 0 else 2
            layers = []
            for j in range(n):
                s = stride if j == 0 else 1
                if bottleneck:
                    layers.append(BottleneckBlock(c, planes, s, "shortcut"))
                    c = planes * 4
                else:
                    layers.append(PostActBasicBlock(c, planes, s, "shortcut"))
                    c = planes
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*layers))
        self.linear = nn.Linear(c, classes)
        init_kaiming_fan_out(self)

    def stage_fns(self):
        return [lambda x: self.layer1(F.relu(self.bn1(self.conv1(x)))),
                self.layer2, self.layer3, self.layer4,
                lambda x: self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))]


# ====================================================================== torchvision ResNet18/34 (ImageNet)

class TorchvisionResNet(Staged):
    """7x7/2 stem + maxpool: stem+layer1 | layer2 | layer3 | layer4 | head(global avg, fc)."""

    def __init__(self, blocks, classes, cin):
        super().__init__()
        self.conv1 = conv(cin, 64, 7, 2, 3)
        self.bn1 = bn(64)
        c = 64
        for i, (planes, n) in enumerate(zip([64, 128, 256, 512], blocks)):
            setattr(self, "layer%d" % (i + 1), basic_layer(c, planes, n, 1 if i == 0 else 2, "downsample"))
            c = planes
        self.fc = nn.Linear(512, classes)
        init_kaiming_fan_out(self)

    def stage_fns(self):
        return [lambda x: self.layer1(F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)),
                self.layer2, self.layer3, self.layer4,
                lambda x: self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))]


# ====================================================================== WRN (wrn.py)

class WrnBlock(nn.Module):
    """Pre-activation block. Members bn1 conv1 bn2 conv2 [convShortcut]."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = bn(cin)
        self.conv1 = conv(cin, cout, 3, stride, 1)
        self.bn2 = bn(cout)
        self.conv2 = conv(cout, cout, 3, 1, 1)
        self.same = cin == cout
        self.convShortcut = None if self.same else conv(cin, cout, 1, stride)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        y = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return (x if self.same else self.convShortcut(a)) + y


class WrnGroup(nn.Module):
    def __init__(self, n, cin, cout, stride):
        super().__init__()
        self.layer = nn.Sequential(*[WrnBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(Staged):
    """conv1+block1 | block2 | block3 | head(bn1, relu, AvgPool(8), fc)."""

    def __init__(self, depth, k, classes, cin):
        super().__init__()
        n = (depth - 4) // 6
        ch = [16, 16 * k, 32 * k, 64 * k]
        self.conv1 = conv(cin, ch[0], 3, 1, 1)
        self.block1 = WrnGroup(n, ch[0], ch[1], 1)
        self.block2 = WrnGroup(n, ch[1], ch[2], 2)
        self.block3 = WrnGroup(n, ch[2], ch[3], 2)
        self.bn1 = bn(ch[3])
        self.fc = nn.Linear(ch[3], classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.data.normal_(0, math.sqrt(2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels)))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.bias.data.zero_()

    def stage_fns(self):
        return [lambda x: self.block1(self.conv1(x)), self.block2, self.block3,
                lambda x: self.fc(torch.flatten(F.avg_pool2d(F.relu(self.bn1(x)), 8), 1))]


# ====================================================================== VGG-BN (vgg.py)

def normal_fan_out_init(model):
    """VGG / MobileNetV2 init: conv N(0, √(2/(k·k·out))), bias 0; BN 1/0; Linear N(0, 0.01), bias 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.weight.data.normal_(0, math.sqrt(2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels)))
            if m.bias is not None:
                m.bias.data.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1)
            m.bias.data.zero_()
        elif isinstance(m, nn.Linear):
            m.weight.data.normal_(0, 0.01)
            m.bias.data.zero_()


VGG_CFG = {
    "vgg8": [[64], [128], [256], [512], [512]],
    "vgg11": [[64], [128], [256, 256], [512, 512], [512, 512]],
    "vgg13": [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
}


class Vgg(Staged):
    """block0+pool0 | block1+pool1 | block2+pool2 | block3(+pool3 at 64 px)+block4 | head."""

    def __init__(self, cfg, classes, cin, h):
        super().__init__()
        self.h = h
        for i, widths in enumerate(cfg):
            layers = []
            for v in widths:
                layers += [conv(cin, v, 3, 1, 1, bias=True), bn(v), nn.ReLU()]
                cin = v
            setattr(self, "block%d" % i, nn.Sequential(*layers[:-1]))  # last ReLU applied in forward
        self.classifier = nn.Linear(512, classes)
        normal_fan_out_init(self)

    def stage_fns(self):
        return [lambda x: F.max_pool2d(F.relu(self.block0(x)), 2, 2),
                lambda x: F.max_pool2d(F.relu(self.block1(x)), 2, 2),
                lambda x: F.max_pool2d(F.relu(self.block2(x)), 2, 2),
                lambda x: F.relu(self.block4(self._pool3(F.relu(self.block3(x))))),
                lambda x: self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))]

    def _pool3(self, x):
        return F.max_pool2d(x, 2, 2) if self.h == 64 else x


# ====================================================================== MobileNetV2 (mobilenetv2.py)

class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        mid = cin * t
        self.residual = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            conv(cin, mid, 1), bn(mid), nn.ReLU(),
            conv(mid, mid, 3, stride, 1, groups=mid), bn(mid), nn.ReLU(),
            conv(mid, cout, 1), bn(cout))

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(Staged):
    """stem+blocks0-1 | blocks2 | blocks3-4 | blocks5-6 | head(conv2, AvgPool(H/16, ceil), classifier)."""

    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, width, classes, cin, h):
        super().__init__()
        c = int(32 * width)
        self.conv1 = nn.Sequential(conv(cin, c, 3, 2, 1), bn(c), nn.ReLU())
        self.blocks = nn.ModuleList()
        for t, ch, n, s in self.SETTINGS:
            out = int(ch * width)
            seq = []
            for i in range(n):
                seq.append(InvertedResidual(c, out, s if i == 0 else 1, t))
                c = out
            self.blocks.append(nn.Sequential(*seq))
        last = int(1280 * width) if width > 1.0 else 1280
        self.conv2 = nn.Sequential(conv(c, last, 1), bn(last), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(last, classes))
        self.pool = h // 16
        normal_fan_out_init(self)

    def stage_fns(self):
        b = self.blocks
        return [lambda x: b[1](b[0](self.conv1(x))), b[2], lambda x: b[4](b[3](x)), lambda x: b[6](b[5](x)),
                lambda x: self.classifier(torch.flatten(F.avg_pool2d(self.conv2(x), self.pool, ceil_mode=True), 1))]


# ====================================================================== ShuffleNetV1 (ShuffleNetv1.py)

class ShuffleV1Block(nn.Module):
    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        self.stride = stride
        mid = cout // 4
        self.g1 = 1 if cin == 24 else groups
        self.conv1 = conv(cin, mid, 1, groups=self.g1)
        self.bn1 = bn(mid)
        self.conv2 = conv(mid, mid, 3, stride, 1, groups=mid)
        self.bn2 = bn(mid)
        self.conv3 = conv(mid, cout, 1, groups=groups)
        self.bn3 = bn(cout)

    def forward(self, x):
        y = shuffle(F.relu(self.bn1(self.conv1(x))), self.g1)
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.stride == 2:
            return F.relu(torch.cat([y, F.avg_pool2d(x, 3, 2, 1)], 1))
        return F.relu(y + x)


class ShuffleNetV1(Staged):
    """stem+layer1 | layer2 | layer3 | head(AvgPool(4), linear)."""

    def __init__(self, classes, cin, outs=(240, 480, 960), blocks=(4, 8, 4), groups=3):
        super().__init__()
        self.conv1 = conv(cin, 24, 1)
        self.bn1 = bn(24)
        c = 24
        for i, (out, n) in enumerate(zip(outs, blocks)):
            layers = []
            for j in range(n):
                layers.append(ShuffleV1Block(c, out - (c if j == 0 else 0), 2 if j == 0 else 1, groups))
                c = out
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*layers))
        self.linear = nn.Linear(outs[-1], classes)

    def stage_fns(self):
        return [lambda x: self.layer1(F.relu(self.bn1(self.conv1(x)))), self.layer2, self.layer3,
                lambda x: self.linear(torch.flatten(F.avg_pool2d(x, 4), 1))]


# ====================================================================== ShuffleNetV2 (ShuffleNetv2.py)

class ShuffleV2Basic(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.conv1 = conv(h, h, 1)
        self.bn1 = bn(h)
        self.conv2 = conv(h, h, 3, 1, 1, groups=h)
        self.bn2 = bn(h)
        self.conv3 = conv(h, h, 1)
        self.bn3 = bn(h)

    def forward(self, x):
        h = x.shape[1] // 2
        x1, x2 = x[:, :h], x[:, h:]
        y = F.relu(self.bn1(self.conv1(x2)))
        y = self.bn2(self.conv2(y))
        y = F.relu(self.bn3(self.conv3(y)))
        return shuffle(torch.cat([x1, y], 1), 2)


class ShuffleV2Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        mid = cout // 2
        self.conv1 = conv(cin, cin, 3, 2, 1, groups=cin)
        self.bn1 = bn(cin)
        self.conv2 = conv(cin, mid, 1)
        self.bn2 = bn(mid)
        self.conv3 = conv(cin, mid, 1)
        self.bn3 = bn(mid)
        self.conv4 = conv(mid, mid, 3, 2, 1, groups=mid)
        self.bn4 = bn(mid)
        self.conv5 = conv(mid, mid, 1)
        self.bn5 = bn(mid)

    def forward(self, x):
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = F.relu(self.bn3(self.conv3(x)))
        right = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(right)))))
        return shuffle(torch.cat([left, right], 1), 2)


class ShuffleNetV2(Staged):
    """stem+layer1 | layer2 | layer3 | head(conv2, bn2, relu, AvgPool(4), linear)."""

    def __init__(self, classes, cin, outs=(116, 232, 464, 1024), blocks=(3, 7, 3)):
        super().__init__()
        self.conv1 = conv(cin, 24, 1)
        self.bn1 = bn(24)
        c = 24
        for i, (out, n) in enumerate(zip(outs[:3], blocks)):
            setattr(self, "layer%d" % (i + 1), nn.Sequential(ShuffleV2Down(c, out), *[ShuffleV2Basic(out) for _ in range(n)]))
            c = out
        self.conv2 = conv(c, outs[3], 1)
        self.bn2 = bn(outs[3])
        self.linear = nn.Linear(outs[3], classes)

    def stage_fns(self):
        return [lambda x: self.layer1(F.relu(self.bn1(self.conv1(x)))), self.layer2, self.layer3,
                lambda x: self.linear(torch.flatten(F.avg_pool2d(F.relu(self.bn2(self.conv2(x))), 4), 1))]


# ====================================================================== the zoo

CIFAR = (3, 32, 32)
IMAGENET = (3, 224, 224)

# name → (builder(classes, cin, h), standard input (C,H,W))
ZOO = {}
for d in (8, 14, 20, 32, 44, 56, 110):
    ZOO["resnet%d" % d] = (lambda c, i, h, d=d: CifarResNet(d, [16, 16, 32, 64], c, i), CIFAR)
ZOO["resnet8x4"] = (lambda c, i, h: CifarResNet(8, [32, 64, 128, 256], c, i), CIFAR)
ZOO["resnet32x4"] = (lambda c, i, h: CifarResNet(32, [32, 64, 128, 256], c, i), CIFAR)
for d, k in ((16, 1), (16, 2), (40, 1), (40, 2)):
    ZOO["wrn_%d_%d" % (d, k)] = (lambda c, i, h, d=d, k=k: WideResNet(d, k, c, i), CIFAR)
for name, cfg in VGG_CFG.items():
    ZOO[name] = (lambda c, i, h, cfg=cfg: Vgg(cfg, c, i, h), CIFAR)
ZOO["mobile_half"] = (lambda c, i, h: MobileNetV2(0.5, c, i, h), CIFAR)
ZOO["ShuffleV1"] = (lambda c, i, h: ShuffleNetV1(c, i), CIFAR)
ZOO["ShuffleV2"] = (lambda c, i, h: ShuffleNetV2(c, i), CIFAR)
ZOO["ResNet18"] = (lambda c, i, h: CifarResNetV2(False, [2, 2, 2, 2], c, i), CIFAR)
ZOO["ResNet34"] = (lambda c, i, h: CifarResNetV2(False, [3, 4, 6, 3], c, i), CIFAR)
ZOO["ResNet50"] = (lambda c, i, h: CifarResNetV2(True, [3, 4, 6, 3], c, i), CIFAR)
ZOO["resnet18"] = (lambda c, i, h: TorchvisionResNet([2, 2, 2, 2], c, i), IMAGENET)
ZOO["resnet34"] = (lambda c, i, h: TorchvisionResNet([3, 4, 6, 3], c, i), IMAGENET)


def build(name, classes, cin=3, h=None):
    builder, std = ZOO[name]
    return builder(classes, cin, std[1] if h is None else h)


# Golden logits cases: (case, model, classes, (C,H,W)).
GOLDEN_CASES = [
    ("resnet8x4", "resnet8x4", 100, CIFAR),
    ("wrn_16_2", "wrn_16_2", 100, CIFAR),
    ("vgg8", "vgg8", 100, CIFAR),
    ("mobile_half", "mobile_half", 100, CIFAR),
    ("ShuffleV1", "ShuffleV1", 100, CIFAR),
    ("ShuffleV2", "ShuffleV2", 100, CIFAR),
    ("resnet20", "resnet20", 100, CIFAR),
    ("ShuffleV2_fmnist28", "ShuffleV2", 10, (1, 28, 28)),
    ("vgg8_fmnist28", "vgg8", 10, (1, 28, 28)),
    ("resnet18_64px", "resnet18", 10, (3, 64, 64)),
]
RUNNING_STATS_CASE = "resnet8x4"


# ====================================================================== deterministic fill

MASK64 = (1 << 64) - 1


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def hash_uniform(name, n):
    """n values in [-1, 1), multiples of 2^-23: splitmix64 of fnv1a64(name) + (i+1)·φ."""
    with np.errstate(over="ignore"):
        z = np.uint64(fnv1a64(name)) + (np.arange(n, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / 8388608.0 - 1.0


def fill_values(name, shape):
    """The value of every element of state entry `name` (float64 before the cast to float32).

    weights of rank ≥ 2: u·√(3/fan_in) (variance 1/fan_in); BN weight 1 + u/4; biases u/10;
    running_mean u/10; running_var 1 + u/2; num_batches_tracked 0.
    """
    n = int(np.prod(shape)) if len(shape) else 1
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return np.zeros(n)
    u = hash_uniform(name, n)
    if leaf == "running_mean":
        return 0.1 * u
    if leaf == "running_var":
        return 1.0 + 0.5 * u
    if leaf == "bias":
        return 0.1 * u
    if leaf == "weight" and len(shape) == 1:
        return 1.0 + 0.25 * u
    if leaf == "weight":
        fan_in = int(np.prod(shape[1:]))
        return u * math.sqrt(3.0 / fan_in)
    raise ValueError("no fill rule for " + name)


def fill_state(model):
    with torch.no_grad():
        for name, t in model.state_dict().items():
            v = fill_values(name, tuple(t.shape))
            t.copy_(torch.from_numpy(v.reshape(t.shape)).to(t.dtype))


# ====================================================================== safetensors writer

ST_DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32"}


def write_safetensors(path, tensors, metadata):
    """tensors: ordered name → tensor. Header entries and data in the given order, header padded to 8."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ====================================================================== fixtures

def input_batch(c, h, w):
    return torch.from_numpy(hash_uniform("input", 2 * c * h * w).astype(np.float32).reshape(2, c, h, w))


def write_csv(path, header, rows):
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(header)
    wr.writerows(rows)
    with open(path, "w", newline="") as f:
        f.write(buf.getvalue())


def dims(shape):
    """(16,3,3,3), (16,) or (): Python's tuple form, which is also stablekd's Shape.toString()."""
    return "(" + ",".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def param_counts():
    rows = []
    for name in ZOO:
        for classes, cin in ((100, 3), (10, 1)) + (((1000, 3),) if ZOO[name][1] == IMAGENET else ()):
            m = build(name, classes, cin)
            rows.append((name, classes, cin, sum(p.numel() for p in m.parameters())))
            print("%-12s classes=%-4d in=%d params=%d" % rows[-1])
    write_csv(os.path.join(OUT_DIR, "param_counts.csv"), ["model", "classes", "in_channels", "params"], rows)


def state_dicts_and_stage_shapes():
    os.makedirs(os.path.join(OUT_DIR, "state_dicts"), exist_ok=True)
    rows = []
    for name, (_, std) in ZOO.items():
        m = build(name, 100)
        with open(os.path.join(OUT_DIR, "state_dicts", name + ".txt"), "w") as f:
            for k, t in m.state_dict().items():
                f.write("%s %s %s\n" % (k, ST_DTYPES[t.dtype], dims(t.shape)))
        m.eval()
        with torch.no_grad():
            outs = m.stage_outputs(torch.zeros(2, *std))
        for i, o in enumerate(outs):
            rows.append((name, std[0], std[1], std[2], i, dims(o.shape)))
    write_csv(os.path.join(OUT_DIR, "stage_shapes.csv"), ["model", "C", "H", "W", "stage", "shape"], rows)


def golden_cases():
    os.makedirs(os.path.join(OUT_DIR, "golden"), exist_ok=True)
    rows = []
    for case, name, classes, (c, h, w) in GOLDEN_CASES:
        m = build(name, classes, c, h)
        fill_state(m)
        x = input_batch(c, h, w)
        out = {"input": x}
        m.eval()
        with torch.no_grad():
            stages = m.stage_outputs(x)
            out["logits_eval"] = stages[-1]
            for i, s in enumerate(stages[:-1]):
                if s.numel() <= STAGE_OUTPUT_MAX_NUMEL:
                    out["stage%d_eval" % i] = s
            m.train()
            out["logits_train"] = m(x)
        if case == RUNNING_STATS_CASE:
            for k, t in m.state_dict().items():
                if k.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked"):
                    out["after_train." + k] = t
        meta = {"format": FORMAT, "case": case, "model": name, "classes": str(classes),
                "input": "%dx%dx%d" % (c, h, w), "torch_version": torch.__version__}
        write_safetensors(os.path.join(OUT_DIR, "golden", case + ".safetensors"), out, meta)
        rows.append((case, name, classes, c, h, w))
        le, lt = out["logits_eval"], out["logits_train"]
        print("%-20s eval |mean| %.3g max %.3g  train |mean| %.3g max %.3g" % (
            case, le.abs().mean(), le.abs().max(), lt.abs().mean(), lt.abs().max()))
    write_csv(os.path.join(OUT_DIR, "golden_cases.csv"), ["case", "model", "classes", "C", "H", "W"], rows)


def real_state_dict():
    torch.manual_seed(20231221)
    m = build("resnet8", 100)
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(8, 3, 32, 32))
    m.eval()
    x = input_batch(3, 32, 32)
    with torch.no_grad():
        logits = m(x)
    meta = {"format": FORMAT, "model": "resnet8", "classes": "100", "torch_version": torch.__version__}
    write_safetensors(os.path.join(OUT_DIR, "resnet8_state_dict.safetensors"), m.state_dict(), {"model": "resnet8"})
    write_safetensors(os.path.join(OUT_DIR, "resnet8_state_dict_logits.safetensors"),
                      {"input": x, "logits_eval": logits}, meta)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    param_counts()
    state_dicts_and_stage_shapes()
    golden_cases()
    real_state_dict()


if __name__ == "__main__":
    main()
