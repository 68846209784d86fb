/* check_ops_grad: finite-difference gradient checks for every kernel in core/ops and both losses
 * (docs/architecture.md §9.3). For each op L = sum(out * R) with a fixed random R, in double;
 * the analytic gradient is the op's backward fed dy = R. Up to 64 elements of every input and
 * parameter are perturbed by ±h (h = 1e-2) and the central difference must satisfy
 * |a - n| <= 1e-3 + 1e-2 * max(|a|, |n|). Inputs stay away from kinks (ReLU at 0, max-pool ties).
 * Also checked: the backward "+=" contract (two calls give twice the gradient), the NULL-skip
 * contract (a NULL d* changes nothing else), and that losses WRITE their gradient. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops/ops.h"
#include "core/ops/winograd.h"
#include "core/rng.h"
#include "tests/testutil.h"

#define FD_H 1e-2f
#define FD_MAX_SAMPLES 64

typedef double (*fd_fn)(void *ctx);

static float *falloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static void fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed)
{
    dl_rng r;
    dl_rng_seed(&r, seed, 11, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * dl_rng_uniform(&r);
}

/* Values with |x| >= 0.05 so a ±h step never crosses ReLU's kink. */
static void fill_away_from_zero(float *x, size_t n, uint64_t seed)
{
    fill_uniform(x, n, -1.0f, 1.0f, seed);
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) < 0.05f)
            x[i] = x[i] < 0 ? x[i] - 0.05f : x[i] + 0.05f;
}

