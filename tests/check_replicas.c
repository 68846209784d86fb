/* check_replicas: data parallelism in one process (core/learn/replicas.c) and the synchronised
 * BatchNorm kernels: N replicas over one parameter block give one replica's loss and gradient
 * (exactly the statistics with sync-bn, up to summation order), the batch split errors name the
 * sizes, and the default replica count follows the cores and the batch. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn/replicas.h"
#include "core/models/model.h"
#include "core/ops/ops.h"
#include "core/rng.h"
#include "tests/testutil.h"

enum { B = 16, C = 1, H = 28, W = 28, K = 10 };

static dl_model *make_model(const char *arch)
{
    dl_model_cfg mc = {
        .arch = arch, .in_channels = C, .n_out = K, .head = DL_HEAD_TORCHVISION, .seed = 7};
    dl_model *m;
    dl_err err;
    ck_assert_msg(dl_model_create(&m, &mc, &err) == DL_OK, "%s", err.msg);
    return m;
}

static void make_batch(dl_batch *b, float *x, int32_t *t)
{
    dl_rng r;
    dl_rng_seed(&r, 3, 0, 0);
    for (size_t i = 0; i < (size_t)B * C * H * W; i++)
        x[i] = dl_rng_normal(&r);
    for (int i = 0; i < B; i++)
        t[i] = (int32_t)dl_rng_below(&r, K);
    memset(b, 0, sizeof *b);
    b->n = B, b->c = C, b->h = H, b->w = W, b->images = x, b->targets = t, b->n_classes = K;
}

/* one replica, the plain path: loss and gradient */
static double reference(dl_model *m, const dl_batch *b)
{
    const float *logits;
    dl_err err;
    float dl[B * K];
    ck_assert(dl_model_forward(m, b->images, B, H, W, true, &logits, &err) == DL_OK);
    double loss = dl_cross_entropy(dl, logits, b->targets, B, K);
    dl_params_zero_grad(dl_model_params(m));
    ck_assert(dl_model_backward(m, dl, &err) == DL_OK);
    return loss;
}

static void compare_replicas(int n, bool sync, double tol_loss, double tol_grad)
{
    static float x[B * C * H * W];
    int32_t t[B];
    dl_batch b;
    make_batch(&b, x, t);
    dl_model *ref = make_model("resnet-xs"), *m = make_model("resnet-xs");
    double want = reference(ref, &b);
    dl_replicas *r;
    dl_err err;
    ck_assert_msg(dl_replicas_create(&r, m, n, sync, &err) == DL_OK, "%s", err.msg);
    double got = NAN;
    for (int rep = 0; rep < 2; rep++) { /* twice: the second step reuses the plans */
        ck_assert_msg(dl_replicas_step(r, &b, &got, &err) == DL_OK, "%s", err.msg);
        ck_assert_msg(fabs(got - want) <= tol_loss * fabs(want),
                      "%d replicas%s: loss %.9g, one: %.9g", n, sync ? " (sync-bn)" : "", got,
                      want);
    }
    const dl_params *pr = dl_model_params(ref), *pm = dl_model_params(m);
    if (tol_grad > 0)
        tu_assert_close("grad", pm->grad, pr->grad, pr->total, 1e-7, tol_grad, 1);
    dl_replicas_times tm;
    dl_replicas_get_times(r, &tm);
    ck_assert_int_eq((int)tm.steps, 2);
    dl_replicas_free(r);
    dl_model_free(ref);
    dl_model_free(m);
}

START_TEST(sync_bn_replicas_give_one_replicas_loss_and_gradient)
{
    compare_replicas(2, true, 1e-6, 1e-5);
    compare_replicas(4, true, 1e-6, 1e-5);
}
END_TEST

START_TEST(one_replica_through_the_replicas_is_the_plain_path)
{
    compare_replicas(1, false, 0, 1e-7);
}
END_TEST

