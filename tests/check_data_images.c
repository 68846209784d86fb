/* check_data_images: decoding (JPEG via TurboJPEG incl. DCT scaling, grey, CMYK and EXIF
 * orientation; PNG via libpng), the anti-aliased resizer, and resize geometry (crop, pad with
 * zeros/reflection, squish) to the exact pixel on synthetic images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <zlib.h>

#include "core/data/data.h"
#include "core/data/internal.h"
#include "tests/data_testutil.h"
#include "tests/testutil.h"

static double mean_abs_diff(const dl_img *a, const dl_img *b, int *maxd)
{
    ck_assert_int_eq(a->w, b->w);
    ck_assert_int_eq(a->h, b->h);
    ck_assert_int_eq(a->c, b->c);
    size_t n = (size_t)a->w * a->h * a->c;
    double s = 0;
    *maxd = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs(a->px[i] - b->px[i]);
        s += d;
        if (d > *maxd)
            *maxd = d;
    }
    return s / n;
}

static uint8_t *encode(const dl_img *im, int pf, int samp, unsigned long *n)
{
    tjhandle tj = tjInitCompress();
    unsigned char *jb = NULL;
    ck_assert_int_eq(tjCompress2(tj, im->px, im->w, 0, im->h, pf, &jb, n, samp, 95, 0), 0);
    tjDestroy(tj);
    uint8_t *copy = malloc(*n);
    memcpy(copy, jb, *n);
    tjFree(jb);
    return copy;
}

START_TEST(png_round_trip_is_exact_and_jpeg_close)
{
    char *d = tu_mkdtemp();
    for (int c = 1; c <= 3; c += 2) {
        dl_img ref = du_image(37, 23, c, du_smooth, c);
        du_write_image(d, c == 1 ? "g.png" : "c.png", 37, 23, c, du_smooth, c);
        du_write_image(d, c == 1 ? "g.jpg" : "c.jpg", 37, 23, c, du_smooth, c);
        char p[4096];
        dl_img got;
        int maxd;
        snprintf(p, sizeof p, "%s/%s", d, c == 1 ? "g.png" : "c.png");
        ck_assert_int_eq(dl_img_decode_file(p, c, 0, 0, &got, NULL), DL_OK);
        ck_assert_double_eq(mean_abs_diff(&ref, &got, &maxd), 0.0);
        free(got.px);
        snprintf(p, sizeof p, "%s/%s", d, c == 1 ? "g.jpg" : "c.jpg");
        dl_err e = {0};
        ck_assert_msg(dl_img_decode_file(p, c, 0, 0, &got, &e) == DL_OK, "%s", e.msg);
        ck_assert_double_lt(mean_abs_diff(&ref, &got, &maxd), 2.5);
        free(got.px);
        /* header probe: size and greyness */
        uint8_t *buf;
        size_t n;
        ck_assert_int_eq(dl_read_file(p, &buf, &n, NULL), DL_OK);
        int w, h;
        bool grey;
        ck_assert_int_eq(dl_img_probe_mem(buf, n, p, &w, &h, &grey, NULL), DL_OK);
        ck_assert_int_eq(w, 37);
        ck_assert_int_eq(h, 23);
        ck_assert(grey == (c == 1));
        free(buf);
        free(ref.px);
    }
    tu_rmtree(d);
    free(d);
}
END_TEST

/* JPEG bytes with an EXIF APP1 (orientation o) inserted after SOI. */
static uint8_t *with_exif(const uint8_t *jpg, size_t n, int o, size_t *out_n)
{
    const uint8_t app1[] = {0xFF, 0xE1, 0x00, 0x22, 'E',        'x', 'i', 'f', 0,    0,    'I', 'I',
                            0x2A, 0,    8,    0,    0,          0,   1,   0,   0x12, 0x01, 3,   0,
                            1,    0,    0,    0,    (uint8_t)o, 0,   0,   0,   0,    0,    0,   0};
    *out_n = n + sizeof app1;
    uint8_t *b = malloc(*out_n);
    memcpy(b, jpg, 2);
    memcpy(b + 2, app1, sizeof app1);
    memcpy(b + 2 + sizeof app1, jpg + 2, n - 2);
    return b;
}

