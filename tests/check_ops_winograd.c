/* check_ops_winograd: the Winograd F(2x2, 3x3) convolution (core/ops/winograd.c) against a direct
 * convolution computed in double precision: forward, backward data and backward weights, odd
 * sizes (partial tiles), rows of more than 16 tiles (the transforms' vector loops spill into row
 * gaps), batches split into several groups, the "+=" contract, finite differences, and the
 * per-pass rule that picks Winograd or im2col + GEMM. Prints the rounding error of both
 * algorithms against the double-precision reference (docs/performance.md quotes it). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops/ops.h"
#include "core/ops/winograd.h"
#include "core/rng.h"
#include "tests/testutil.h"

typedef struct geo {
    int n, c, h, w, oc;
} geo;

typedef struct ref {
    double *y, *dx, *dw; /* forward, and the gradients of L = <y, r> */
} ref;

static float *rand_floats(size_t n, float lo, float hi, uint64_t seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    dl_rng r;
    dl_rng_seed(&r, seed, 21, 0);
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * dl_rng_uniform(&r);
    return p;
}

/* y = conv3x3(x, w) (stride 1, pad 1), dx = conv^T(r), dw = sum r (x) x, all in double */
static ref direct(const geo *g, const float *x, const float *w, const float *r)
{
    const int n = g->n, c = g->c, h = g->h, wd = g->w, oc = g->oc;
    ref f;
    f.y = calloc((size_t)n * oc * h * wd, sizeof(double));
    f.dx = calloc((size_t)n * c * h * wd, sizeof(double));
    f.dw = calloc((size_t)oc * c * 9, sizeof(double));
    for (int i = 0; i < n; i++)
        for (int o = 0; o < oc; o++)
            for (int y = 0; y < h; y++)
                for (int xo = 0; xo < wd; xo++) {
                    const size_t yi = (((size_t)i * oc + o) * h + y) * wd + xo;
                    double s = 0;
                    for (int ci = 0; ci < c; ci++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                const int iy = y + ky - 1, ix = xo + kx - 1;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                                    continue;
                                const size_t xi = (((size_t)i * c + ci) * h + iy) * wd + ix;
                                const size_t wi = (((size_t)o * c + ci) * 3 + ky) * 3 + kx;
                                s += (double)x[xi] * w[wi];
                                f.dx[xi] += (double)r[yi] * w[wi];
                                f.dw[wi] += (double)r[yi] * x[xi];
                            }
                    f.y[yi] = s;
                }
    return f;
}

static void ref_free(ref *f)
{
    free(f->y);
    free(f->dx);
    free(f->dw);
}

/* max |got - want| / max |want| */
static double rel_err(const float *got, const double *want, size_t n)
{
    double e = 0, m = 1e-30;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs(got[i] - want[i]);
        e = d > e || isnan(d) ? (isnan(d) ? INFINITY : d) : e;
        m = fmax(m, fabs(want[i]));
    }
    return e / m;
}

typedef struct errs {
    double y, dx, dw;
} errs;

/* Runs forward and backward on the algorithm in force; dx and dw start at `start` (the backward
 * adds to them), so the result checks "+=" too. */
static errs run_conv(const geo *g, const float *x, const float *w, const float *r, const ref *f,
                     float start)
{
    dl_conv2d_cfg cfg;
    ck_assert_int_eq(dl_conv2d_cfg_init(&cfg, g->c, g->h, g->w, g->oc, 3, 3, 1, 1), 0);
    const size_t nx = (size_t)g->n * g->c * g->h * g->w, ny = (size_t)g->n * g->oc * g->h * g->w;
    const size_t nw = (size_t)g->oc * g->c * 9, nws = dl_conv2d_workspace_floats(&cfg);
    float *y = malloc(ny * sizeof *y), *dx = malloc(nx * sizeof *dx), *dw = malloc(nw * sizeof *dw);
    float *ws = malloc(nws * sizeof *ws);
    for (size_t i = 0; i < nws; i++)
        ws[i] = NAN; /* a transform reading what it did not write shows up as NaN */
    for (size_t i = 0; i < nx; i++)
        dx[i] = start;
    for (size_t i = 0; i < nw; i++)
        dw[i] = start;
    dl_conv2d_forward(y, x, w, NULL, &cfg, g->n, ws);
    dl_conv2d_backward(dx, dw, NULL, r, x, w, &cfg, g->n, ws);
    for (size_t i = 0; i < nx; i++)
        dx[i] -= start;
    for (size_t i = 0; i < nw; i++)
        dw[i] -= start;
    errs e = {rel_err(y, f->y, ny), rel_err(dx, f->dx, nx), rel_err(dw, f->dw, nw)};
    free(y), free(dx), free(dw), free(ws);
    return e;
}

