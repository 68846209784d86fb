/* check_ops_parity: the kernels of core/ops against PyTorch on committed fixtures
 * (tests/fixtures/ops/<op>_<case>.safetensors, written by tests/gen/mkfix_ops.py in float64 from
 * float32 inputs). This is the semantic check (eps, biased vs unbiased variance, padding, window
 * rules, loss reductions); the finite-difference suite is the independent one. Tolerances are
 * docs/architecture.md §9.4: forward |c-r| <= 1e-5 + 1e-4|r|; backward |c-r| <= 1e-5 + 1e-4 max|r|;
 * loss |c-r| <= 1e-5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/safetensors.h"
#include "core/ops/ops.h"
#include "core/tensor_map.h"
#include "tests/testutil.h"

typedef struct fx {
    dl_tensor_map m;
    char file[256];
} fx;

static void fx_open(fx *f, const char *name)
{
    dl_err err;
    dl_tensor_map_init(&f->m);
    snprintf(f->file, sizeof f->file, "ops/%s.safetensors", name);
    dl_status st = dl_safetensors_read(tu_fixture(f->file), &f->m, &err);
    ck_assert_msg(st == DL_OK, "%s: %s", f->file, err.msg);
}

static void fx_close(fx *f) { dl_tensor_map_free(&f->m); }

static const dl_named_tensor *fx_get(fx *f, const char *name, dl_dtype dt)
{
    const dl_named_tensor *t = dl_tensor_map_get(&f->m, name);
    ck_assert_msg(t != NULL, "%s: no tensor '%s'", f->file, name);
    ck_assert_msg(t->dtype == dt, "%s: tensor '%s' has dtype %s", f->file, name,
                  dl_dtype_name(t->dtype));
    return t;
}

/* F32 tensor `name`, which must hold exactly `numel` elements. */
static float *fx_f32(fx *f, const char *name, size_t numel)
{
    const dl_named_tensor *t = fx_get(f, name, DL_DTYPE_F32);
    ck_assert_msg((size_t)dl_shape_numel(t->ndim, t->shape) == numel,
                  "%s: tensor '%s' has %lld elements, want %zu", f->file, name,
                  (long long)dl_shape_numel(t->ndim, t->shape), numel);
    return t->data;
}

static int fx_meta_int(fx *f, const char *key)
{
    const char *v = dl_tensor_map_get_meta(&f->m, key);
    ck_assert_msg(v != NULL, "%s: no metadata '%s'", f->file, key);
    return atoi(v);
}

static void fwd_close(fx *f, const char *name, const float *c, const float *r, size_t n)
{
    char what[320];
    snprintf(what, sizeof what, "%s %s", f->file, name);
    tu_assert_close(what, c, r, n, 1e-5, 1e-4, 0);
}

static void bwd_close(fx *f, const char *name, const float *c, const float *r, size_t n)
{
    char what[320];
    snprintf(what, sizeof what, "%s %s", f->file, name);
    tu_assert_close(what, c, r, n, 1e-5, 1e-4, 1);
}

static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* ---- conv2d ------------------------------------------------------------------------------ */
static void conv_fixture(const char *name)
{
    fx f;
    fx_open(&f, name);
    const dl_named_tensor *xt = fx_get(&f, "x", DL_DTYPE_F32), *wt = fx_get(&f, "w", DL_DTYPE_F32);
    ck_assert_int_eq(xt->ndim, 4);
    ck_assert_int_eq(wt->ndim, 4);
    int n = (int)xt->shape[0], c = (int)xt->shape[1], h = (int)xt->shape[2], w = (int)xt->shape[3];
    int oc = (int)wt->shape[0], kh = (int)wt->shape[2], kw = (int)wt->shape[3];
    dl_conv2d_cfg cfg;
    ck_assert_int_eq(dl_conv2d_cfg_init(&cfg, c, h, w, oc, kh, kw, fx_meta_int(&f, "stride"),
                                        fx_meta_int(&f, "pad")),
                     0);
    int bias = fx_meta_int(&f, "bias");
    size_t nx = (size_t)n * c * h * w, nw = (size_t)oc * c * kh * kw,
           ny = (size_t)n * oc * cfg.out_h * cfg.out_w;
    const float *x = xt->data, *wd = wt->data, *b = bias ? fx_f32(&f, "b", (size_t)oc) : NULL;
    float *ws = zeros(dl_conv2d_workspace_floats(&cfg)), *y = zeros(ny);
    dl_conv2d_forward(y, x, wd, b, &cfg, n, ws);
    fwd_close(&f, "out", y, fx_f32(&f, "out", ny), ny);
    float *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)oc);
    dl_conv2d_backward(dx, dw, bias ? db : NULL, fx_f32(&f, "dout", ny), x, wd, &cfg, n, ws);
    bwd_close(&f, "dx", dx, fx_f32(&f, "dx", nx), nx);
    bwd_close(&f, "dw", dw, fx_f32(&f, "dw", nw), nw);
    if (bias)
        bwd_close(&f, "db", db, fx_f32(&f, "db", (size_t)oc), (size_t)oc);
    free(ws), free(y), free(dx), free(dw), free(db);
    fx_close(&f);
}