static uint8_t left_dark(int x, int y, int ch, int seed) { return x < 20 ? 30 : 220; }

START_TEST(exif_orientation_is_applied)
{
    dl_img im = du_image(40, 20, 3, left_dark, 0);
    unsigned long n;
    uint8_t *jpg = encode(&im, TJPF_RGB, TJSAMP_444, &n);
    ck_assert_int_eq(dl_jpeg_exif_orientation(jpg, n), 1);
    struct {
        int o, w, h;
        int tl;
    } cases[] = {
        {1, 40, 20, 30},  /* as stored: top-left dark */
        {3, 40, 20, 220}, /* 180 degrees: the dark half moves right */
        {6, 20, 40, 30},  /* rotate 90 cw: the left column becomes the top row */
        {8, 20, 40, 220}, /* rotate 90 ccw: the left column becomes the bottom row */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t m;
        uint8_t *b = with_exif(jpg, n, cases[i].o, &m);
        ck_assert_int_eq(dl_jpeg_exif_orientation(b, m), cases[i].o);
        int w, h;
        bool grey;
        ck_assert_int_eq(dl_img_probe_mem(b, m, "x.jpg", &w, &h, &grey, NULL), DL_OK);
        ck_assert_int_eq(w, cases[i].w);
        ck_assert_int_eq(h, cases[i].h);
        dl_img got;
        ck_assert_int_eq(dl_img_decode_mem(b, m, "x.jpg", 3, 0, 0, &got, NULL), DL_OK);
        ck_assert_int_eq(got.w, cases[i].w);
        ck_assert_int_eq(got.h, cases[i].h);
        ck_assert_int_lt(abs(got.px[0] - cases[i].tl), 12);
        int br = got.px[((size_t)(got.h - 1) * got.w + got.w - 1) * 3];
        ck_assert_int_lt(abs(br - (250 - cases[i].tl)), 12);
        free(got.px);
        free(b);
    }
    free(jpg);
    free(im.px);
}
END_TEST

START_TEST(dct_scaled_decode_matches_full_decode_and_resize)
{
    dl_img im = du_image(400, 300, 3, du_smooth, 3);
    unsigned long n;
    uint8_t *jpg = encode(&im, TJPF_RGB, TJSAMP_420, &n);
    dl_img full, scaled;
    ck_assert_int_eq(dl_img_decode_mem(jpg, n, "a.jpg", 3, 0, 0, &full, NULL), DL_OK);
    ck_assert_int_eq(full.w, 400);
    /* The exact decoder keeps twice the requested size: 1/2 for 100x75, 1/4 for 50x37. */
    ck_assert_int_eq(dl_img_decode_mem(jpg, n, "a.jpg", 3, 100, 75, &scaled, NULL), DL_OK);
    ck_assert_int_eq(scaled.w, 200);
    free(scaled.px);
    ck_assert_int_eq(dl_img_decode_mem(jpg, n, "a.jpg", 3, 50, 37, &scaled, NULL), DL_OK);
    ck_assert_int_eq(scaled.w, 100);
    ck_assert_int_eq(scaled.h, 75);
    dl_img a = {malloc(100 * 75 * 3), 100, 75, 3};
    dl_img_resize(&full, &a, false);
    int maxd;
    double mad = mean_abs_diff(&a, &scaled, &maxd);
    ck_assert_msg(mad < 2.0 && maxd < 24, "mean %.2f max %d", mad, maxd);
    free(scaled.px);
    /* The fast decoder takes the smallest scale covering the size; 101x76 does not fit 1/4: 1/2
     * gives 200x150 (only power-of-two scales are used). */
    ck_assert_int_eq(dl_img_decode_mem_mode(jpg, n, "a.jpg", 3, 100, 75, true, &scaled, NULL),
                     DL_OK);
    ck_assert_int_eq(scaled.w, 100);
    free(scaled.px);
    ck_assert_int_eq(dl_img_decode_mem_mode(jpg, n, "a.jpg", 3, 101, 76, true, &scaled, NULL),
                     DL_OK);
    ck_assert_int_eq(scaled.w, 200);
    ck_assert_int_eq(scaled.h, 150);
    free(scaled.px);
    free(a.px);
    free(full.px);
    free(jpg);
    free(im.px);
}
END_TEST

