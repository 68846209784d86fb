/* check_pixels: dllab's pixels against Pillow's (what fastai uses), on the committed JPEGs of
 * tests/fixtures/pixels/ and the references tests/gen/mkfix_pixels.py wrote with Pillow:
 * - the full-scale decode (RGB and grey) is identical, for 4:2:0 / 4:2:2 / 4:4:4, odd sizes,
 *   progressive, EXIF-rotated, grey and CMYK files; the fast decoder (--fast-decode) is not;
 * - DCT-scaled decode + resize stays within 2/255 mean of Pillow's full decode + resize;
 * - crop-mode preparation crops then resizes as fastai's Resize, within the resizers' rounding.
 * The measured differences are printed (docs/pixels.md quotes them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/data.h"
#include "core/data/internal.h"
#include "tests/testutil.h"

static const char *const small_set[] = {
    "s420-37x29",  "s444-41x23",  "s422-35x27",  "prog420-53x31", "prog444-45x19",
    "exif3-33x21", "exif6-33x21", "exif8-33x21", "grey-31x25",    "cmyk-29x17"};
static const char *const photo_set[] = {"photo420-320x240", "photo444-240x320", "photoprog-320x240",
                                        "photoexif6-240x320"};
static const int fit_sizes[] = {96, 56, 28};   /* DCT scales 1/2, 1/4, 1/8 of these photos */
static const int crop_sizes[] = {128, 64, 37}; /* mkfix_pixels.py CROP_SIZES */

static dl_img load_ref(const char *stem, const char *suffix, int c)
{
    char rel[256];
    snprintf(rel, sizeof rel, "pixels/%s.%s.png", stem, suffix);
    dl_img im;
    dl_err e = {0};
    ck_assert_msg(dl_img_decode_file(tu_fixture(rel), c, 0, 0, &im, &e) == DL_OK, "%s", e.msg);
    return im;
}

static uint8_t *slurp_jpeg(const char *stem, size_t *n)
{
    char rel[256];
    snprintf(rel, sizeof rel, "pixels/%s.jpg", stem);
    uint8_t *b = (uint8_t *)tu_slurp(tu_fixture(rel), n);
    ck_assert_msg(b != NULL, "cannot read %s", tu_fixture(rel));
    return b;
}

/* Mean and max |a - b| in levels; sizes must agree. */
static double diff(const dl_img *a, const dl_img *b, int *maxd)
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
        *maxd = d > *maxd ? d : *maxd;
    }
    return s / n;
}

START_TEST(full_scale_decode_is_pillows)
{
    int fast_differs = 0;
    for (size_t f = 0; f < sizeof small_set / sizeof *small_set; f++) {
        size_t n;
        uint8_t *jpg = slurp_jpeg(small_set[f], &n);
        for (int c = 1; c <= 3; c += 2) {
            dl_img ref = load_ref(small_set[f], c == 1 ? "l" : "rgb", c), got, fast;
            dl_err e = {0};
            ck_assert_msg(dl_img_decode_mem(jpg, n, small_set[f], c, 0, 0, &got, &e) == DL_OK, "%s",
                          e.msg);
            int maxd;
            double mean = diff(&got, &ref, &maxd);
            ck_assert_msg(maxd == 0,
                          "%s (%d channel%s): differs from Pillow by up to %d (mean %.4f)",
                          small_set[f], c, c == 1 ? "" : "s", maxd, mean);
            ck_assert_int_eq(dl_img_decode_mem_mode(jpg, n, small_set[f], c, 0, 0, true, &fast, &e),
                             DL_OK);
            double fmean = diff(&fast, &ref, &maxd);
            if (maxd > 0)
                fast_differs++;
            printf("%-18s c=%d  exact: max 0  fast: max %2d mean %.3f\n", small_set[f], c, maxd,
                   fmean);
            free(ref.px);
            free(got.px);
            free(fast.px);
        }
        free(jpg);
    }
    ck_assert_msg(fast_differs > 0,
                  "the fast decoder gave Pillow's pixels on every file: is it still fast?");
}
END_TEST

