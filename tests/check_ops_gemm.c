/* check_ops_gemm: dllab's own SGEMM (core/ops/gemm) against a double-precision reference, on
 * every instruction set this CPU supports (the others are skipped with a message): all four
 * transpose combinations, edges that are not multiples of the micro-tile or of the cache blocks,
 * leading dimensions wider than the matrix, beta 0 over a NaN-filled C (never read), beta 1 and
 * another beta, and the conv shapes of resnet-xs; B^T's rows from a table (dl_sgemm_bt_rows). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/ops/gemm/gemm.h"
#include "core/rng.h"
#include "tests/testutil.h"

static void fill(float *x, size_t n, dl_rng *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = dl_rng_normal(r);
}

/* max |C - ref| / (sum |a||b| over k): a bound that holds whatever the summation order */
static double check_one(bool ta, bool tb, int m, int n, int k, float beta, int pad)
{
    dl_rng r;
    dl_rng_seed(&r, 42, (uint64_t)(m * 131 + n * 7 + k), 1);
    const int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    const size_t an = (size_t)(ta ? k : m) * lda, bn = (size_t)(tb ? n : k) * ldb,
                 cn = (size_t)m * ldc;
    float *a = malloc(sizeof(float) * an), *b = malloc(sizeof(float) * bn),
          *c = malloc(sizeof(float) * cn);
    float *c0 = malloc(sizeof(float) * cn);
    fill(a, an, &r), fill(b, bn, &r), fill(c0, cn, &r);
    for (size_t i = 0; i < cn; i++)
        c[i] = beta == 0.0f ? NAN : c0[i];
    dl_sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    double worst = 0;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0, mag = 1e-30;
            for (int p = 0; p < k; p++) {
                double x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += x * y;
                mag += fabs(x * y);
            }
            if (beta != 0.0f) {
                s += beta * (double)c0[(size_t)i * ldc + j];
                mag += fabs(beta * (double)c0[(size_t)i * ldc + j]);
            }
            double e = fabs(c[(size_t)i * ldc + j] - s) / mag;
            if (!(e <= worst)) /* NaN counts as the worst */
                worst = isnan(e) ? INFINITY : e;
        }
        for (int j = n; j < ldc; j++) /* the padding columns of C are never written */
            ck_assert(c[(size_t)i * ldc + j] ==
                          (beta == 0.0f ? c[(size_t)i * ldc + j] : c0[(size_t)i * ldc + j]) ||
                      isnan(c[(size_t)i * ldc + j]));
    }
    free(a), free(b), free(c), free(c0);
    return worst;
}

static void all_shapes(void)
{
    static const int shapes[][3] = {{1, 1, 1},      {3, 5, 7},      {8, 48, 16},     {9, 49, 17},
                                    {32, 784, 288}, {64, 196, 576}, {17, 1000, 333}, {200, 70, 161},
                                    {5, 2000, 3},   {32, 288, 784}};
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int t = 0; t < 4; t++)
            for (size_t bi = 0; bi < 3; bi++) {
                const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                double e = check_one(t & 1, t & 2, m, n, k, betas[bi], (int)(s % 3));
                ck_assert_msg(e <= 1e-5, "%s: %dx%dx%d ta %d tb %d beta %g: relative error %g",
                              dl_gemm_isa_name(dl_gemm_isa_active()), m, n, k, t & 1, (t & 2) != 0,
                              (double)betas[bi], e);
            }
}

/* dl_sgemm_bt_rows: B^T's rows taken from a table. Rows in blocks of `run` equally spaced ones
 * (conv2d's taps: channel planes `stride` apart, a jump between taps), and, with run 1, no two
 * alike (the packs' per-row path). Against the same product on a copied B^T. */