static uint8_t cmyk_px(int x, int y, int ch, int seed)
{
    return ch == 0 ? 200 : ch == 1 ? 100 : ch == 2 ? 50 : 255;
}

START_TEST(grey_and_cmyk_jpegs)
{
    dl_img g = du_image(16, 16, 1, du_smooth, 0);
    unsigned long n;
    uint8_t *jpg = encode(&g, TJPF_GRAY, TJSAMP_GRAY, &n);
    dl_img out;
    ck_assert_int_eq(dl_img_decode_mem(jpg, n, "g.jpg", 3, 0, 0, &out, NULL),
                     DL_OK); /* grey -> RGB */
    ck_assert_int_eq(out.c, 3);
    ck_assert_int_lt(abs(out.px[0] - out.px[1]), 1);
    ck_assert_int_lt(abs(out.px[0] - g.px[0]), 4);
    free(out.px);
    free(jpg);
    free(g.px);
    dl_img c = du_image(16, 16, 4, cmyk_px, 0);
    jpg = encode(&c, TJPF_CMYK, TJSAMP_444, &n);
    ck_assert_int_eq(dl_img_decode_mem(jpg, n, "c.jpg", 3, 0, 0, &out, NULL), DL_OK);
    ck_assert_int_lt(abs(out.px[0] - 200), 6);
    ck_assert_int_lt(abs(out.px[1] - 100), 6);
    ck_assert_int_lt(abs(out.px[2] - 50), 6);
    free(out.px);
    free(jpg);
    free(c.px);
}
END_TEST

START_TEST(resize_is_anti_aliased)
{
    /* A 1-px checkerboard shrunk 8x must become flat grey (naive bilinear gives 0/255 stripes). */
    dl_img src = {malloc(256 * 256), 256, 256, 1};
    for (int y = 0; y < 256; y++)
        for (int x = 0; x < 256; x++)
            src.px[y * 256 + x] = ((x + y) & 1) ? 255 : 0;
    dl_img dst = {malloc(32 * 32), 32, 32, 1};
    dl_img_resize(&src, &dst, false);
    for (int i = 0; i < 32 * 32; i++)
        ck_assert_int_lt(abs(dst.px[i] - 128), 3);
    /* Area (box) filter: 2x2 blocks average exactly. */
    dl_img s4 = {(uint8_t[]){0, 100, 10, 30, 50, 250, 70, 90, 1, 3, 200, 200, 5, 7, 100, 60}, 4, 4,
                 1};
    dl_img d2 = {malloc(4), 2, 2, 1};
    dl_img_resize(&s4, &d2, true);
    ck_assert_int_eq(d2.px[0], 100); /* (0+100+50+250)/4 */
    ck_assert_int_eq(d2.px[1], 50);  /* (10+30+70+90)/4 */
    ck_assert_int_eq(d2.px[2], 4);   /* (1+3+5+7)/4 */
    ck_assert_int_eq(d2.px[3], 140); /* (200+200+100+60)/4 */
    /* A constant image stays constant through any scale. */
    memset(src.px, 77, 256 * 256);
    dl_img up = {malloc(300 * 290), 300, 290, 1};
    dl_img_resize(&src, &up, false);
    for (int i = 0; i < 300 * 290; i++)
        ck_assert_int_eq(up.px[i], 77);
    free(up.px);
    free(d2.px);
    free(dst.px);
    free(src.px);
}
END_TEST