START_TEST(conv2d_k3s1p1_bias) { conv_fixture("conv2d_k3s1p1"); }
END_TEST
START_TEST(conv2d_k3s2p1) { conv_fixture("conv2d_k3s2p1"); }
END_TEST
START_TEST(conv2d_k1s2p0_downsample) { conv_fixture("conv2d_k1s2p0"); }
END_TEST
START_TEST(conv2d_k7s2p3_stem) { conv_fixture("conv2d_k7s2p3"); }
END_TEST

/* ---- batch norm ------------------------------------------------------------------------- */
static void bn_fixture(const char *name)
{
    fx f;
    fx_open(&f, name);
    const dl_named_tensor *xt = fx_get(&f, "x", DL_DTYPE_F32);
    int n = (int)xt->shape[0], c = (int)xt->shape[1], hw = 1;
    for (int d = 2; d < xt->ndim; d++)
        hw *= (int)xt->shape[d];
    size_t nx = (size_t)n * c * hw, nc = (size_t)c;
    const float *x = xt->data, *g = fx_f32(&f, "gamma", nc), *b = fx_f32(&f, "beta", nc);
    float *rm = zeros(nc), *rv = zeros(nc), *mean = zeros(nc), *rstd = zeros(nc), *y = zeros(nx);
    memcpy(rm, fx_f32(&f, "running_mean_in", nc), nc * sizeof(float));
    memcpy(rv, fx_f32(&f, "running_var_in", nc), nc * sizeof(float));
    dl_batchnorm_forward_train(y, mean, rstd, rm, rv, x, g, b, n, c, hw, 0.1f, 1e-5f);
    fwd_close(&f, "out", y, fx_f32(&f, "out", nx), nx);
    fwd_close(&f, "running_mean_out", rm, fx_f32(&f, "running_mean_out", nc), nc);
    fwd_close(&f, "running_var_out", rv, fx_f32(&f, "running_var_out", nc), nc);
    float *dx = zeros(nx), *dg = zeros(nc), *db = zeros(nc);
    dl_batchnorm_backward(dx, dg, db, fx_f32(&f, "dout", nx), x, mean, rstd, g, n, c, hw);
    bwd_close(&f, "dx", dx, fx_f32(&f, "dx", nx), nx);
    bwd_close(&f, "dgamma", dg, fx_f32(&f, "dgamma", nc), nc);
    bwd_close(&f, "dbeta", db, fx_f32(&f, "dbeta", nc), nc);
    dl_batchnorm_forward_eval(y, x, g, b, rm, rv, n, c, hw, 1e-5f);
    fwd_close(&f, "out_eval", y, fx_f32(&f, "out_eval", nx), nx);
    free(rm), free(rv), free(mean), free(rstd), free(y), free(dx), free(dg), free(db);
    fx_close(&f);
}

START_TEST(batchnorm2d) { bn_fixture("batchnorm_2d_train"); }
END_TEST
START_TEST(batchnorm1d) { bn_fixture("batchnorm_1d_train"); }
END_TEST

/* ---- pools ------------------------------------------------------------------------------ */
static void pool_fixture(const char *name, int kind) /* 0 max, 1 adaptive avg, 2 adaptive max */
{
    fx f;
    fx_open(&f, name);
    const dl_named_tensor *xt = fx_get(&f, "x", DL_DTYPE_F32),
                          *yt = fx_get(&f, "out", DL_DTYPE_F32);
    int n = (int)xt->shape[0], c = (int)xt->shape[1], h = (int)xt->shape[2], w = (int)xt->shape[3];
    int oh = (int)yt->shape[2], ow = (int)yt->shape[3];
    size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * oh * ow;
    float *y = zeros(ny), *dx = zeros(nx);
    int32_t *arg = calloc(ny, sizeof *arg);
    if (kind == 0)
        dl_maxpool2d_forward(y, arg, xt->data, n, c, h, w, fx_meta_int(&f, "kernel"),
                             fx_meta_int(&f, "stride"), fx_meta_int(&f, "pad"), oh, ow);
    else if (kind == 1)
        dl_adaptive_avgpool2d_forward(y, xt->data, n, c, h, w, oh, ow);
    else
        dl_adaptive_maxpool2d_forward(y, arg, xt->data, n, c, h, w, oh, ow);
    fwd_close(&f, "out", y, yt->data, ny);
    const float *dout = fx_f32(&f, "dout", ny);
    if (kind == 1)
        dl_adaptive_avgpool2d_backward(dx, dout, n, c, h, w, oh, ow);
    else
        dl_maxpool2d_backward(dx, dout, arg, n, c, h, w, oh, ow);
    bwd_close(&f, "dx", dx, fx_f32(&f, "dx", nx), nx);
    free(y), free(dx), free(arg);
    fx_close(&f);
}