static double check_rows(int m, int n, int k, int run, int stride, float beta)
{
    dl_rng r;
    dl_rng_seed(&r, 7, (uint64_t)(m * 131 + n * 7 + k + run), 1);
    const size_t pool_n = (size_t)n * (stride + k) + 64;
    float *pool = malloc(sizeof(float) * pool_n), *a = malloc(sizeof(float) * m * k);
    float *bt = malloc(sizeof(float) * n * k), *c = malloc(sizeof(float) * m * n);
    float *want = malloc(sizeof(float) * m * n);
    const float **rows = malloc(sizeof(float *) * n);
    fill(pool, pool_n, &r), fill(a, (size_t)m * k, &r), fill(want, (size_t)m * n, &r);
    for (int j = 0; j < n; j++) {
        /* block j / run starts (k + 3) * run * (j / run) + (j / run) % 5 floats in */
        const size_t blk = (size_t)(j / run),
                     at = blk * ((size_t)k + 3) * run + blk % 5 + (size_t)(j % run) * stride;
        rows[j] = pool + at % (pool_n - k);
        for (int p = 0; p < k; p++)
            bt[(size_t)j * k + p] = rows[j][p];
    }
    for (size_t i = 0; i < (size_t)m * n; i++)
        c[i] = beta == 0.0f ? NAN : want[i];
    dl_sgemm(false, true, m, n, k, a, k, bt, k, beta, want, n);
    dl_sgemm_bt_rows(m, n, k, a, k, rows, beta, c, n);
    double worst = 0;
    for (size_t i = 0; i < (size_t)m * n; i++) {
        const double e = fabs((double)c[i] - want[i]) / (1.0 + fabs(want[i]));
        worst = e > worst || isnan(e) ? (isnan(e) ? INFINITY : e) : worst;
    }
    free(pool), free(a), free(bt), free(c), free(want), free(rows);
    return worst;
}

START_TEST(rows_from_a_table_match_the_copied_matrix)
{
    static const int cases[][5] = {/* m, n, k, run, stride */
                                   {32, 288, 840, 32, 902}, {32, 288, 840, 32, 840},
                                   {24, 90, 100, 3, 110},   {8, 50, 37, 1, 0},
                                   {17, 61, 9, 8, 9},       {64, 18, 200, 2, 300}};
    for (int i = 0; i < DL_GEMM_ISA_COUNT; i++) {
        if (!dl_gemm_force_isa((dl_gemm_isa)i))
            continue;
        for (size_t t = 0; t < sizeof cases / sizeof *cases; t++)
            for (int b = 0; b < 2; b++) {
                const int *q = cases[t];
                /* the same packs and kernel, so the same arithmetic: equal up to the
                 * summation order, which the table does not change */
                double e = check_rows(q[0], q[1], q[2], q[3], q[4], b ? 1.0f : 0.0f);
                ck_assert_msg(e <= 1e-6, "%s: %dx%dx%d run %d: error %g",
                              dl_gemm_isa_name((dl_gemm_isa)i), q[0], q[1], q[2], q[3], e);
            }
    }
}
END_TEST

START_TEST(matches_the_reference_on_every_supported_isa)
{
    int ran = 0;
    for (int i = 0; i < DL_GEMM_ISA_COUNT; i++) {
        if (!dl_gemm_force_isa((dl_gemm_isa)i)) {
            printf("check_ops_gemm: %s not supported by this CPU: skipped\n",
                   dl_gemm_isa_name((dl_gemm_isa)i));
            continue;
        }
        ck_assert_int_eq(dl_gemm_isa_active(), i);
        all_shapes();
        ran++;
    }
    ck_assert_int_ge(ran, 1); /* portable always runs */
}
END_TEST

START_TEST(the_default_is_the_best_supported_isa)
{
    dl_gemm_isa best = DL_GEMM_PORTABLE;
    for (int i = 0; i < DL_GEMM_ISA_COUNT; i++)
        if (dl_gemm_isa_supported((dl_gemm_isa)i))
            best = (dl_gemm_isa)i;
    if (!getenv("DLLAB_GEMM_ISA"))
        ck_assert_str_eq(dl_gemm_isa_name(dl_gemm_isa_active()), dl_gemm_isa_name(best));
    ck_assert(!dl_gemm_force_isa(DL_GEMM_ISA_COUNT));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_gemm");
    TCase *tc = tcase_create("gemm");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, the_default_is_the_best_supported_isa);
    tcase_add_test(tc, matches_the_reference_on_every_supported_isa);
    tcase_add_test(tc, rows_from_a_table_match_the_copied_matrix);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
