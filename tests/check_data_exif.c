/* check_data_exif: the image readers against hostile files (made by tests/gen/hostile_images.c):
 * JPEGs whose EXIF offsets and counts lie (IFD0 at 0xFFFE/0xFFFF and at 0xFFFFFFFE/0xFFFFFFFF
 * where 32-bit arithmetic wraps, 65535 entries, IFD0 at or across the block's end, a cut TIFF
 * header; both byte orders) are read with orientation 1 and named in a warning; headers that
 * claim enormous sizes, and a strip whose resized size would be, are refused naming the file;
 * `dllab data` on a folder holding them summarises the good images and names the bad ones. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tests/data_testutil.h"
#include "tests/gen/hostile_images.h"
#include "tests/testutil.h"

/* The warnings dllab logged, one per line (the sink may be called from any thread). */
static char g_log[65536];
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

static void capture(dl_log_level level, const char *line, void *user)
{
    (void)user;
    if (level != DL_LOG_WARN)
        return;
    pthread_mutex_lock(&g_log_mu);
    size_t l = strlen(g_log);
    snprintf(g_log + l, sizeof g_log - l, "%s\n", line);
    pthread_mutex_unlock(&g_log_mu);
}

static bool warned_about(const char *name)
{
    for (const char *p = g_log; (p = strstr(p, name)); p++)
        if (strncmp(p + strlen(name), ": malformed EXIF block ignored (orientation 1): ", 48) == 0)
            return true;
    return false;
}

START_TEST(hostile_exif_reads_as_orientation_1_with_a_warning)
{
    hi_file f[HI_MAX];
    size_t n = hi_make_all(f, HI_MAX);
    ck_assert_uint_ge(n, 30);
    dl_log_set_sink(capture, NULL);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].kind == HI_TOO_LARGE)
            continue;
        g_log[0] = 0;
        dl_jpeg_meta m;
        dl_jpeg_meta_read(f[i].buf, f[i].n, &m);
        ck_assert_msg(m.orientation == f[i].orientation, "%s: orientation %d, expected %d",
                      f[i].name, m.orientation, f[i].orientation);
        ck_assert_int_eq(dl_jpeg_exif_orientation(f[i].buf, f[i].n), f[i].orientation);
        ck_assert_msg((m.exif_bad[0] != 0) == (f[i].kind == HI_BAD_EXIF), "%s: exif_bad '%s'",
                      f[i].name, m.exif_bad);
        int w, h;
        bool grey;
        dl_err e = {0};
        ck_assert_msg(dl_img_probe_mem(f[i].buf, f[i].n, f[i].name, &w, &h, &grey, &e) == DL_OK,
                      "%s: %s", f[i].name, e.msg);
        int ew = f[i].orientation >= 5 ? f[i].h : f[i].w,
            eh = f[i].orientation >= 5 ? f[i].w : f[i].h;
        ck_assert_msg(w == ew && h == eh, "%s: probed %dx%d, expected %dx%d", f[i].name, w, h, ew,
                      eh);
        ck_assert_msg(warned_about(f[i].name) == (f[i].kind == HI_BAD_EXIF), "%s: warnings:\n%s",
                      f[i].name, g_log);
        for (int c = 1; c <= 3; c += 2)
            for (int min = 0; min <= 8; min += 8) { /* full size and a DCT-scaled decode */
                dl_img out;
                ck_assert_msg(
                    dl_img_decode_mem(f[i].buf, f[i].n, f[i].name, c, min, min, &out, &e) == DL_OK,
                    "%s: %s", f[i].name, e.msg);
                ck_assert_int_eq(out.c, c);
                if (!min)
                    ck_assert_msg(out.w == ew && out.h == eh, "%s: decoded %dx%d", f[i].name, out.w,
                                  out.h);
                free(out.px);
            }
        bad += f[i].kind == HI_BAD_EXIF;
    }
    ck_assert_uint_ge(bad, 19); /* 9 cases x 2 byte orders + an unknown byte order */
    dl_log_set_sink(NULL, NULL);
    hi_free_all(f, n);
}
END_TEST

START_TEST(enormous_headers_are_refused_naming_the_file)
{
    hi_file f[HI_MAX];
    size_t n = hi_make_all(f, HI_MAX), huge = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].kind != HI_TOO_LARGE)
            continue;
        huge++;
        ck_assert_uint_lt(f[i].n, 1024); /* a few hundred bytes claiming gigabytes */
        int w, h;
        bool grey;
        dl_err e = {0};
        char want[256];
        snprintf(want, sizeof want, "%.63s: %dx%d pixels is too large", f[i].name, f[i].w, f[i].h);
        ck_assert_int_eq(dl_img_probe_mem(f[i].buf, f[i].n, f[i].name, &w, &h, &grey, &e),
                         DL_EFORMAT);
        ck_assert_msg(strstr(e.msg, want) == e.msg, "%s", e.msg);
        dl_img out;
        memset(&e, 0, sizeof e);
        ck_assert_int_eq(dl_img_decode_mem(f[i].buf, f[i].n, f[i].name, 3, 224, 224, &out, &e),
                         DL_EFORMAT);
        ck_assert_msg(strstr(e.msg, want) == e.msg, "%s", e.msg);
    }
    ck_assert_uint_eq(huge, 3);
    hi_free_all(f, n);
    /* an extreme aspect ratio: fine at its own size, refused when resizing would make it huge */
    dl_err e = {0};
    ck_assert_int_eq(dl_fit_check("w.jpg", 1, 65500, 32, DL_RESIZE_CROP, &e), DL_OK);
    ck_assert_int_eq(dl_fit_check("w.jpg", 1, 65500, 64, DL_RESIZE_PAD_ZEROS, &e), DL_OK);
    ck_assert_int_eq(dl_fit_check("w.jpg", 1, 65500, 64, DL_RESIZE_CROP, &e), DL_EFORMAT);
    ck_assert_str_eq(
        e.msg, "w.jpg: 1x65500 pixels resized to 64x4192000 is too large (its aspect ratio is too "
               "extreme; the limit is 67 megapixels)");
    ck_assert_int_eq(dl_fit_check("p.png", 1, 1 << 26, 1024, DL_RESIZE_CROP, &e),
                     DL_EFORMAT); /* no int overflow */
}
END_TEST

