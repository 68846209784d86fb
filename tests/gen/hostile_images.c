/* hostile_images: see hostile_images.h. The EXIF blocks are written byte by byte in either TIFF
 * byte order ("II" little-endian, "MM" big-endian) so each field can be made to lie. */
#include "tests/gen/hostile_images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <zlib.h>

static void put16(uint8_t *p, unsigned v, bool le)
{
    p[le ? 0 : 1] = (uint8_t)v;
    p[le ? 1 : 0] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v, bool le)
{
    for (int i = 0; i < 4; i++)
        p[le ? i : 3 - i] = (uint8_t)(v >> 8 * i);
}

/* A small w x h JPEG of a smooth pattern (c = 1 grey, 3 RGB), malloc'd. */
static uint8_t *jpeg(int w, int h, int c, int flags, size_t *n)
{
    uint8_t *px = malloc((size_t)w * h * c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                px[((size_t)y * w + x) * c + k] = (uint8_t)(x * 9 + y * 5 + k * 70);
    tjhandle tj = tjInitCompress();
    unsigned char *jb = NULL;
    unsigned long jn = 0;
    int samp = c == 1 ? TJSAMP_GRAY : flags & TJFLAG_PROGRESSIVE ? TJSAMP_444 : TJSAMP_420;
    if (!tj || tjCompress2(tj, px, w, 0, h, c == 1 ? TJPF_GRAY : TJPF_RGB, &jb, &jn, samp, 90,
                           flags) != 0) {
        fprintf(stderr, "hostile_images: TurboJPEG: %s\n", tjGetErrorStr2(tj));
        abort();
    }
    tjDestroy(tj);
    free(px);
    uint8_t *b = malloc(jn);
    memcpy(b, jb, jn);
    tjFree(jb);
    *n = jn;
    return b;
}

/* The TIFF block of an EXIF APP1: header with IFD0 offset ifd, then at offset 8 an IFD whose
 * count field says cnt, holding `entries` orientation entries (type, value) and a zero next-IFD
 * offset. cut > 0 keeps only that many bytes. Returns the length written to t. */
static size_t tiff(uint8_t *t, bool le, uint32_t ifd, unsigned cnt, int entries, unsigned type,
                   unsigned value, size_t cut)
{
    memcpy(t, le ? "II" : "MM", 2);
    put16(t + 2, 42, le);
    put32(t + 4, ifd, le);
    put16(t + 8, cnt, le);
    size_t p = 10;
    for (int i = 0; i < entries; i++, p += 12) {
        put16(t + p, 0x0112, le);
        put16(t + p + 2, type, le);
        put32(t + p + 4, 1, le);
        memset(t + p + 8, 0, 4);
        if (type == 4)
            put32(t + p + 8, value, le);
        else
            put16(t + p + 8, value, le);
    }
    put32(t + p, 0, le);
    p += 4;
    return cut && cut < p ? cut : p;
}

/* jpg with an APP1 "Exif" segment holding tiff block t[0..tl) inserted after SOI. */
static uint8_t *with_app1(const uint8_t *jpg, size_t n, const uint8_t *t, size_t tl, size_t *out_n)
{
    size_t seg = 2 + 6 + tl;
    *out_n = n + 2 + seg;
    uint8_t *b = malloc(*out_n);
    memcpy(b, jpg, 2);
    b[2] = 0xFF;
    b[3] = 0xE1;
    b[4] = (uint8_t)(seg >> 8);
    b[5] = (uint8_t)seg;
    memcpy(b + 6, "Exif\0\0", 6);
    memcpy(b + 12, t, tl);
    memcpy(b + 12 + tl, jpg + 2, n - 2);
    return b;
}

/* Rewrites the frame size in the SOF segment (first of C0/C2). */
static void set_sof_size(uint8_t *b, size_t n, unsigned w, unsigned h)
{
    for (size_t p = 2; p + 9 < n; p += 2 + ((size_t)b[p + 2] << 8 | b[p + 3]))
        if (b[p + 1] == 0xC0 || b[p + 1] == 0xC2) {
            put16(b + p + 5, h, false);
            put16(b + p + 7, w, false);
            return;
        }
    abort();
}

static void chunk(uint8_t *p, const char *type, const uint8_t *data, uint32_t len, size_t *at)
{
    put32(p + *at, len, false);
    memcpy(p + *at + 4, type, 4);
    if (len)
        memcpy(p + *at + 8, data, len);
    put32(p + *at + 8 + len, (uint32_t)crc32(0, p + *at + 4, 4 + len), false);
    *at += 12 + len;
}

/* A real w x h PNG (colour type 0 grey or 2 RGB, 8-bit) of a gradient, or, with header_only, an
 * IHDR followed by an empty IDAT: enough for a reader of the header. */
static uint8_t *png(unsigned w, unsigned h, int ctype, bool header_only, size_t *n)
{
    int c = ctype == 2 ? 3 : 1;
    size_t raw_n = header_only ? 0 : (size_t)h * (1 + (size_t)w * c);
    uint8_t *raw = malloc(raw_n + 1);
    for (size_t y = 0, i = 0; y < (header_only ? 0 : h); y++) {
        raw[i++] = 0; /* filter: none */
        for (size_t x = 0; x < (size_t)w * c; x++)
            raw[i++] = (uint8_t)(x * 7 + y * 3);
    }
    uLongf zn = compressBound(raw_n);
    uint8_t *z = malloc(zn);
    if (!header_only && compress(z, &zn, raw, raw_n) != Z_OK)
        abort();
    size_t cap = 8 + 25 + 12 + (header_only ? 0 : zn) + 12;
    uint8_t *b = malloc(cap);
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13];
    put32(ihdr, w, false);
    put32(ihdr + 4, h, false);
    const uint8_t rest[5] = {8, (uint8_t)ctype, 0, 0, 0};
    memcpy(ihdr + 8, rest, 5);
    size_t at = 8;
    chunk(b, "IHDR", ihdr, 13, &at);
    chunk(b, "IDAT", z, header_only ? 0 : (uint32_t)zn, &at);
    if (!header_only)
        chunk(b, "IEND", NULL, 0, &at);
    free(raw);
    free(z);
    *n = at;
    return b;
}

