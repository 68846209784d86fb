#!/usr/bin/python3
"""Acceptance run, PyTorch side: the twin of `dllab train fashion-mnist --arch resnet-xs
--head torchvision --no-aug --lr =LR --bs BS`, run by accept_fmnist.sh right after dllab.

Same data (Debian's Fashion-MNIST IDX files; train = the 60k training set, valid = t10k), same
normalisation (mean/std of 1000 evenly spaced training items, as dllab's data module), no
augmentation, same network (bench_train_torch.fmnist_resnet, initialised as dllab/torchvision:
kaiming_normal fan_out convs, BN 1/0, nn.Linear default fc), same optimiser (fastai's Adam =
AdamW betas (mom, 0.99), eps 1e-5, decoupled wd 0.01, no wd on BN weights and biases), and
fastai's fit_one_cycle schedule written out by hand (cosine lr/25 -> lr over the first 25 %, then
cosine to lr/1e5; momentum 0.95 -> 0.85 -> 0.95), evaluated before every batch at
pos = batch / total as fastai does. Train batches are shuffled, the last partial one dropped.
Refuses nothing clever: a missing dataset raises (install dataset-fashion-mnist).
With --head fastai --bs 64 --lr 1e-3 it is the twin of dllab's default configuration
(`dllab train fashion-mnist`), minus the augmentation (accept_fmnist.sh CONFIG=default).
Prints one line: `torch fmnist acc=A valid_loss=L train_loss=T fit_s=S wall_s=W`.
Not part of make check (needs torch, takes minutes)."""
import argparse, gzip, math, os, sys, time

import torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train_torch import fastai_head, fmnist_resnet  # noqa: E402

FMNIST = os.environ.get("DLLAB_FASHION_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx(split):
    with gzip.open(f"{FMNIST}/{split}-images-idx3-ubyte.gz") as f:
        b = f.read()
    n, h, w = (int.from_bytes(b[i:i + 4], "big") for i in (4, 8, 12))
    x = torch.frombuffer(bytearray(b[16:16 + n * h * w]), dtype=torch.uint8).view(n, 1, h, w)
    with gzip.open(f"{FMNIST}/{split}-labels-idx1-ubyte.gz") as f:
        y = torch.frombuffer(bytearray(f.read()[8:]), dtype=torch.uint8).long()
    return x, y


def dllab_stats(x_u8):
    """Mean/std over up to 1000 evenly spaced items, as core/data/dataset.c computes them."""
    n = x_u8.shape[0]
    want = min(n, 1000)
    step = n // want
    s = x_u8[torch.arange(want) * step].double() / 255.0
    return float(s.mean()), float(s.std(unbiased=False))


def init_like_dllab(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def sched_cos(a, b, p):
    return a + (1 + math.cos(math.pi * (1 - p))) * (b - a) / 2


def one_cycle(pos, lr_max, pct=0.25, div=25.0, div_final=1e5, moms=(0.95, 0.85, 0.95)):
    """fastai's fit_one_cycle at pos in [0, 1): (lr, beta1)."""
    if pos < pct:
        p = pos / pct
        return sched_cos(lr_max / div, lr_max, p), sched_cos(moms[0], moms[1], p)
    p = (pos - pct) / (1 - pct)
    return sched_cos(lr_max, lr_max / div_final, p), sched_cos(moms[1], moms[2], p)


def fastai_adam(model, lr, wd):
    decay, no_decay = [], []
    for m in model.modules():
        for name, p in m.named_parameters(recurse=False):
            bn = isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))
            (no_decay if bn or name == "bias" else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.95, 0.99), eps=1e-5)


def fit_one_cycle(model, opt, x, y, epochs, bs, lr, lossf, seed):
    """Trains on (x, y) float tensors; returns fastai's train_loss (the debiased exponential moving
    average of batch losses, beta 0.98), the figure dllab's epoch table prints."""
    g = torch.Generator().manual_seed(seed)
    n_iter = x.shape[0] // bs
    total = epochs * n_iter
    it = 0
    avg = 0.0
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(x.shape[0], generator=g)
        for i in range(n_iter):
            lr_t, mom = one_cycle(it / total, lr)
            for grp in opt.param_groups:
                grp["lr"] = lr_t
                grp["betas"] = (mom, 0.99)
            idx = perm[i * bs:(i + 1) * bs]
            opt.zero_grad()
            loss = lossf(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            avg = 0.98 * avg + 0.02 * float(loss)
            it += 1
    return avg / (1 - 0.98 ** max(it, 1))


@torch.no_grad()
def predict(model, x, bs):
    model.eval()
    return torch.cat([model(x[i:i + bs]) for i in range(0, x.shape[0], bs)])


def common_args(ap):
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="only the first N training items")
    ap.add_argument("--valid-limit", type=int, default=0, help="only the first N validation items")
    ap.add_argument("--head", choices=["torchvision", "fastai"], default="torchvision",
                    help="fastai: dllab's default head (concat pool, BN, dropout, 2 linears)")


def main():
    t_start = time.perf_counter()
    ap = argparse.ArgumentParser()
    common_args(ap)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xt, yt = read_idx("train")
    xv, yv = read_idx("t10k")
    if a.limit:
        xt, yt = xt[:a.limit], yt[:a.limit]
    if a.valid_limit:
        xv, yv = xv[:a.valid_limit], yv[:a.valid_limit]
    mean, std = dllab_stats(xt)
    xt = (xt.float() / 255 - mean) / std
    xv = (xv.float() / 255 - mean) / std
    model = fmnist_resnet(10)
    if a.head == "fastai":  # the body up to the pool, then fastai's head, as dllab's default
        model = nn.Sequential(*list(model.children())[:-3], fastai_head(128))
    init_like_dllab(model)
    opt = fastai_adam(model, a.lr, a.wd)
    t0 = time.perf_counter()
    tl = fit_one_cycle(model, opt, xt, yt, a.epochs, a.bs, a.lr, nn.CrossEntropyLoss(), a.seed)
    logits = predict(model, xv, 256)
    fit_s = time.perf_counter() - t0
    acc = float((logits.argmax(1) == yv).float().mean())
    vl = float(F.cross_entropy(logits, yv))
    print(f"torch fmnist acc={acc:.4f} valid_loss={vl:.4f} train_loss={tl:.4f} fit_s={fit_s:.1f} "
          f"wall_s={time.perf_counter() - t_start:.1f} mean={mean:.4f} std={std:.4f}", flush=True)


if __name__ == "__main__":
    main()
