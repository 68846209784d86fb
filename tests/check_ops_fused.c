/* check_ops_fused: the fused kernels the models use for speed (BN + ReLU forward train/eval and
 * backward, residual add + ReLU, BN backward writing dx) give exactly what the unfused sequence
 * gives, on plane sizes below, at, and off the 16-lane vector width, with NaNs and exact zeros in
 * the input (ReLU's NaN rule and its "y > 0" mask must survive the fusion). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops/ops.h"
#include "core/rng.h"
#include "tests/testutil.h"

static float *randn(size_t m, dl_rng *r)
{
    float *v = malloc(m * sizeof *v);
    for (size_t i = 0; i < m; i++)
        v[i] = dl_rng_normal(r);
    return v;
}

static float *copy(const float *v, size_t m)
{
    float *c = malloc(m * sizeof *c);
    memcpy(c, v, m * sizeof *c);
    return c;
}

static void assert_same(const char *what, int hw, const float *a, const float *b, size_t m)
{
    ck_assert_msg(memcmp(a, b, m * sizeof *a) == 0, "%s differs from the unfused sequence at hw %d",
                  what, hw);
}

static const int hws[] = {1, 7, 16, 37, 49, 64};

START_TEST(bn_relu_matches_bn_then_relu)
{
    const int n = 3, c = 5, hw = hws[_i];
    const size_t m = (size_t)n * c * hw;
    dl_rng r;
    dl_rng_seed(&r, 7, (uint64_t)hw, 0);
    float *x = randn(m, &r), *dy = randn(m, &r), *g = randn((size_t)c, &r),
          *b = randn((size_t)c, &r);
    x[m / 2] = 0.0f; /* exact zero: masked (y > 0 is false) */
    dy[m / 3] = NAN; /* a NaN gradient passes the mask where y > 0 */
    float mu1[5], rs1[5], mu2[5], rs2[5], rm1[5] = {0}, rv1[5] = {1, 1, 1, 1, 1}, rm2[5] = {0},
                                          rv2[5] = {1, 1, 1, 1, 1};
    float *y1 = malloc(m * sizeof *y1), *y2 = malloc(m * sizeof *y2);
    dl_batchnorm_forward_train(y1, mu1, rs1, rm1, rv1, x, g, b, n, c, hw, 0.1f, 1e-5f);
    dl_relu_forward(y1, y1, m);
    dl_batchnorm_relu_forward_train(y2, mu2, rs2, rm2, rv2, x, g, b, n, c, hw, 0.1f, 1e-5f);
    assert_same("train forward", hw, y1, y2, m);
    assert_same("saved mean", hw, mu1, mu2, (size_t)c);
    assert_same("saved rstd", hw, rs1, rs2, (size_t)c);
    assert_same("running mean", hw, rm1, rm2, (size_t)c);
    assert_same("running var", hw, rv1, rv2, (size_t)c);
    /* backward: accumulate into non-zero dx/dgamma/dbeta, as a fan-out would */
    float *dx1 = randn(m, &r), *dx2 = copy(dx1, m), *dy1 = dy, *dy2 = copy(dy, m);
    float dg1[5] = {1, 2, 3, 4, 5}, dg2[5] = {1, 2, 3, 4, 5}, db1[5] = {0}, db2[5] = {0};
    dl_relu_mask(dy1, y1, m);
    dl_batchnorm_backward(dx1, dg1, db1, dy1, x, mu1, rs1, g, n, c, hw);
    dl_batchnorm_relu_backward(dx2, dg2, db2, dy2, y2, x, mu2, rs2, g, n, c, hw);
    assert_same("masked dy", hw, dy1, dy2, m);
    assert_same("dx", hw, dx1, dx2, m);
    assert_same("dgamma", hw, dg1, dg2, (size_t)c);
    assert_same("dbeta", hw, db1, db2, (size_t)c);
    /* eval, with a NaN input that relu keeps */
    x[1] = NAN;
    dl_batchnorm_forward_eval(y1, x, g, b, rm1, rv1, n, c, hw, 1e-5f);
    dl_relu_forward(y1, y1, m);
    dl_batchnorm_relu_forward_eval(y2, x, g, b, rm1, rv1, n, c, hw, 1e-5f);
    assert_same("eval forward", hw, y1, y2, m);
    ck_assert(isnan(y2[1]));
    free(x), free(dy), free(g), free(b), free(y1), free(y2), free(dx1), free(dx2), free(dy2);
}
END_TEST