/* Renders with identity normalisation (mean 0, std 1/255) so outputs are pixel values. */
static void render(const dl_img *fit, int size, dl_resize_method m, float ux, float uy, float *out)
{
    dl_aug_params p;
    dl_aug_draw(&p, 0, 0, 0, false, false, 1.0f);
    p.u_x = ux;
    p.u_y = uy;
    const float mean[3] = {0, 0, 0}, std[3] = {1 / 255.0f, 1 / 255.0f, 1 / 255.0f};
    dl_aug_render(fit, size, m, &p, fit->c, mean, std, out);
}

START_TEST(resize_geometry_exact)
{
    int fw, fh;
    dl_fit_size(200, 100, 50, DL_RESIZE_CROP, &fw, &fh);
    ck_assert_int_eq(fw, 100);
    ck_assert_int_eq(fh, 50);
    dl_fit_size(200, 100, 50, DL_RESIZE_PAD_ZEROS, &fw, &fh);
    ck_assert_int_eq(fw, 50);
    ck_assert_int_eq(fh, 25);
    dl_fit_size(200, 100, 50, DL_RESIZE_SQUISH, &fw, &fh);
    ck_assert_int_eq(fw, 50);
    ck_assert_int_eq(fh, 50);
    dl_fit_size(90, 120, 60, DL_RESIZE_CROP, &fw, &fh);
    ck_assert_int_eq(fw, 60);
    ck_assert_int_eq(fh, 80);

    float out[50 * 50];
    /* crop: centre window of a 100x50 image of column indices starts at column 25 */
    dl_img cols = du_image(100, 50, 1, du_columns, 0);
    render(&cols, 50, DL_RESIZE_CROP, 0.5f, 0.5f, out);
    for (int y = 0; y < 50; y++)
        for (int x = 0; x < 50; x++)
            ck_assert_float_eq(out[y * 50 + x], (float)(x + 25));
    render(&cols, 50, DL_RESIZE_CROP, 1.0f, 0.0f, out); /* train extreme: right edge */
    ck_assert_float_eq(out[0], 50.0f);
    ck_assert_float_eq(out[49], 99.0f);
    render(&cols, 50, DL_RESIZE_CROP, 0.0f, 0.0f, out);
    ck_assert_float_eq(out[7], 7.0f);
    /* pad: a 50x25 image of row indices sits at rows 13..37 (offset floor(0.5*(25-50)) = -13) */
    dl_img rows = du_image(50, 25, 1, du_rows, 0);
    render(&rows, 50, DL_RESIZE_PAD_ZEROS, 0.5f, 0.5f, out);
    for (int y = 0; y < 50; y++) {
        float want = (y < 13 || y > 37) ? 0.0f : (float)(y - 13);
        ck_assert_float_eq(out[y * 50 + 10], want);
    }
    render(&rows, 50, DL_RESIZE_PAD_REFLECT, 0.5f, 0.5f, out);
    ck_assert_float_eq(out[12 * 50], 1.0f);  /* row -1 reflects to 1 */
    ck_assert_float_eq(out[0], 13.0f);       /* row -13 reflects to 13 */
    ck_assert_float_eq(out[38 * 50], 23.0f); /* row 25 reflects to 23 */
    ck_assert_float_eq(out[20 * 50], 7.0f);
    /* squish: the fitted image is the output */
    dl_img sq = du_image(50, 50, 1, du_columns, 0);
    render(&sq, 50, DL_RESIZE_SQUISH, 0.9f, 0.1f, out);
    for (int x = 0; x < 50; x++)
        ck_assert_float_eq(out[3 * 50 + x], (float)x);
    free(sq.px);
    free(rows.px);
    free(cols.px);
}
END_TEST

