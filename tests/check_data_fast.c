/* check_data_fast: the fast paths of the image pipeline against slow references.
 * - The fixed-point resizer (Q14 weights, uint16 intermediate) against a double-precision
 *   evaluation of the same anti-aliased filter: at most 1 level apart, on down- and up-scales,
 *   grey and RGB, triangle and box.
 * - The RGB render (AVX2 gathers where the CPU has them) against the grey render of each
 *   channel alone (always the scalar path), for many random augmentations including random
 *   resized crops and every padding mode, at sizes that leave a partial 8-pixel group.
 * - Scratch buffers are per thread and survive growth. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/internal.h"
#include "tests/data_testutil.h"

static uint8_t noise(int x, int y, int ch, int seed)
{
    uint32_t h = (uint32_t)x * 73856093u ^ (uint32_t)y * 19349663u ^ (uint32_t)ch * 83492791u ^
                 (uint32_t)seed;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return (uint8_t)h;
}

/* Pillow's filter in double precision: weights of output i over input k. */
static void ref_weights(int in, int out, bool area, int i, double *w)
{
    double scale = (double)in / out, fs = scale > 1 ? scale : 1, support = (area ? 0.5 : 1.0) * fs;
    double center = (i + 0.5) * scale, sum = 0;
    for (int k = 0; k < in; k++) {
        double x = (k - center + 0.5) / fs, v;
        if (area)
            v = (x >= -0.5 && x < 0.5) ? 1 : 0;
        else
            v = fabs(x) < 1 ? 1 - fabs(x) : 0;
        if (k < (int)(center - support + 0.5) || k >= (int)(center + support + 0.5))
            v = 0;
        w[k] = v;
        sum += v;
    }
    for (int k = 0; k < in; k++)
        w[k] /= sum;
}

static void check_resize(const dl_img *src, int ow, int oh, bool area)
{
    int c = src->c;
    dl_img dst = {malloc((size_t)ow * oh * c), ow, oh, c};
    dl_img_resize(src, &dst, area);
    double *wx = malloc(sizeof(double) * src->w * ow), *wy = malloc(sizeof(double) * src->h * oh);
    for (int i = 0; i < ow; i++)
        ref_weights(src->w, ow, area, i, wx + (size_t)i * src->w);
    for (int i = 0; i < oh; i++)
        ref_weights(src->h, oh, area, i, wy + (size_t)i * src->h);
    int worst = 0;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int ch = 0; ch < c; ch++) {
                double v = 0;
                for (int sy = 0; sy < src->h; sy++) {
                    double wv = wy[(size_t)y * src->h + sy];
                    if (wv == 0)
                        continue;
                    for (int sx = 0; sx < src->w; sx++)
                        v += wv * wx[(size_t)x * src->w + sx] *
                             src->px[((size_t)sy * src->w + sx) * c + ch];
                }
                int want = (int)lround(v < 0 ? 0 : v > 255 ? 255 : v);
                int d = abs(dst.px[((size_t)y * ow + x) * c + ch] - want);
                worst = d > worst ? d : worst;
            }
    ck_assert_msg(worst <= 1, "%dx%dx%d -> %dx%d (%s): off by %d levels", src->w, src->h, c, ow, oh,
                  area ? "area" : "bilinear", worst);
    free(wx);
    free(wy);
    free(dst.px);
}

START_TEST(fixed_point_resize_matches_double_reference)
{
    for (int c = 1; c <= 3; c += 2) {
        dl_img a = du_image(97, 73, c, noise, 1), b = du_image(20, 15, c, du_smooth, 2);
        check_resize(&a, 31, 23, false); /* 3.1x down: widened triangle */
        check_resize(&a, 60, 45, false); /* 1.6x down */
        check_resize(&a, 31, 23, true);
        check_resize(&a, 97, 40, false); /* one axis only */
        check_resize(&b, 47, 33, false); /* up: plain bilinear */
        free(a.px);
        free(b.px);
    }
}
END_TEST

