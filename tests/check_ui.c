/* check_ui: the terminal UI foundations without a terminal: braille canvas cells, line drawing
 * and clipping, ticks and log scaling, decimation, EMA, layouts, the action table, colour and
 * glyph decisions, half-block images, the app's dispatch and overlays, and golden renderings of
 * the plot widget and help overlay (tests/fixtures/ui/; DLLAB_UPDATE_GOLDEN=1 rewrites them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/golden.h"
#include "tests/testutil.h"
#include "ui/actions.h"
#include "ui/app.h"
#include "ui/axes.h"
#include "ui/canvas.h"
#include "ui/colors.h"
#include "ui/grid.h"
#include "ui/image.h"
#include "ui/layout.h"
#include "ui/plot.h"
#include "ui/series.h"

static char *dump(const dl_grid *g)
{
    char *s = dl_grid_dump(g);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* ---- canvas ---- */

START_TEST(braille_bit_layout)
{
    /* Unicode dot numbering: 1,2,3 left column top-down, 4,5,6 right, 7 and 8 bottom. */
    ck_assert_uint_eq(dl_braille_bit(0, 0), 0x01);
    ck_assert_uint_eq(dl_braille_bit(0, 1), 0x02);
    ck_assert_uint_eq(dl_braille_bit(0, 2), 0x04);
    ck_assert_uint_eq(dl_braille_bit(1, 0), 0x08);
    ck_assert_uint_eq(dl_braille_bit(1, 1), 0x10);
    ck_assert_uint_eq(dl_braille_bit(1, 2), 0x20);
    ck_assert_uint_eq(dl_braille_bit(0, 3), 0x40);
    ck_assert_uint_eq(dl_braille_bit(1, 3), 0x80);
    ck_assert_uint_eq(dl_braille_bit(2, 0), 0);
}
END_TEST

START_TEST(canvas_exact_cells)
{
    dl_canvas *c = dl_canvas_new(3, 2);
    dl_grid *g = dl_grid_new(3, 2);
    dl_canvas_dot(c, 0, 0, DL_ROLE_TRAIN, 0);
    dl_canvas_dot(c, 3, 3, DL_ROLE_VALID, 0); /* cell (1,0), right column, bottom dot */
    for (int y = 4; y < 8; y++)               /* cell (2,1) completely full */
        for (int x = 4; x < 6; x++)
            dl_canvas_dot(c, x, y, DL_ROLE_MARKER, 0);
    dl_canvas_dot(c, 6, 0, DL_ROLE_TRAIN, 0); /* outside: ignored */
    dl_canvas_dot(c, -1, 0, DL_ROLE_TRAIN, 0);
    dl_canvas_render(c, g, 0, 0, 0);
    ck_assert_uint_eq(dl_grid_at(g, 0, 0)->ch, 0x2801);
    ck_assert_uint_eq(dl_grid_at(g, 0, 0)->role, DL_ROLE_TRAIN);
    ck_assert_uint_eq(dl_grid_at(g, 1, 0)->ch, 0x2880);
    ck_assert_uint_eq(dl_grid_at(g, 1, 0)->role, DL_ROLE_VALID);
    ck_assert_uint_eq(dl_grid_at(g, 2, 1)->ch, 0x28FF);
    ck_assert_uint_eq(dl_grid_at(g, 2, 0)->ch, ' ');
    ck_assert_uint_eq(dl_grid_at(g, 0, 1)->ch, ' ');
    ck_assert_int_eq(dl_canvas_get(c, 3, 3), 1);
    ck_assert_int_eq(dl_canvas_get(c, 2, 3), 0);
    dl_canvas_free(c);
    dl_grid_free(g);
}
END_TEST

START_TEST(canvas_bresenham_steep_line_has_no_gaps)
{
    dl_canvas *c = dl_canvas_new(2, 2);
    dl_canvas_line(c, 0, 0, 3, 7, DL_ROLE_TRAIN, 0);
    /* Bresenham visits (0,0) (0,1) (1,2) (1,3) (2,4) (2,5) (3,6) (3,7): one dot per row. */
    ck_assert_uint_eq(c->bits[0], 0x01 | 0x02 | 0x20 | 0x80);
    ck_assert_uint_eq(c->bits[1], 0);
    ck_assert_uint_eq(c->bits[2], 0);
    ck_assert_uint_eq(c->bits[3], 0x01 | 0x02 | 0x20 | 0x80);
    for (int y = 0; y < 8; y++) {
        int in_row = 0;
        for (int x = 0; x < 4; x++)
            in_row += dl_canvas_get(c, x, y);
        ck_assert_int_eq(in_row, 1);
    }
    dl_canvas_clear(c);
    dl_canvas_line(c, 0, 0, 3, 0, DL_ROLE_TRAIN, 0);
    ck_assert_uint_eq(c->bits[0], 0x09);
    ck_assert_uint_eq(c->bits[1], 0x09);
    dl_canvas_free(c);
}
END_TEST

START_TEST(canvas_clipping)
{
    dl_canvas *c = dl_canvas_new(2, 1);
    /* A long horizontal line through the canvas keeps only the visible part. */
    dl_canvas_line(c, -1000, 2, 1000, 2, DL_ROLE_TRAIN, 0);
    ck_assert_uint_eq(c->bits[0], 0x04 | 0x20);
    ck_assert_uint_eq(c->bits[1], 0x04 | 0x20);
    dl_canvas_clear(c);
    /* Entirely outside, or not finite: nothing. */
    dl_canvas_line(c, -10, -10, -5, -1, DL_ROLE_TRAIN, 0);
    dl_canvas_line(c, 10, 0, 20, 3, DL_ROLE_TRAIN, 0);
    dl_canvas_line(c, 0, NAN, 3, 3, DL_ROLE_TRAIN, 0);
    dl_canvas_line(c, 0, 0, INFINITY, 3, DL_ROLE_TRAIN, 0);
    ck_assert_uint_eq(c->bits[0], 0);
    ck_assert_uint_eq(c->bits[1], 0);
    /* A vertical line far taller than the canvas fills its column exactly. */
    dl_canvas_line(c, 1, -1e9, 1, 1e9, DL_ROLE_TRAIN, 0);
    ck_assert_uint_eq(c->bits[0], 0x08 | 0x10 | 0x20 | 0x80);
    ck_assert_uint_eq(c->bits[1], 0);
    /* A diagonal entering from outside stops at the edge: (4,-1)->(0,3) clips to (3,0)->(0,3). */
    dl_canvas_clear(c);
    dl_canvas_line(c, 4, -1, 0, 3, DL_ROLE_TRAIN, 0);
    ck_assert_int_eq(dl_canvas_get(c, 3, 0), 1);
    ck_assert_int_eq(dl_canvas_get(c, 2, 1), 1);
    ck_assert_int_eq(dl_canvas_get(c, 1, 2), 1);
    ck_assert_int_eq(dl_canvas_get(c, 0, 3), 1);
    ck_assert_uint_eq(c->bits[0], 0x20 | 0x40);
    ck_assert_uint_eq(c->bits[1], 0x08 | 0x02);
    dl_canvas_free(c);
}
END_TEST