/* Distinct values 0.05 apart in random order: max-pool windows have no ties within ±h. */
static void fill_distinct(float *x, size_t n, uint64_t seed)
{
    uint32_t *idx = malloc(n * sizeof *idx);
    for (uint32_t i = 0; i < n; i++)
        idx[i] = i;
    dl_rng r;
    dl_rng_seed(&r, seed, 12, 0);
    dl_rng_shuffle_u32(&r, idx, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.05f * (float)idx[i] - 0.025f * (float)n;
    free(idx);
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Compares analytic grad g of L = f(ctx) with respect to x (n elements) against central
 * differences on up to FD_MAX_SAMPLES elements. */
static void fd_check(const char *what, fd_fn f, void *ctx, float *x, const float *g, size_t n,
                     uint64_t seed)
{
    dl_rng r;
    dl_rng_seed(&r, seed, 13, 0);
    size_t samples = n < FD_MAX_SAMPLES ? n : FD_MAX_SAMPLES;
    int bad = 0;
    size_t worst_i = 0;
    double worst_excess = -1, worst_a = 0, worst_n = 0;
    for (size_t s = 0; s < samples; s++) {
        size_t i = n <= FD_MAX_SAMPLES ? s : (size_t)dl_rng_below(&r, n);
        float keep = x[i];
        float xp = keep + FD_H, xm = keep - FD_H;
        x[i] = xp;
        double lp = f(ctx);
        x[i] = xm;
        double lm = f(ctx);
        x[i] = keep;
        double num = (lp - lm) / ((double)xp - (double)xm);
        double a = g[i];
        double tol = 1e-3 + 1e-2 * fmax(fabs(a), fabs(num));
        double d = fabs(a - num);
        if (!(d <= tol)) {
            bad++;
            if (d - tol > worst_excess || isnan(d)) {
                worst_excess = isnan(d) ? INFINITY : d - tol;
                worst_i = i;
                worst_a = a;
                worst_n = num;
            }
        }
    }
    ck_assert_msg(
        bad == 0,
        "%s: %d of %zu sampled gradients wrong; worst at [%zu]: analytic %.7g, numeric %.7g", what,
        bad, samples, worst_i, worst_a, worst_n);
}

static void assert_twice(const char *what, const float *once, const float *twice, size_t n)
{
    float *want = falloc(n);
    for (size_t i = 0; i < n; i++)
        want[i] = 2.0f * once[i];
    tu_assert_close(what, twice, want, n, 1e-6, 1e-5, 0);
    free(want);
}

/* ---- conv2d ------------------------------------------------------------------------------ */
typedef struct conv_ctx {
    dl_conv2d_cfg cfg;
    int n;
    float *x, *w, *b, *y, *r, *ws;
    size_t nx, nw, ny, nws;
} conv_ctx;

static void poison(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN; /* a kernel reading workspace it did not write produces NaN */
}

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    poison(c->ws, c->nws);
    dl_conv2d_forward(c->y, c->x, c->w, c->b, &c->cfg, c->n, c->ws);
    return dot(c->y, c->r, c->ny);
}

static void conv_setup(conv_ctx *c, int n, int ch, int h, int w, int oc, int kh, int kw, int s,
                       int pad, int bias, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(dl_conv2d_cfg_init(&c->cfg, ch, h, w, oc, kh, kw, s, pad), 0);
    c->n = n;
    c->nx = (size_t)n * ch * h * w;
    c->nw = (size_t)oc * ch * kh * kw;
    c->ny = (size_t)n * oc * c->cfg.out_h * c->cfg.out_w;
    c->nws = dl_conv2d_workspace_floats(&c->cfg);
    c->x = falloc(c->nx);
    c->w = falloc(c->nw);
    c->b = bias ? falloc((size_t)oc) : NULL;
    c->y = falloc(c->ny);
    c->r = falloc(c->ny);
    c->ws = falloc(c->nws);
    fill_uniform(c->x, c->nx, -1, 1, seed);
    fill_uniform(c->w, c->nw, -0.5f, 0.5f, seed + 1);
    if (bias)
        fill_uniform(c->b, (size_t)oc, -0.5f, 0.5f, seed + 2);
    fill_uniform(c->r, c->ny, -1, 1, seed + 3);
}

static void conv_free(conv_ctx *c)
{
    free(c->x);
    free(c->w);
    free(c->b);
    free(c->y);
    free(c->r);
    free(c->ws);
}

static void conv_backward(conv_ctx *c, float *dx, float *dw, float *db)
{
    poison(c->ws, c->nws);
    dl_conv2d_backward(dx, dw, db, c->r, c->x, c->w, &c->cfg, c->n, c->ws);
}

static void conv_case(const char *name, int n, int ch, int h, int w, int oc, int kh, int kw, int s,
                      int pad, int bias, int exp_oh, int exp_ow)
{
    conv_ctx c;
    conv_setup(&c, n, ch, h, w, oc, kh, kw, s, pad, bias, 100);
    ck_assert_int_eq(c.cfg.out_h, exp_oh);
    ck_assert_int_eq(c.cfg.out_w, exp_ow);
    float *dx = falloc(c.nx), *dw = falloc(c.nw), *db = falloc((size_t)oc);
    conv_backward(&c, dx, dw, bias ? db : NULL);
    char what[128];
    snprintf(what, sizeof what, "%s dx", name);
    fd_check(what, conv_loss, &c, c.x, dx, c.nx, 1);
    snprintf(what, sizeof what, "%s dw", name);
    fd_check(what, conv_loss, &c, c.w, dw, c.nw, 2);
    if (bias) {
        snprintf(what, sizeof what, "%s db", name);
        fd_check(what, conv_loss, &c, c.b, db, (size_t)oc, 3);
    }
    free(dx);
    free(dw);
    free(db);
    conv_free(&c);
}

START_TEST(conv_k3_s1_p1) { conv_case("k3s1p1", 2, 3, 7, 7, 4, 3, 3, 1, 1, 1, 7, 7); }
END_TEST
START_TEST(conv_k3_s2_p1) { conv_case("k3s2p1", 2, 3, 7, 7, 4, 3, 3, 2, 1, 0, 4, 4); }
END_TEST
START_TEST(conv_k1_s2_p0) { conv_case("k1s2p0", 2, 3, 7, 7, 4, 1, 1, 2, 0, 0, 4, 4); }
END_TEST
START_TEST(conv_k1_s1_p0) { conv_case("k1s1p0", 2, 5, 4, 3, 3, 1, 1, 1, 0, 1, 4, 3); }
END_TEST
START_TEST(conv_k1_s1_p1) { conv_case("k1s1p1", 1, 2, 3, 4, 3, 1, 1, 1, 1, 0, 5, 6); }
END_TEST
START_TEST(conv_k7_s2_p3) { conv_case("k7s2p3", 2, 3, 9, 11, 4, 7, 7, 2, 3, 0, 5, 6); }
END_TEST
START_TEST(conv_odd_nonsquare)
{
    conv_case("k3s2p1 5x8", 2, 2, 5, 8, 3, 3, 3, 2, 1, 1, 3, 4);
    conv_case("k2x3 s3 p1", 2, 2, 7, 6, 3, 2, 3, 3, 1, 1, 3, 2);
    conv_case("k3s2p0 even->floor", 1, 2, 8, 8, 2, 3, 3, 2, 0, 0, 3, 3);
}
END_TEST
START_TEST(conv_batch1) { conv_case("k3s1p1 batch1", 1, 4, 6, 5, 2, 3, 3, 1, 1, 1, 6, 5); }
END_TEST
/* Outputs of >= 256 pixels take the one-image-per-GEMM path (the small cases above tile images);
 * 7 images of 7x7 outputs make tiles of 6 + 1; convs with <= 64 output channels accumulate dW
 * transposed, wider ones directly. */
START_TEST(conv_wide_and_partial_tiles)
{
    conv_case("k3s1p1 16x17 one image per gemm", 2, 2, 16, 17, 2, 3, 3, 1, 1, 1, 16, 17);
    conv_case("k1s1p0 16x16 in place", 2, 3, 16, 16, 2, 1, 1, 1, 0, 1, 16, 16);
    conv_case("k1s2p0 32x32 gather", 1, 2, 32, 32, 2, 1, 1, 2, 0, 0, 16, 16);
    conv_case("k3s1p1 7 images, tiles 6+1", 7, 2, 7, 7, 3, 3, 3, 1, 1, 1, 7, 7);
    /* more than 64 output channels: dW accumulates untransposed */
    conv_case("k3s2p1 65 channels out", 3, 2, 5, 5, 65, 3, 3, 2, 1, 1, 3, 3);
    conv_case("k3s1p1 65 channels out, one image per gemm", 1, 1, 16, 16, 65, 3, 3, 1, 1, 0, 16,
              16);
}
END_TEST

START_TEST(conv_cfg_rejects_impossible_geometry)
{
    dl_conv2d_cfg c;
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 3, 2, 2, 4, 3, 3, 1, 0), -1);
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 3, 8, 8, 4, 3, 3, 0, 1), -1);
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 0, 8, 8, 4, 3, 3, 1, 1), -1);
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 3, 2, 2, 4, 3, 3, 1, 1), 0);
    ck_assert_int_eq(c.out_h, 2);
    /* one image's columns, not a batch's; 3x3 stride-1 pad-1 convs also hold a group of images'
     * Winograd transforms (a fixed number of tiles, never the batch) */
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 64, 16, 16, 128, 3, 3, 1, 1), 0);
    ck_assert_uint_eq(dl_conv2d_workspace_floats(&c), dl_wino_workspace_floats(&c));
    ck_assert_uint_ge(dl_conv2d_workspace_floats(&c), (size_t)64 * 9 * 256);
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 64, 16, 16, 128, 1, 1, 1, 0), 0);
    ck_assert_uint_eq(dl_conv2d_workspace_floats(&c), 0);
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 64, 32, 32, 128, 1, 1, 2, 0), 0);
    ck_assert_uint_eq(dl_conv2d_workspace_floats(&c), (size_t)64 * 256); /* strided gather only */
    /* tiny outputs tile images side by side: about 256 columns whatever the batch */
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 512, 4, 4, 512, 3, 3, 2, 1), 0);
    ck_assert_uint_eq(dl_conv2d_workspace_floats(&c), (size_t)(4608 + 512) * 256);
    /* <= 64 output channels: plus room for dW^T (K x OC) */
    ck_assert_int_eq(dl_conv2d_cfg_init(&c, 32, 28, 28, 32, 3, 3, 2, 1), 0);
    ck_assert_uint_eq(dl_conv2d_workspace_floats(&c), (size_t)(288 + 32) * 392 + 288 * 32);
}
END_TEST

