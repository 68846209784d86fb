/* data/image: JPEG (TurboJPEG 2.1 API) and PNG (libpng simplified API) decoding and writing.
 * JPEGs decode with libjpeg's defaults, to Pillow's exact pixels (fast mode: TurboJPEG's fast IDCT
 * and upsampling), straight to the smallest DCT scale (1/1, 1/2, 1/4, 1/8) still >= twice the
 * size the resizer needs (fast mode: the size), grey/RGB/CMYK, with the EXIF orientation applied.
 * Refuses other formats (DL_EUNSUPPORTED) and truncated or corrupt files (DL_EFORMAT: TurboJPEG
 * warnings stop the decode). */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>

#include "core/data/internal.h"
#include "core/file.h"
#include "core/log.h"

/* Limits a hostile or mislabelled file cannot push us past, checked before anything of that size
 * is allocated. A JPEG header may claim more pixels than are decoded (the DCT scale shrinks
 * them); PNGs always decode at full size, so the decoded-pixel limit applies to their header. */
#define MAX_FILE_BYTES ((size_t)512 << 20)
/* fuzz_image builds with the same checks at small sizes, so that runs stay fast. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define MAX_PIXELS ((int64_t)1 << 22)
#define MAX_DECODED_PIXELS ((int64_t)1 << 16)
#define MAX_JPEG_COEF_BYTES ((uint64_t)1 << 20)
#else
#define MAX_PIXELS ((int64_t)1 << 28)         /* a JPEG header's width x height */
#define MAX_DECODED_PIXELS ((int64_t)1 << 26) /* held in memory after decoding: 192 MiB as RGB */
#define MAX_JPEG_COEF_BYTES ((uint64_t)512 << 20) /* libjpeg's buffers for progressive files */
#endif
#define MAX_DECODED_MP (int)(MAX_DECODED_PIXELS / 1000000)

dl_status dl_read_file(const char *path, uint8_t **buf, size_t *n, dl_err *err)
{
    void *b;
    dl_status st = dl_file_read(path, MAX_FILE_BYTES, "an image file", &b, n, err);
    *buf = st == DL_OK ? b : NULL;
    if (st ==
        DL_ENOTFOUND) { /* a listed file that vanished is the data set's I/O failure (DL_EIO) */
        st = DL_EIO;
        if (err)
            err->code = st;
    }
    return st;
}

static bool is_jpeg(const uint8_t *b, size_t n)
{
    return n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}
static bool is_png(const uint8_t *b, size_t n)
{
    return n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0;
}

static dl_status png_too_large(const png_image *im, const char *name, dl_err *err)
{
    if ((int64_t)im->width * im->height <= MAX_DECODED_PIXELS)
        return DL_OK;
    return dl_err_set(
        err, DL_EFORMAT,
        "%s: %ux%u pixels is too large (a PNG is decoded at full size; the limit is %d megapixels)",
        name, im->width, im->height, MAX_DECODED_MP);
}

/* Refuses a JPEG whose decoding would need more than the limits, before libjpeg allocates. */
static dl_status jpeg_too_large(int iw, int ih, const dl_jpeg_meta *m, const char *name,
                                dl_err *err)
{
    if ((int64_t)iw * ih > MAX_PIXELS)
        return dl_err_set(err, DL_EFORMAT,
                          "%s: %dx%d pixels is too large (the limit is %d megapixels)", name, iw,
                          ih, (int)(MAX_PIXELS / 1000000));
    if (m->coef_bytes > MAX_JPEG_COEF_BYTES)
        return dl_err_set(
            err, DL_EFORMAT,
            "%s: %dx%d pixels is too large for a progressive JPEG (decoding it needs %llu MiB; "
            "the limit is %llu MiB)",
            name, iw, ih, (unsigned long long)(m->coef_bytes >> 20),
            (unsigned long long)(MAX_JPEG_COEF_BYTES >> 20));
    return DL_OK;
}

dl_status dl_fit_check(const char *name, int w, int h, int size, dl_resize_method m, dl_err *err)
{
    int fw, fh;
    dl_fit_size(w, h, size, m, &fw, &fh);
    if ((double)fw * fh <= (double)MAX_DECODED_PIXELS)
        return DL_OK;
    return dl_err_set(err, DL_EFORMAT,
                      "%s: %dx%d pixels resized to %dx%d is too large (its aspect ratio is too "
                      "extreme; the limit is %d megapixels)",
                      name ? name : "an image", w, h, fw, fh, MAX_DECODED_MP);
}

