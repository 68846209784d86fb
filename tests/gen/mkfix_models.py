#!/usr/bin/python3
"""mkfix_models: PyTorch reference fixtures for whole micro ResNets (docs/architecture.md §9.2).

Run by hand with Debian's python3-torch:  /usr/bin/python3 tests/gen/mkfix_models.py
Each case builds a ResNet from torchvision's own BasicBlock / Bottleneck with tiny widths (planes
4/8/16/32), so its state_dict names follow torchvision exactly, and writes two files to
tests/fixtures/models/:
  <case>.safetensors      the state dict before training (every param and buffer) and
                          "after.<buffer>" for every BN buffer after one train-mode forward;
  <case>_out.safetensors  the input "x", "targets" (I64), "logits_eval", "logits_train", "loss"
                          (cross-entropy, mean) and "grad.<param>" for every parameter.
(Two files so each stays under 200 KB.) Parameters and inputs are drawn in float32 and stored;
references are computed in float64 from those values. The C side builds the same net from the
"arch" metadata, e.g. resnet-custom:basic:1,1,1,1:4,8,16,32:imagenet.

Input size: the ImageNet-stem cases use 2x3x48x48, not 32x32. At 32x32 layer4 is 1x1, so its
train-mode BatchNorm normalises over just 2 values; that is so ill-conditioned that torch's own
float32 result misses its float64 one by 1.0e-4 (logits) and 1.2e-3 (grads), i.e. the tolerances
of docs/architecture.md §9.4. At 48x48 (layer4 2x2) torch float32 vs float64 is 1.8e-6 / 1.0e-5.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck

import stwriter

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "models")


def write_safetensors(path, tensors, meta):
    return stwriter.write_sorted_f32(path, tensors, meta)


class MicroResNet(nn.Module):
    """torchvision.models.ResNet with free widths/depths and a choice of stem; same module names."""

    def __init__(self, block, layers, planes, stem, in_ch=3, num_classes=10):
        super().__init__()
        self.inplanes = planes[0]
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_ch, self.inplanes, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_ch, self.inplanes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if stem == "imagenet" else nn.Identity()
        for i, (n, p) in enumerate(zip(layers, planes)):
            setattr(self, "layer%d" % (i + 1), self._make_layer(block, p, n, 1 if i == 0 else 2))
        self.n_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(planes[-1] * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.n_stages):
            x = getattr(self, "layer%d" % (i + 1))(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


CASES = [
    # name, block, blocks per stage, planes, stem, input side
    ("micro_basic", BasicBlock, [1, 1, 1, 1], [4, 8, 16, 32], "imagenet", 48),
    ("micro_bottleneck", Bottleneck, [1, 1, 1, 1], [4, 8, 16, 32], "imagenet", 48),
    ("micro_small", BasicBlock, [2, 1, 1], [4, 8, 16], "small", 32),
]


def make_case(idx, name, block, layers, planes, stem, side):
    seed = 1000 + idx
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = MicroResNet(block, layers, planes, stem)
    # Non-default BN affine params and running stats so that eval mode and the update are exercised.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.num_batches_tracked.fill_(3)
    sd32 = {k: v.clone() for k, v in model.state_dict().items()}
    x32 = torch.randn(2, 3, side, side, generator=g)
    targets = torch.tensor([3, 7], dtype=torch.int64)

    model = model.double()
    x = x32.double()
    model.eval()
    with torch.no_grad():
        logits_eval = model(x)
    model.train()
    logits_train = model(x)
    loss = F.cross_entropy(logits_train, targets)
    loss.backward()

    arch = "resnet-custom:%s:%s:%s:%s" % ("basic" if block is BasicBlock else "bottleneck",
                                          ",".join(map(str, layers)), ",".join(map(str, planes)), stem)
    meta = {"generator": "tests/gen/mkfix_models.py", "torch": torch.__version__, "seed": seed, "arch": arch,
            "call": "eval forward; train forward; F.cross_entropy(logits, targets).backward(); float64"}
    t = dict(sd32)
    for k, v in model.state_dict().items():
        if "running" in k or "num_batches" in k:
            t["after." + k] = v
    out = {"grad." + k: p.grad for k, p in model.named_parameters()}
    out.update({"x": x32, "targets": targets, "logits_eval": logits_eval, "logits_train": logits_train,
                "loss": loss.detach().reshape(1)})
    a = write_safetensors(os.path.join(OUT, name + ".safetensors"), t, meta)
    b = write_safetensors(os.path.join(OUT, name + "_out.safetensors"), out, meta)
    print(name, arch, a, b, "params", sum(p.numel() for p in model.parameters()))
    assert a <= 200 * 1024 and b <= 200 * 1024


class ConcatPool(nn.Module):
    """fastai's AdaptiveConcatPool2d(1): max first, then average."""

    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


class FastaiMicro(nn.Module):
    """A micro body (torchvision names) plus fastai's create_head(2*nf -> 512 -> n_out) as "head",
    whose Sequential indices give the names head.2 / head.4 / head.6 / head.8."""

    def __init__(self, body, nf, n_out):
        super().__init__()
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3"):
            setattr(self, name, getattr(body, name))
        self.head = nn.Sequential(ConcatPool(), nn.Flatten(), nn.BatchNorm1d(2 * nf), nn.Dropout(0.25),
                                  nn.Linear(2 * nf, 512, bias=False), nn.ReLU(inplace=True), nn.BatchNorm1d(512),
                                  nn.Dropout(0.5), nn.Linear(512, n_out, bias=False))

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.head(self.layer3(self.layer2(self.layer1(x))))


def make_fastai_case():
    """Eval-mode parity of the fastai head (dropout makes train mode random): pins max-before-avg,
    the BatchNorm1d eps and the head's names. Writes micro_fastai.safetensors (state dict, x,
    logits_eval)."""
    seed = 2000
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    body = MicroResNet(BasicBlock, [2, 1, 1], [4, 8, 16], "small")
    model = FastaiMicro(body, 16, 10)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
    t = {k: v.clone() for k, v in model.state_dict().items()}
    x32 = torch.randn(2, 3, 32, 32, generator=g)
    model = model.double().eval()
    with torch.no_grad():
        t["logits_eval"] = model(x32.double())
    t["x"] = x32
    meta = {"generator": "tests/gen/mkfix_models.py", "torch": torch.__version__, "seed": seed,
            "arch": "resnet-custom:basic:2,1,1:4,8,16:small", "head": "fastai",
            "call": "eval forward of body + fastai create_head (concat pool max-then-avg); float64"}
    a = write_safetensors(os.path.join(OUT, "micro_fastai.safetensors"), t, meta)
    print("micro_fastai", meta["arch"], a)
    assert a <= 200 * 1024


def main():
    os.makedirs(OUT, exist_ok=True)
    for i, c in enumerate(CASES):
        make_case(i, *c)
    make_fastai_case()


if __name__ == "__main__":
    main()