/* Every conv flavour (im2col, 1x1 direct, 1x1 strided gather): backward twice doubles each
 * gradient, and a NULL d* leaves the others exactly as a full call computes them. */
START_TEST(conv_accumulates_and_skips_null)
{
    /* k, s, pad, size: tiled im2col, 1x1 tiled gather, 1x1 strided gather, wide im2col, 1x1 in
     * place */
    const int geo[5][4] = {{3, 1, 1, 7}, {1, 1, 0, 7}, {1, 2, 0, 7}, {3, 1, 1, 17}, {1, 1, 0, 17}};
    for (int g = 0; g < 5; g++) {
        conv_ctx c;
        conv_setup(&c, 3, 3, geo[g][3], geo[g][3] - 1, 4, geo[g][0], geo[g][0], geo[g][1],
                   geo[g][2], 1, 7 + (uint64_t)g);
        float *dx1 = falloc(c.nx), *dw1 = falloc(c.nw), *db1 = falloc(4);
        float *dx2 = falloc(c.nx), *dw2 = falloc(c.nw), *db2 = falloc(4);
        conv_backward(&c, dx1, dw1, db1);
        conv_backward(&c, dx2, dw2, db2);
        conv_backward(&c, dx2, dw2, db2);
        assert_twice("conv dx twice", dx1, dx2, c.nx);
        assert_twice("conv dw twice", dw1, dw2, c.nw);
        assert_twice("conv db twice", db1, db2, 4);
        float *dx3 = falloc(c.nx), *dw3 = falloc(c.nw), *db3 = falloc(4);
        conv_backward(&c, dx3, NULL, NULL); /* a frozen conv: only dx */
        conv_backward(&c, NULL, dw3, NULL); /* the first layer: no dx */
        conv_backward(&c, NULL, NULL, db3);
        ck_assert(memcmp(dx3, dx1, c.nx * sizeof(float)) == 0);
        ck_assert(memcmp(dw3, dw1, c.nw * sizeof(float)) == 0);
        ck_assert(memcmp(db3, db1, 4 * sizeof(float)) == 0);
        free(dx1), free(dw1), free(db1), free(dx2), free(dw2), free(db2), free(dx3), free(dw3),
            free(db3);
        conv_free(&c);
    }
}
END_TEST

/* ---- batch norm ------------------------------------------------------------------------- */
typedef struct bn_ctx {
    int n, c, hw;
    float *x, *g, *b, *y, *r, *mean, *rstd;
    size_t nx;
} bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *c = p;
    /* running stats NULL: each FD evaluation must see the same, unmodified layer */
    dl_batchnorm_forward_train(c->y, c->mean, c->rstd, NULL, NULL, c->x, c->g, c->b, c->n, c->c,
                               c->hw, 0.1f, 1e-5f);
    return dot(c->y, c->r, c->nx);
}