static dl_status png_probe(const uint8_t *buf, size_t n, const char *name, int *w, int *h,
                           bool *grey, dl_err *err)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&im, buf, n))
        return dl_err_set(err, DL_EFORMAT, "%s: bad PNG: %s", name, im.message);
    *w = (int)im.width;
    *h = (int)im.height;
    *grey = !(im.format & PNG_FORMAT_FLAG_COLOR);
    png_image_free(&im);
    return png_too_large(&im, name, err);
}

dl_status dl_img_probe_mem(const uint8_t *buf, size_t n, const char *name, int *w, int *h,
                           bool *grey, dl_err *err)
{
    if (is_png(buf, n))
        return png_probe(buf, n, name, w, h, grey, err);
    if (!is_jpeg(buf, n))
        return dl_err_set(err, DL_EUNSUPPORTED, "%s: not a JPEG or PNG image", name);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return dl_err_set(err, DL_ENOMEM, "%s: TurboJPEG init failed", name);
    int iw = 0, ih = 0, ss = 0, cs = 0; /* a tables-only stream "succeeds" without setting them */
    int rc = tjDecompressHeader3(tj, buf, (unsigned long)n, &iw, &ih, &ss, &cs);
    if (rc != 0 || iw <= 0 || ih <= 0) {
        dl_status st = dl_err_set(err, DL_EFORMAT, "%s: bad JPEG header: %s", name,
                                  rc != 0 ? tjGetErrorStr2(tj) : "no image in it");
        tjDestroy(tj);
        return st;
    }
    tjDestroy(tj);
    dl_jpeg_meta m;
    dl_jpeg_meta_read(buf, n, &m);
    dl_status st = jpeg_too_large(iw, ih, &m, name, err);
    if (st)
        return st;
    /* Only the probe warns: it runs once per file, decoding may run every epoch. */
    if (m.exif_bad[0])
        dl_log(DL_LOG_WARN, "%s: malformed EXIF block ignored (orientation 1): %s", name,
               m.exif_bad);
    int o = m.orientation;
    *w = o >= 5 ? ih : iw;
    *h = o >= 5 ? iw : ih;
    *grey = cs == TJCS_GRAY;
    return DL_OK;
}

/* Applies EXIF orientation o to img in place (new buffer). */
static dl_status orient(dl_img *img, int o, dl_err *err)
{
    if (o <= 1)
        return DL_OK;
    int w = img->w, h = img->h, c = img->c;
    int nw = o >= 5 ? h : w, nh = o >= 5 ? w : h;
    uint8_t *d = malloc((size_t)nw * nh * c);
    if (!d)
        return dl_err_set(err, DL_ENOMEM, "out of memory orienting an image");
    for (int y = 0; y < nh; y++)
        for (int x = 0; x < nw; x++) {
            int sx, sy; /* source pixel shown at (x, y) */
            switch (o) {
            case 2:
                sx = w - 1 - x;
                sy = y;
                break;
            case 3:
                sx = w - 1 - x;
                sy = h - 1 - y;
                break;
            case 4:
                sx = x;
                sy = h - 1 - y;
                break;
            case 5:
                sx = y;
                sy = x;
                break;
            case 6:
                sx = y;
                sy = h - 1 - x;
                break;
            case 7:
                sx = w - 1 - y;
                sy = h - 1 - x;
                break;
            default:
                sx = w - 1 - y;
                sy = x;
                break; /* 8 */
            }
            memcpy(d + ((size_t)y * nw + x) * c, img->px + ((size_t)sy * w + sx) * c, c);
        }
    free(img->px);
    img->px = d;
    img->w = nw;
    img->h = nh;
    return DL_OK;
}

static dl_status png_decode(const uint8_t *buf, size_t n, const char *name, int c, dl_img *out,
                            dl_err *err)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&im, buf, n))
        return dl_err_set(err, DL_EFORMAT, "%s: bad PNG: %s", name, im.message);
    dl_status big = png_too_large(&im, name, err);
    if (big) {
        png_image_free(&im);
        return big;
    }
    im.format = c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    size_t sz = PNG_IMAGE_SIZE(im);
    uint8_t *px = malloc(sz);
    if (!px) {
        png_image_free(&im);
        return dl_err_set(err, DL_ENOMEM, "%s: out of memory", name);
    }
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&im, &black, px, 0, NULL)) {
        free(px);
        dl_status st = dl_err_set(err, DL_EFORMAT, "%s: bad PNG data: %s", name, im.message);
        png_image_free(&im);
        return st;
    }
    out->px = px;
    out->w = (int)im.width;
    out->h = (int)im.height;
    out->c = c;
    return DL_OK;
}

