#!/usr/bin/python3
"""PyTorch CPU peer of bench_train.c: the same models, batch, loss and optimiser step
(forward + backward + AdamW with fastai's Adam settings), timed the same way.
Prints one line: `torch MODEL threads=T img/s=MEDIAN cpu_img/s=C steps=N rss_mb=R`
(cpu_img/s: the same median over process CPU time, robust to a time-sliced core at 1 thread).
Run by tests/bench/bench_train.sh, alternating with dllab; not part of make check."""
import argparse, resource, time
import torch, torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock


def fmnist_resnet(n_out=10):
    # conv3x3 1->32 + BN + ReLU; 3 stages x 2 BasicBlocks (32/64/128, strides 1/2/2); avg pool; linear
    layers = [nn.Conv2d(1, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True)]
    cin = 32
    for planes, stride in ((32, 1), (64, 2), (128, 2)):
        for b in range(2):
            s = stride if b == 0 else 1
            down = None
            if s != 1 or cin != planes:
                down = nn.Sequential(nn.Conv2d(cin, planes, 1, s, bias=False), nn.BatchNorm2d(planes))
            layers.append(BasicBlock(cin, planes, s, down))
            cin = planes
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, n_out)]
    return nn.Sequential(*layers)


def fastai_head(nf, n_out=10):
    # fastai's create_head: concat pool, flatten, BN1d, dropout, linear, ReLU, BN1d, dropout, linear
    class ConcatPool(nn.Module):
        def forward(self, x):
            return torch.cat([nn.functional.adaptive_max_pool2d(x, 1), nn.functional.adaptive_avg_pool2d(x, 1)], 1)
    return nn.Sequential(ConcatPool(), nn.Flatten(), nn.BatchNorm1d(2 * nf), nn.Dropout(0.25),
                         nn.Linear(2 * nf, 512, bias=False), nn.ReLU(inplace=True), nn.BatchNorm1d(512),
                         nn.Dropout(0.5), nn.Linear(512, n_out, bias=False))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["resnet18", "resnet-xs"], required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--head", choices=["torchvision", "fastai"], default="torchvision")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--eval", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.model == "resnet18":
        model, shape = torchvision.models.resnet18(num_classes=10), (64, 3, 64, 64)
    else:
        model, shape = fmnist_resnet(), (128, 1, 28, 28)
    if a.head == "fastai":  # the body up to the pool, then fastai's head
        body = list(model.children())
        body = body[:-3] if a.model == "resnet-xs" else body[:-2]
        nf = 128 if a.model == "resnet-xs" else 512
        model = nn.Sequential(*body, fastai_head(nf))
    if a.batch > 0:
        shape = (a.batch,) + shape[1:]
    model.train(not a.eval)
    x = torch.randn(*shape)
    y = torch.randint(0, 10, (shape[0],))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)
    lossf = nn.CrossEntropyLoss()
    times, cpus = [], []
    for i in range(a.warmup + a.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        if a.eval:
            with torch.no_grad():
                model(x)
        else:
            opt.zero_grad()
            loss = lossf(model(x), y)
            loss.backward()
            opt.step()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if i >= a.warmup:
            times.append(t)
            cpus.append(c)
    times.sort()
    cpus.sort()
    med, cmed = times[len(times) // 2], cpus[len(cpus) // 2]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {a.model}{'+fastai' if a.head == 'fastai' else ''}{' eval' if a.eval else ''} threads={a.threads} img/s={shape[0] / med:.1f} cpu_img/s={shape[0] / cmed:.1f} steps={a.steps} rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