START_TEST(canvas_ascii_fallback)
{
    ck_assert_int_eq(dl_canvas_ascii_glyph(0), ' ');
    ck_assert_int_eq(dl_canvas_ascii_glyph(0x01), '\'');
    ck_assert_int_eq(dl_canvas_ascii_glyph(0x80), '.');
    ck_assert_int_eq(dl_canvas_ascii_glyph(0x01 | 0x40), ':');
    dl_canvas *c = dl_canvas_new(3, 1);
    dl_grid *g = dl_grid_new(3, 1);
    dl_canvas_line(c, 0, 0, 0, 3, DL_ROLE_TRAIN, 0);
    dl_canvas_dot(c, 2, 0, DL_ROLE_TRAIN, 0);
    dl_canvas_dot(c, 5, 3, DL_ROLE_TRAIN, 0);
    dl_canvas_render(c, g, 0, 0, 1);
    char *s = dump(g);
    ck_assert_str_eq(s, ":'.\n");
    free(s);
    dl_canvas_free(c);
    dl_grid_free(g);
}
END_TEST

/* ---- series ---- */

START_TEST(ema_is_debiased)
{
    float y[5] = {2, 2, 2, 2, 2}, out[5];
    dl_series_ema(y, 5, 0.98, out);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq_tol(out[i], 2.0f, 1e-6);
    float z[4] = {1, 2, NAN, 3}, o2[4];
    dl_series_ema(z, 4, 0.5, o2);
    ck_assert_float_eq_tol(o2[0], 1.0f, 1e-6);
    ck_assert_float_eq_tol(o2[1], 1.25f / 0.75f, 1e-6);
    ck_assert_float_eq_tol(o2[2], 1.25f / 0.75f, 1e-6); /* NaN skipped, value carried */
    ck_assert_float_eq_tol(o2[3], 2.125f / 0.875f, 1e-6);
    /* Far past the point where beta^k underflows, the value is still exact. */
    enum { LONG = 60000 };
    float *ly = malloc(sizeof(float) * LONG), *lo = malloc(sizeof(float) * LONG);
    for (int i = 0; i < LONG; i++)
        ly[i] = 0.5f;
    dl_series_ema(ly, LONG, 0.98, lo);
    ck_assert_float_eq_tol(lo[LONG - 1], 0.5f, 1e-6);
    ck_assert_float_eq_tol(lo[40000], 0.5f, 1e-6);
    free(ly);
    free(lo);
    float lead[2] = {NAN, 4}, o3[2];
    dl_series_ema(lead, 2, 0.9, o3);
    ck_assert(isnan(o3[0]));
    ck_assert_float_eq_tol(o3[1], 4.0f, 1e-6);
}
END_TEST

START_TEST(decimation_keeps_spikes)
{
    enum { N = 10000, B = 100 };
    float *x = malloc(sizeof(float) * N), *y = malloc(sizeof(float) * N);
    float ox[2 * B + 2], oy[2 * B + 2];
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = 1.0f + 0.01f * (float)(i % 7);
    }
    y[4321] = 50;
    y[7000] = -3;
    y[100] = NAN;
    int m = dl_series_decimate(x, y, N, B, ox, oy);
    ck_assert_int_le(m, 2 * B + 2);
    ck_assert_int_gt(m, B);
    int spike = 0, dip = 0;
    for (int i = 0; i < m; i++) {
        ck_assert(isfinite(oy[i]));
        if (i)
            ck_assert(ox[i] > ox[i - 1]);
        spike |= oy[i] == 50 && ox[i] == 4321;
        dip |= oy[i] == -3 && ox[i] == 7000;
    }
    ck_assert(spike && dip);
    ck_assert(ox[0] == 0 && ox[m - 1] == N - 1);
    /* Short series pass through unchanged. */
    float sx[3] = {0, 1, 2}, sy[3] = {3, 1, 2};
    ck_assert_int_eq(dl_series_decimate(sx, sy, 3, 4, ox, oy), 3);
    ck_assert(oy[0] == 3 && oy[1] == 1 && oy[2] == 2);
    free(x);
    free(y);
}
END_TEST

/* The drawing summary of a long history: a bounded number of bins, the exact extremes of every
 * stretch (spikes survive any length), z averaged, NaN left out, points in x order. */
START_TEST(summary_is_bounded_and_keeps_extremes)
{
    enum { N = 1000003 };
    dl_series_summary s = {0};
    double zsum = 0;
    for (int i = 0; i < N; i++) {
        float y = 1.0f + 0.01f * (float)(i % 7), z = (float)(i % 10);
        if (i == 654321)
            y = 50;
        if (i == 777777)
            y = -3;
        if (i % 1000 == 5)
            y = NAN;
        zsum += z;
        ck_assert_int_eq(dl_summary_push(&s, (float)i, y, z), 0);
        ck_assert_int_le(s.n_bins, DL_SUMMARY_BINS);
    }
    ck_assert_int_eq(s.samples, N);
    ck_assert_int_ge(s.n_bins, DL_SUMMARY_BINS / 2);
    ck_assert_int_eq(s.per_bin & (s.per_bin - 1), 0); /* a power of two */
    float *x = malloc(sizeof(float) * 6 * DL_SUMMARY_BINS), *y = x + 2 * DL_SUMMARY_BINS,
          *z = y + 2 * DL_SUMMARY_BINS;
    int m = dl_summary_points(&s, x, y, z);
    ck_assert_int_eq(m, 2 * s.n_bins);
    int spike = 0, dip = 0;
    double zw = 0;
    long counted = 0;
    for (int b = 0; b < s.n_bins; b++) {
        zw += (double)z[2 * b] * s.bins[b].count;
        counted += s.bins[b].count;
    }
    for (int i = 0; i < m; i++) {
        ck_assert(isfinite(y[i]));
        ck_assert(y[i] >= 1.0f || y[i] == -3);
        if (i)
            ck_assert(x[i] >= x[i - 1]);
        spike |= y[i] == 50 && x[i] == 654321;
        dip |= y[i] == -3 && x[i] == 777777;
    }
    ck_assert(spike && dip);
    ck_assert_int_eq(counted, N);
    ck_assert_double_eq_tol(zw, zsum, 1e-3 * zsum);
    dl_summary_free(&s);
    ck_assert_int_eq(s.n_bins, 0);
    free(x);
}
END_TEST