static dl_status jpeg_fail(tjhandle tj, const char *name, dl_err *err)
{
    dl_status st = dl_err_set(err, DL_EFORMAT, "%s: bad JPEG: %s", name, tjGetErrorStr2(tj));
    tjDestroy(tj);
    return st;
}

/* Pillow's CMYK -> RGB for an Adobe (inverted) CMYK JPEG: r = nk - c*nk/255 rounded as its
 * MULDIV255, with c = 255 - stored ink and nk = stored K. */
static uint8_t cmyk_channel(unsigned stored, unsigned stored_k)
{
    unsigned ink = 255 - stored, t = ink * stored_k + 128;
    return (uint8_t)(stored_k - (((t >> 8) + t) >> 8));
}

/* Pillow's RGB -> L (ITU-R 601-2 luma in 16-bit fixed point), so a colour JPEG read as grey is
 * the image fastai's PILImageBW sees, not libjpeg's Y plane. */
static uint8_t pil_luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}

dl_status dl_img_decode_mem(const uint8_t *buf, size_t n, const char *name, int c, int min_w,
                            int min_h, dl_img *out, dl_err *err)
{
    return dl_img_decode_mem_mode(buf, n, name, c, min_w, min_h, false, out, err);
}

dl_status dl_img_decode_mem_mode(const uint8_t *buf, size_t n, const char *name, int c, int min_w,
                                 int min_h, bool fast, dl_img *out, dl_err *err)
{
    memset(out, 0, sizeof *out);
    if (is_png(buf, n))
        return png_decode(buf, n, name, c, out, err);
    if (!is_jpeg(buf, n))
        return dl_err_set(err, DL_EUNSUPPORTED, "%s: not a JPEG or PNG image", name);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return dl_err_set(err, DL_ENOMEM, "%s: TurboJPEG init failed", name);
    int iw = 0, ih = 0, ss = 0, cs = 0;
    if (tjDecompressHeader3(tj, buf, (unsigned long)n, &iw, &ih, &ss, &cs) != 0)
        return jpeg_fail(tj, name, err);
    if (iw <= 0 || ih <= 0) {
        tjDestroy(tj);
        return dl_err_set(err, DL_EFORMAT, "%s: bad JPEG: no image in it", name);
    }
    dl_jpeg_meta m;
    dl_jpeg_meta_read(buf, n, &m);
    dl_status big = jpeg_too_large(iw, ih, &m, name, err);
    if (big) {
        tjDestroy(tj);
        return big;
    }
    int o = m.orientation;
    if (o >= 5) { /* the decoder works in stored orientation */
        int t = min_w;
        min_w = min_h;
        min_h = t;
    }
    /* Smallest scaling factor whose output still covers the requested size; decoding exactly,
     * twice the requested size: the DCT's own reduction then stays small next to the resize's
     * triangle filter (mean < 2/255 from Pillow's full decode + resize, docs/pixels.md). */
    if (!fast) {
        min_w *= 2;
        min_h *= 2;
    }
    int nsf = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&nsf);
    int bw = iw, bh = ih;
    for (int i = 0; sf && (min_w > 0 || min_h > 0) && i < nsf; i++) {
        /* Only 1/1, 1/2, 1/4, 1/8: libjpeg-turbo's other scales use a slower generic IDCT (5/8
         * decodes slower than the full image on 500x375 photos). */
        if (sf[i].num != 1 || (sf[i].denom & (sf[i].denom - 1)))
            continue;
        int sw = TJSCALED(iw, sf[i]), sh = TJSCALED(ih, sf[i]);
        if (sw >= min_w && sh >= min_h && (long)sw * sh < (long)bw * bh) {
            bw = sw;
            bh = sh;
        }
    }
    if ((int64_t)bw * bh > MAX_DECODED_PIXELS) { /* only a full-size decode of a huge JPEG */
        tjDestroy(tj);
        return dl_err_set(err, DL_EFORMAT,
                          "%s: %dx%d pixels is too large to decode at that size (the limit is "
                          "%d megapixels)",
                          name, bw, bh, MAX_DECODED_MP);
    }
    bool cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    bool luma = c == 1 && cs != TJCS_GRAY; /* colour to grey: decode RGB, then Pillow's luma */
    int pf = cmyk ? TJPF_CMYK : c == 1 && !luma ? TJPF_GRAY : TJPF_RGB;
    int pc = tjPixelSize[pf];
    uint8_t *px = malloc((size_t)bw * bh * pc);
    if (!px) {
        tjDestroy(tj);
        return dl_err_set(err, DL_ENOMEM, "%s: out of memory", name);
    }
    /* Flags 0 = libjpeg's defaults (accurate integer IDCT, fancy upsampling): Pillow's pixels.
     * LIMITSCANS caps a progressive file's scans (a hostile one can have thousands). */
    int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS |
                (fast ? TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE : 0);
    if (tjDecompress2(tj, buf, (unsigned long)n, px, bw, 0, bh, pf, flags) != 0) {
        free(px);
        return jpeg_fail(tj, name, err);
    }
    tjDestroy(tj);
    if (cmyk || luma) { /* to RGB as Pillow converts (Adobe CMYK JPEGs store inverted inks) */
        size_t np = (size_t)bw * bh;
        for (size_t i = 0; i < np; i++) {
            const uint8_t *s = px + (cmyk ? 4 : 3) * i;
            unsigned r = s[0], g = s[1], b = s[2];
            if (cmyk) {
                r = cmyk_channel(s[0], s[3]);
                g = cmyk_channel(s[1], s[3]);
                b = cmyk_channel(s[2], s[3]);
            }
            if (c == 1)
                px[i] = pil_luma(r, g, b);
            else {
                px[3 * i] = (uint8_t)r;
                px[3 * i + 1] = (uint8_t)g;
                px[3 * i + 2] = (uint8_t)b;
            }
        }
    }
    out->px = px;
    out->w = bw;
    out->h = bh;
    out->c = c;
    dl_status st = orient(out, o, err);
    if (st) {
        free(out->px);
        out->px = NULL;
    }
    return st;
}

