/* check_learn_metrics: metrics and interpretation on fixed, hand-checked predictions:
 * accuracy / error_rate / accuracy_multi, batch-size-weighted averages, the confusion matrix
 * orientation, most_confused ordering and its min_val boundary, top losses, and multi-label
 * per-class figures and the threshold sweep. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn/interp.h"
#include "core/learn/metrics.h"
#include "tests/testutil.h"

START_TEST(accuracy_error_rate_and_multi)
{
    /* 4 items, 3 classes; argmax = 0, 2, 1, 1 (item 3 ties 1 and 2: first max wins). */
    const float lg[] = {3, 1, 0, 0, 1, 5, -1, 2, 0, 0, 4, 4};
    const int32_t t[] = {0, 2, 2, 1};
    ck_assert_double_eq_tol(dl_metric_accuracy(lg, t, 4, 3), 0.75, 1e-12);
    ck_assert_double_eq_tol(dl_metric_eval(DL_METRIC_ERROR_RATE, lg, t, NULL, 4, 3, 0.5f), 0.25,
                            1e-12);

    /* logits 0 -> sigmoid 0.5, not > 0.5: negative. */
    const float ml[] = {2, -2, 0, -1, 0.5f, 3};
    const float mt[] = {1, 0, 1, 0, 0, 1};
    /* preds: 1 0 0 | 0 1 1 vs 1 0 1 | 0 0 1 -> 4 of 6 right */
    ck_assert_double_eq_tol(dl_metric_accuracy_multi(ml, mt, 2, 3, 0.5f, true), 4.0 / 6, 1e-12);
    /* thresh 0.2: sigmoid(-1)=0.269 -> positive, sigmoid(-2)=0.119 negative, 0.5 positive:
     * preds 1 0 1 | 1 1 1 -> right: 1 1 1 | 0 0 1 = 4 */
    ck_assert_double_eq_tol(dl_metric_eval(DL_METRIC_ACCURACY_MULTI, ml, NULL, mt, 2, 3, 0.2f),
                            4.0 / 6, 1e-12);
    ck_assert_double_eq_tol(dl_metric_accuracy_multi(ml, mt, 2, 3, 0.6f, true), 4.0 / 6, 1e-12);
    const float probs[] = {0.9f, 0.1f, 0.7f, 0.2f, 0.3f, 0.95f};
    ck_assert_double_eq_tol(dl_metric_accuracy_multi(probs, mt, 2, 3, 0.5f, false), 1.0, 1e-12);
}
END_TEST

START_TEST(weighted_average)
{
    dl_wavg a;
    dl_wavg_reset(&a);
    ck_assert(isnan(dl_wavg_value(&a)));
    dl_wavg_add(&a, 1.0, 64);
    dl_wavg_add(&a, 0.0, 16); /* a small last batch weighs less than a plain mean of batch values */
    ck_assert_double_eq_tol(dl_wavg_value(&a), 0.8, 1e-12);
}
END_TEST