static void bn_setup(bn_ctx *c, int n, int ch, int hw)
{
    c->n = n, c->c = ch, c->hw = hw;
    c->nx = (size_t)n * ch * hw;
    c->x = falloc(c->nx), c->y = falloc(c->nx), c->r = falloc(c->nx);
    c->g = falloc((size_t)ch), c->b = falloc((size_t)ch), c->mean = falloc((size_t)ch),
    c->rstd = falloc((size_t)ch);
    fill_uniform(c->x, c->nx, -2, 2, 21);
    for (size_t i = 0; i < c->nx; i++) /* a different offset per channel */
        c->x[i] += (float)((i / (size_t)hw) % (size_t)ch);
    fill_uniform(c->g, (size_t)ch, 0.5f, 1.5f, 22);
    fill_uniform(c->b, (size_t)ch, -0.5f, 0.5f, 23);
    fill_uniform(c->r, c->nx, -1, 1, 24);
}

static void bn_free(bn_ctx *c)
{
    free(c->x), free(c->y), free(c->r), free(c->g), free(c->b), free(c->mean), free(c->rstd);
}

static void bn_case(const char *name, int n, int ch, int hw)
{
    bn_ctx c;
    bn_setup(&c, n, ch, hw);
    bn_loss(&c);
    float *dx = falloc(c.nx), *dg = falloc((size_t)ch), *db = falloc((size_t)ch);
    dl_batchnorm_backward(dx, dg, db, c.r, c.x, c.mean, c.rstd, c.g, n, ch, hw);
    char what[128];
    snprintf(what, sizeof what, "%s dx", name);
    fd_check(what, bn_loss, &c, c.x, dx, c.nx, 4);
    snprintf(what, sizeof what, "%s dgamma", name);
    fd_check(what, bn_loss, &c, c.g, dg, (size_t)ch, 5);
    snprintf(what, sizeof what, "%s dbeta", name);
    fd_check(what, bn_loss, &c, c.b, db, (size_t)ch, 6);

    /* += and NULL-skip */
    float *dx2 = falloc(c.nx), *dg2 = falloc((size_t)ch), *db2 = falloc((size_t)ch);
    for (int k = 0; k < 2; k++)
        dl_batchnorm_backward(dx2, dg2, db2, c.r, c.x, c.mean, c.rstd, c.g, n, ch, hw);
    assert_twice("bn dx twice", dx, dx2, c.nx);
    assert_twice("bn dgamma twice", dg, dg2, (size_t)ch);
    assert_twice("bn dbeta twice", db, db2, (size_t)ch);
    float *dx3 = falloc(c.nx);
    dl_batchnorm_backward(dx3, NULL, NULL, c.r, c.x, c.mean, c.rstd, c.g, n, ch, hw);
    ck_assert(memcmp(dx3, dx, c.nx * sizeof(float)) == 0);
    free(dx), free(dg), free(db), free(dx2), free(dg2), free(db2), free(dx3);
    bn_free(&c);
}

START_TEST(bn2d_train) { bn_case("bn2d 2x3x(5x4)", 2, 3, 20); }
END_TEST
START_TEST(bn2d_train_batch1) { bn_case("bn2d 1x2x(3x3)", 1, 2, 9); }
END_TEST
START_TEST(bn1d_train) { bn_case("bn1d 8x5", 8, 5, 1); }
END_TEST

/* The running-stat rule: biased variance normalises, unbiased variance (cnt/(cnt-1)) moves
 * running_var, momentum weighs the batch; eval mode reproduces train output from those stats. */
START_TEST(bn_running_stats_rule)
{
    const int n = 3, ch = 2, hw = 4;
    bn_ctx c;
    bn_setup(&c, n, ch, hw);
    float rm[2] = {0.5f, -1.0f}, rv[2] = {2.0f, 0.25f};
    dl_batchnorm_forward_train(c.y, c.mean, c.rstd, rm, rv, c.x, c.g, c.b, n, ch, hw, 0.1f, 1e-5f);
    const int cnt = n * hw;
    const float rm0[2] = {0.5f, -1.0f}, rv0[2] = {2.0f, 0.25f};
    for (int k = 0; k < ch; k++) {
        double s = 0, q = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++)
                s += c.x[(i * ch + k) * hw + j];
        double mean = s / cnt;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                double d = c.x[(i * ch + k) * hw + j] - mean;
                q += d * d;
            }
        double var = q / cnt;
        ck_assert_double_eq_tol(c.mean[k], mean, 1e-6);
        ck_assert_double_eq_tol(c.rstd[k], 1.0 / sqrt(var + 1e-5), 1e-5);
        ck_assert_double_eq_tol(rm[k], 0.9 * rm0[k] + 0.1 * mean, 1e-6);
        ck_assert_double_eq_tol(rv[k], 0.9 * rv0[k] + 0.1 * var * cnt / (cnt - 1), 1e-6);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                size_t o = (size_t)(i * ch + k) * hw + j;
                double want = (c.x[o] - mean) / sqrt(var + 1e-5) * c.g[k] + c.b[k];
                ck_assert_double_eq_tol(c.y[o], want, 1e-5);
            }
    }
    /* eval with running stats = the batch's biased stats gives the train output */
    float ev_mean[2], ev_var[2], *ye = falloc(c.nx);
    for (int k = 0; k < ch; k++) {
        ev_mean[k] = c.mean[k];
        ev_var[k] = 1.0f / (c.rstd[k] * c.rstd[k]) - 1e-5f;
    }
    dl_batchnorm_forward_eval(ye, c.x, c.g, c.b, ev_mean, ev_var, n, ch, hw, 1e-5f);
    tu_assert_close("bn eval vs train", ye, c.y, c.nx, 1e-5, 1e-4, 0);
    free(ye);
    bn_free(&c);
}
END_TEST

