#!/usr/bin/python3
"""mkfix_pth: fixtures for the .pth importer (tests/check_pth.c), run by hand with Debian's
python3-torch 1.13 / torchvision 0.14 from the top of the source tree:

    /usr/bin/python3 tests/gen/mkfix_pth.py

Writes tests/fixtures/pth/:
  tiny_resnet_logits.safetensors                     a fixed batch x (2,3,32,32) and the eval-mode logits
  tiny_body_module.pth, tiny_fastai_export.pth       the same weights as a 'module.'-prefixed body without
                                                      fc/num_batches_tracked, and as a fastai export (0.*, 1.*)
  tiny_resnet.pth + tiny_resnet_expect.safetensors   a narrow ResNet with torchvision's names (BasicBlock,
                                                      one block per stage, widths 4/8/16/16, 10 classes) after
                                                      one train-mode forward; the expectation is the same
                                                      state dict written as safetensors (what dllab must read)
  views.pth + views_expect.safetensors                views sharing one storage (offset, step, transpose)
  dtypes.pth + dtypes_expect.safetensors              float16/bfloat16/float64/int64 storages
  nested_state_dict.pth, nested_model.pth             {'state_dict': sd, ...} / {'model': sd, ...}
  nested_unknown.pth                                  {'weights': sd, 'epoch': 3}: refused, keys listed
  legacy_pickle.pth, legacy_tar.pth                   pre-1.6 formats: refused with the re-save hint
  hostile_*.pth                                       hand-built pickles and zips (see HOSTILE below)
Everything is small (the whole folder stays well under 500 KB).
"""
import io
import os
import struct
import tarfile
import zipfile
import zlib

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, ResNet

import stwriter

OUT = "tests/fixtures/pth/"


def save_st(tensors, path):
    """safetensors written by hand (the package is not installed); F32/I64 in dict order."""
    stwriter.write(path, tensors.items())


def expect(sd):
    """What dllab must produce: float32 everywhere except int64 num_batches_tracked."""
    out = {}
    for k, v in sd.items():
        keep = v.dtype == torch.int64 and k.endswith("num_batches_tracked")
        out[k] = v.detach().clone().contiguous() if keep else v.detach().to(torch.float32).contiguous()
    return out


class TinyResNet(nn.Module):
    """torchvision's ResNet layout and names with narrow stages (uses ResNet._make_layer itself)."""

    def __init__(self, widths=(4, 8, 16, 16), num_classes=10):
        super().__init__()
        self._norm_layer, self.dilation, self.groups, self.base_width = nn.BatchNorm2d, 1, 1, 64
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = ResNet._make_layer(self, BasicBlock, widths[0], 1)
        self.layer2 = ResNet._make_layer(self, BasicBlock, widths[1], 1, stride=2)
        self.layer3 = ResNet._make_layer(self, BasicBlock, widths[2], 1, stride=2)
        self.layer4 = ResNet._make_layer(self, BasicBlock, widths[3], 1, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3], num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---- a minimal zip writer, so hostile archives can lie in exactly one field --------------------
def zip_bytes(entries, cd_offset_delta=0):
    """entries: list of dicts {name, data, method (0|8), usize?, csize?, crc?}; returns bytes."""
    out, cd = bytearray(), bytearray()
    for e in entries:
        raw = e["data"]
        comp = raw if e.get("method", 0) == 0 else zlib.compress(raw, 9)[2:-4]
        if e.get("method", 0) not in (0, 8):
            comp = raw
        crc = e.get("crc", zlib.crc32(raw))
        csize, usize = e.get("csize", len(comp)), e.get("usize", len(raw))
        name = e["name"].encode()
        lho = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, e.get("method", 0), 0, 0, crc, csize & 0xFFFFFFFF,
                           usize & 0xFFFFFFFF, len(name), 0) + name + comp
        extra = b""
        cs, us = csize, usize
        if csize >= 0xFFFFFFFF or usize >= 0xFFFFFFFF:
            extra = struct.pack("<HHQQ", 1, 16, usize, csize)
            cs, us = 0xFFFFFFFF, 0xFFFFFFFF
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, e.get("method", 0), 0, 0, crc, cs, us,
                          len(name), len(extra), 0, 0, 0, 0, lho) + name + extra
    cd_off = len(out)
    out += cd
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd),
                       cd_off + cd_offset_delta, 0)
    return bytes(out)