/* ---- axes ---- */

START_TEST(linear_ticks_are_nice)
{
    dl_axis a;
    double t[DL_AXIS_MAX_TICKS];
    ck_assert_int_eq(dl_axis_set(&a, 0, 1, 0), 0);
    int n = dl_axis_ticks(&a, 6, t);
    ck_assert_int_eq(n, 6);
    for (int i = 0; i < n; i++)
        ck_assert_double_eq_tol(t[i], 0.2 * i, 1e-12);
    char buf[32];
    dl_axis_label(&a, t[1], t[1] - t[0], buf, sizeof buf);
    ck_assert_str_eq(buf, "0.2");
    dl_axis_label(&a, t[0], t[1] - t[0], buf, sizeof buf);
    ck_assert_str_eq(buf, "0");
    ck_assert_double_eq_tol(dl_nice_step(0, 1000, 4), 200, 1e-9);
    ck_assert_double_eq_tol(dl_nice_step(0, 0.07, 5), 0.01, 1e-12);
    /* At most max ticks even for awkward ranges. */
    dl_axis_set(&a, 0.13, 2.71, 0);
    n = dl_axis_ticks(&a, 3, t);
    ck_assert_int_le(n, 3);
    ck_assert_int_ge(n, 2);
    for (int i = 0; i < n; i++)
        ck_assert(t[i] >= 0.13 && t[i] <= 2.71);
    /* Fitting rounds outwards to the step. */
    float v[3] = {0.13f, 0.5f, 0.87f};
    ck_assert_int_eq(dl_axis_fit(&a, v, 3, 0, 1), 0);
    ck_assert_double_eq_tol(a.lo, 0.1, 1e-9);
    ck_assert_double_eq_tol(a.hi, 0.9, 1e-9);
    /* Degenerate range widened. */
    dl_axis_set(&a, 3, 3, 0);
    ck_assert(a.lo < 3 && a.hi > 3);
}
END_TEST