/* ---- relu, add, dropout, linear ----------------------------------------------------------- */
typedef struct ew_ctx {
    float *x, *x2, *y, *r, *mask;
    size_t n;
    float p;
} ew_ctx;

static double relu_loss(void *p)
{
    ew_ctx *c = p;
    dl_relu_forward(c->y, c->x, c->n);
    return dot(c->y, c->r, c->n);
}

START_TEST(relu_grad)
{
    ew_ctx c = {.n = 60};
    c.x = falloc(c.n), c.y = falloc(c.n), c.r = falloc(c.n);
    fill_away_from_zero(c.x, c.n, 31);
    fill_uniform(c.r, c.n, -1, 1, 32);
    relu_loss(&c);
    float *dx = falloc(c.n);
    dl_relu_backward(dx, c.r, c.y, c.n);
    fd_check("relu dx", relu_loss, &c, c.x, dx, c.n, 7);
    float *dx2 = falloc(c.n);
    dl_relu_backward(dx2, c.r, c.y, c.n);
    dl_relu_backward(dx2, c.r, c.y, c.n);
    assert_twice("relu dx twice", dx, dx2, c.n);
    /* the in-place mask equals the accumulating backward into zeros */
    float *dm = falloc(c.n);
    memcpy(dm, c.r, c.n * sizeof(float));
    relu_loss(&c);
    dl_relu_mask(dm, c.y, c.n);
    ck_assert(memcmp(dm, dx, c.n * sizeof(float)) == 0);
    free(dm);
    /* in place */
    float *xin = falloc(c.n);
    memcpy(xin, c.x, c.n * sizeof(float));
    dl_relu_forward(xin, xin, c.n);
    ck_assert(memcmp(xin, c.y, c.n * sizeof(float)) == 0);
    free(dx), free(dx2), free(xin), free(c.x), free(c.y), free(c.r);
}
END_TEST

static double add_loss(void *p)
{
    ew_ctx *c = p;
    dl_add_forward(c->y, c->x, c->x2, c->n);
    return dot(c->y, c->r, c->n);
}

START_TEST(add_grad)
{
    ew_ctx c = {.n = 30};
    c.x = falloc(c.n), c.x2 = falloc(c.n), c.y = falloc(c.n), c.r = falloc(c.n);
    fill_uniform(c.x, c.n, -1, 1, 41);
    fill_uniform(c.x2, c.n, -1, 1, 42);
    fill_uniform(c.r, c.n, -1, 1, 43);
    float *da = falloc(c.n), *db = falloc(c.n), *da2 = falloc(c.n);
    dl_add_backward(da, db, c.r, c.n);
    fd_check("add da", add_loss, &c, c.x, da, c.n, 8);
    fd_check("add db", add_loss, &c, c.x2, db, c.n, 9);
    dl_add_backward(da2, NULL, c.r, c.n);
    dl_add_backward(da2, NULL, c.r, c.n);
    assert_twice("add da twice", da, da2, c.n);
    free(da), free(db), free(da2), free(c.x), free(c.x2), free(c.y), free(c.r);
}
END_TEST

static double dropout_loss(void *p)
{
    ew_ctx *c = p;
    dl_rng r;
    dl_rng_seed(&r, 5, 0, 0); /* the same mask on every evaluation */
    dl_dropout_forward(c->y, c->mask, c->x, c->n, c->p, &r);
    return dot(c->y, c->r, c->n);
}

START_TEST(dropout_grad_and_mask)
{
    ew_ctx c = {.n = 4000, .p = 0.3f};
    c.x = falloc(c.n), c.y = falloc(c.n), c.r = falloc(c.n), c.mask = falloc(c.n);
    fill_uniform(c.x, c.n, -1, 1, 51);
    fill_uniform(c.r, c.n, -1, 1, 52);
    dropout_loss(&c);
    size_t kept = 0;
    for (size_t i = 0; i < c.n; i++) {
        ck_assert(c.mask[i] == 0.0f || fabsf(c.mask[i] - 1.0f / 0.7f) < 1e-6f);
        kept += c.mask[i] != 0.0f;
    }
    ck_assert_int_gt(kept, 2600); /* about 70 % kept: 2800 ± 4 sigma */
    ck_assert_int_lt(kept, 3000);
    float *dx = falloc(c.n);
    dl_dropout_backward(dx, c.r, c.mask, c.n);
    fd_check("dropout dx", dropout_loss, &c, c.x, dx, c.n, 10);
    /* p == 0 is the identity with a mask of ones */
    dl_rng r;
    dl_rng_seed(&r, 1, 0, 0);
    dl_dropout_forward(c.y, c.mask, c.x, c.n, 0.0f, &r);
    ck_assert(memcmp(c.y, c.x, c.n * sizeof(float)) == 0);
    ck_assert(c.mask[0] == 1.0f && c.mask[c.n - 1] == 1.0f);
    free(dx), free(c.x), free(c.y), free(c.r), free(c.mask);
}
END_TEST