/* Float rounding over sums of at most a few thousand terms of magnitude ~1 stays far below this;
 * a wrong transform, index or tile edge gives errors of order 1. */
#define TOL 2e-5

static void check_geo(const geo *g, dl_conv_algo algo, float start)
{
    const size_t nx = (size_t)g->n * g->c * g->h * g->w, ny = (size_t)g->n * g->oc * g->h * g->w;
    float *x = rand_floats(nx, -1, 1, 1), *w = rand_floats((size_t)g->oc * g->c * 9, -1, 1, 2);
    float *r = rand_floats(ny, -1, 1, 3);
    ref f = direct(g, x, w, r);
    dl_conv2d_force_algo(algo);
    errs e = run_conv(g, x, w, r, &f, start);
    dl_conv2d_force_algo(DL_CONV_ALGO_AUTO);
    ck_assert_msg(e.y <= TOL && e.dx <= TOL && e.dw <= TOL,
                  "n%d %d->%d %dx%d (algo %d): relative errors y %.3g dx %.3g dw %.3g", g->n, g->c,
                  g->oc, g->h, g->w, (int)algo, e.y, e.dx, e.dw);
    ref_free(&f);
    free(x), free(w), free(r);
}

static const geo GEOS[] = {
    {2, 3, 7, 7, 4},    /* odd sizes: the last row and column of tiles are half outside */
    {3, 5, 7, 9, 6},    /* odd and non-square */
    {1, 1, 1, 1, 1},    /* one pixel: one tile, mostly padding */
    {5, 8, 4, 4, 8},    /* a group holds more images than the batch */
    {300, 2, 1, 1, 2},  /* several groups (256 one-tile images each) and a partial last one */
    {3, 3, 30, 30, 4},  /* 15 tiles a row, one image per group, three groups */
    {2, 2, 40, 36, 3},  /* 18 tiles a row: a full vector of 16 tiles and a spilling one */
    {2, 3, 33, 35, 2},  /* odd, 17 x 18 tiles */
    {2, 20, 6, 10, 17}, /* channel counts that are not multiples of any micro-kernel's rows */
};

START_TEST(winograd_matches_double_direct)
{
    for (size_t i = 0; i < sizeof GEOS / sizeof *GEOS; i++)
        check_geo(&GEOS[i], DL_CONV_ALGO_WINOGRAD, 0.0f);
}
END_TEST

START_TEST(winograd_backward_accumulates)
{
    /* dx and dw start at 0.75: the backward must add to them, not overwrite them */
    for (size_t i = 0; i < sizeof GEOS / sizeof *GEOS; i += 3)
        check_geo(&GEOS[i], DL_CONV_ALGO_WINOGRAD, 0.75f);
}
END_TEST

/* The rule's mix (64 channels at 8x8: Winograd forward and backward data, im2col + GEMM for the
 * weights) and the GEMM path give the double-precision results too. */
