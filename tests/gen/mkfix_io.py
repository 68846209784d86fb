#!/usr/bin/python3
"""mkfix_io: safetensors interchange with PyTorch, run by hand (Debian's python3-torch; the
`safetensors` package is not installed here, so the format is written and parsed by hand, exactly
as safetensors.torch does: u64 header length, JSON header, raw little-endian C-order data).

1. Writes tests/fixtures/io/torch_written.safetensors from torch tensors, laid out as the reference
   writer lays it out (sorted by dtype alignment, then name; header padded with spaces to 8).
2. Parses tests/fixtures/io/dllab_written.safetensors (written by dllab's serializer; the check
   suite asserts it is byte-identical to what dllab writes today) by hand into torch tensors and
   checks the layout rules and the values, proving a dllab checkpoint opens in PyTorch.

Usage: /usr/bin/python3 tests/gen/mkfix_io.py  (from the top of the source tree)
"""
import json
import struct
import sys

import numpy as np
import torch

import stwriter

FIX = "tests/fixtures/io/"
TORCH_DT = stwriter.TORCH_DTYPES


def save(tensors, path, metadata=None):
    # the reference writer's layout: by dtype alignment (widest first), then name
    order = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    stwriter.write(path, order, metadata if metadata else None)


def load(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded to a multiple of 8"
    hdr = raw[8:8 + n]
    assert hdr.rstrip(b" ") == hdr.rstrip(), "padding must be spaces"
    header = json.loads(hdr)
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    out, expect = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, en = e["data_offsets"]
        assert b == expect, f"{name}: gap or overlap"
        expect = en
        dt = TORCH_DT[e["dtype"]]
        t = torch.frombuffer(bytearray(data[b:en]), dtype=dt) if en > b else torch.empty(0, dtype=dt)
        out[name] = t.reshape(e["shape"])
    assert expect == len(data), "tensors must cover the data buffer"
    return out, meta, list(header.keys())


def main():
    save({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1.0,
          "n": torch.tensor(7, dtype=torch.int64),
          "h": torch.tensor([0.25, 1.5, -2.0], dtype=torch.float16)},
         FIX + "torch_written.safetensors", {"source": "torch"})

    t, meta, keys = load(FIX + "dllab_written.safetensors")
    assert keys == ["conv1.weight", "bn1.bias", "bn1.num_batches_tracked", "empty"], keys
    assert meta == {"format": "dllab", "arch": "resnet34", "classes": '["cat", "dog"]'}, meta
    assert t["conv1.weight"].shape == (2, 3, 1, 2) and t["conv1.weight"].dtype == torch.float32
    for i in range(12):
        want = np.float32(i * 0.37 - 1.1) * (np.float32(1e-30) if i % 2 else np.float32(3e7))
        assert t["conv1.weight"].flatten()[i].item() == float(want), i
    assert t["bn1.bias"].tolist() == [float(np.nextafter(np.float32(i), np.float32(10))) for i in range(5)]
    assert t["bn1.num_batches_tracked"].dtype == torch.int64 and t["bn1.num_batches_tracked"].dim() == 0
    assert t["bn1.num_batches_tracked"].item() == 123456789012345
    assert t["empty"].shape == (0, 4)
    print("dllab_written.safetensors parses in PyTorch:", {k: tuple(v.shape) for k, v in t.items()})


if __name__ == "__main__":
    sys.exit(main())
