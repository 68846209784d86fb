/* check_plot_cairo: the figure writer's ticks and labels (log axes get labelled ticks however
 * narrow their range: 1-2-5 steps, then linear ones) and its panels. */
#include <check.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "src/plot-cairo.h"
#include "tests/testutil.h"

static int has_tick(const double *t, int n, double v)
{
    for (int i = 0; i < n; i++)
        if (fabs(t[i] - v) < 1e-9 * fabs(v))
            return 1;
    return 0;
}

START_TEST(log_ticks_over_one_decade_are_1_2_5)
{
    double t[64];
    char lab[32];
    /* a loss from 0.22 to 2.1: a single decade tick (1) before; now 0.5, 1, 2 */
    int n = dl_pc_ticks(0.22, 2.1, true, 6, t, 64);
    ck_assert_int_ge(n, 3);
    ck_assert(has_tick(t, n, 0.5) && has_tick(t, n, 1) && has_tick(t, n, 2));
    dl_pc_tick_label(0.5, true, 0, lab, sizeof lab);
    ck_assert_str_eq(lab, "0.5");
    dl_pc_tick_label(2, true, 0, lab, sizeof lab);
    ck_assert_str_eq(lab, "2");
    /* 1.3 to 4.5 holds only 2 of the 1-2-5 series: linear ticks, labelled as values */
    n = dl_pc_ticks(1.3, 4.5, true, 6, t, 64);
    ck_assert_int_ge(n, 3);
    for (int i = 0; i < n; i++)
        ck_assert(t[i] >= 1.3 - 1e-9 && t[i] <= 4.5 + 1e-9);
    dl_pc_tick_label(1.5, true, 0, lab, sizeof lab);
    ck_assert_str_eq(lab, "1.5");
    /* a 2 x 10^k tick far from 1 is labelled as what it is */
    dl_pc_tick_label(2e-5, true, 0, lab, sizeof lab);
    ck_assert_str_eq(lab, "2e-5");
    dl_pc_tick_label(1e-5, true, 0, lab, sizeof lab);
    ck_assert_str_eq(lab, "1e-5");
    /* many decades: decade ticks, as before */
    n = dl_pc_ticks(1e-7, 10, true, 8, t, 64);
    ck_assert(has_tick(t, n, 1e-7) && has_tick(t, n, 1e-3) && !has_tick(t, n, 2e-3));
}
END_TEST

START_TEST(panels_and_bars_write)
{
    char *dir = tu_mkdtemp(), path[4096];
    double x[3] = {0, 1, 2}, y[3] = {0.2, 0.9, 0.5};
    const char *cats[3] = {"cat", "dog", "owl"};
    dl_pc_chart a = {.title = "bars", .cats = cats, .ncats = 3, .fixed_y = true, .yhi = 1},
                b = {.title = "line", .ylog = true};
    a.lines[a.nlines++] =
        (dl_pc_line){.label = "f1", .x = x, .y = y, .n = 3, .bars = true, .bar_width = 0.3};
    b.lines[b.nlines++] = (dl_pc_line){.label = "loss", .x = x, .y = y, .n = 3, .markers = true};
    const dl_pc_chart *panels[2] = {&a, &b};
    dl_err err = {0};
    snprintf(path, sizeof path, "%s/p.svg", dir);
    ck_assert_msg(dl_pc_charts_write(panels, 2, true, DL_PC_SVG, path, 640, 480, &err) == DL_OK,
                  "%s", err.msg);
    size_t len = 0;
    char *s = tu_slurp(path, &len);
    ck_assert(s && strstr(s, "<svg"));
    free(s);
    ck_assert(dl_pc_charts_write(panels, 5, true, DL_PC_SVG, path, 640, 480, &err) != DL_OK);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Pixels of the palette's first colour (the legend's sample line) in the box (x0, y0)-(x1, y1). */
static int blue_pixels(const char *path, int x0, int y0, int x1, int y1)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&im, path), "%s: %s", path, im.message);
    im.format = PNG_FORMAT_RGB;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(im));
    ck_assert(png_image_finish_read(&im, NULL, buf, 0, NULL));
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const unsigned char *p = buf + 3 * ((size_t)y * im.width + (size_t)x);
            n += abs(p[0] - 0x1f) < 40 && abs(p[1] - 0x77) < 40 && abs(p[2] - 0xb4) < 40;
        }
    free(buf);
    return n;
}

/* A suggestion's label near the right border (it turns to the left of its line there) takes the
 * top-right corner: the legend goes elsewhere (top left: the curve stays low), not on top of it. */
START_TEST(legend_leaves_the_labels_alone)
{
    char *dir = tu_mkdtemp(), path[4096];
    double x[40], y[40];
    for (int i = 0; i < 40; i++) {
        x[i] = pow(10, -6 + 0.15 * i);
        y[i] = 1 + 0.01 * i;
    }
    y[0] = 3; /* the y range reaches up, the curve itself stays in the bottom third */
    dl_pc_chart c = {.xlog = true};
    c.lines[c.nlines++] =
        (dl_pc_line){.label = "a rather long legend entry", .x = x, .y = y, .n = 40};
    c.vlines[c.nvlines++] = (dl_pc_vline){.x = x[38], .label = "minimum 1.00e-01", .color = 3};
    dl_err err = {0};
    snprintf(path, sizeof path, "%s/l.png", dir);
    if (getenv("DLLAB_LEGEND_PNG")) /* a copy to look at */
        snprintf(path, sizeof path, "%s", getenv("DLLAB_LEGEND_PNG"));
    ck_assert_msg(dl_pc_chart_write(&c, DL_PC_PNG, path, 800, 500, &err) == DL_OK, "%s", err.msg);
    int left = blue_pixels(path, 100, 20, 400, 120), right = blue_pixels(path, 420, 20, 790, 120);
    ck_assert_msg(left > 20 && right == 0, "legend sample pixels: top left %d, top right %d", left,
                  right);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The last epoch's validation dot sits on the right border of the data area: drawn whole, not
 * cut in half (800 px wide: the data area ends at 800 - 1.5 em = 782 px). */
START_TEST(a_dot_on_the_border_is_whole)
{
    char *dir = tu_mkdtemp(), path[4096];
    double x[3] = {1, 2, 3}, y[3] = {1.5, 1.2, 1.1};
    dl_pc_chart c = {0};
    c.lines[c.nlines++] = (dl_pc_line){.x = x, .y = y, .n = 3, .markers = true, .no_line = true};
    dl_err err = {0};
    snprintf(path, sizeof path, "%s/d.png", dir);
    ck_assert_msg(dl_pc_chart_write(&c, DL_PC_PNG, path, 800, 500, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_gt(blue_pixels(path, 784, 0, 790, 500), 3);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plot_cairo");
    TCase *c = tcase_create("plot_cairo");
    tcase_add_test(c, log_ticks_over_one_decade_are_1_2_5);
    tcase_add_test(c, panels_and_bars_write);
    tcase_add_test(c, legend_leaves_the_labels_alone);
    tcase_add_test(c, a_dot_on_the_border_is_whole);
    suite_add_tcase(s, c);
    return tu_run(s);
}