START_TEST(mixed_passes_match_double_direct)
{
    const geo g = {3, 64, 8, 8, 64};
    dl_conv2d_cfg cfg;
    ck_assert_int_eq(dl_conv2d_cfg_init(&cfg, 64, 8, 8, 64, 3, 3, 1, 1), 0);
    if (!getenv("DLLAB_CONV_ALGO")) { /* else the variable forces every pass */
        ck_assert_str_eq(dl_conv2d_algo_name(&cfg, 0), "winograd");
        ck_assert_str_eq(dl_conv2d_algo_name(&cfg, 1), "winograd");
        ck_assert_str_ne(dl_conv2d_algo_name(&cfg, 2), "winograd");
    }
    check_geo(&g, DL_CONV_ALGO_AUTO, 0.0f);
    check_geo(&g, DL_CONV_ALGO_GEMM, 0.5f);
}
END_TEST

/* The GEMM path's variants: shifted GEMMs (2-32 input channels, one image per GEMM) and, with
 * dllab's gemm and more than 16 output channels, dW read from padded planes in place ("rows",
 * also under im2col's forward: 40 channels at 14x14, two images a tile): forward, both gradients
 * and "+=" against the double-precision direct convolution, square, odd and non-square, 8, 6 and
 * 40 channels (6 and 40: row runs that cross the 8-row transposes). */
START_TEST(gemm_variants_match_double_direct)
{
    static const struct {
        geo g;
        const char *fwd;
    } cases[] = {{{2, 8, 16, 16, 24}, "shift"},
                 {{3, 6, 17, 19, 20}, "shift"},
                 {{1, 32, 28, 28, 32}, "shift"},
                 {{3, 40, 14, 14, 24}, "im2col"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const geo *g = &cases[i].g;
        dl_conv2d_cfg cfg;
        ck_assert_int_eq(dl_conv2d_cfg_init(&cfg, g->c, g->h, g->w, g->oc, 3, 3, 1, 1), 0);
        dl_conv2d_force_algo(DL_CONV_ALGO_GEMM); /* DLLAB_CONV_ALGO may force Winograd */
        ck_assert_str_eq(dl_conv2d_algo_name(&cfg, 0), cases[i].fwd);
        printf("check_ops_winograd: %d->%d @%dx%d: %s/%s/%s\n", g->c, g->oc, g->h, g->w,
               dl_conv2d_algo_name(&cfg, 0), dl_conv2d_algo_name(&cfg, 1),
               dl_conv2d_algo_name(&cfg, 2));
        dl_conv2d_force_algo(DL_CONV_ALGO_AUTO);
        check_geo(g, DL_CONV_ALGO_GEMM, 0.0f);
        check_geo(g, DL_CONV_ALGO_GEMM, -0.25f);
    }
}
END_TEST

/* dW of strided 3x3 convs (stride 2, pad 1; even and odd sizes) on the phase-plane rows when
 * dllab's gemm runs it, against a double-precision sum; dw starts at 0.5 (the "+=" contract). */
START_TEST(strided_weight_gradient_matches_double)
{
    static const int cases[][5] = {{2, 32, 28, 28, 64}, {3, 7, 31, 33, 24}}; /* n, c, h, w, oc */
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const int n = cases[t][0], c = cases[t][1], h = cases[t][2], wd = cases[t][3],
                  oc = cases[t][4];
        dl_conv2d_cfg cfg;
        ck_assert_int_eq(dl_conv2d_cfg_init(&cfg, c, h, wd, oc, 3, 3, 2, 1), 0);
        const int oh = cfg.out_h, ow = cfg.out_w;
        if (strncmp(dl_conv2d_gemm_name(&cfg, 2), "dllab", 5) == 0)
            ck_assert_str_eq(dl_conv2d_algo_name(&cfg, 2), "rows");
        const size_t nx = (size_t)n * c * h * wd, ny = (size_t)n * oc * oh * ow,
                     nw = (size_t)oc * c * 9, nws = dl_conv2d_workspace_floats(&cfg);
        float *x = rand_floats(nx, -1, 1, 11), *r = rand_floats(ny, -1, 1, 12);
        float *w = rand_floats(nw, -1, 1, 13), *dw = malloc(nw * sizeof *dw);
        float *ws = malloc(nws * sizeof *ws);
        double *want = calloc(nw, sizeof *want);
        for (size_t i = 0; i < nws; i++)
            ws[i] = NAN;
        for (size_t i = 0; i < nw; i++)
            dw[i] = 0.5f;
        for (int b = 0; b < n; b++)
            for (int o = 0; o < oc; o++)
                for (int y = 0; y < oh; y++)
                    for (int xo = 0; xo < ow; xo++) {
                        const double g = r[(((size_t)b * oc + o) * oh + y) * ow + xo];
                        for (int i = 0; i < c; i++)
                            for (int ky = 0; ky < 3; ky++)
                                for (int kx = 0; kx < 3; kx++) {
                                    const int iy = 2 * y + ky - 1, ix = 2 * xo + kx - 1;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                                        continue;
                                    want[(((size_t)o * c + i) * 3 + ky) * 3 + kx] +=
                                        g * x[(((size_t)b * c + i) * h + iy) * wd + ix];
                                }
                    }
        dl_conv2d_backward(NULL, dw, NULL, r, x, w, &cfg, n, ws);
        for (size_t i = 0; i < nw; i++)
            dw[i] -= 0.5f;
        const double e = rel_err(dw, want, nw);
        ck_assert_msg(e <= TOL, "stride 2 %d->%d @%dx%d: dw relative error %.3g", c, oc, h, wd, e);
        free(x), free(r), free(w), free(dw), free(ws), free(want);
    }
}
END_TEST