START_TEST(maxpool2d_k3s2p1) { pool_fixture("maxpool2d_k3s2p1", 0); }
END_TEST
START_TEST(adaptive_avgpool)
{
    pool_fixture("adaptive_avg_3x2", 1);
    pool_fixture("adaptive_avg_1x1", 1);
}
END_TEST
START_TEST(adaptive_maxpool) { pool_fixture("adaptive_max_3x2", 2); }
END_TEST

/* ---- linear, relu ----------------------------------------------------------------------- */
START_TEST(linear)
{
    fx f;
    fx_open(&f, "linear");
    const dl_named_tensor *xt = fx_get(&f, "x", DL_DTYPE_F32), *wt = fx_get(&f, "w", DL_DTYPE_F32);
    int n = (int)xt->shape[0], in = (int)xt->shape[1], out = (int)wt->shape[0];
    size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    float *y = zeros(ny), *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)out);
    const float *b = fx_f32(&f, "b", (size_t)out);
    dl_linear_forward(y, xt->data, wt->data, b, n, in, out);
    fwd_close(&f, "out", y, fx_f32(&f, "out", ny), ny);
    dl_linear_backward(dx, dw, db, fx_f32(&f, "dout", ny), xt->data, wt->data, n, in, out);
    bwd_close(&f, "dx", dx, fx_f32(&f, "dx", nx), nx);
    bwd_close(&f, "dw", dw, fx_f32(&f, "dw", nw), nw);
    bwd_close(&f, "db", db, fx_f32(&f, "db", (size_t)out), (size_t)out);
    free(y), free(dx), free(dw), free(db);
    fx_close(&f);
}
END_TEST

START_TEST(relu)
{
    fx f;
    fx_open(&f, "relu");
    const dl_named_tensor *xt = fx_get(&f, "x", DL_DTYPE_F32);
    size_t n = (size_t)dl_shape_numel(xt->ndim, xt->shape);
    float *y = zeros(n), *dx = zeros(n);
    dl_relu_forward(y, xt->data, n);
    fwd_close(&f, "out", y, fx_f32(&f, "out", n), n);
    dl_relu_backward(dx, fx_f32(&f, "dout", n), y, n);
    bwd_close(&f, "dx", dx, fx_f32(&f, "dx", n), n);
    free(y), free(dx);
    fx_close(&f);
}
END_TEST

/* ---- losses ----------------------------------------------------------------------------- */
START_TEST(cross_entropy)
{
    fx f;
    fx_open(&f, "cross_entropy");
    const dl_named_tensor *zt = fx_get(&f, "logits", DL_DTYPE_F32),
                          *tt = fx_get(&f, "targets", DL_DTYPE_I64);
    int n = (int)zt->shape[0], k = (int)zt->shape[1];
    ck_assert_int_eq(dl_shape_numel(tt->ndim, tt->shape), n);
    int32_t *t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++)
        t[i] = (int32_t)((const int64_t *)tt->data)[i];
    size_t nz = (size_t)n * k;
    float *dz = zeros(nz);
    double l = dl_cross_entropy(dz, zt->data, t, n, k);
    double want = fx_f32(&f, "loss", 1)[0];
    ck_assert_msg(fabs(l - want) <= 1e-5, "%s loss: got %.9g want %.9g", f.file, l, want);
    bwd_close(&f, "dlogits", dz, fx_f32(&f, "dlogits", nz), nz);
    free(t), free(dz);
    fx_close(&f);
}
END_TEST

START_TEST(bce_with_logits)
{
    fx f;
    fx_open(&f, "bce_with_logits");
    const dl_named_tensor *zt = fx_get(&f, "logits", DL_DTYPE_F32);
    int n = (int)zt->shape[0], k = (int)zt->shape[1];
    size_t nz = (size_t)n * k;
    float *dz = zeros(nz);
    double l = dl_bce_with_logits(dz, zt->data, fx_f32(&f, "targets", nz), n, k);
    double want = fx_f32(&f, "loss", 1)[0];
    ck_assert_msg(fabs(l - want) <= 1e-5, "%s loss: got %.9g want %.9g", f.file, l, want);
    bwd_close(&f, "dlogits", dz, fx_f32(&f, "dlogits", nz), nz);
    free(dz);
    fx_close(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops_parity");
    TCase *t = tcase_create("torch");
    tcase_add_test(t, conv2d_k3s1p1_bias);
    tcase_add_test(t, conv2d_k3s2p1);
    tcase_add_test(t, conv2d_k1s2p0_downsample);
    tcase_add_test(t, conv2d_k7s2p3_stem);
    tcase_add_test(t, batchnorm2d);
    tcase_add_test(t, batchnorm1d);
    tcase_add_test(t, maxpool2d_k3s2p1);
    tcase_add_test(t, adaptive_avgpool);
    tcase_add_test(t, adaptive_maxpool);
    tcase_add_test(t, linear);
    tcase_add_test(t, relu);
    tcase_add_test(t, cross_entropy);
    tcase_add_test(t, bce_with_logits);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return tu_run(suite()); }
