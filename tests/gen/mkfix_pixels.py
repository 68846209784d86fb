#!/usr/bin/python3
"""mkfix_pixels: small JPEGs and the pixels Pillow (what fastai uses) decodes from them, for
tests/check_pixels.c. Run by hand with Debian's python3-pil and python3-numpy, from the top of the
source tree:
    /usr/bin/python3 tests/gen/mkfix_pixels.py
Writes tests/fixtures/pixels/:
  NAME.jpg            4:2:0 / 4:2:2 / 4:4:4, odd sizes, progressive, EXIF-rotated, grey, CMYK
  NAME.rgb.png        Pillow: open, ImageOps.exif_transpose, convert("RGB")  (dllab honours EXIF)
  NAME.l.png          the same, convert("L")  (fastai's PILImageBW)
  NAME.fit-S.png      (photo-sized files) the RGB image resized with Image.BILINEAR so its short
                      side is S: what dllab's DCT-scaled decode + resize is compared with
  NAME.crop-S.png     fastai's Resize(S, method="crop") on the validation split: the centred crop
                      of the target aspect in source pixels, then Image.BILINEAR to S x S
The check suite reads only these files: it needs no Python.
"""
import io
import os

import numpy as np
from PIL import Image, ImageOps

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "pixels")
PHOTO_SIZES = (96, 56, 28)  # with 320x240 sources: DCT scales 1/2, 1/4, 1/8
CROP_SIZES = (128, 64, 37)


def photo(w, h, seed):
    """Photo-like RGB: smooth colour fields, hard edges (chroma upsampling shows there), noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for ch in range(3):
        a, b, c = rng.uniform(-1, 1, 3)
        img[..., ch] = 128 + 60 * np.sin(a * x / 9 + b * y / 13 + c) + 30 * np.cos((x + 2 * y) / (17 + 5 * ch))
    for _ in range(4):  # saturated discs and bars with sharp edges
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(3, max(4, min(w, h) / 3))
        col = rng.integers(0, 256, 3)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = col
        bx = int(rng.uniform(0, w))
        img[:, bx:bx + 2] = rng.integers(0, 256, 3)
    img += rng.normal(0, 6, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def save_jpeg(im, name, **kw):
    path = os.path.join(OUT, name + ".jpg")
    im.save(path, "JPEG", **kw)
    return path


def exif_with_orientation(o):
    ex = Image.Exif()
    ex[0x0112] = o
    return ex.tobytes()


def pil_open(path):
    """What a Pillow pipeline sees: the decoded file, EXIF orientation applied."""
    with Image.open(path) as f:
        f.load()
        return ImageOps.exif_transpose(f)


def fastai_centre_crop(im, size):
    """fastai Resize(size, method='crop') with pcts (0.5, 0.5): crop, then resize."""
    w, h = im.size
    m = w / size if w / size < h / size else h / size
    cw, ch = int(m * size), int(m * size)
    tl = (int(0.5 * (w - cw)), int(0.5 * (h - ch)))
    return im.crop((tl[0], tl[1], tl[0] + cw, tl[1] + ch)).resize((size, size), Image.BILINEAR)


def fitted_size(w, h, size):
    """dllab's dl_fit_size for crop mode: the short side becomes size (round half away)."""
    if w <= h:
        return size, int(np.floor(h * size / w + 0.5))
    return int(np.floor(w * size / h + 0.5)), size


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    small = []
    small.append(save_jpeg(photo(37, 29, 1), "s420-37x29", quality=90, subsampling=2))
    small.append(save_jpeg(photo(41, 23, 2), "s444-41x23", quality=95, subsampling=0))
    small.append(save_jpeg(photo(35, 27, 3), "s422-35x27", quality=85, subsampling=1))
    small.append(save_jpeg(photo(53, 31, 4), "prog420-53x31", quality=90, subsampling=2,
                           progressive=True))
    small.append(save_jpeg(photo(45, 19, 9), "prog444-45x19", quality=80, subsampling=0,
                           progressive=True))
    for o in (3, 6, 8):
        small.append(save_jpeg(photo(33, 21, 10 + o), "exif%d-33x21" % o, quality=90,
                               subsampling=2, exif=exif_with_orientation(o)))
    small.append(save_jpeg(photo(31, 25, 5).convert("L"), "grey-31x25", quality=90))
    small.append(save_jpeg(photo(29, 17, 6).convert("CMYK"), "cmyk-29x17", quality=90))
    photos = []
    photos.append(save_jpeg(photo(320, 240, 7), "photo420-320x240", quality=90, subsampling=2))
    photos.append(save_jpeg(photo(240, 320, 8), "photo444-240x320", quality=90, subsampling=0))
    photos.append(save_jpeg(photo(320, 240, 11), "photoprog-320x240", quality=85, subsampling=2,
                            progressive=True))
    photos.append(save_jpeg(photo(240, 320, 12), "photoexif6-240x320", quality=90,
                            subsampling=2, exif=exif_with_orientation(6)))
    for path in small + photos:
        stem = path[:-4]
        im = pil_open(path)
        rgb = im.convert("RGB")
        if path in small:
            rgb.save(stem + ".rgb.png")
            im.convert("RGB").convert("L").save(stem + ".l.png")
        else:
            for s in PHOTO_SIZES:
                rgb.resize(fitted_size(*rgb.size, s), Image.BILINEAR).save(stem + ".fit-%d.png" % s)
            for s in CROP_SIZES:
                fastai_centre_crop(rgb, s).save(stem + ".crop-%d.png" % s)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("%d files, %d bytes in %s" % (len(os.listdir(OUT)), total, OUT))


if __name__ == "__main__":
    main()