START_TEST(dct_scaled_decode_stays_near_pillow)
{
    double worst = 0, worst_resize = 0;
    int shortcuts = 0;
    for (size_t f = 0; f < sizeof photo_set / sizeof *photo_set; f++) {
        size_t n;
        uint8_t *jpg = slurp_jpeg(photo_set[f], &n);
        int w, h;
        bool grey;
        ck_assert_int_eq(dl_img_probe_mem(jpg, n, photo_set[f], &w, &h, &grey, NULL), DL_OK);
        for (size_t k = 0; k < sizeof fit_sizes / sizeof *fit_sizes; k++) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, "fit-%d", fit_sizes[k]);
            dl_img ref = load_ref(photo_set[f], suffix, 3), scaled, full;
            int fw, fh;
            dl_fit_size(w, h, fit_sizes[k], DL_RESIZE_CROP, &fw, &fh);
            ck_assert_int_eq(dl_img_decode_mem(jpg, n, photo_set[f], 3, fw, fh, &scaled, NULL),
                             DL_OK);
            ck_assert_int_eq(dl_img_decode_mem(jpg, n, photo_set[f], 3, 0, 0, &full, NULL), DL_OK);
            shortcuts += scaled.w < full.w;
            dl_img a = {malloc((size_t)fw * fh * 3), fw, fh, 3},
                   b = {malloc((size_t)fw * fh * 3), fw, fh, 3};
            dl_img_resize(&scaled, &a, false);
            dl_img_resize(&full, &b, false);
            int maxa, maxb;
            double ma = diff(&a, &ref, &maxa), mb = diff(&b, &ref, &maxb);
            printf("%-18s -> %3dx%-3d  DCT 1/%d + resize: mean %.3f max %2d   full decode + "
                   "resize: mean "
                   "%.3f max %2d\n",
                   photo_set[f], fw, fh, full.w / scaled.w, ma, maxa, mb, maxb);
            worst = ma > worst ? ma : worst;
            worst_resize = mb > worst_resize ? mb : worst_resize;
            free(ref.px);
            free(scaled.px);
            free(full.px);
            free(a.px);
            free(b.px);
        }
        free(jpg);
    }
    printf("worst mean difference at a reduced DCT scale: %.3f/255 (resize alone: %.3f/255)\n",
           worst, worst_resize);
    ck_assert_msg(shortcuts >= 4, "the DCT shortcut was taken %d times", shortcuts);
    ck_assert_msg(worst < 2.0, "DCT-scaled decode + resize is %.3f/255 from Pillow's (mean)",
                  worst);
    ck_assert_msg(worst_resize < 1.0, "dllab's resize is %.3f/255 from Pillow's (mean)",
                  worst_resize);
}
END_TEST

/* The validation split's crop (and predict's) against fastai's Resize(crop): centre crop in source
 * pixels, then Pillow's bilinear resize; next to the previous order (resize, then crop) to show
 * what the order costs. */
START_TEST(crop_mode_crops_then_resizes_as_fastai)
{
    double worst = 0;
    for (size_t f = 0; f < sizeof photo_set / sizeof *photo_set; f++) {
        char rel[256];
        snprintf(rel, sizeof rel, "pixels/%s.jpg", photo_set[f]);
        char path[4096];
        snprintf(path, sizeof path, "%s", tu_fixture(rel));
        for (size_t k = 0; k < sizeof crop_sizes / sizeof *crop_sizes; k++) {
            int s = crop_sizes[k];
            char suffix[32];
            snprintf(suffix, sizeof suffix, "crop-%d", s);
            dl_img ref = load_ref(photo_set[f], suffix, 3);
            dl_image_prep prep = {.size = s,
                                  .channels = 3,
                                  .resize = DL_RESIZE_CROP,
                                  .mean = {0, 0, 0},
                                  .std = {1, 1, 1}};
            float *out = malloc(sizeof(float) * 3 * s * s);
            dl_err e = {0};
            ck_assert_msg(dl_image_load_prepped(path, &prep, out, &e) == DL_OK, "%s", e.msg);
            dl_img got = {malloc((size_t)s * s * 3), s, s, 3};
            for (int ch = 0; ch < 3; ch++)
                for (int i = 0; i < s * s; i++)
                    got.px[(size_t)i * 3 + ch] =
                        (uint8_t)lrintf(out[(size_t)ch * s * s + i] * 255.0f);
            /* the previous order: fitted image (short side s), then its centre window */
            dl_img full, fit, old = {malloc((size_t)s * s * 3), s, s, 3};
            ck_assert_int_eq(dl_img_decode_file(path, 3, 0, 0, &full, NULL), DL_OK);
            dl_fit_size(full.w, full.h, s, DL_RESIZE_CROP, &fit.w, &fit.h);
            fit.c = 3;
            fit.px = malloc((size_t)fit.w * fit.h * 3);
            dl_img_resize(&full, &fit, false);
            int ox = (fit.w - s) / 2, oy = (fit.h - s) / 2;
            for (int y = 0; y < s; y++)
                memcpy(old.px + (size_t)y * s * 3, fit.px + ((size_t)(y + oy) * fit.w + ox) * 3,
                       (size_t)s * 3);
            int maxn, maxo;
            double mn = diff(&got, &ref, &maxn), mo = diff(&old, &ref, &maxo);
            printf("%-18s crop %3d: crop then resize: mean %.3f max %2d   resize then crop: mean "
                   "%.3f max "
                   "%2d\n",
                   photo_set[f], s, mn, maxn, mo, maxo);
            worst = mn > worst ? mn : worst;
            free(ref.px);
            free(out);
            free(got.px);
            free(full.px);
            free(fit.px);
            free(old.px);
        }
    }
    ck_assert_msg(worst < 0.75, "crop mode is %.3f/255 from fastai's crop-then-resize (mean)",
                  worst);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pixels");
    TCase *tc = tcase_create("pixels");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, full_scale_decode_is_pillows);
    tcase_add_test(tc, dct_scaled_decode_stays_near_pillow);
    tcase_add_test(tc, crop_mode_crops_then_resizes_as_fastai);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