START_TEST(log_axis_ticks_and_mapping)
{
    dl_axis a;
    double t[DL_AXIS_MAX_TICKS];
    char buf[32];
    ck_assert_int_eq(dl_axis_set(&a, 0, 1, 1), -1);
    ck_assert_int_eq(dl_axis_set(&a, 1e-7, 10, 1), 0);
    int n = dl_axis_ticks(&a, 6, t);
    /* Nine decades thinned to every other one. */
    ck_assert_int_eq(n, 5);
    double want[5] = {1e-7, 1e-5, 1e-3, 1e-1, 10};
    for (int i = 0; i < n; i++)
        ck_assert_double_eq_tol(t[i], want[i], want[i] * 1e-9);
    dl_axis_label(&a, 1e-5, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "1e-5");
    dl_axis_label(&a, 0.01, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.01");
    dl_axis_label(&a, 10, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "10");
    /* Under two decades: 1-2-5 ticks. */
    dl_axis_set(&a, 1e-3, 5e-2, 1);
    n = dl_axis_ticks(&a, 10, t);
    double w2[6] = {1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2};
    ck_assert_int_eq(n, 6);
    for (int i = 0; i < n; i++)
        ck_assert_double_eq_tol(t[i], w2[i], w2[i] * 1e-9);
    dl_axis_label(&a, 2e-3, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "2e-3");
    dl_axis_label(&a, 2e-2, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.02");
    dl_axis_label(&a, 5e-5, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "5e-5");
    /* Decades are equally spaced. */
    dl_axis_set(&a, 1e-4, 1, 1);
    ck_assert_double_eq_tol(dl_axis_map(&a, 1e-2, 0, 100), 50, 1e-9);
    ck_assert_double_eq_tol(dl_axis_map(&a, 1e-3, 0, 100), 25, 1e-9);
    ck_assert(isnan(dl_axis_map(&a, 0, 0, 100)));
    ck_assert_double_eq_tol(dl_axis_unmap(&a, 75, 0, 100), 0.1, 1e-12);
    /* Fit out to 1-2-5 values, ignoring non-positive values. */
    float v[4] = {-1, 0, 3e-5, 0.4f};
    ck_assert_int_eq(dl_axis_fit(&a, v, 4, 1, 1), 0);
    ck_assert_double_eq_tol(a.lo, 2e-5, 1e-15);
    ck_assert_double_eq_tol(a.hi, 0.5, 1e-12);
    /* A loss from 1.3 to 4.5 gets 1..5 with ticks 1, 2, 5 (not 0.1..10 or 1..10, where the curve
     * took a few rows), labelled as values. */
    float loss[2] = {1.3f, 4.5f};
    ck_assert_int_eq(dl_axis_fit(&a, loss, 2, 1, 1), 0);
    ck_assert_double_eq_tol(a.lo, 1, 1e-12);
    ck_assert_double_eq_tol(a.hi, 5, 1e-12);
    double t125[DL_AXIS_MAX_TICKS];
    ck_assert_int_eq(dl_axis_ticks(&a, 6, t125), 3);
    ck_assert_double_eq_tol(t125[0], 1, 1e-12);
    ck_assert_double_eq_tol(t125[1], 2, 1e-12);
    ck_assert_double_eq_tol(t125[2], 5, 1e-12);
    dl_axis_label(&a, t125[1], 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "2");
}
END_TEST

/* ---- plot (golden) ---- */

static void loss_series(float *x, float *raw, int n)
{
    /* A deterministic noisy decreasing loss with one spike. */
    unsigned s = 12345;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        double noise = ((s >> 16) % 1000) / 1000.0 - 0.5;
        x[i] = (float)i;
        raw[i] = (float)(2.3 * exp(-i / 60.0) + 0.3 + 0.25 * noise);
    }
    raw[150] = 2.9f;
}

static void draw_loss_plot(dl_grid *g, int ascii, int ylog, int epochs)
{
    enum { N = 240 };
    static float x[N], raw[N];
    float vx[4] = {59, 119, 179, 239}, vy[4] = {0.9f, 0.55f, 0.45f, 0.42f};
    loss_series(x, raw, N);
    dl_plot p;
    dl_plot_init(&p, "loss");
    p.ascii = ascii;
    p.ylog = ylog;
    p.x_epochs = epochs;
    p.steps_per_epoch = 60;
    p.beta = 0.9;
    dl_plot_add(
        &p, (dl_plot_series){"raw", x, raw, N, DL_ROLE_TRAIN_RAW, DL_ATTR_DIM, DL_PLOT_LINE, 0});
    dl_plot_add(&p, (dl_plot_series){"train", x, raw, N, DL_ROLE_TRAIN, 0, DL_PLOT_LINE, 1});
    dl_plot_add(&p, (dl_plot_series){"valid", vx, vy, 4, DL_ROLE_VALID, 0, DL_PLOT_LINE_POINTS, 0});
    dl_plot_frame fr;
    ck_assert_int_eq(dl_plot_draw(&p, g, (dl_rect){0, 0, g->cols, g->rows}, &fr), 0);
    ck_assert(fr.ok);
}

START_TEST(plot_golden_utf8)
{
    dl_grid *g = dl_grid_new(64, 16);
    draw_loss_plot(g, 0, 0, 0);
    char *s = dump(g);
    tu_assert_golden("plot-loss-64x16.txt", s);
    free(s);
    s = dl_grid_dump_roles(g);
    tu_assert_golden("plot-loss-64x16.roles", s);
    free(s);
    dl_grid_free(g);
}
END_TEST

START_TEST(plot_golden_ascii_log_epochs)
{
    dl_grid *g = dl_grid_new(64, 16);
    draw_loss_plot(g, 1, 1, 1);
    char *s = dump(g);
    /* ASCII mode uses nothing outside printable ASCII. */
    for (const char *p = s; *p; p++)
        ck_assert_msg((*p >= 32 && *p < 127) || *p == '\n', "non-ASCII byte 0x%02x",
                      (unsigned char)*p);
    ck_assert_ptr_nonnull(strstr(s, "epoch"));
    tu_assert_golden("plot-loss-ascii-logy-epochs-64x16.txt", s);
    free(s);
    dl_grid_free(g);
}
END_TEST

START_TEST(plot_lrfind_log_x_markers_cursor)
{
    enum { N = 100 };
    float lr[N], loss[N];
    for (int i = 0; i < N; i++) {
        lr[i] = (float)(1e-7 * pow(10, 8.0 * i / (N - 1)));
        double t = log10(lr[i]);
        loss[i] = (float)(t < -3     ? 2.3 - 0.02 * (t + 7)
                          : t < -1.5 ? 2.22 - 1.2 * (t + 3)
                                     : 0.42 + 3 * (t + 1.5) * (t + 1.5));
    }
    dl_plot p;
    dl_plot_init(&p, "lr finder");
    p.xlog = 1;
    p.xlabel = "lr";
    dl_plot_add(&p, (dl_plot_series){"loss", lr, loss, N, DL_ROLE_TRAIN, 0, DL_PLOT_LINE, 0});
    dl_plot_add_marker(&p, 1e-3, DL_ROLE_MARKER, 'v');
    dl_plot_add_marker(&p, 1e-2, DL_ROLE_MARKER, 's');
    p.has_cursor = 1;
    p.cursor_x = 3e-2;
    dl_grid *g = dl_grid_new(72, 14);
    dl_plot_frame fr;
    dl_plot_draw(&p, g, (dl_rect){0, 0, 72, 14}, &fr);
    ck_assert(fr.ok);
    ck_assert(fr.xaxis.log);
    /* The x axis spans the data's decades and shows decade labels. */
    ck_assert_double_eq_tol(fr.xaxis.lo, 1e-7, 1e-12);
    ck_assert_double_eq_tol(fr.xaxis.hi, 10, 1e-5);
    char *s = dump(g);
    ck_assert_ptr_nonnull(strstr(s, "1e-7"));
    ck_assert_ptr_nonnull(strstr(s, "1e-3"));
    /* The cursor column holds cursor-coloured cells. */
    int col = fr.canvas.x + (int)lround(dl_axis_map(&fr.xaxis, 3e-2, 0, fr.canvas.w * 2 - 1)) / 2,
        cursor_cells = 0;
    for (int y = fr.canvas.y; y < fr.canvas.y + fr.canvas.h; y++)
        cursor_cells += dl_grid_at(g, col, y)->role == DL_ROLE_CURSOR;
    ck_assert_int_ge(cursor_cells, fr.canvas.h - 1);
    tu_assert_golden("plot-lrfind-72x14.txt", s);
    free(s);
    dl_grid_free(g);
}
END_TEST

START_TEST(plot_empty_and_tiny)
{
    dl_grid *g = dl_grid_new(40, 10);
    dl_plot p;
    dl_plot_init(&p, "loss");
    dl_plot_frame fr;
    dl_plot_draw(&p, g, (dl_rect){0, 0, 40, 10}, &fr);
    ck_assert(!fr.ok);
    char *s = dump(g);
    ck_assert_ptr_nonnull(strstr(s, "no data yet"));
    free(s);
    float x[2] = {0, 1}, y[2] = {1, 2};
    dl_plot_add(&p, (dl_plot_series){"a", x, y, 2, DL_ROLE_TRAIN, 0, DL_PLOT_LINE, 0});
    dl_grid_clear(g);
    dl_plot_draw(&p, g, (dl_rect){0, 0, 10, 4}, &fr);
    s = dump(g);
    ck_assert_ptr_nonnull(strstr(s, "plot too"));
    free(s);
    dl_grid_free(g);
}
END_TEST

/* ---- layout ---- */

static void check_layout(int cols, int rows)
{
    dl_train_layout l;
    ck_assert_int_eq(dl_layout_train(cols, rows, &l), 0);
    dl_rect r[7] = {l.header, l.progress, l.plot, l.sched, l.table, l.events, l.keys};
    int area = 0;
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(r[i].x >= 0 && r[i].y >= 0 && r[i].x + r[i].w <= cols &&
                          r[i].y + r[i].h <= rows,
                      "panel %d outside %dx%d", i, cols, rows);
        ck_assert_int_gt(r[i].w, 0);
        ck_assert_int_gt(r[i].h, 0);
        area += r[i].w * r[i].h;
        for (int j = 0; j < i; j++)
            ck_assert_msg(!dl_rect_overlap(r[i], r[j]), "panels %d and %d overlap at %dx%d", i, j,
                          cols, rows);
    }
    /* The plot is the main thing: at least half the width and 8 rows. */
    ck_assert_int_ge(l.plot.w, cols / 2);
    ck_assert_int_ge(l.plot.h, 8);
    ck_assert_int_ge(l.table.h, 5);
    ck_assert_int_ge(area, cols * rows * 9 / 10);
    ck_assert_int_eq(l.keys.y, rows - 1);
}

