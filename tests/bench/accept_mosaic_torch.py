#!/usr/bin/python3
"""Acceptance run, PyTorch side: the twin of `dllab train fashion-mosaic --arch resnet-xs
--head torchvision --no-aug --lr =LR --bs BS` (multi-label), run by accept_mosaic.sh after dllab.

It trains on the very files dllab trained on: the mosaic folder dllab generated in its cache
(DIR/labels.csv + DIR/img/*.jpg, is_valid column = the split), decoded grey with Pillow, normalised
with the mean/std of 1000 evenly spaced training items (as dllab). Network, initialisation,
optimiser and one-cycle schedule come from accept_fmnist_torch.py; the loss is BCE-with-logits
over the 10 labels. Reports accuracy_multi at threshold 0.5 (fastai: sigmoid > thresh compared
with the 0/1 targets, averaged over items x labels) and micro-F1 at 0.5 (TP/FP/FN pooled over
labels). Refuses a folder without labels.csv (run dllab on fashion-mosaic first).
Prints one line: `torch mosaic acc_multi=A micro_f1=F valid_loss=L train_loss=T fit_s=S wall_s=W`."""
import argparse, csv, os, sys, time

import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accept_fmnist_torch import (common_args, dllab_stats, fastai_adam, fit_one_cycle,  # noqa: E402
                                 init_like_dllab, predict)
from bench_train_torch import fmnist_resnet  # noqa: E402


def load(folder):
    path = os.path.join(folder, "labels.csv")
    if not os.path.exists(path):
        sys.exit(f"accept_mosaic_torch.py: {path} missing (run dllab train fashion-mosaic first)")
    rows = list(csv.DictReader(open(path)))
    vocab = sorted({l for r in rows for l in r["labels"].split()})
    xs = {False: [], True: []}
    ys = {False: [], True: []}
    for r in rows:
        v = r["is_valid"].strip().lower() in ("true", "1")
        img = np.asarray(Image.open(os.path.join(folder, r["fname"])).convert("L"), dtype=np.uint8)
        xs[v].append(img)
        t = np.zeros(len(vocab), np.float32)
        for l in r["labels"].split():
            t[vocab.index(l)] = 1
        ys[v].append(t)
    out = []
    for v in (False, True):
        out.append(torch.from_numpy(np.stack(xs[v]))[:, None])
        out.append(torch.from_numpy(np.stack(ys[v])))
    return out, vocab


def main():
    t_start = time.perf_counter()
    ap = argparse.ArgumentParser()
    common_args(ap)
    ap.add_argument("--dir", required=True, help="dllab's fashion-mosaic cache folder")
    ap.add_argument("--thresh", type=float, default=0.5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    (xt, yt, xv, yv), vocab = load(a.dir)
    if a.limit:
        xt, yt = xt[:a.limit], yt[:a.limit]
    if a.valid_limit:
        xv, yv = xv[:a.valid_limit], yv[:a.valid_limit]
    mean, std = dllab_stats(xt)
    xt = (xt.float() / 255 - mean) / std
    xv = (xv.float() / 255 - mean) / std
    model = fmnist_resnet(len(vocab))
    init_like_dllab(model)
    opt = fastai_adam(model, a.lr, a.wd)
    t0 = time.perf_counter()
    tl = fit_one_cycle(model, opt, xt, yt, a.epochs, a.bs, a.lr, nn.BCEWithLogitsLoss(), a.seed)
    logits = predict(model, xv, 256)
    fit_s = time.perf_counter() - t0
    pred = (torch.sigmoid(logits) > a.thresh).float()
    acc = float((pred == yv).float().mean())
    tp = float((pred * yv).sum())
    fp = float((pred * (1 - yv)).sum())
    fn = float(((1 - pred) * yv).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 0.0
    vl = float(F.binary_cross_entropy_with_logits(logits, yv))
    print(f"torch mosaic acc_multi={acc:.4f} micro_f1={f1:.4f} valid_loss={vl:.4f} train_loss={tl:.4f} fit_s={fit_s:.1f} "
          f"wall_s={time.perf_counter() - t_start:.1f} n_train={xt.shape[0]} n_valid={xv.shape[0]}", flush=True)


if __name__ == "__main__":
    main()