/* L = <conv(x, w), r>: central differences on a few elements of x and w (h = 1e-2; L is linear
 * in each, so the difference is exact up to float rounding). */
START_TEST(winograd_finite_differences)
{
    const geo g = {2, 3, 5, 7, 4};
    dl_conv2d_cfg cfg;
    ck_assert_int_eq(dl_conv2d_cfg_init(&cfg, g.c, g.h, g.w, g.oc, 3, 3, 1, 1), 0);
    const size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.oc * g.h * g.w,
                 nw = (size_t)g.oc * g.c * 9;
    float *x = rand_floats(nx, -1, 1, 4), *w = rand_floats(nw, -1, 1, 5),
          *r = rand_floats(ny, -1, 1, 6);
    float *y = calloc(ny, sizeof *y), *dx = calloc(nx, sizeof *dx), *dw = calloc(nw, sizeof *dw);
    float *ws = calloc(dl_conv2d_workspace_floats(&cfg), sizeof *ws);
    dl_conv2d_force_algo(DL_CONV_ALGO_WINOGRAD);
    dl_conv2d_backward(dx, dw, NULL, r, x, w, &cfg, g.n, ws);
    float *params[2] = {x, w}, *grads[2] = {dx, dw};
    const size_t sizes[2] = {nx, nw};
    for (int p = 0; p < 2; p++)
        for (size_t k = 0; k < sizes[p]; k += sizes[p] / 23 + 1) {
            const float keep = params[p][k], h = 1e-2f;
            double l[2];
            for (int s = 0; s < 2; s++) {
                params[p][k] = keep + (s ? -h : h);
                dl_conv2d_forward(y, x, w, NULL, &cfg, g.n, ws);
                l[s] = 0;
                for (size_t i = 0; i < ny; i++)
                    l[s] += (double)y[i] * r[i];
            }
            params[p][k] = keep;
            const double num = (l[0] - l[1]) / (2.0 * h), a = grads[p][k];
            ck_assert_msg(fabs(num - a) <= 1e-3 + 1e-3 * fabs(a), "%s[%zu]: analytic %g numeric %g",
                          p ? "dw" : "dx", k, a, num);
        }
    dl_conv2d_force_algo(DL_CONV_ALGO_AUTO);
    free(x), free(w), free(r), free(y), free(dx), free(dw), free(ws);
}
END_TEST