START_TEST(layout_sizes)
{
    check_layout(80, 24);
    check_layout(120, 40);
    check_layout(100, 30);
    check_layout(200, 60);
    dl_train_layout l;
    ck_assert_int_eq(dl_layout_train(79, 24, &l), -1);
    ck_assert_int_eq(dl_layout_train(80, 23, &l), -1);
    /* Wide terminals put the table beside the plot. */
    dl_layout_train(120, 40, &l);
    ck_assert_int_gt(l.table.x, l.plot.x + l.plot.w - 1);
    dl_layout_train(80, 24, &l);
    ck_assert_int_gt(l.table.y, l.plot.y + l.plot.h - 1);
}
END_TEST

/* ---- actions ---- */

/* Every documented key, with the screen it must work on. */
static const struct {
    int screen, key;
    dl_action want;
} documented[] = {
    {DL_SCR_TRAIN, 'f', DL_ACT_FREEZE},
    {DL_SCR_TRAIN, 'u', DL_ACT_UNFREEZE},
    {DL_SCR_TRAIN, '+', DL_ACT_LR_UP},
    {DL_SCR_TRAIN, '-', DL_ACT_LR_DOWN},
    {DL_SCR_TRAIN, '=', DL_ACT_LR_SET},
    {DL_SCR_TRAIN, 'p', DL_ACT_PAUSE},
    {DL_SCR_TRAIN, 's', DL_ACT_SAVE},
    {DL_SCR_TRAIN, 'l', DL_ACT_LRFIND},
    {DL_SCR_TRAIN, 'e', DL_ACT_STOP_EPOCH},
    {DL_SCR_TRAIN, 'q', DL_ACT_QUIT},
    {DL_SCR_TRAIN, 'c', DL_ACT_CONFUSION},
    {DL_SCR_TRAIN, 't', DL_ACT_TOP_LOSSES},
    {DL_SCR_TRAIN, '\t', DL_ACT_NEXT_PANEL},
    {DL_SCR_TRAIN, '?', DL_ACT_HELP},
    {DL_SCR_TRAIN, 'x', DL_ACT_X_AXIS},
    {DL_SCR_TRAIN, 'y', DL_ACT_Y_LOG},
    {DL_SCR_TRAIN, '[', DL_ACT_SMOOTH_LESS},
    {DL_SCR_TRAIN, ']', DL_ACT_SMOOTH_MORE},
    {DL_SCR_LRFIND, DL_KEY_LEFT, DL_ACT_CURSOR_LEFT},
    {DL_SCR_LRFIND, DL_KEY_RIGHT, DL_ACT_CURSOR_RIGHT},
    {DL_SCR_LRFIND, DL_KEY_ENTER, DL_ACT_USE_LR},
    {DL_SCR_LRFIND, 'r', DL_ACT_RERUN},
    {DL_SCR_LRFIND, 'y', DL_ACT_Y_LOG},
    {DL_SCR_CONFUSION, 'n', DL_ACT_NORMALISE},
    {DL_SCR_CONFUSION, DL_KEY_DOWN, DL_ACT_DOWN},
    {DL_SCR_CONFUSION, DL_KEY_RIGHT, DL_ACT_THRESH_UP},
    {DL_SCR_MULTILABEL, 'b', DL_ACT_THRESH_BEST},
    {DL_SCR_CONFUSION, 'b', DL_ACT_NONE},
    {DL_SCR_LRFIND, 'm', DL_ACT_SUGGEST_MINIMUM},
    {DL_SCR_LRFIND, 'l', DL_ACT_SUGGEST_SLIDE},
    {DL_SCR_TRAIN, 'l', DL_ACT_LRFIND},
    {DL_SCR_HOME, DL_KEY_ENTER, DL_ACT_OPEN},
    {DL_SCR_HOME, ' ', DL_ACT_MARK},
    {DL_SCR_HOME, 'c', DL_ACT_COMPARE},
    {DL_SCR_HOME, 'd', DL_ACT_DELETE},
    {DL_SCR_HOME, 'n', DL_ACT_NEW_RUN},
    {DL_SCR_HOME, DL_KEY_UP, DL_ACT_UP},
    {DL_SCR_COMPARE, 'b', DL_ACT_BASELINE},
    {DL_SCR_COMPARE, 'd', DL_ACT_DIFF_ALL},
    {DL_SCR_COMPARE, 'x', DL_ACT_X_AXIS},
    {DL_SCR_COMPARE, 'y', DL_ACT_Y_LOG},
    {DL_SCR_RUN, 'c', DL_ACT_CONFUSION},
    {DL_SCR_RUN, 'x', DL_ACT_X_AXIS},
    {DL_SCR_IMAGES, DL_KEY_RIGHT, DL_ACT_PAGE_NEXT},
    {DL_SCR_IMAGES, DL_KEY_ESC, DL_ACT_BACK},
};