static hi_file *add(hi_file *out, size_t *k, size_t cap, const char *name, hi_kind kind, int w,
                    int h, int o)
{
    if (*k >= cap)
        return NULL;
    hi_file *f = &out[(*k)++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->kind = kind;
    f->w = w;
    f->h = h;
    f->orientation = o;
    return f;
}

/* One malformed-EXIF case, made in both byte orders. */
typedef struct bad_case {
    const char *name;
    uint32_t ifd;
    unsigned cnt, type, value;
    int entries;
    size_t cut;
} bad_case;

static const bad_case bad_cases[] = {
    {"ifd-0000fffe", 0xFFFE, 1, 3, 6, 1, 0}, /* IFD0 far past the block */
    {"ifd-0000ffff", 0xFFFF, 1, 3, 6, 1, 0},
    {"ifd-fffffffe", 0xFFFFFFFEu, 1, 3, 6, 1, 0}, /* ifd + 2 wraps to 0 in 32-bit arithmetic */
    {"ifd-ffffffff", 0xFFFFFFFFu, 1, 3, 6, 1, 0}, /* ifd + 2 wraps to 1 */
    {"count-ffff", 8, 0xFFFF, 3, 6, 1, 0},        /* 65535 entries in a 26-byte block */
    {"ifd-past-end", 26, 1, 3, 6, 1, 0},          /* IFD0 exactly at the block's end */
    {"ifd-straddles-end", 25, 1, 3, 6, 1, 0},     /* its count field half outside the block */
    {"tiff-cut", 8, 1, 3, 6, 1, 6},               /* the TIFF header itself is cut short */
    {"orientation-9", 8, 1, 3, 9, 1, 0},          /* a value no orientation has */
};

size_t hi_make_all(hi_file *out, size_t cap)
{
    size_t k = 0, n, tl;
    uint8_t t[256];
    hi_file *f;
    uint8_t *rgb = jpeg(24, 16, 3, 0, &n);
    size_t rgb_n = n;
    uint8_t *grey = jpeg(24, 16, 1, 0, &n);
    size_t grey_n = n;
    /* good ones: both byte orders, SHORT and LONG orientation, grey, progressive, none, PNGs */
    struct {
        const char *name;
        bool le, is_grey;
        unsigned type, o;
    } good[] = {
        {"good-ii-o6.jpg", true, false, 3, 6},
        {"good-mm-o3.jpg", false, false, 3, 3},
        {"good-mm-o8-grey.jpg", false, true, 3, 8},
        {"good-ii-long-o5.jpg", true, false, 4, 5},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        tl = tiff(t, good[i].le, 8, 1, 1, good[i].type, good[i].o, 0);
        if ((f = add(out, &k, cap, good[i].name, HI_GOOD, 24, 16, (int)good[i].o)))
            f->buf = good[i].is_grey ? with_app1(grey, grey_n, t, tl, &f->n)
                                     : with_app1(rgb, rgb_n, t, tl, &f->n);
    }
    if ((f = add(out, &k, cap, "good-plain.jpg", HI_GOOD, 24, 16, 1))) {
        f->buf = malloc(rgb_n);
        memcpy(f->buf, rgb, rgb_n);
        f->n = rgb_n;
    }
    uint8_t *prog = jpeg(24, 16, 3, TJFLAG_PROGRESSIVE, &n);
    tl = tiff(t, false, 8, 1, 1, 3, 6, 0);
    if ((f = add(out, &k, cap, "good-progressive-mm-o6.jpg", HI_GOOD, 24, 16, 6)))
        f->buf = with_app1(prog, n, t, tl, &f->n);
    if ((f = add(out, &k, cap, "good-rgb.png", HI_GOOD, 20, 12, 1)))
        f->buf = png(20, 12, 2, false, &f->n);
    if ((f = add(out, &k, cap, "good-grey.png", HI_GOOD, 17, 9, 1)))
        f->buf = png(17, 9, 0, false, &f->n);
    /* malformed EXIF, each in both byte orders */
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
        for (int le = 1; le >= 0; le--) {
            const bad_case *b = &bad_cases[i];
            char name[64];
            snprintf(name, sizeof name, "bad-exif-%s-%s.jpg", le ? "ii" : "mm", b->name);
            tl = tiff(t, le, b->ifd, b->cnt, b->entries, b->type, b->value, b->cut);
            if ((f = add(out, &k, cap, name, HI_BAD_EXIF, 24, 16, 1)))
                f->buf = with_app1(rgb, rgb_n, t, tl, &f->n);
        }
    memcpy(t, "XX\0*", 4);
    if ((f = add(out, &k, cap, "bad-exif-byte-order.jpg", HI_BAD_EXIF, 24, 16, 1)))
        f->buf = with_app1(rgb, rgb_n, t, 26, &f->n);
    /* headers claiming enormous sizes in a few hundred bytes */
    if ((f = add(out, &k, cap, "huge-60000x60000.jpg", HI_TOO_LARGE, 60000, 60000, 1))) {
        f->buf = jpeg(24, 16, 3, 0, &f->n);
        set_sof_size(f->buf, f->n, 60000, 60000);
    }
    if ((f = add(out, &k, cap, "huge-progressive-12000x12000.jpg", HI_TOO_LARGE, 12000, 12000,
                 1))) {
        f->buf = jpeg(24, 16, 3, TJFLAG_PROGRESSIVE, &f->n);
        set_sof_size(f->buf, f->n, 12000, 12000);
    }
    if ((f = add(out, &k, cap, "huge-16384x16384.png", HI_TOO_LARGE, 16384, 16384, 1)))
        f->buf = png(16384, 16384, 0, true, &f->n);
    if ((f = add(out, &k, cap, "wide-1x65500.jpg", HI_TOO_WIDE, 1, 65500, 1)))
        f->buf = jpeg(1, 65500, 1, 0, &f->n);
    free(prog);
    free(rgb);
    free(grey);
    return k;
}

void hi_free_all(hi_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i].buf);
}