START_TEST(metric_names)
{
    dl_metric_kind k;
    dl_err err;
    ck_assert_int_eq(dl_metric_parse("accuracy_multi", &k, &err), DL_OK);
    ck_assert_int_eq(k, DL_METRIC_ACCURACY_MULTI);
    ck_assert_int_eq(dl_metric_parse("f1", &k, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'f1'"));
    ck_assert_str_eq(dl_metric_name(DL_METRIC_ERROR_RATE), "error_rate");
    ck_assert(dl_metric_lower_is_better("valid_loss"));
    ck_assert(dl_metric_lower_is_better("error_rate"));
    ck_assert(!dl_metric_lower_is_better("accuracy"));
}
END_TEST

/* 10 items over 3 classes; the logits put a 4.0 on the predicted class. */
static void single_fixture(float *lg, int32_t *act)
{
    static const int a[10] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
    static const int p[10] = {0, 1, 1, 1, 0, 2, 2, 0, 0, 1};
    for (int i = 0; i < 10; i++) {
        act[i] = a[i];
        for (int j = 0; j < 3; j++)
            lg[i * 3 + j] = j == p[i] ? 4.0f : 0.0f;
    }
    lg[4 * 3 + 0] = 6.0f; /* item 4 wrong with more confidence: the largest loss */
}

START_TEST(confusion_matrix_rows_actual_cols_predicted)
{
    float lg[30];
    int32_t act[10];
    single_fixture(lg, act);
    dl_interp it;
    dl_err err;
    ck_assert_int_eq(dl_interp_init(&it, lg, act, NULL, 10, 3, &err), DL_OK);
    int64_t cm[9];
    ck_assert_int_eq(dl_interp_confusion(&it, cm, &err), DL_OK);
    const int64_t want[9] = {1, 2, 0, /**/ 1, 1, 1, /**/ 2, 1, 1};
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(cm[i], want[i]);

    dl_confused mc[6];
    size_t n = dl_interp_most_confused(&it, 1, mc, 6);
    ck_assert_uint_eq(n, 5);
    /* count 2 first, row-major among ties: (0,1,2), (2,0,2), then (1,0), (1,2), (2,1). */
    const int wa[5] = {0, 2, 1, 1, 2}, wp[5] = {1, 0, 0, 2, 1}, wc[5] = {2, 2, 1, 1, 1};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(mc[i].actual, wa[i]);
        ck_assert_int_eq(mc[i].predicted, wp[i]);
        ck_assert_int_eq(mc[i].count, wc[i]);
    }
    ck_assert_uint_eq(dl_interp_most_confused(&it, 2, mc, 6), 2); /* == min_val is listed */
    ck_assert_uint_eq(dl_interp_most_confused(&it, 3, mc, 6), 0);
    ck_assert_uint_eq(dl_interp_most_confused(&it, 1, mc, 1), 5); /* total reported beyond cap */

    dl_top_loss tl[3];
    ck_assert_uint_eq(dl_interp_top_losses(&it, 3, true, tl), 3);
    ck_assert_int_eq(tl[0].item, 4);
    ck_assert_int_eq(tl[0].actual, 1);
    ck_assert_int_eq(tl[0].predicted, 0);
    double lse = log(exp(6.0) + 2.0);
    ck_assert_double_eq_tol(tl[0].loss, lse, 1e-5);            /* -log softmax[actual] */
    ck_assert_double_eq_tol(tl[0].prob, exp(6.0 - lse), 1e-6); /* prob of the predicted class */
    /* next: the 6 equally wrong items, lowest index first */
    ck_assert_int_eq(tl[1].item, 1);
    ck_assert_int_eq(tl[2].item, 2);
    ck_assert_uint_eq(dl_interp_top_losses(&it, 2, false, tl), 2);
    ck_assert_int_eq(tl[0].item, 0); /* correct items have the smallest losses */
    ck_assert_double_eq_tol(tl[0].loss, log(exp(4.0) + 2.0) - 4.0, 1e-5);

    ck_assert_int_eq(dl_interp_per_class(&it, 0.5f, NULL, NULL, &err), DL_EINVAL);
    dl_interp_clear(&it);

    act[7] = 3;
    ck_assert_int_eq(dl_interp_init(&it, lg, act, NULL, 10, 3, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "item 7"));
}
END_TEST

START_TEST(multi_label_figures_and_sweep)
{
    /* 4 items, 2 classes, given as probabilities through their logits. */
    const float p[8] = {0.9f, 0.3f, 0.6f, 0.1f, 0.4f, 0.8f, 0.2f, 0.55f};
    const float y[8] = {1, 1, 0, 0, 1, 1, 0, 0};
    float lg[8];
    for (int i = 0; i < 8; i++)
        lg[i] = logf(p[i] / (1 - p[i]));
    dl_interp it;
    dl_err err;
    ck_assert_int_eq(dl_interp_init(&it, lg, NULL, y, 4, 2, &err), DL_OK);
    dl_class_prf c[2];
    double micro;
    ck_assert_int_eq(dl_interp_per_class(&it, 0.5f, c, &micro, &err), DL_OK);
    /* class 0: preds 1 1 0 0 vs 1 0 1 0 -> tp1 fp1 fn1 tn1 */
    ck_assert_int_eq(c[0].tp, 1);
    ck_assert_int_eq(c[0].fp, 1);
    ck_assert_int_eq(c[0].fn, 1);
    ck_assert_int_eq(c[0].tn, 1);
    ck_assert_double_eq_tol(c[0].f1, 0.5, 1e-12);
    /* class 1: preds 0 0 1 1 vs 1 0 1 0 -> tp1 fp1 fn1 tn1 */
    ck_assert_int_eq(c[1].tp, 1);
    ck_assert_double_eq_tol(c[1].precision, 0.5, 1e-12);
    ck_assert_double_eq_tol(micro, 0.5, 1e-12);

    /* threshold 0.95: nothing positive -> precision, recall, F1 all 0 (no NaN) */
    ck_assert_int_eq(dl_interp_per_class(&it, 0.95f, c, &micro, &err), DL_OK);
    ck_assert_double_eq(c[0].precision, 0.0);
    ck_assert_double_eq(micro, 0.0);

    dl_sweep_point sw[3];
    int ba, bf;
    ck_assert_int_eq(dl_interp_sweep(&it, 0.25f, 0.85f, 3, sw, &ba, &bf, &err), DL_OK);
    ck_assert_double_eq_tol(sw[1].thresh, 0.55, 1e-6);
    /* 0.25: preds 1 1 | 1 0 | 1 1 | 0 1 -> right 1 1 0 1 1 1 1 0 = 6/8; tp 4 fp 2 fn 0 -> F1 0.8
     * 0.55: preds 1 0 | 1 0 | 0 1 | 0 0 (0.55 not > 0.55) -> right 1 0 0 1 0 1 1 1 = 5/8
     * 0.85: preds 1 0 | 0 0 | 0 0 | 0 0 -> right 1 0 1 1 0 0 1 1 = 5/8 */
    ck_assert_double_eq_tol(sw[0].acc_multi, 0.75, 1e-12);
    ck_assert_double_eq_tol(sw[1].acc_multi, 0.625, 1e-12);
    ck_assert_double_eq_tol(sw[2].acc_multi, 0.625, 1e-12);
    ck_assert_double_eq_tol(sw[0].micro_f1, 0.8, 1e-12);
    ck_assert_int_eq(ba, 0);
    ck_assert_int_eq(bf, 0);

    dl_top_loss tl[1];
    ck_assert_uint_eq(dl_interp_top_losses(&it, 1, true, tl), 1);
    /* item 1 (probs .6/.1, targets 0/0): loss (-log .4 - log .9)/2 = 0.5108;
     * item 0: (-log .9 - log .3)/2 = 0.6547; item 2: (-log .4 - log .8)/2 = 0.5697;
     * item 3: (-log .8 - log .45)/2 = 0.5108 -> item 0 */
    ck_assert_int_eq(tl[0].item, 0);
    ck_assert_double_eq_tol(tl[0].loss, (-log(0.9) - log(0.3)) / 2, 1e-5);
    ck_assert_int_eq(dl_interp_confusion(&it, NULL, &err), DL_EINVAL);
    dl_interp_clear(&it);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("learn_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, accuracy_error_rate_and_multi);
    tcase_add_test(tc, weighted_average);
    tcase_add_test(tc, metric_names);
    tcase_add_test(tc, confusion_matrix_rows_actual_cols_predicted);
    tcase_add_test(tc, multi_label_figures_and_sweep);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