START_TEST(action_table_covers_documented_keys)
{
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++) {
        dl_action a = dl_action_for_key(documented[i].screen, documented[i].key);
        ck_assert_msg(a == documented[i].want, "key %s on screen %#x gives action %d, want %d",
                      dl_key_name(documented[i].key), documented[i].screen, a, documented[i].want);
    }
    /* Keys of one screen do nothing on another. */
    ck_assert_int_eq(dl_action_for_key(DL_SCR_HOME, 'f'), DL_ACT_NONE);
    ck_assert_int_eq(dl_action_for_key(DL_SCR_TRAIN, 'z'), DL_ACT_NONE);
    ck_assert_int_eq(dl_action_for_key(DL_SCR_HOME, DL_KEY_ESC), DL_ACT_NONE);
    ck_assert_int_eq(dl_action_for_key(DL_SCR_LRFIND, '\r'), DL_ACT_USE_LR);
}
END_TEST

START_TEST(action_table_has_no_duplicates)
{
    int n;
    const dl_action_info *t = dl_actions(&n);
    ck_assert_int_eq(n, DL_ACT_COUNT - 1);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(t[i].id, i + 1);
        ck_assert_msg(t[i].name && *t[i].name && t[i].help && strlen(t[i].help) > 8,
                      "action %d lacks text", i);
        ck_assert_msg(t[i].screens != 0, "action %s is on no screen", t[i].name);
        ck_assert_int_eq(dl_action_by_name(t[i].name), t[i].id);
        ck_assert_ptr_eq(dl_action_info_of(t[i].id), &t[i]);
        for (int j = 0; j < i; j++) {
            ck_assert_msg(strcmp(t[i].name, t[j].name) != 0, "name %s twice", t[i].name);
            ck_assert_msg(!(t[i].key == t[j].key && (t[i].screens & t[j].screens)),
                          "key %s bound to %s and %s on one screen", dl_key_name(t[i].key),
                          t[i].name, t[j].name);
        }
    }
    ck_assert_int_eq(dl_action_by_name("no-such-action"), DL_ACT_NONE);
}
END_TEST

START_TEST(key_names)
{
    ck_assert_str_eq(dl_key_name('\t'), "Tab");
    ck_assert_str_eq(dl_key_name(DL_KEY_LEFT), "Left");
    ck_assert_str_eq(dl_key_name(' '), "Space");
    ck_assert_str_eq(dl_key_name('+'), "+");
}
END_TEST

/* ---- colours ---- */

START_TEST(colour_detection)
{
    ck_assert_int_eq(dl_color_detect(0, NULL, NULL, 1, 256), DL_COLOR_256);
    ck_assert_int_eq(dl_color_detect(0, NULL, NULL, 1, 8), DL_COLOR_8);
    ck_assert_int_eq(dl_color_detect(0, NULL, "truecolor", 1, 256), DL_COLOR_TRUE);
    ck_assert_int_eq(dl_color_detect(0, NULL, "24bit", 1, 8), DL_COLOR_TRUE);
    ck_assert_int_eq(dl_color_detect(0, NULL, NULL, 1, 1 << 24), DL_COLOR_TRUE);
    ck_assert_int_eq(dl_color_detect(0, "1", "truecolor", 1, 256), DL_COLOR_MONO);
    ck_assert_int_eq(dl_color_detect(0, "", NULL, 1, 256),
                     DL_COLOR_256); /* empty NO_COLOR: ignored */
    ck_assert_int_eq(dl_color_detect(1, NULL, NULL, 1, 256), DL_COLOR_MONO);
    ck_assert_int_eq(dl_color_detect(0, NULL, NULL, 0, 0), DL_COLOR_MONO);
    ck_assert_int_eq(dl_color_detect(0, NULL, NULL, 1, 2), DL_COLOR_MONO);
    ck_assert_int_eq(dl_ui_want_ascii(0, "UTF-8"), 0);
    ck_assert_int_eq(dl_ui_want_ascii(0, "utf8"), 0);
    ck_assert_int_eq(dl_ui_want_ascii(0, "ANSI_X3.4-1968"), 1);
    ck_assert_int_eq(dl_ui_want_ascii(1, "UTF-8"), 1);
    ck_assert_int_eq(dl_ui_want_ascii(0, NULL), 1);
    /* Roles keep emphasis without colour, and get colours with it. */
    dl_role_style m = dl_role_style_for(DL_ROLE_TRAIN, DL_COLOR_MONO);
    ck_assert_int_eq(m.fg, -1);
    ck_assert(m.attr & DL_ATTR_BOLD);
    ck_assert_int_ne(dl_role_style_for(DL_ROLE_TRAIN, DL_COLOR_256).fg,
                     dl_role_style_for(DL_ROLE_VALID, DL_COLOR_256).fg);
    ck_assert_int_lt(dl_role_style_for(DL_ROLE_VALID, DL_COLOR_8).fg, 8);
}
END_TEST

START_TEST(colour_approximation)
{
    ck_assert_int_eq(dl_color_rgb_to_256(0xff0000), 196);
    ck_assert_int_eq(dl_color_rgb_to_256(0x000000), 16);
    ck_assert_int_eq(dl_color_rgb_to_256(0xffffff), 231);
    ck_assert_int_eq(dl_color_rgb_to_256(0x808080), 244);
    ck_assert_int_eq(dl_color_rgb_to_256(0x5f87af), 67);
    /* Every cube and grey colour maps back to itself. */
    for (int i = 16; i < 256; i++)
        ck_assert_int_eq(dl_color_rgb_to_256(dl_color_256_rgb(i)), i);
    ck_assert_int_eq(dl_color_rgb_to_8(0xf01010), 1);
    ck_assert_int_eq(dl_color_rgb_to_8(0x1010e0), 4);
    ck_assert_int_eq(dl_color_rgb_to_8(0xfafafa), 7);
    ck_assert_int_eq(dl_color_luma(0xffffff), 255);
    ck_assert_int_eq(dl_color_luma(0), 0);
}
END_TEST

/* ---- images ---- */