dl_status dl_img_decode_file(const char *path, int c, int min_w, int min_h, dl_img *out,
                             dl_err *err)
{
    return dl_img_decode_file_mode(path, c, min_w, min_h, false, out, err);
}

dl_status dl_img_decode_file_mode(const char *path, int c, int min_w, int min_h, bool fast,
                                  dl_img *out, dl_err *err)
{
    uint8_t *buf;
    size_t n;
    dl_status st = dl_read_file(path, &buf, &n, err);
    if (st)
        return st;
    st = dl_img_decode_mem_mode(buf, n, path, c, min_w, min_h, fast, out, err);
    free(buf);
    return st;
}

dl_status dl_jpeg_write(const char *path, const dl_img *img, int quality, dl_err *err)
{
    tjhandle tj = tjInitCompress();
    if (!tj)
        return dl_err_set(err, DL_ENOMEM, "TurboJPEG init failed");
    unsigned char *jb = NULL;
    unsigned long jn = 0;
    int pf = img->c == 1 ? TJPF_GRAY : TJPF_RGB;
    int samp = img->c == 1 ? TJSAMP_GRAY : TJSAMP_420;
    if (tjCompress2(tj, img->px, img->w, 0, img->h, pf, &jb, &jn, samp, quality, 0) != 0) {
        dl_status st =
            dl_err_set(err, DL_EFORMAT, "%s: JPEG encode failed: %s", path, tjGetErrorStr2(tj));
        tjDestroy(tj);
        return st;
    }
    tjDestroy(tj);
    dl_status st = dl_file_write(path, jb, jn, err);
    tjFree(jb);
    return st;
}

dl_status dl_png_write(const char *path, const dl_img *img, dl_err *err)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)img->w;
    im.height = (png_uint_32)img->h;
    im.format = img->c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    FILE *f = dl_file_create(path, err);
    if (!f)
        return err ? err->code : DL_EIO;
    if (!png_image_write_to_stdio(&im, f, 0, img->px, 0, NULL)) {
        dl_file_discard(f, path);
        return dl_err_set(err, DL_EIO, "%s: PNG write failed: %s", path, im.message);
    }
    return dl_file_commit(f, path, err);
}
