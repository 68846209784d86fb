#!/usr/bin/python3
"""Pillow peer of bench_decode: open + convert('RGB') + resize((size, size), BILINEAR), 1 thread,
over DIR/{a,b}/img*.jpg read into memory first. Prints images/s (one number) on stdout.
Run with Debian's /usr/bin/python3 (python3-pil). usage: bench_decode_pil.py DIR SIZE"""
import glob
import io
import sys
import time

from PIL import Image


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench_decode_pil.py DIR SIZE")
    folder, size = sys.argv[1], int(sys.argv[2])
    paths = sorted(glob.glob(folder + "/a/img*.jpg") + glob.glob(folder + "/b/img*.jpg"))
    if not paths:
        sys.exit("no images in " + folder)
    blobs = [open(p, "rb").read() for p in paths]
    for b in blobs[:20]:  # warm-up
        Image.open(io.BytesIO(b)).convert("RGB").resize((size, size), Image.BILINEAR)
    t0 = time.perf_counter()
    for b in blobs:
        Image.open(io.BytesIO(b)).convert("RGB").resize((size, size), Image.BILINEAR)
    print("%.1f" % (len(blobs) / (time.perf_counter() - t0)))


if __name__ == "__main__":
    main()
