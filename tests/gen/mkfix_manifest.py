#!/usr/bin/python3
"""mkfix_manifest: writes tests/fixtures/zoo/resnet{18,34,50}.keys.tsv from torchvision's own
definitions: one line per state_dict entry, in state_dict order: name <TAB> dtype <TAB> shape
(comma-separated, empty for a 0-d tensor). No weights. Run by hand with Debian's python3-torch:
    /usr/bin/python3 tests/gen/mkfix_manifest.py
"""
import os

import torch
import torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "zoo")
DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def main():
    os.makedirs(OUT, exist_ok=True)
    for arch in ("resnet18", "resnet34", "resnet50"):
        model = getattr(torchvision.models, arch)(weights=None, num_classes=1000)
        path = os.path.join(OUT, arch + ".keys.tsv")
        with open(path, "w") as f:
            f.write("# %s from torchvision %s (torch %s): name, dtype, shape\n"
                    % (arch, torchvision.__version__, torch.__version__))
            for name, t in model.state_dict().items():
                f.write("%s\t%s\t%s\n" % (name, DTYPES[t.dtype], ",".join(str(d) for d in t.shape)))
        print(path, sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