START_TEST(rule_and_forcing)
{
    dl_conv2d_cfg c;
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 64, 16, 16, 64, 3, 3, 1, 1), 0);
    if (getenv("DLLAB_CONV_ALGO")) /* the variable forces every pass; the rule is not in play */
        return;
    ck_assert_str_eq(dl_conv2d_algo_name(&c, 0), "winograd");
    ck_assert_str_eq(dl_conv2d_algo_name(&c, 1), "winograd");
    ck_assert_str_ne(dl_conv2d_algo_name(&c, 2), "winograd"); /* 256 pixels: im2col's dW */
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 256, 4, 4, 256, 3, 3, 1, 1), 0);
    ck_assert_str_eq(dl_conv2d_algo_name(&c, 2), "winograd");
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 32, 28, 28, 32, 3, 3, 1, 1), 0);
    ck_assert_str_eq(dl_conv2d_algo_name(&c, 0), "shift"); /* 32 channels: GEMM */
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 128, 7, 7, 128, 3, 3, 1, 1), 0);
    ck_assert_str_ne(dl_conv2d_algo_name(&c, 0), "winograd"); /* odd: a third of the tiles wasted */
    dl_conv2d_force_algo(DL_CONV_ALGO_WINOGRAD);
    ck_assert_str_eq(dl_conv2d_algo_name(&c, 0), "winograd");
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 64, 16, 16, 64, 3, 3, 2, 1), 0);
    ck_assert_str_eq(dl_conv2d_algo_name(&c, 0), "im2col"); /* stride 2: never Winograd */
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 64, 16, 16, 64, 3, 3, 1, 1), 0);
    dl_conv2d_force_algo(DL_CONV_ALGO_GEMM);
    ck_assert_str_ne(dl_conv2d_algo_name(&c, 0), "winograd");
    dl_conv2d_force_algo(DL_CONV_ALGO_AUTO);
    ck_assert_str_eq(dl_conv2d_algo_name(&c, 0), "winograd");
}
END_TEST

/* The measurement docs/performance.md quotes: relative error against double precision of both
 * algorithms on resnet-sized layers (values uniform in [-1, 1]). Winograd's transforms add a few
 * roundings; the bound is the same as for the GEMM path's. */
START_TEST(rounding_is_measured)
{
    static const geo sizes[] = {{2, 64, 16, 16, 64}, {2, 128, 8, 8, 128}, {1, 256, 4, 4, 256}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        const geo *g = &sizes[i];
        const size_t nx = (size_t)g->n * g->c * g->h * g->w,
                     ny = (size_t)g->n * g->oc * g->h * g->w;
        float *x = rand_floats(nx, -1, 1, 7), *w = rand_floats((size_t)g->oc * g->c * 9, -1, 1, 8);
        float *r = rand_floats(ny, -1, 1, 9);
        ref f = direct(g, x, w, r);
        dl_conv2d_force_algo(DL_CONV_ALGO_GEMM);
        errs eg = run_conv(g, x, w, r, &f, 0.0f);
        dl_conv2d_force_algo(DL_CONV_ALGO_WINOGRAD);
        errs ew = run_conv(g, x, w, r, &f, 0.0f);
        dl_conv2d_force_algo(DL_CONV_ALGO_AUTO);
        printf("rounding %d->%d @%dx%d: max rel err vs double: gemm y %.2e dx %.2e dw %.2e | "
               "winograd y %.2e dx %.2e dw %.2e\n",
               g->c, g->oc, g->h, g->w, eg.y, eg.dx, eg.dw, ew.y, ew.dx, ew.dw);
        ck_assert(ew.y <= TOL && ew.dx <= TOL && ew.dw <= TOL);
        ck_assert(eg.y <= TOL && eg.dx <= TOL && eg.dw <= TOL);
        ref_free(&f);
        free(x), free(w), free(r);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_winograd");
    TCase *tc = tcase_create("winograd");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, winograd_matches_double_direct);
    tcase_add_test(tc, winograd_backward_accumulates);
    tcase_add_test(tc, mixed_passes_match_double_direct);
    tcase_add_test(tc, gemm_variants_match_double_direct);
    tcase_add_test(tc, strided_weight_gradient_matches_double);
    tcase_add_test(tc, winograd_finite_differences);
    tcase_add_test(tc, rule_and_forcing);
    tcase_add_test(tc, rounding_is_measured);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
