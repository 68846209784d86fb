#!/usr/bin/python3
"""mkfix_ops: PyTorch reference fixtures for the kernels in core/ops (docs/architecture.md §9.2).

Run by hand with Debian's python3-torch:  /usr/bin/python3 tests/gen/mkfix_ops.py
Writes tests/fixtures/ops/<op>_<case>.safetensors. Inputs are drawn in float32 with fixed seeds and
stored; references are computed in float64 from those float32 values and stored as F32, so the C
side compares against torch's maths, not torch's float32 rounding. Backward uses the per-op trick
loss = (out * dout).sum() with a stored random dout. Safetensors is written by hand (no python
package in Debian 12): sorted keys, header padded with spaces to a multiple of 8, byte-stable.
"""
import os
import sys

import torch
import torch.nn.functional as F

import stwriter

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "ops")


def write_safetensors(path, tensors, meta):
    return stwriter.write_sorted_f32(path, tensors, meta)


def meta(seed, call, **kw):
    m = {"generator": "tests/gen/mkfix_ops.py", "torch": torch.__version__, "seed": seed, "call": call}
    m.update(kw)
    return m


def f32(*shape, gen, scale=1.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float32) * scale)


def leaf(t32):
    return t32.double().requires_grad_(True)


def backward(out, gen):
    dout = torch.randn(*out.shape, generator=gen, dtype=torch.float32)
    (out * dout.double()).sum().backward()
    return dout


def save(name, tensors, m):
    write_safetensors(os.path.join(OUT, name + ".safetensors"), tensors, m)


def conv_cases():
    cases = [("k3s1p1", 3, 1, 1, True), ("k3s2p1", 3, 2, 1, False), ("k1s2p0", 1, 2, 0, False),
             ("k7s2p3", 7, 2, 3, False)]
    for i, (tag, k, s, p, bias) in enumerate(cases):
        seed = 100 + i
        g = torch.Generator().manual_seed(seed)
        x32, w32 = f32(2, 3, 7, 7, gen=g), f32(4, 3, k, k, gen=g, scale=0.3)
        b32 = f32(4, gen=g) if bias else None
        x, w = leaf(x32), leaf(w32)
        b = leaf(b32) if bias else None
        y = F.conv2d(x, w, b, stride=s, padding=p)
        dout = backward(y, g)
        t = {"x": x32, "w": w32, "out": y, "dout": dout, "dx": x.grad, "dw": w.grad}
        if bias:
            t["b"], t["db"] = b32, b.grad
        save("conv2d_" + tag, t, meta(seed, f"F.conv2d(x, w, {'b' if bias else 'None'}, stride={s}, padding={p})",
                                     kernel=k, stride=s, pad=p, bias=int(bias)))


def bn_case(tag, shape, seed):
    g = torch.Generator().manual_seed(seed)
    c = shape[1]
    x32 = f32(*shape, gen=g, scale=2.0) + 0.5
    gamma32, beta32 = 1.0 + 0.3 * f32(c, gen=g), 0.3 * f32(c, gen=g)
    rm32, rv32 = 0.2 * f32(c, gen=g), 1.0 + torch.rand(c, generator=g, dtype=torch.float32)
    bn = (torch.nn.BatchNorm2d(c) if len(shape) == 4 else torch.nn.BatchNorm1d(c)).double()
    with torch.no_grad():
        bn.weight.copy_(gamma32.double())
        bn.bias.copy_(beta32.double())
        bn.running_mean.copy_(rm32.double())
        bn.running_var.copy_(rv32.double())
    bn.train()
    x = leaf(x32)
    y = bn(x)
    dout = backward(y, g)
    t = {"x": x32, "gamma": gamma32, "beta": beta32, "running_mean_in": rm32, "running_var_in": rv32,
         "out": y, "dout": dout, "dx": x.grad, "dgamma": bn.weight.grad, "dbeta": bn.bias.grad,
         "running_mean_out": bn.running_mean, "running_var_out": bn.running_var,
         "num_batches_tracked": bn.num_batches_tracked.clone()}
    bn.eval()
    with torch.no_grad():
        # eval on the updated running stats, as a model would after this step
        t["out_eval"] = bn(x32.double())
    save("batchnorm_" + tag, t, meta(seed, f"{type(bn).__name__}({c}, eps=1e-5, momentum=0.1): train forward"
                                     " + backward, then eval forward on the updated running stats",
                                     eps="1e-5", momentum="0.1"))


