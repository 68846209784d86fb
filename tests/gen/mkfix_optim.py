#!/usr/bin/python3
"""mkfix_optim: PyTorch references for dllab's optimisers (tests/check_optim.c), run by hand with
Debian's python3-torch (the `safetensors` package is not installed, so the file is written by hand:
u64 little-endian header length, JSON header padded with spaces to 8, raw little-endian data).

Writes tests/fixtures/optim/{sgd_mom,adamw}.safetensors (checked by tests/check_optim.c) and
tests/fixtures/optim/onecycle.safetensors (tests/check_sched.c). The parameters, and the gradients fed at
each of 3 steps, are drawn as float32 with a fixed seed; the reference run is in float64 on those
float32 values, and its results are stored as float32.

Layout (the C test registers the same entries): name, shape, group, flags
  conv.weight [4,3,3,3] g0 -         bn.weight [4] g0 NORM      bn.bias [4] g0 NORM|BIAS
  fc.weight   [5,7]     g1 -         fc.bias   [5] g1 BIAS
fastai excludes NORM and BIAS entries from weight decay (wd_bn_bias=False): they form a torch
parameter group with weight_decay=0. Group 0 gets lr/10, group 1 lr (fastai's slice(lr)). lr and
momentum change at every step, as a one-cycle schedule makes them, to check that the current
values are used (Adam's bias correction uses the current beta1). fc.bias gradients are scaled by
1e-5 so that Adam's eps (1e-5, added outside the square root) matters.

- SGD: torch.optim.SGD(momentum=mom, dampening=0, weight_decay=0) with fastai's decoupled weight
  decay applied by hand before each step: p <- p * (1 - lr*wd).
- Adam: torch.optim.AdamW(betas=(mom, 0.99), eps=1e-5, weight_decay=0.01), which is fastai's Adam.

Tensors: "param.<name>" (initial), "grad.<k>.<name>", "after.<k>.<name>" (params after step k),
"state0.<name>" / "state1.<name>" after the last step (momentum buffer; exp_avg, exp_avg_sq).
Metadata: hyper-parameters as repr() strings (exact doubles), generator and torch version.

onecycle.safetensors: per-batch hyper-parameters of whole fits, computed here from fastai's
formulas (docs/fastai.md §1-§4; an implementation independent of dllab's C): for 3 parameter
groups and 7 batches per epoch, "one_cycle.lr" [21, 3] and "one_cycle.mom" [21] for
fit_one_cycle(3, slice(1e-3)); "flat_cos.lr" [21, 3] for fit_flat_cos(3, slice(1e-5, 1e-3));
"fine_tune.{1,2}.lr" / ".mom" for fine_tune(2, base_lr=3e-3, freeze_epochs=1) (7 and 14 batches);
"lrfind.lr" [100], the default sweep.

Usage: /usr/bin/python3 tests/gen/mkfix_optim.py  (from the top of the source tree)
"""
import math

import torch

import stwriter

FIX = "tests/fixtures/optim/"
SEED = 20261128
STEPS = 3
LRS = [1e-2, 3e-2, 2e-2]        # group 1 (last group); group 0 gets lr/10
MOMS = [0.95, 0.9, 0.85]
LAYOUT = [("conv.weight", [4, 3, 3, 3], 0, ""), ("bn.weight", [4], 0, "norm"), ("bn.bias", [4], 0, "norm,bias"),
          ("fc.weight", [5, 7], 1, ""), ("fc.bias", [5], 1, "bias")]


def save(tensors, path, metadata):
    stwriter.write(path, [(n, tensors[n].to(torch.float32)) for n in sorted(tensors)], metadata, sort_keys=True)


def draw():
    g = torch.Generator().manual_seed(SEED)
    params = {n: torch.randn(s, generator=g, dtype=torch.float32) for n, s, _, _ in LAYOUT}
    grads = []
    for _ in range(STEPS):
        gk = {n: torch.randn(s, generator=g, dtype=torch.float32) for n, s, _, _ in LAYOUT}
        gk["fc.bias"] = (gk["fc.bias"].double() * 1e-5).float()
        grads.append(gk)
    return params, grads


def groups_of(ps, wd):
    """torch groups: (layer group, do_wd) -> params, in a fixed order."""
    out = []
    for lg in (0, 1):
        for do_wd in (True, False):
            names = [n for n, _, g, fl in LAYOUT if g == lg and (fl == "") == do_wd]
            if names:
                out.append({"params": [ps[n] for n in names], "lg": lg, "do_wd": do_wd,
                            "weight_decay": wd if do_wd else 0.0})
    return out