typedef struct lin_ctx {
    int n, in, out;
    float *x, *w, *b, *y, *r;
} lin_ctx;

static double linear_loss(void *p)
{
    lin_ctx *c = p;
    dl_linear_forward(c->y, c->x, c->w, c->b, c->n, c->in, c->out);
    return dot(c->y, c->r, (size_t)c->n * c->out);
}

static void linear_case(int n, int in, int out)
{
    lin_ctx c = {.n = n, .in = in, .out = out};
    size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    c.x = falloc(nx), c.w = falloc(nw), c.b = falloc((size_t)out), c.y = falloc(ny),
    c.r = falloc(ny);
    fill_uniform(c.x, nx, -1, 1, 61);
    fill_uniform(c.w, nw, -1, 1, 62);
    fill_uniform(c.b, (size_t)out, -1, 1, 63);
    fill_uniform(c.r, ny, -1, 1, 64);
    float *dx = falloc(nx), *dw = falloc(nw), *db = falloc((size_t)out);
    dl_linear_backward(dx, dw, db, c.r, c.x, c.w, n, in, out);
    fd_check("linear dx", linear_loss, &c, c.x, dx, nx, 11);
    fd_check("linear dw", linear_loss, &c, c.w, dw, nw, 12);
    fd_check("linear db", linear_loss, &c, c.b, db, (size_t)out, 13);
    float *dx2 = falloc(nx), *dw2 = falloc(nw), *db2 = falloc((size_t)out);
    dl_linear_backward(dx2, dw2, db2, c.r, c.x, c.w, n, in, out);
    dl_linear_backward(dx2, dw2, db2, c.r, c.x, c.w, n, in, out);
    assert_twice("linear dx twice", dx, dx2, nx);
    assert_twice("linear dw twice", dw, dw2, nw);
    assert_twice("linear db twice", db, db2, (size_t)out);
    float *dw3 = falloc(nw);
    dl_linear_backward(NULL, dw3, NULL, c.r, c.x, c.w, n, in, out);
    ck_assert(memcmp(dw3, dw, nw * sizeof(float)) == 0);
    free(dx), free(dw), free(db), free(dx2), free(dw2), free(db2), free(dw3);
    free(c.x), free(c.w), free(c.b), free(c.y), free(c.r);
}

START_TEST(linear_grad)
{
    linear_case(3, 5, 4);
    linear_case(1, 7, 2);
}
END_TEST

/* ---- pools ------------------------------------------------------------------------------ */
typedef struct pool_ctx {
    int kind; /* 0 max, 1 adaptive avg, 2 adaptive max */
    int n, c, h, w, k, s, pad, oh, ow;
    float *x, *y, *r;
    int32_t *arg;
} pool_ctx;

static double pool_loss(void *p)
{
    pool_ctx *c = p;
    if (c->kind == 0)
        dl_maxpool2d_forward(c->y, c->arg, c->x, c->n, c->c, c->h, c->w, c->k, c->s, c->pad, c->oh,
                             c->ow);
    else if (c->kind == 1)
        dl_adaptive_avgpool2d_forward(c->y, c->x, c->n, c->c, c->h, c->w, c->oh, c->ow);
    else
        dl_adaptive_maxpool2d_forward(c->y, c->arg, c->x, c->n, c->c, c->h, c->w, c->oh, c->ow);
    return dot(c->y, c->r, (size_t)c->n * c->c * c->oh * c->ow);
}

static void pool_case(const char *name, int kind, int n, int ch, int h, int w, int k, int s,
                      int pad, int oh, int ow)
{
    pool_ctx c = {kind, n, ch, h, w, k, s, pad, oh, ow, NULL, NULL, NULL, NULL};
    size_t nx = (size_t)n * ch * h * w, ny = (size_t)n * ch * oh * ow;
    c.x = falloc(nx), c.y = falloc(ny), c.r = falloc(ny);
    c.arg = calloc(ny, sizeof(int32_t));
    fill_distinct(c.x, nx, 71);
    fill_uniform(c.r, ny, -1, 1, 72);
    pool_loss(&c);
    float *dx = falloc(nx), *dx2 = falloc(nx);
    for (int t = 0; t < 2; t++) {
        float *d = t ? dx2 : dx;
        for (int rep = 0; rep <= t; rep++) {
            if (kind == 1)
                dl_adaptive_avgpool2d_backward(d, c.r, n, ch, h, w, oh, ow);
            else
                dl_maxpool2d_backward(d, c.r, c.arg, n, ch, h, w, oh, ow);
        }
    }
    char what[128];
    snprintf(what, sizeof what, "%s dx", name);
    fd_check(what, pool_loss, &c, c.x, dx, nx, 14);
    snprintf(what, sizeof what, "%s dx twice", name);
    assert_twice(what, dx, dx2, nx);
    free(dx), free(dx2), free(c.x), free(c.y), free(c.r), free(c.arg);
}