def torch_zip_entries(obj):
    """torch.save(obj) to a buffer, returned as {entry name: bytes} in archive order."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    return {i.filename: z.read(i.filename) for i in z.infolist()}


def write(name, data):
    with open(OUT + name, "wb") as f:
        f.write(data)


def hostile_from(pickle_bytes, storages=None, **kw):
    """An archive like torch's with data.pkl replaced by hand-built bytes."""
    ents = [{"name": "archive/data.pkl", "data": pickle_bytes}]
    for k, v in (storages or {}).items():
        ents.append({"name": f"archive/data/{k}", "data": v})
    ents.append({"name": "archive/version", "data": b"3\n"})
    return zip_bytes(ents, **kw)


def binunicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def tensor_pickle(key="0", numel=4, size=(4,), stride=(1,), offset=0, stype=b"FloatStorage", name="w"):
    """A one-tensor state dict pickle, as torch 1.13 writes it (protocol 2)."""
    def ints(t):
        return b"(" + b"".join(b"J" + struct.pack("<i", v) if -2**31 <= v < 2**31 else
                               b"\x8a\x08" + struct.pack("<q", v) for v in t) + b"t"
    return (b"\x80\x02}(" + binunicode(name) + b"ctorch._utils\n_rebuild_tensor_v2\n((" + binunicode("storage") +
            b"ctorch\n" + stype + b"\n" + binunicode(key) + binunicode("cpu") +
            (b"J" + struct.pack("<i", numel) if numel < 2**31 else b"\x8a\x08" + struct.pack("<q", numel)) +
            b"tQ" + (b"J" + struct.pack("<i", offset)) + ints(size) + ints(stride) +
            b"\x89ccollections\nOrderedDict\n)RtRu.")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)

    # --- tiny torchvision-named ResNet, after one train step of BN statistics ---
    m = TinyResNet()
    m.train()
    m(torch.randn(2, 3, 32, 32))
    sd = m.state_dict()
    torch.save(sd, OUT + "tiny_resnet.pth")
    save_st(expect(sd), OUT + "tiny_resnet_expect.safetensors")
    m.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        save_st({"x": x, "logits": m(x)}, OUT + "tiny_resnet_logits.safetensors")

    # --- the same net as a DataParallel body without fc or num_batches_tracked (old torchvision
    #     checkpoints lack it), and as a fastai learner export (body Sequential + create_head) ---
    body = {"module." + k: v for k, v in sd.items() if not k.startswith("fc.") and "num_batches" not in k}
    torch.save(body, OUT + "tiny_body_module.pth")
    bc = 16
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(2 * bc), nn.Dropout(0.25),
                         nn.Linear(2 * bc, 512, bias=False), nn.ReLU(inplace=True), nn.BatchNorm1d(512),
                         nn.Dropout(0.5), nn.Linear(512, 3, bias=False))
    fastai = nn.Sequential(nn.Sequential(*list(m.children())[:-2]), head)
    torch.save(fastai.state_dict(), OUT + "tiny_fastai_export.pth")

    # --- views sharing one storage ---
    base = torch.arange(24, dtype=torch.float32) * 0.25 - 3.0
    g = base.view(4, 6)
    views = {"base": base, "step": base[2:20:3], "transposed": g.t(), "block": g[1:3, 2:5], "scalar": base[7],
             "empty": base[5:5]}
    torch.save(views, OUT + "views.pth")
    save_st(expect(views), OUT + "views_expect.safetensors")

    # --- dtypes ---
    dts = {"half": torch.tensor([1.0, -2.5, 65504.0, 6e-8], dtype=torch.float16),
           "bf16": torch.tensor([[1.0, -3.140625], [0.5, 1e30]], dtype=torch.bfloat16),
           "f64": torch.tensor([0.1, -1e-3, 12345.678], dtype=torch.float64),
           "i64": torch.tensor([3, -4, 2**40], dtype=torch.int64),
           "bn.num_batches_tracked": torch.tensor(42, dtype=torch.int64)}
    torch.save(dts, OUT + "dtypes.pth")
    save_st(expect(dts), OUT + "dtypes_expect.safetensors")

    # --- nested checkpoints ---
    small = {"a.weight": torch.ones(2, 2), "a.bias": torch.zeros(2)}
    torch.save({"state_dict": small, "epoch": 7, "lr": 0.01, "hist": [1, 2.5, None, True]},
               OUT + "nested_state_dict.pth")
    torch.save({"model": small, "optimizer": {"state": {}, "param_groups": [{"lr": 0.1}]}},
               OUT + "nested_model.pth")
    torch.save({"weights": small, "epoch": 3}, OUT + "nested_unknown.pth")

    # --- legacy formats ---
    torch.save(small, OUT + "legacy_pickle.pth", _use_new_zipfile_serialization=False)
    tb = io.BytesIO()
    with tarfile.open(fileobj=tb, mode="w") as tf:
        for member in ("sys_info", "pickle", "storages", "tensors"):
            info = tarfile.TarInfo(member)
            info.size = 4
            tf.addfile(info, io.BytesIO(b"\x80\x02N."))
    write("legacy_tar.pth", tb.getvalue())

    # --- hostile pickles (each refused; see tests/check_pth.c for the expected messages) ---
    w4 = struct.pack("<4f", 1, 2, 3, 4)
    write("hostile_os_system.pth", hostile_from(b"\x80\x02cos\nsystem\n" + binunicode("echo pwned") + b"\x85R."))
    write("hostile_builtins_eval.pth",
          hostile_from(b"\x80\x02cbuiltins\neval\n" + binunicode("__import__('os')") + b"\x85R."))
    write("hostile_posix_system.pth", hostile_from(b"\x80\x02cposix\nsystem\n" + binunicode("id") + b"\x85R."))
    write("hostile_reduce_storage.pth",
          hostile_from(b"\x80\x02ctorch\nFloatStorage\n" + b"K\x04\x85R."))
    write("hostile_reduce_str.pth", hostile_from(b"\x80\x02" + binunicode("x") + b")R."))
    write("hostile_build_list.pth", hostile_from(b"\x80\x02]}b."))
    write("hostile_stack_global.pth", hostile_from(b"\x80\x04" + binunicode("os") + binunicode("system") + b"\x93."))
    write("hostile_inst.pth", hostile_from(b"\x80\x02(ios\nsystem\n."))
    write("hostile_deep_marks.pth", hostile_from(b"\x80\x02" + b"(" * 5000 + b"."))
    write("hostile_huge_string.pth", hostile_from(b"\x80\x02X\xf0\xff\xff\x7f" + b"a" * 16 + b"."))
    write("hostile_truncated_unicode.pth", hostile_from(b"\x80\x02}X\x10\x00\x00\x00abc"))
    write("hostile_binget.pth", hostile_from(b"\x80\x02}h\x09."))
    write("hostile_no_stop.pth", hostile_from(b"\x80\x02}"))
    write("hostile_huge_dims.pth",
          hostile_from(tensor_pickle(size=(2**40, 2**40), stride=(2**40, 1)), {"0": w4}))
    write("hostile_huge_numel.pth", hostile_from(tensor_pickle(numel=2**62), {"0": w4}))
    write("hostile_numel_mismatch.pth", hostile_from(tensor_pickle(numel=8, size=(8,)), {"0": w4}))
    write("hostile_stride_past_end.pth", hostile_from(tensor_pickle(size=(3,), stride=(2,)), {"0": w4}))
    write("hostile_negative_stride.pth", hostile_from(tensor_pickle(size=(2,), stride=(-1,)), {"0": w4}))
    write("hostile_missing_storage.pth", hostile_from(tensor_pickle(key="7"), {"0": w4}))
    write("hostile_storage_path.pth", hostile_from(tensor_pickle(key="../version"), {"0": w4}))
    # the same state-dict key twice (a dict keeps the last; dllab refuses), and two zip entries of
    # one storage name with different bytes (a reader would silently keep one of them)
    one = tensor_pickle()
    write("hostile_duplicate_key.pth", hostile_from(one[:4] + one[4:-2] * 2 + b"u.", {"0": w4}))
    write("hostile_duplicate_storage.pth",
          zip_bytes([{"name": "archive/data.pkl", "data": one}, {"name": "archive/data/0", "data": w4},
                     {"name": "archive/data/0", "data": bytes(16)}, {"name": "archive/version", "data": b"3\n"}]))
    # --- hostile zips ---
    good = tensor_pickle()
    # the first storage claims 64 bytes, running over the second entry's local header
    write("hostile_overlap.pth", zip_bytes([{"name": "archive/data.pkl", "data": good},
                                            {"name": "archive/data/0", "data": w4, "csize": 64, "usize": 64},
                                            {"name": "archive/data/1", "data": w4 * 8}]))
    write("hostile_stored_sizes.pth",
          zip_bytes([{"name": "archive/data.pkl", "data": good},
                     {"name": "archive/data/0", "data": w4, "csize": 16, "usize": 64}]))
    write("hostile_lying_deflate.pth",
          zip_bytes([{"name": "archive/data.pkl", "data": good},
                     {"name": "archive/data/0", "data": w4 * 64, "method": 8, "usize": 16, "crc": zlib.crc32(w4)}]))
    # 16 MiB of zeros deflate to ~16 KiB; the entry claims 16 bytes: refused after 16 bytes of output
    write("hostile_zip_bomb.pth",
          zip_bytes([{"name": "archive/data.pkl", "data": good},
                     {"name": "archive/data/0", "data": bytes(16 << 20), "method": 8, "usize": 16}]))
    # a ZIP64 entry declaring a terabyte: refused before inflating anything
    write("hostile_zip64_huge.pth",
          zip_bytes([{"name": "archive/data.pkl", "data": good},
                     {"name": "archive/data/0", "data": w4, "method": 8, "usize": 1 << 40}]))
    # 100 MB claimed from a few compressed bytes: beyond deflate's 1032:1 limit, refused unallocated
    write("hostile_ratio.pth",
          zip_bytes([{"name": "archive/data.pkl", "data": good},
                     {"name": "archive/data/0", "data": w4, "method": 8, "usize": 100 << 20}]))
    # a 4-element storage viewed as 2^20 elements through stride 0: a memory bomb
    write("hostile_broadcast.pth", hostile_from(tensor_pickle(size=(1 << 20,), stride=(0,)), {"0": w4}))
    write("hostile_bigendian.pth", zip_bytes([{"name": "archive/data.pkl", "data": good},
                                              {"name": "archive/byteorder", "data": b"big"},
                                              {"name": "archive/data/0", "data": w4}]))
    write("hostile_method12.pth", zip_bytes([{"name": "archive/data.pkl", "data": good, "method": 12}]))
    write("hostile_cd_past_eof.pth", hostile_from(good, {"0": w4}, cd_offset_delta=100000))
    crc_bad = bytearray(hostile_from(good, {"0": w4}))
    crc_bad[crc_bad.index(w4)] ^= 0x40
    write("hostile_crc.pth", bytes(crc_bad))
    full = open(OUT + "tiny_resnet.pth", "rb").read()
    write("hostile_truncated.pth", full[: len(full) // 2])
    write("hostile_no_pickle.pth", zip_bytes([{"name": "archive/data/0", "data": w4}]))
    # a real pickle whose root is a list, not a dict
    write("hostile_not_dict.pth", hostile_from(b"\x80\x02]K\x01a."))

    total = sum(os.path.getsize(OUT + f) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes")


if __name__ == "__main__":
    main()
