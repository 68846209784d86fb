"""stwriter: the safetensors writer shared by the fixture generators in tests/gen/. Debian's
python3-torch comes without the `safetensors` package, so the format is written by hand, as
safetensors.torch writes it: u64 little-endian header length, a compact JSON header padded with
spaces to a multiple of 8, then raw little-endian C-order data. Byte-stable: committed fixtures
depend on every byte, so the header's key order and the data order are the caller's to choose.
Refuses dtypes it has no safetensors name for (KeyError), rather than guessing one.
"""
import json
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
          torch.int64: "I64"}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}


def tensor_bytes(t):
    """The tensor's data in its own dtype, C order (a 0-d tensor is one element, an empty one b"")."""
    t = t.detach().contiguous()
    return t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""


def write(path, entries, metadata=None, sort_keys=False):
    """entries: (name, tensor) pairs in data order. metadata: a dict of strings stored as
    "__metadata__" (first in the header), or None for none. sort_keys: the JSON header's keys
    sorted, else in insertion order."""
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in entries:
        b = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, sort_keys=sort_keys, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_sorted_f32(path, tensors, meta):
    """The reference-fixture convention (ops, models): names sorted, int64 kept, everything else
    stored as F32, metadata values as strings, header keys sorted. Returns the file's size."""
    entries = [(n, tensors[n] if tensors[n].dtype == torch.int64 else tensors[n].detach().to(torch.float32))
               for n in sorted(tensors)]
    write(path, entries, {k: str(v) for k, v in meta.items()}, sort_keys=True)
    return len(open(path, "rb").read())