START_TEST(maxpool_grad)
{
    pool_case("maxpool k3s2p1 7x7", 0, 2, 2, 7, 7, 3, 2, 1, 4, 4);
    pool_case("maxpool k3s2p1 8x6", 0, 1, 3, 8, 6, 3, 2, 1, 4, 3);
    pool_case("maxpool k2s2p0 5x5", 0, 2, 1, 5, 5, 2, 2, 0, 2, 2);
}
END_TEST

START_TEST(adaptive_pool_grad)
{
    pool_case("adaptive avg 5x7->3x2", 1, 2, 2, 5, 7, 0, 0, 0, 3, 2);
    pool_case("adaptive avg 4x4->1x1", 1, 1, 3, 4, 4, 0, 0, 0, 1, 1);
    pool_case("adaptive max 5x7->3x2", 2, 2, 2, 5, 7, 0, 0, 0, 3, 2);
    pool_case("adaptive max 3x3->1x1", 2, 1, 2, 3, 3, 0, 0, 0, 1, 1);
}
END_TEST

/* Padding is -inf: an all-negative plane still pools to real values, never to a padded zero. */
START_TEST(maxpool_padding_is_minus_inf)
{
    float x[9], y[4];
    int32_t a[4];
    for (int i = 0; i < 9; i++)
        x[i] = -1.0f - (float)i;
    dl_maxpool2d_forward(y, a, x, 1, 1, 3, 3, 3, 2, 1, 2, 2);
    const float want[4] = {-1.0f, -2.0f, -4.0f, -5.0f};
    const int32_t want_a[4] = {0, 1, 3, 4};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(y[i], want[i]);
        ck_assert_int_eq(a[i], want_a[i]);
    }
}
END_TEST

/* Ties and NaN follow PyTorch's scan: row-major window order, the first maximum wins, a NaN
 * wins. Compared exactly against a plain scan over many geometries (the kernel vectorises the
 * interior columns and scans the borders, so both paths are covered). */
START_TEST(maxpool_matches_reference_scan)
{
    dl_rng r;
    dl_rng_seed(&r, 77, 0, 0);
    for (int iter = 0; iter < 300; iter++) {
        int k = 1 + (int)dl_rng_below(&r, 4), s = 1 + (int)dl_rng_below(&r, 3);
        int pad = (int)dl_rng_below(&r, (uint64_t)k / 2 + 1);
        int h = k + (int)dl_rng_below(&r, 9), w = k + (int)dl_rng_below(&r, 12), c = 2;
        int oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1;
        float x[2 * 12 * 15], y[2 * 12 * 15];
        int32_t a[2 * 12 * 15];
        for (int i = 0; i < c * h * w; i++)
            x[i] = dl_rng_below(&r, 40) == 0 ? NAN : (float)dl_rng_below(&r, 4); /* many ties */
        dl_maxpool2d_forward(y, a, x, 1, c, h, w, k, s, pad, oh, ow);
        for (int p = 0; p < c; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    float best = -INFINITY;
                    int bi = -1;
                    for (int u = i * s - pad; u < i * s - pad + k; u++)
                        for (int v = j * s - pad; v < j * s - pad + k; v++) {
                            if (u < 0 || v < 0 || u >= h || v >= w)
                                continue;
                            float xv = x[p * h * w + u * w + v];
                            if (xv > best || isnan(xv)) {
                                best = xv;
                                bi = u * w + v;
                            }
                        }
                    int o = (p * oh + i) * ow + j;
                    ck_assert_msg(
                        a[o] == bi && (y[o] == best || (isnan(y[o]) && isnan(best))),
                        "k%d s%d p%d %dx%d output (%d,%d,%d): got %g at %d, want %g at %d", k, s,
                        pad, h, w, p, i, j, y[o], a[o], best, bi);
                }
    }
}
END_TEST

/* ---- losses ----------------------------------------------------------------------------- */
typedef struct loss_ctx {
    int n, k;
    float *z, *tf;
    int32_t *t;
} loss_ctx;

static double ce_loss(void *p)
{
    loss_ctx *c = p;
    return dl_cross_entropy(NULL, c->z, c->t, c->n, c->k);
}

static double bce_loss(void *p)
{
    loss_ctx *c = p;
    return dl_bce_with_logits(NULL, c->z, c->tf, c->n, c->k);
}