/* A tables-only JPEG (SOI, a quantisation table, EOI): TurboJPEG's header reader "succeeds" on it
 * without setting the size, which the probe used to read uninitialised. */
START_TEST(tables_only_jpeg_is_refused)
{
    uint8_t b[2 + 2 + 67 + 2] = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    memset(b + 7, 1, 64);
    b[71] = 0xFF;
    b[72] = 0xD9;
    int w = -1, h = -1;
    bool grey;
    dl_err e = {0};
    ck_assert_int_eq(dl_img_probe_mem(b, 73, "t.jpg", &w, &h, &grey, &e), DL_EFORMAT);
    ck_assert_str_eq(e.msg, "t.jpg: bad JPEG header: no image in it");
    dl_img out;
    ck_assert_int_eq(dl_img_decode_mem(b, 73, "t.jpg", 3, 0, 0, &out, &e), DL_EFORMAT);
    ck_assert_str_eq(e.msg, "t.jpg: bad JPEG: no image in it");
}
END_TEST

static void write_file(const char *dir, const char *rel, const uint8_t *b, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(b, 1, n, fp), n);
    ck_assert_int_eq(fclose(fp), 0);
}

static void has(const char *out, const char *needle)
{
    ck_assert_msg(strstr(out, needle) != NULL, "output lacks '%s':\n%s", needle, out);
}

START_TEST(dllab_data_summarises_the_good_and_names_the_bad)
{
    char *d = tu_mkdtemp();
    const char *cls[] = {"cat", "dog"};
    du_class_tree(d, "", cls, 2, 40);
    hi_file f[HI_MAX];
    size_t n = hi_make_all(f, HI_MAX), readable = 80, huge = 0;
    for (size_t i = 0; i < n; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "%s/%.63s", cls[i % 2], f[i].name);
        write_file(d, rel, f[i].buf, f[i].n);
        readable += f[i].kind == HI_GOOD || f[i].kind == HI_BAD_EXIF;
        huge += f[i].kind == HI_TOO_LARGE || f[i].kind == HI_TOO_WIDE;
    }
    char cmd[8192], out[65536], want[512];
    snprintf(cmd, sizeof cmd, "'%s' data '%s' --size 64 --valid-pct 0.2 2>&1", tu_dllab(), d);
    ck_assert_int_eq(tu_sh(cmd, out, sizeof out), 0);
    has(out, "single-label, 2 classes");
    snprintf(want, sizeof want, "skipped %zu file(s):", huge);
    has(out, want);
    for (size_t i = 0; i < n; i++) {
        snprintf(want, sizeof want, "%s/%.63s: %s", cls[i % 2], f[i].name,
                 f[i].kind == HI_BAD_EXIF ? "malformed EXIF block ignored (orientation 1): " : "");
        if (f[i].kind == HI_BAD_EXIF)
            has(out, want); /* a warning naming the file */
        else if (f[i].kind == HI_TOO_LARGE) {
            snprintf(want, sizeof want, "%s/%.63s: %dx%d pixels is too large", cls[i % 2],
                     f[i].name, f[i].w, f[i].h);
            has(out, want); /* listed as skipped, with the reason */
        } else if (f[i].kind == HI_TOO_WIDE) {
            snprintf(want, sizeof want,
                     "%s/%.63s: 1x65500 pixels resized to 64x4192000 is too large", cls[i % 2],
                     f[i].name);
            has(out, want);
        }
    }
    /* the items line counts every readable image, the malformed-EXIF ones included */
    unsigned tr = 0, va = 0;
    const char *items = strstr(out, "items:");
    ck_assert_ptr_nonnull(items);
    ck_assert_int_eq(sscanf(items, "items: %u train, %u valid", &tr, &va), 2);
    ck_assert_uint_eq(tr + va, readable);
    hi_free_all(f, n);
    tu_rmtree(d);
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_exif");
    TCase *tc = tcase_create("exif");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, hostile_exif_reads_as_orientation_1_with_a_warning);
    tcase_add_test(tc, enormous_headers_are_refused_naming_the_file);
    tcase_add_test(tc, tables_only_jpeg_is_refused);
    tcase_add_test(tc, dllab_data_summarises_the_good_and_names_the_bad);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