START_TEST(load_prepped_matches_pipeline)
{
    char *d = tu_mkdtemp();
    du_write_image(d, "p.png", 64, 48, 3, du_smooth, 5);
    char p[4096];
    snprintf(p, sizeof p, "%s/p.png", d);
    dl_image_prep prep = {.size = 32,
                          .channels = 3,
                          .resize = DL_RESIZE_CROP,
                          .mean = {0.5f, 0.4f, 0.3f},
                          .std = {0.2f, 0.25f, 0.3f}};
    float *out = malloc(sizeof(float) * 3 * 32 * 32);
    dl_err e = {0};
    ck_assert_msg(dl_image_load_prepped(p, &prep, out, &e) == DL_OK, "%s", e.msg);
    /* Independent path, fastai's order: PNG is lossless; the centre crop of 64x48 for 32 px is
     * the 48x48 square at x = 8, cut out, then resized to 32x32. */
    dl_img full = du_image(64, 48, 3, du_smooth, 5);
    dl_img crop = {malloc(48 * 48 * 3), 48, 48, 3};
    for (int y = 0; y < 48; y++)
        memcpy(crop.px + (size_t)y * 48 * 3, full.px + ((size_t)y * 64 + 8) * 3, 48 * 3);
    dl_img fit = {malloc(32 * 32 * 3), 32, 32, 3};
    dl_img_resize(&crop, &fit, false);
    free(crop.px);
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                float v = fit.px[((size_t)y * 32 + x) * 3 + ch] / 255.0f;
                float want = (v - prep.mean[ch]) / prep.std[ch];
                ck_assert_float_eq_tol(out[ch * 1024 + y * 32 + x], want, 1e-5f);
            }
    snprintf(p, sizeof p, "%s/missing.jpg", d);
    ck_assert_int_eq(dl_image_load_prepped(p, &prep, out, &e), DL_EIO);
    ck_assert_ptr_nonnull(strstr(e.msg, "missing.jpg"));
    free(fit.px);
    free(full.px);
    free(out);
    tu_rmtree(d);
    free(d);
}
END_TEST

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

START_TEST(huge_or_foreign_images_are_refused)
{
    /* A PNG whose header claims 30000 x 30000 RGB pixels (2.7 GB decoded). */
    uint8_t png[8 + 25 + 12];
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    put32(png + 8, 13);
    memcpy(png + 12, "IHDR", 4);
    put32(png + 16, 30000);
    put32(png + 20, 30000);
    const uint8_t rest[5] = {8, 2, 0, 0, 0};
    memcpy(png + 24, rest, 5);
    put32(png + 29, (uint32_t)crc32(0, png + 12, 17));
    put32(png + 33, 0);
    memcpy(png + 37, "IDAT", 4); /* the header reader stops at the first (here empty) IDAT */
    put32(png + 41, (uint32_t)crc32(0, png + 37, 4));
    int w, h;
    bool grey;
    dl_err e = {0};
    ck_assert_int_eq(dl_img_probe_mem(png, sizeof png, "big.png", &w, &h, &grey, &e), DL_EFORMAT);
    ck_assert_msg(strstr(e.msg, "big.png: 30000x30000 pixels is too large"), "%s", e.msg);
    dl_img out;
    ck_assert_int_eq(dl_img_decode_mem(png, sizeof png, "big.png", 3, 0, 0, &out, &e), DL_EFORMAT);
    const uint8_t gif[] = "GIF89a\x01\x00\x01\x00";
    ck_assert_int_eq(dl_img_probe_mem(gif, sizeof gif, "x.gif", &w, &h, &grey, &e),
                     DL_EUNSUPPORTED);
    ck_assert_msg(strstr(e.msg, "x.gif: not a JPEG or PNG image"), "%s", e.msg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_images");
    TCase *tc = tcase_create("images");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, png_round_trip_is_exact_and_jpeg_close);
    tcase_add_test(tc, exif_orientation_is_applied);
    tcase_add_test(tc, dct_scaled_decode_matches_full_decode_and_resize);
    tcase_add_test(tc, grey_and_cmyk_jpegs);
    tcase_add_test(tc, resize_is_anti_aliased);
    tcase_add_test(tc, resize_geometry_exact);
    tcase_add_test(tc, load_prepped_matches_pipeline);
    tcase_add_test(tc, huge_or_foreign_images_are_refused);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