def distinct(shape, gen, step=0.01):
    n = 1
    for d in shape:
        n *= d
    perm = torch.randperm(n, generator=gen)
    return (perm.to(torch.float32) * step - step * n / 2).reshape(shape)


def pool_cases():
    seed = 300
    g = torch.Generator().manual_seed(seed)
    x32 = distinct((2, 3, 7, 7), g)
    x = leaf(x32)
    y = F.max_pool2d(x, 3, 2, 1)
    dout = backward(y, g)
    save("maxpool2d_k3s2p1", {"x": x32, "out": y, "dout": dout, "dx": x.grad},
         meta(seed, "F.max_pool2d(x, kernel_size=3, stride=2, padding=1), inputs without ties", kernel=3, stride=2,
              pad=1))
    for tag, oh, ow, fn in [("avg_3x2", 3, 2, F.adaptive_avg_pool2d), ("avg_1x1", 1, 1, F.adaptive_avg_pool2d),
                            ("max_3x2", 3, 2, F.adaptive_max_pool2d)]:
        seed += 1
        g = torch.Generator().manual_seed(seed)
        x32 = distinct((2, 3, 5, 7), g)
        x = leaf(x32)
        y = fn(x, (oh, ow))
        dout = backward(y, g)
        save("adaptive_" + tag, {"x": x32, "out": y, "dout": dout, "dx": x.grad},
             meta(seed, f"F.{fn.__name__}(x, ({oh}, {ow}))", oh=oh, ow=ow))


def linear_relu_cases():
    seed = 400
    g = torch.Generator().manual_seed(seed)
    x32, w32, b32 = f32(3, 5, gen=g), f32(4, 5, gen=g, scale=0.5), f32(4, gen=g)
    x, w, b = leaf(x32), leaf(w32), leaf(b32)
    y = F.linear(x, w, b)
    dout = backward(y, g)
    save("linear", {"x": x32, "w": w32, "b": b32, "out": y, "dout": dout, "dx": x.grad, "dw": w.grad,
                    "db": b.grad}, meta(seed, "F.linear(x, w, b)"))
    seed = 401
    g = torch.Generator().manual_seed(seed)
    x32 = f32(2, 3, 4, 5, gen=g)
    x32 = torch.where(x32.abs() < 0.05, x32.sign() * 0.05 + x32, x32)
    x = leaf(x32)
    y = F.relu(x)
    dout = backward(y, g)
    save("relu", {"x": x32, "out": y, "dout": dout, "dx": x.grad}, meta(seed, "F.relu(x), no input near 0"))


def loss_cases():
    seed = 500
    g = torch.Generator().manual_seed(seed)
    z32 = f32(6, 5, gen=g, scale=3.0)
    z32[0, 2], z32[1, 0], z32[2] = 30.0, -30.0, torch.tensor([30.0, -30.0, 30.0, -30.0, 0.0])
    tgt = torch.tensor([2, 3, 1, 4, 0, 2], dtype=torch.int64)
    z = leaf(z32)
    loss = F.cross_entropy(z, tgt)
    loss.backward()
    save("cross_entropy", {"logits": z32, "targets": tgt, "loss": loss.detach().reshape(1), "dlogits": z.grad},
         meta(seed, "F.cross_entropy(logits, targets) (mean), logits up to +-30; dlogits = d loss / d logits"))
    seed = 501
    g = torch.Generator().manual_seed(seed)
    z32 = f32(4, 5, gen=g, scale=3.0)
    z32[0] = torch.tensor([30.0, -30.0, 30.0, -30.0, 0.0])
    t32 = torch.rand(4, 5, generator=g, dtype=torch.float32)
    t32[0] = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.5])
    t32[1, :2] = torch.tensor([0.0, 1.0])
    z = leaf(z32)
    loss = F.binary_cross_entropy_with_logits(z, t32.double())
    loss.backward()
    save("bce_with_logits", {"logits": z32, "targets": t32, "loss": loss.detach().reshape(1), "dlogits": z.grad},
         meta(seed, "F.binary_cross_entropy_with_logits(logits, targets) (mean over all), logits up to +-30"))


def main():
    os.makedirs(OUT, exist_ok=True)
    conv_cases()
    bn_case("2d_train", (2, 3, 5, 5), 200)
    bn_case("1d_train", (8, 5), 201)
    pool_cases()
    linear_relu_cases()
    loss_cases()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} fixtures, {total} bytes, to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