START_TEST(half_block_image)
{
    /* 2x2 RGB: red green / blue white. */
    uint8_t px[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    dl_ui_image img = {px, 2, 2, 3};
    dl_grid *g = dl_grid_new(4, 3);
    int w = dl_image_draw(g, (dl_rect){0, 0, 2, 2}, &img, "cat", DL_ROLE_GOOD, 0);
    ck_assert_int_eq(w, 2);
    const dl_cell *c = dl_grid_at(g, 0, 0);
    ck_assert_uint_eq(c->ch, 0x2580);
    ck_assert_uint_eq(c->fg, 0xff0000);
    ck_assert_uint_eq(c->bg, 0x0000ff);
    ck_assert(c->attr & DL_ATTR_RGB_FG && c->attr & DL_ATTR_RGB_BG);
    ck_assert_uint_eq(dl_grid_at(g, 1, 0)->fg, 0x00ff00);
    ck_assert_uint_eq(dl_grid_at(g, 1, 0)->bg, 0xffffff);
    ck_assert_uint_eq(dl_grid_at(g, 0, 1)->ch, 'c');
    ck_assert_uint_eq(dl_grid_at(g, 0, 1)->role, DL_ROLE_GOOD);
    /* Grey 4x4 scaled into 2 columns: box-averaged, aspect kept (2 cols x 1 row). */
    uint8_t grey[16] = {0, 0, 255, 255, 0, 0, 255, 255, 100, 100, 200, 200, 100, 100, 200, 200};
    dl_ui_image gi = {grey, 4, 4, 1};
    ck_assert_uint_eq(dl_image_sample(&gi, 0, 0, 2, 2), 0x000000);
    ck_assert_uint_eq(dl_image_sample(&gi, 1, 0, 2, 2), 0xffffff);
    ck_assert_uint_eq(dl_image_sample(&gi, 0, 1, 2, 2), 0x646464);
    dl_grid_clear(g);
    ck_assert_int_eq(dl_image_draw(g, (dl_rect){0, 0, 2, 3}, &gi, NULL, 0, 1), 2);
    ck_assert_uint_eq(dl_grid_at(g, 0, 0)->ch, '.'); /* luma (0+100)/2 = 50 -> shade 1 */
    ck_assert_uint_eq(dl_grid_at(g, 1, 0)->ch, '%'); /* (255+200)/2 = 227 -> shade 8 */
    ck_assert_uint_eq(dl_grid_at(g, 0, 1)->ch, ' ');
    /* Bad images are refused. */
    dl_ui_image bad = {px, 2, 2, 4};
    ck_assert_int_eq(dl_image_draw(g, (dl_rect){0, 0, 2, 2}, &bad, NULL, 0, 0), -1);
    dl_ui_image none = {NULL, 2, 2, 3};
    ck_assert_int_eq(dl_image_draw(g, (dl_rect){0, 0, 2, 2}, &none, NULL, 0, 0), -1);
    dl_grid_free(g);
}
END_TEST

/* ---- grid ---- */

START_TEST(grid_text_and_utf8)
{
    dl_grid *g = dl_grid_new(8, 2);
    ck_assert_int_eq(dl_grid_text(g, 0, 0, -1, 0, 0, "a\u2500b\xff"), 4);
    ck_assert_uint_eq(dl_grid_at(g, 1, 0)->ch, 0x2500);
    ck_assert_uint_eq(dl_grid_at(g, 3, 0)->ch, '?');
    ck_assert_int_eq(dl_grid_text(g, 6, 1, -1, 0, 0, "clipped"), 2);
    ck_assert_ptr_null(dl_grid_at(g, 8, 0));
    char *s = dump(g);
    ck_assert_str_eq(s, "a\u2500b?\n      cl\n");
    free(s);
    ck_assert_int_eq(dl_utf8_width("\u28ff\u2580x"), 3);
    ck_assert_ptr_null(dl_grid_new(0, 3));
    dl_grid_free(g);
}
END_TEST

/* ---- app ---- */

typedef struct fake {
    int keys[64], nkeys;
    dl_action acts[64];
    int closed, quit_seen;
} fake;

static void fake_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    (void)env;
    fake *f = s->self;
    dl_grid_textf(g, 0, 0, -1, DL_ROLE_TITLE, 0, "fake screen %s, %d keys", s->name, f->nkeys);
}

static int fake_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    (void)app;
    fake *f = s->self;
    if (a == DL_ACT_QUIT)
        f->quit_seen++;
    if (f->nkeys < 64) {
        f->keys[f->nkeys] = key;
        f->acts[f->nkeys++] = a;
    }
    return a == DL_ACT_NONE || a == DL_ACT_BACK ? DL_R_UNHANDLED : DL_R_REDRAW;
}

static void fake_close(dl_screen *s) { ((fake *)s->self)->closed++; }

START_TEST(app_dispatch_and_overlays)
{
    fake home = {0}, train = {0};
    dl_app *app = dl_app_new(NULL);
    dl_screen hs = {"home", DL_SCR_HOME, &home, fake_draw, fake_key, NULL, fake_close, 0};
    dl_screen ts = {"train", DL_SCR_TRAIN, &train, fake_draw, fake_key, NULL, fake_close, 0};
    dl_app_push(app, &hs);
    dl_app_push(app, &ts);
    dl_app_key(app, 'f');
    dl_app_key(app, DL_KEY_LEFT); /* unbound on train: delivered as DL_ACT_NONE */
    ck_assert_int_eq(train.nkeys, 2);
    ck_assert_int_eq(train.acts[0], DL_ACT_FREEZE);
    ck_assert_int_eq(train.acts[1], DL_ACT_NONE);
    /* Help toggles and swallows its own key. */
    dl_app_key(app, '?');
    ck_assert(dl_app_help_visible(app));
    dl_grid *g = dl_grid_new(80, 24);
    dl_app_draw(app, g);
    char *s = dump(g);
    tu_assert_golden("help-train-80x24.txt", s);
    ck_assert_ptr_nonnull(strstr(s, "Freeze the body"));
    ck_assert_ptr_null(strstr(s, "Mark or unmark")); /* a home-screen action */
    free(s);
    dl_app_key(app, '?');
    ck_assert(!dl_app_help_visible(app));
    ck_assert_int_eq(train.nkeys, 2);
    /* q asks; n cancels; q then y quits after telling the screen. */
    dl_app_key(app, 'q');
    dl_app_draw(app, g);
    s = dump(g);
    ck_assert_ptr_nonnull(strstr(s, "Quit dllab? (y/n)"));
    free(s);
    dl_app_key(app, 'n');
    ck_assert(!dl_app_quitting(app));
    ck_assert_int_eq(train.quit_seen, 0);
    /* Esc pops back to home, closing the train screen. */
    dl_app_key(app, DL_KEY_ESC);
    ck_assert_int_eq(dl_app_depth(app), 1);
    ck_assert_int_eq(train.closed, 1);
    dl_app_key(app, 'q');
    dl_app_key(app, 'y');
    ck_assert(dl_app_quitting(app));
    ck_assert_int_eq(home.quit_seen, 1);
    dl_app_free(app);
    ck_assert_int_eq(home.closed, 1);
    dl_grid_free(g);
}
END_TEST