START_TEST(per_replica_bn_differs_but_stays_close)
{
    /* per-replica statistics: another loss, same order of magnitude */
    static float x[B * C * H * W];
    int32_t t[B];
    dl_batch b;
    make_batch(&b, x, t);
    dl_model *ref = make_model("resnet-xs"), *m = make_model("resnet-xs");
    double want = reference(ref, &b), got;
    dl_replicas *r;
    dl_err err;
    ck_assert(dl_replicas_create(&r, m, 2, false, &err) == DL_OK);
    ck_assert(dl_replicas_step(r, &b, &got, &err) == DL_OK);
    ck_assert_msg(got != want && fabs(got - want) < 0.5 * want, "%g vs %g", got, want);
    dl_replicas_free(r);
    dl_model_free(ref);
    dl_model_free(m);
}
END_TEST

/* The synchronised kernels with a single participant are the plain kernels' arithmetic. */
static void sum_none(void *user, double *v, int n) { (void)user, (void)v, (void)n; }

START_TEST(sync_kernels_alone_equal_the_plain_ones)
{
    enum { N = 6, CH = 3, HW = 7 };
    float x[N * CH * HW], y0[N * CH * HW], y1[N * CH * HW], dy0[N * CH * HW], dy1[N * CH * HW];
    float m0[CH], r0[CH], m1[CH], r1[CH], rm0[CH] = {0}, rv0[CH] = {1, 1, 1}, rm1[CH] = {0},
                                          rv1[CH] = {1, 1, 1};
    float g[CH] = {1.5f, 0.5f, -1}, be[CH] = {0.1f, 0, 0.2f};
    float dx0[N * CH * HW], dx1[N * CH * HW], dg0[CH] = {0}, dg1[CH] = {0}, db0[CH] = {0},
                                              db1[CH] = {0};
    dl_rng r;
    dl_rng_seed(&r, 1, 2, 3);
    for (int i = 0; i < N * CH * HW; i++)
        x[i] = dl_rng_normal(&r), dy0[i] = dy1[i] = dl_rng_normal(&r);
    double scratch[2 * CH + 1];
    dl_bn_sync s = {sum_none, NULL, scratch, 2 * CH + 1};
    for (int relu = 0; relu < 2; relu++) {
        (relu ? dl_batchnorm_relu_forward_train
              : dl_batchnorm_forward_train)(y0, m0, r0, rm0, rv0, x, g, be, N, CH, HW, 0.1f, 1e-5f);
        dl_batchnorm_forward_train_sync(y1, m1, r1, rm1, rv1, x, g, be, N, CH, HW, 0.1f, 1e-5f,
                                        relu, &s);
        ck_assert(!memcmp(y0, y1, sizeof y0) && !memcmp(m0, m1, sizeof m0) &&
                  !memcmp(r0, r1, sizeof r0) && !memcmp(rm0, rm1, sizeof rm0) &&
                  !memcmp(rv0, rv1, sizeof rv0));
        dl_batchnorm_backward_set(dx0, dg0, db0, dy0, relu ? y0 : NULL, x, m0, r0, g, N, CH, HW);
        dl_batchnorm_backward_sync(dx1, dg1, db1, dy1, relu ? y1 : NULL, x, m1, r1, g, N, CH, HW, 1,
                                   &s);
        ck_assert(!memcmp(dx0, dx1, sizeof dx0) && !memcmp(dg0, dg1, sizeof dg0) &&
                  !memcmp(db0, db1, sizeof db0));
    }
}
END_TEST

START_TEST(auto_count_follows_cores_and_batch)
{
    ck_assert_int_eq(dl_replicas_auto(64, 1, 2), 2);
    ck_assert_int_eq(dl_replicas_auto(64, 1, 8), 8);
    ck_assert_int_eq(dl_replicas_auto(60, 1, 8), 6);
    ck_assert_int_eq(dl_replicas_auto(64, 2, 3), 2);
    ck_assert_int_eq(dl_replicas_auto(7, 1, 4), 1);
    ck_assert_int_eq(dl_replicas_auto(64, 1, 1), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replicas");
    TCase *tc = tcase_create("replicas");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sync_kernels_alone_equal_the_plain_ones);
    tcase_add_test(tc, one_replica_through_the_replicas_is_the_plain_path);
    tcase_add_test(tc, sync_bn_replicas_give_one_replicas_loss_and_gradient);
    tcase_add_test(tc, per_replica_bn_differs_but_stays_close);
    tcase_add_test(tc, auto_count_follows_cores_and_batch);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