START_TEST(cross_entropy_grad)
{
    loss_ctx c = {.n = 4, .k = 5};
    int32_t t[4] = {0, 4, 2, 2};
    c.t = t;
    c.z = falloc(20);
    fill_uniform(c.z, 20, -3, 3, 81);
    float *dz = falloc(20);
    for (int i = 0; i < 20; i++)
        dz[i] = 7.0f; /* the loss writes, it does not accumulate */
    double l = dl_cross_entropy(dz, c.z, c.t, c.n, c.k);
    ck_assert(l == ce_loss(&c)); /* the gradient does not change the loss */
    fd_check("cross-entropy dlogits", ce_loss, &c, c.z, dz, 20, 15);
    /* uniform logits: loss = log K */
    float u[5] = {3, 3, 3, 3, 3};
    int32_t t0 = 1;
    ck_assert_double_eq_tol(dl_cross_entropy(NULL, u, &t0, 1, 5), log(5.0), 1e-12);
    /* an out-of-range target is NaN, not a read past the row */
    int32_t bad = 5;
    ck_assert(isnan(dl_cross_entropy(dz, u, &bad, 1, 5)));
    free(c.z), free(dz);
}
END_TEST

START_TEST(bce_grad)
{
    loss_ctx c = {.n = 3, .k = 4};
    c.z = falloc(12), c.tf = falloc(12);
    fill_uniform(c.z, 12, -4, 4, 91);
    fill_uniform(c.tf, 12, 0, 1, 92);
    c.tf[0] = 0.0f, c.tf[1] = 1.0f;
    float *dz = falloc(12);
    for (int i = 0; i < 12; i++)
        dz[i] = -3.0f;
    dl_bce_with_logits(dz, c.z, c.tf, c.n, c.k);
    fd_check("bce dlogits", bce_loss, &c, c.z, dz, 12, 16);
    free(c.z), free(c.tf), free(dz);
}
END_TEST

/* ±30 and beyond: finite losses equal to the exact limits, gradients in range. */
START_TEST(losses_stable_at_extremes)
{
    float z[4] = {30.0f, -30.0f, 1000.0f, -1000.0f}, dz[4];
    int32_t t[2] = {1, 0};
    /* row 0: (30, -30) target 1 -> loss ~ 60; row 1: (1000, -1000) target 0 -> ~0 */
    double l = dl_cross_entropy(dz, z, t, 2, 2);
    ck_assert(isfinite(l));
    ck_assert_double_eq_tol(l, (60.0 + log1p(exp(-60.0))) / 2.0, 1e-9);
    ck_assert_double_eq_tol(dz[0], 0.5, 1e-7);
    ck_assert_double_eq_tol(dz[1], -0.5, 1e-7);
    ck_assert_double_eq_tol(dz[2], 0.0, 1e-7);
    float tf[4] = {0.0f, 1.0f, 1.0f, 0.0f};
    l = dl_bce_with_logits(dz, z, tf, 1, 4);
    ck_assert(isfinite(l));
    ck_assert_double_eq_tol(l, (30.0 + 30.0 + 0.0 + 0.0 + 2 * log1p(exp(-30.0))) / 4.0, 1e-9);
    ck_assert_double_eq_tol(dz[0], 0.25, 1e-7);
    ck_assert_double_eq_tol(dz[1], -0.25, 1e-7);
    ck_assert_double_eq_tol(dz[2], 0.0, 1e-7);
    ck_assert_double_eq_tol(dz[3], 0.0, 1e-7);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops_grad");
    TCase *conv = tcase_create("conv2d");
    tcase_add_test(conv, conv_k3_s1_p1);
    tcase_add_test(conv, conv_k3_s2_p1);
    tcase_add_test(conv, conv_k1_s2_p0);
    tcase_add_test(conv, conv_k1_s1_p0);
    tcase_add_test(conv, conv_k1_s1_p1);
    tcase_add_test(conv, conv_k7_s2_p3);
    tcase_add_test(conv, conv_odd_nonsquare);
    tcase_add_test(conv, conv_batch1);
    tcase_add_test(conv, conv_wide_and_partial_tiles);
    tcase_add_test(conv, conv_cfg_rejects_impossible_geometry);
    tcase_add_test(conv, conv_accumulates_and_skips_null);
    suite_add_tcase(s, conv);
    TCase *bn = tcase_create("batchnorm");
    tcase_add_test(bn, bn2d_train);
    tcase_add_test(bn, bn2d_train_batch1);
    tcase_add_test(bn, bn1d_train);
    tcase_add_test(bn, bn_running_stats_rule);
    suite_add_tcase(s, bn);
    TCase *ew = tcase_create("elementwise_linear");
    tcase_add_test(ew, relu_grad);
    tcase_add_test(ew, add_grad);
    tcase_add_test(ew, dropout_grad_and_mask);
    tcase_add_test(ew, linear_grad);
    suite_add_tcase(s, ew);
    TCase *pool = tcase_create("pools");
    tcase_add_test(pool, maxpool_grad);
    tcase_add_test(pool, adaptive_pool_grad);
    tcase_add_test(pool, maxpool_padding_is_minus_inf);
    tcase_add_test(pool, maxpool_matches_reference_scan);
    suite_add_tcase(s, pool);
    TCase *loss = tcase_create("losses");
    tcase_add_test(loss, cross_entropy_grad);
    tcase_add_test(loss, bce_grad);
    tcase_add_test(loss, losses_stable_at_extremes);
    suite_add_tcase(s, loss);
    return s;
}

int main(void) { return tu_run(suite()); }
