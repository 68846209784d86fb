/* check_data_util: the helpers declared in data_testutil.h. */
#include "tests/data_testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t du_smooth(int x, int y, int ch, int seed)
{
    return (uint8_t)lround(128 + 60 * sin(x * 0.09 + seed * 0.7 + ch) *
                                     cos(y * 0.07 + ch * 0.5 + seed * 0.3));
}
uint8_t du_columns(int x, int y, int ch, int seed) { return (uint8_t)x; }
uint8_t du_rows(int x, int y, int ch, int seed) { return (uint8_t)y; }

dl_img du_image(int w, int h, int c, du_pattern f, int seed)
{
    dl_img im = {malloc((size_t)w * h * c), w, h, c};
    ck_assert_ptr_nonnull(im.px);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                im.px[((size_t)y * w + x) * c + ch] = f(x, y, ch, seed);
    return im;
}

static void parent_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *s = strrchr(buf, '/');
    if (s) {
        *s = 0;
        ck_assert_int_eq(dl_mkdirs(buf, NULL), DL_OK);
    }
}

void du_write_image(const char *dir, const char *rel, int w, int h, int c, du_pattern f, int seed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    parent_dirs(path);
    dl_img im = du_image(w, h, c, f, seed);
    dl_err e = {0};
    size_t l = strlen(path);
    dl_status st = l > 4 && !strcmp(path + l - 4, ".png") ? dl_png_write(path, &im, &e)
                                                          : dl_jpeg_write(path, &im, 95, &e);
    ck_assert_msg(st == DL_OK, "%s", e.msg);
    free(im.px);
}

void du_write_text(const char *dir, const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    parent_dirs(path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

void du_class_tree(const char *dir, const char *prefix, const char *const *classes, int n_classes,
                   int per_class)
{
    char rel[1024];
    for (int k = 0; k < n_classes; k++)
        for (int i = 0; i < per_class; i++) {
            snprintf(rel, sizeof rel, "%s%s%s/%s_%03d.jpg", prefix, *prefix ? "/" : "", classes[k],
                     classes[k], i);
            du_write_image(dir, rel, 40, 30, 3, du_smooth, k * 100 + i);
        }
}