def run(kind):
    params, grads = draw()
    ps = {n: params[n].double().clone().requires_grad_(True) for n in params}
    wd = 0.05 if kind == "sgd" else 0.01
    if kind == "sgd":
        gs = groups_of(ps, wd)
        for gr in gs:
            gr["weight_decay"] = 0.0  # decoupled wd is applied by hand, below
        opt = torch.optim.SGD(gs, lr=LRS[0], momentum=MOMS[0], dampening=0, weight_decay=0)
    else:
        opt = torch.optim.AdamW(groups_of(ps, wd), lr=LRS[0], betas=(MOMS[0], 0.99), eps=1e-5, weight_decay=wd)
    out = {"param." + n: params[n] for n in params}
    for k in range(STEPS):
        for n in ps:
            ps[n].grad = grads[k][n].double().clone()
            out["grad.%d.%s" % (k, n)] = grads[k][n]
        for gr in opt.param_groups:
            lr = LRS[k] / 10 if gr["lg"] == 0 else LRS[k]
            gr["lr"] = lr
            if kind == "sgd":
                gr["momentum"] = MOMS[k]
                if gr["do_wd"]:
                    with torch.no_grad():
                        for p in gr["params"]:
                            p.mul_(1 - lr * wd)
            else:
                gr["betas"] = (MOMS[k], 0.99)
        opt.step()
        for n in ps:
            out["after.%d.%s" % (k, n)] = ps[n].detach().clone()
    for n in ps:
        st = opt.state[ps[n]]
        if kind == "sgd":
            out["state0." + n] = st["momentum_buffer"]
        else:
            out["state0." + n] = st["exp_avg"]
            out["state1." + n] = st["exp_avg_sq"]
    meta = {"generator": "tests/gen/mkfix_optim.py", "torch": torch.__version__, "seed": str(SEED),
            "kind": kind, "steps": str(STEPS), "wd": repr(wd), "sqr_mom": repr(0.99), "eps": repr(1e-5),
            "layout": ";".join("%s:%s:%d:%s" % (n, "x".join(map(str, s)), g, fl) for n, s, g, fl in LAYOUT),
            "call": ("torch.optim.SGD(momentum=mom, dampening=0) + p.mul_(1-lr*wd) by hand on do_wd groups"
                     if kind == "sgd" else "torch.optim.AdamW(betas=(mom,0.99), eps=1e-5, weight_decay=0.01)")
            + "; group 0 lr/10, group 1 lr; NORM/BIAS entries without wd; float64 run on float32 inputs"}
    for k in range(STEPS):
        meta["lr.%d" % k] = repr(LRS[k])
        meta["mom.%d" % k] = repr(MOMS[k])
    save(out, FIX + ("sgd_mom" if kind == "sgd" else "adamw") + ".safetensors", meta)


# ---- schedules, from the formulas (fastai's callback/schedule.py semantics) ----

def sched_cos(a, b):
    return lambda p: a + (1 + math.cos(math.pi * (1 - p))) * (b - a) / 2


def combine(pcts, scheds):
    edges = [0.0]
    for q in pcts:
        edges.append(edges[-1] + q)

    def at(pos):
        idx = min(max(i for i, e in enumerate(edges) if pos >= e), len(edges) - 2)
        return scheds[idx]((pos - edges[idx]) / (edges[idx + 1] - edges[idx]))
    return at


def combined_cos(pct, a, b, c):
    return combine([pct, 1 - pct], [sched_cos(a, b), sched_cos(b, c)])


def slice_hi(hi, n):
    return [hi / 10] * (n - 1) + [hi]


def even_mults(lo, hi, n):
    step = (hi / lo) ** (1 / (n - 1))
    return [lo * step ** i for i in range(n)]


def fit_values(lr_scheds, mom_sched, n_epoch, n_iter):
    lrs, moms = [], []
    for e in range(n_epoch):
        for i in range(n_iter):
            pos = (e * n_iter + i) / (n_epoch * n_iter)
            lrs.append([f(pos) for f in lr_scheds])
            if mom_sched:
                moms.append(mom_sched(pos))
    return lrs, moms


def one_cycle(lr_max, n_epoch, n_iter, pct_start=0.25, div=25.0, div_final=1e5, moms=(0.95, 0.85, 0.95)):
    return fit_values([combined_cos(pct_start, lm / div, lm, lm / div_final) for lm in lr_max],
                      combined_cos(pct_start, *moms), n_epoch, n_iter)


def schedules():
    G, NI = 3, 7
    out = {}
    lrs, moms = one_cycle(slice_hi(1e-3, G), 3, NI)
    out["one_cycle.lr"], out["one_cycle.mom"] = torch.tensor(lrs, dtype=torch.float64), torch.tensor(moms)
    lr = even_mults(1e-5, 1e-3, G)
    lrs, _ = fit_values([combined_cos(0.75, x, x, x / 1e5) for x in lr], None, 3, NI)
    out["flat_cos.lr"] = torch.tensor(lrs, dtype=torch.float64)
    base_lr = 3e-3                                     # fine_tune(2, base_lr=3e-3, freeze_epochs=1)
    lrs, moms = one_cycle(slice_hi(base_lr, G), 1, NI, pct_start=0.99)
    out["fine_tune.1.lr"], out["fine_tune.1.mom"] = torch.tensor(lrs, dtype=torch.float64), torch.tensor(moms)
    base_lr /= 2
    lrs, moms = one_cycle(even_mults(base_lr / 100, base_lr, G), 2, NI, pct_start=0.3, div=5.0)
    out["fine_tune.2.lr"], out["fine_tune.2.mom"] = torch.tensor(lrs, dtype=torch.float64), torch.tensor(moms)
    out["lrfind.lr"] = torch.tensor([1e-7 * (10 / 1e-7) ** (i / 100) for i in range(100)], dtype=torch.float64)
    meta = {"generator": "tests/gen/mkfix_optim.py", "torch": torch.__version__, "groups": str(G),
            "n_iter": str(NI),
            "call": "fit_one_cycle(3, slice(1e-3)); fit_flat_cos(3, slice(1e-5,1e-3)); "
                    "fine_tune(2, base_lr=3e-3, freeze_epochs=1); lr_find() sweep; from fastai's formulas"}
    save(out, FIX + "onecycle.safetensors", meta)


if __name__ == "__main__":
    torch.set_num_threads(1)
    run("sgd")
    run("adamw")
    schedules()