START_TEST(add_relu_matches_add_then_relu)
{
    const size_t m = (size_t)hws[_i] * 11;
    dl_rng r;
    dl_rng_seed(&r, 9, m, 0);
    float *a = randn(m, &r), *b = randn(m, &r), *y1 = malloc(m * sizeof *y1),
          *y2 = malloc(m * sizeof *y2);
    a[0] = NAN;
    dl_add_forward(y1, a, b, m);
    dl_relu_forward(y1, y1, m);
    dl_add_relu_forward(y2, a, b, m);
    assert_same("add+relu", hws[_i], y1, y2, m);
    ck_assert(isnan(y2[0]));
    for (size_t i = 1; i < m; i++)
        ck_assert(y2[i] >= 0.0f);
    free(a), free(b), free(y1), free(y2);
}
END_TEST

/* the write-mode backward equals zeroing dx, then the accumulating backward (value-equal: a write
 * of -0 where 0 + -0 gives +0 is the only allowed difference) */
START_TEST(bn_backward_set_matches_zero_then_add)
{
    const int n = 2, c = 3, hw = hws[_i];
    const size_t m = (size_t)n * c * hw;
    dl_rng r;
    dl_rng_seed(&r, 11, (uint64_t)hw, 0);
    float *x = randn(m, &r), *g = randn((size_t)c, &r), *b = randn((size_t)c, &r),
          *dy = randn(m, &r);
    float *y = malloc(m * sizeof *y), mu[3], rs[3];
    dl_batchnorm_relu_forward_train(y, mu, rs, NULL, NULL, x, g, b, n, c, hw, 0.1f, 1e-5f);
    for (int relu = 0; relu < 2; relu++) {
        float *dya = copy(dy, m), *dyb = copy(dy, m), *dxa = calloc(m, sizeof *dxa),
              *dxb = randn(m, &r);
        float dga[3] = {0}, dgb[3] = {0}, dba[3] = {0}, dbb[3] = {0};
        if (relu)
            dl_batchnorm_relu_backward(dxa, dga, dba, dya, y, x, mu, rs, g, n, c, hw);
        else
            dl_batchnorm_backward(dxa, dga, dba, dya, x, mu, rs, g, n, c, hw);
        dl_batchnorm_backward_set(dxb, dgb, dbb, dyb, relu ? y : NULL, x, mu, rs, g, n, c, hw);
        for (size_t i = 0; i < m; i++)
            ck_assert_msg(dxa[i] == dxb[i], "hw %d relu %d: dx[%zu] %g written vs %g accumulated",
                          hw, relu, i, (double)dxb[i], (double)dxa[i]);
        assert_same("set: masked dy", hw, dya, dyb, m);
        assert_same("set: dgamma", hw, dga, dgb, 3);
        assert_same("set: dbeta", hw, dba, dbb, 3);
        free(dya), free(dyb), free(dxa), free(dxb);
    }
    free(x), free(g), free(b), free(dy), free(y);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_fused");
    TCase *t = tcase_create("fused");
    const int k = (int)(sizeof hws / sizeof hws[0]);
    tcase_add_loop_test(t, bn_relu_matches_bn_then_relu, 0, k);
    tcase_add_loop_test(t, add_relu_matches_add_then_relu, 0, k);
    tcase_add_loop_test(t, bn_backward_set_matches_zero_then_add, 0, k);
    suite_add_tcase(s, t);
    return tu_run(s);
}