/* Channel ch of an RGB image as a grey image. */
static dl_img channel(const dl_img *rgb, int ch)
{
    dl_img g = {malloc((size_t)rgb->w * rgb->h), rgb->w, rgb->h, 1};
    for (size_t i = 0; i < (size_t)rgb->w * rgb->h; i++)
        g.px[i] = rgb->px[3 * i + ch];
    return g;
}

START_TEST(rgb_render_matches_per_channel_grey_render)
{
    const dl_resize_method methods[3] = {DL_RESIZE_CROP, DL_RESIZE_PAD_REFLECT,
                                         DL_RESIZE_PAD_ZEROS};
    const int sizes[2] = {37, 64};
    const float mean[3] = {0.4f, 0.5f, 0.6f}, std[3] = {0.2f, 0.25f, 0.3f};
    int rendered = 0, affine = 0;
    for (int pat = 0; pat < 2; pat++) {
        dl_img rgb = pat ? du_image(83, 61, 3, noise, 7) : du_image(61, 83, 3, du_smooth, 3);
        dl_img g[3] = {channel(&rgb, 0), channel(&rgb, 1), channel(&rgb, 2)};
        for (int si = 0; si < 2; si++) {
            int size = sizes[si];
            size_t plane = (size_t)size * size;
            float *out = malloc(sizeof(float) * 3 * plane), *ref = malloc(sizeof(float) * plane);
            for (int mi = 0; mi < 3; mi++)
                for (uint64_t item = 0; item < 12; item++) {
                    dl_aug_params p;
                    dl_aug_draw(&p, 9, (uint64_t)pat, item, true, true, item % 2 ? 0.35f : 1.0f);
                    dl_aug_render(&rgb, size, methods[mi], &p, 3, mean, std, out);
                    affine += p.affine;
                    for (int ch = 0; ch < 3; ch++) {
                        dl_aug_render(&g[ch], size, methods[mi], &p, 1, mean + ch, std + ch, ref);
                        for (size_t i = 0; i < plane; i++)
                            ck_assert_msg(fabsf(out[ch * plane + i] - ref[i]) < 1e-3f,
                                          "size %d method %d item %d ch %d pixel %zu: %f vs %f",
                                          size, mi, (int)item, ch, i, out[ch * plane + i], ref[i]);
                    }
                    rendered++;
                }
            free(out);
            free(ref);
        }
        for (int ch = 0; ch < 3; ch++)
            free(g[ch].px);
        free(rgb.px);
    }
    ck_assert_int_eq(rendered, 144);
    ck_assert_int_gt(affine, 100); /* the draws really exercise the warp path */
}
END_TEST

static void *other_thread(void *arg)
{
    uint8_t *p = dl_scratch(DL_SCRATCH_AUG, 100);
    memset(p, 0xAB, 100);
    *(void **)arg = p;
    return NULL;
}

START_TEST(scratch_is_per_thread_and_grows)
{
    uint8_t *a = dl_scratch(DL_SCRATCH_AUG, 100);
    ck_assert_ptr_nonnull(a);
    memset(a, 1, 100);
    void *theirs = NULL;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, &theirs), 0);
    pthread_join(t, NULL);
    ck_assert_ptr_ne(theirs, a);
    ck_assert_int_eq(a[99], 1); /* the other thread's writes went to its own buffer */
    ck_assert_ptr_eq(dl_scratch(DL_SCRATCH_AUG, 50), a); /* smaller: same buffer, no malloc */
    uint8_t *b = dl_scratch(DL_SCRATCH_AUG, 1 << 20);
    ck_assert_ptr_nonnull(b);
    memset(b, 2, 1 << 20);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_fast");
    TCase *tc = tcase_create("fast");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fixed_point_resize_matches_double_reference);
    tcase_add_test(tc, rgb_render_matches_per_channel_grey_render);
    tcase_add_test(tc, scratch_is_per_thread_and_grows);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
