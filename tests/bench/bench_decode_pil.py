#!/usr/bin/python3
"""Pillow peers of bench_decode, 1 thread, over DIR/{a,b}/img*.jpg read into memory first.
Prints images/s in wall time and in the process's CPU time on stdout. Run with Debian's /usr/bin/python3 (python3-pil, numpy).

usage: bench_decode_pil.py DIR SIZE [plain|aug]
  plain (default): open + convert('RGB') + resize((SIZE, SIZE), BILINEAR) -- the issue's peer.
  aug: the same work as dllab's training pipeline, done the fastest way Pillow offers:
       draft() (DCT-scaled decode, as dllab's) + convert('RGB') + anti-aliased resize of the short
       side to SIZE + random SIZE x SIZE crop + one PERSPECTIVE transform (BILINEAR) composing
       flip, rotate +-10 deg, zoom 1-1.1 and warp 0.2 (fastai aug_transforms, p=0.75 each) +
       lighting (brightness/contrast in logit space) and float32 normalisation folded into one
       256-entry table per channel, applied with numpy.take into a CHW array. Pillow fills outside the image with black where
       dllab reflects (which costs dllab a little more)."""
import glob
import io
import math
import random
import sys
import time

import numpy as np
from PIL import Image

MEAN = np.array([0.5, 0.5, 0.5], np.float32)
STD = np.array([0.25, 0.25, 0.25], np.float32)


def plain(blob, size):
    return Image.open(io.BytesIO(blob)).convert("RGB").resize((size, size), Image.BILINEAR)


def perspective_coeffs(src, dst):
    """Coefficients of the homography mapping src[i] -> dst[i] (4 points)."""
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    return np.linalg.solve(np.array(a), np.array(b))


def homography(rng, size):
    """Output pixel -> input pixel of the crop, as fastai composes flip/rotate/zoom/warp."""
    fl = -1.0 if rng.random() < 0.5 else 1.0
    th = math.radians(rng.uniform(-10, 10)) if rng.random() < 0.75 else 0.0
    zoom, zcx, zcy = (rng.uniform(1, 1.1), rng.random(), rng.random()) if rng.random() < 0.75 else (1.0, 0.5, 0.5)
    wx, wy = (rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2)) if rng.random() < 0.75 else (0.0, 0.0)
    half = (size - 1) / 2
    norm = np.array([[1 / half, 0, -1], [0, 1 / half, -1], [0, 0, 1]])  # pixel -> [-1, 1]
    w = perspective_coeffs([(-1, -1), (-1, 1), (1, -1), (1, 1)],
                           [(-1 - wy, -1 - wx), (-1 + wy, 1 + wx), (1 + wy, -1 + wx), (1 - wy, 1 - wx)])
    warp = np.append(w, 1.0).reshape(3, 3)
    zs = 1 / zoom
    zoomm = np.array([[zs, 0, (1 - zs) * (2 * zcx - 1)], [0, zs, (1 - zs) * (2 * zcy - 1)], [0, 0, 1]])
    rot = np.array([[math.cos(th), -math.sin(th), 0], [math.sin(th), math.cos(th), 0], [0, 0, 1]])
    flip = np.diag([fl, 1.0, 1.0])
    back = np.array([[half, 0, half], [0, half, half], [0, 0, 1]])  # [-1, 1] -> pixel
    h = back @ flip @ rot @ zoomm @ warp @ norm
    return tuple((h / h[2, 2]).flatten()[:8])


def lighting_norm_tables(rng):
    """Lighting (brightness/contrast in logit space, as fastai) then normalisation, as one float32
    table per channel indexed by the uint8 pixel."""
    b = rng.uniform(0.4, 0.6) if rng.random() < 0.75 else 0.5
    c = math.exp(rng.uniform(math.log(0.8), -math.log(0.8))) if rng.random() < 0.75 else 1.0
    x = np.clip(np.arange(256, dtype=np.float64) / 255, 1e-7, 1 - 1e-7)
    lit = 1 / (1 + np.exp(-c * (np.log(x / (1 - x)) + math.log(b / (1 - b)))))
    return ((lit[None, :] - MEAN[:, None]) / STD[:, None]).astype(np.float32)


def aug(blob, size, rng):
    im = Image.open(io.BytesIO(blob))
    w, h = im.size
    s = size / min(w, h)
    fw, fh = max(size, round(w * s)), max(size, round(h * s))
    im.draft("RGB", (fw, fh))
    im = im.convert("RGB").resize((fw, fh), Image.BILINEAR)
    ox, oy = int(rng.random() * (fw - size)), int(rng.random() * (fh - size))
    im = im.crop((ox, oy, ox + size, oy + size))
    im = im.transform((size, size), Image.PERSPECTIVE, homography(rng, size), Image.BILINEAR)
    tab = lighting_norm_tables(rng)
    chw = np.asarray(im).transpose(2, 0, 1)
    return np.stack([np.take(tab[k], chw[k]) for k in range(3)])


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] not in ("plain", "aug")):
        sys.exit("usage: bench_decode_pil.py DIR SIZE [plain|aug]")
    folder, size = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) == 4 else "plain"
    paths = sorted(glob.glob(folder + "/a/img*.jpg") + glob.glob(folder + "/b/img*.jpg"))
    if not paths:
        sys.exit("no images in " + folder)
    blobs = [open(p, "rb").read() for p in paths]
    rng = random.Random(1)
    run = (lambda b: plain(b, size)) if mode == "plain" else (lambda b: aug(b, size, rng))
    for b in blobs[:20]:  # warm-up
        run(b)
    t0, c0 = time.perf_counter(), time.process_time()
    for b in blobs:
        run(b)
    print("%.1f %.1f" % (len(blobs) / (time.perf_counter() - t0), len(blobs) / (time.process_time() - c0)))


if __name__ == "__main__":
    main()