/* Esc on a lone dashboard (dllab train) asks like q instead of closing it unseen while the
 * training goes on; n keeps it, Esc then y quits after telling the screen. */
START_TEST(app_esc_on_the_last_screen_asks)
{
    fake train = {0};
    dl_app *app = dl_app_new(NULL);
    dl_screen ts = {"train", DL_SCR_TRAIN, &train, fake_draw, fake_key, NULL, fake_close, 0};
    dl_app_push(app, &ts);
    dl_grid *g = dl_grid_new(80, 24);
    dl_app_key(app, DL_KEY_ESC);
    dl_app_draw(app, g);
    char *s = dump(g);
    ck_assert_ptr_nonnull(strstr(s, "Quit dllab? (y/n)"));
    free(s);
    dl_app_key(app, 'n');
    ck_assert(!dl_app_quitting(app));
    ck_assert_int_eq(dl_app_depth(app), 1);
    ck_assert_int_eq(train.closed, 0);
    dl_app_key(app, DL_KEY_ESC);
    dl_app_key(app, 'y');
    ck_assert(dl_app_quitting(app));
    ck_assert_int_eq(train.quit_seen, 1);
    dl_grid_free(g);
    dl_app_free(app);
}
END_TEST

START_TEST(app_too_small_and_sizes)
{
    fake f = {0};
    dl_app *app = dl_app_new(NULL);
    dl_screen ts = {"train", DL_SCR_TRAIN, &f, fake_draw, fake_key, NULL, NULL, 0};
    dl_app_push(app, &ts);
    dl_grid *g = dl_grid_new(79, 24);
    dl_app_draw(app, g);
    char *s = dump(g);
    ck_assert_ptr_nonnull(strstr(s, "terminal too small: 79x24"));
    ck_assert_ptr_null(strstr(s, "fake screen"));
    free(s);
    /* 80x24 and 120x40 draw the screen. */
    dl_grid_resize(g, 80, 24);
    dl_app_draw(app, g);
    s = dump(g);
    ck_assert_ptr_nonnull(strstr(s, "fake screen train"));
    free(s);
    dl_grid_resize(g, 120, 40);
    dl_app_key(app, '?');
    dl_app_draw(app, g);
    s = dump(g);
    ck_assert_ptr_nonnull(strstr(s, "Cycle the focused panel"));
    free(s);
    /* Keys still reach the screen while too small (q asks, as always). */
    dl_app_key(app, 'x');
    dl_app_key(app, 'p');
    ck_assert_int_eq(f.acts[f.nkeys - 1], DL_ACT_PAUSE);
    dl_app_free(app);
    dl_grid_free(g);
}
END_TEST

START_TEST(help_overlay_lists_every_action_of_a_screen)
{
    int n;
    const dl_action_info *t = dl_actions(&n);
    int screens[] = {DL_SCR_HOME,   DL_SCR_TRAIN, DL_SCR_LRFIND,  DL_SCR_CONFUSION,
                     DL_SCR_IMAGES, DL_SCR_RUN,   DL_SCR_COMPARE, DL_SCR_MULTILABEL};
    dl_grid *g = dl_grid_new(120, 40);
    for (size_t k = 0; k < sizeof screens / sizeof screens[0]; k++) {
        int want = 0;
        for (int i = 0; i < n; i++)
            want += (t[i].screens & screens[k]) != 0;
        dl_grid_clear(g);
        ck_assert_int_eq(dl_actions_help(g, (dl_rect){2, 2, 116, 36}, screens[k], 0), want);
        char *s = dump(g);
        for (int i = 0; i < n; i++)
            if (t[i].screens & screens[k])
                ck_assert_msg(strstr(s, t[i].help) != NULL, "help for %s missing", t[i].name);
        free(s);
    }
    dl_grid_free(g);
}
END_TEST

static Suite *ui_suite(void)
{
    Suite *s = suite_create("ui");
    TCase *c = tcase_create("canvas");
    tcase_add_test(c, braille_bit_layout);
    tcase_add_test(c, canvas_exact_cells);
    tcase_add_test(c, canvas_bresenham_steep_line_has_no_gaps);
    tcase_add_test(c, canvas_clipping);
    tcase_add_test(c, canvas_ascii_fallback);
    tcase_add_test(c, grid_text_and_utf8);
    suite_add_tcase(s, c);
    c = tcase_create("series-axes");
    tcase_add_test(c, ema_is_debiased);
    tcase_add_test(c, decimation_keeps_spikes);
    tcase_add_test(c, summary_is_bounded_and_keeps_extremes);
    tcase_add_test(c, linear_ticks_are_nice);
    tcase_add_test(c, log_axis_ticks_and_mapping);
    suite_add_tcase(s, c);
    c = tcase_create("plot");
    tcase_add_test(c, plot_golden_utf8);
    tcase_add_test(c, plot_golden_ascii_log_epochs);
    tcase_add_test(c, plot_lrfind_log_x_markers_cursor);
    tcase_add_test(c, plot_empty_and_tiny);
    suite_add_tcase(s, c);
    c = tcase_create("layout-actions");
    tcase_add_test(c, layout_sizes);
    tcase_add_test(c, action_table_covers_documented_keys);
    tcase_add_test(c, action_table_has_no_duplicates);
    tcase_add_test(c, key_names);
    tcase_add_test(c, help_overlay_lists_every_action_of_a_screen);
    suite_add_tcase(s, c);
    c = tcase_create("colours-images");
    tcase_add_test(c, colour_detection);
    tcase_add_test(c, colour_approximation);
    tcase_add_test(c, half_block_image);
    suite_add_tcase(s, c);
    c = tcase_create("app");
    tcase_add_test(c, app_dispatch_and_overlays);
    tcase_add_test(c, app_esc_on_the_last_screen_asks);
    tcase_add_test(c, app_too_small_and_sizes);
    suite_add_tcase(s, c);
    return s;
}

int main(void) { return tu_run(ui_suite()); }
