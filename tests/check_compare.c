/* check_compare: core/compare against a real temporary run store — alignment of runs of
 * different lengths on each x axis, figures with their epochs, baseline deltas, live refresh, and
 * the hyper-parameter diff (one key, nested keys, missing keys, identical configs, bad JSON). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compare/compare.h"
#include "tests/testutil.h"

static char *dir;
static dl_store *st;

static void setup(void)
{
    dir = tu_mkdtemp();
    dl_err err = {0};
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
}

static void teardown(void)
{
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}

/* A run of `epochs` epochs of `spe` batches each; valid loss per epoch from vl[], accuracy =
 * 1 - vl/4. Batch loss = 2 - step/100. Wall time: created + 10 s per batch. */
static int64_t make_run(const char *prefix, const char *config, int epochs, int spe,
                        const double *vl, bool finish)
{
    dl_err err = {0};
    dl_run_spec spec = {.name_prefix = prefix,
                        .dataset = "fake",
                        .arch = "resnet-xs",
                        .n_train = 1000,
                        .n_valid = 100,
                        .config_json = config};
    int64_t id;
    char name[DL_STORE_NAME_MAX];
    ck_assert_msg(dl_store_run_create(st, &spec, &id, name, sizeof name, &err) == DL_OK, "%s",
                  err.msg);
    dl_run r;
    ck_assert(dl_store_run_get(st, id, &r, &err) == DL_OK);
    double t0 = r.created;
    dl_run_clear(&r);
    int64_t step = 0;
    for (int e = 0; e < epochs; e++) {
        for (int b = 0; b < spe; b++, step++) {
            dl_batch_row row = {.step = step,
                                .epoch = e,
                                .n_lr = 1,
                                .lr = {1e-3},
                                .loss = 2 - step / 100.0,
                                .smooth_loss = 2 - step / 100.0,
                                .t = t0 + 10.0 * (double)(step + 1)};
            ck_assert(dl_store_log_batch(st, id, &row, &err) == DL_OK);
        }
        dl_epoch_row er = {.epoch = e,
                           .train_loss = 1.5,
                           .valid_loss = vl[e],
                           .duration = 10.0 * spe,
                           .t = t0 + 10.0 * (double)step,
                           .n_metrics = 1};
        snprintf(er.metrics[0].name, DL_STORE_NAME_MAX, "accuracy");
        er.metrics[0].value = 1 - vl[e] / 4;
        ck_assert(dl_store_log_epoch(st, id, &er, &err) == DL_OK);
    }
    if (finish)
        ck_assert(dl_store_run_finish(st, id, DL_RUN_FINISHED, &err) == DL_OK);
    return id;
}

static const double vl_a[] = {1.0, 0.8, 0.9};
static const double vl_b[] = {1.2, 0.7, 0.6, 0.65, 0.5};

START_TEST(align_by_epoch_different_lengths)
{
    int64_t ids[2] = {make_run("a", NULL, 3, 4, vl_a, true), make_run("b", NULL, 5, 2, vl_b, true)};
    dl_compare *c;
    dl_err err = {0};
    ck_assert_msg(dl_compare_load(st, ids, 2, &c, &err) == DL_OK, "%s", err.msg);
    ck_assert_uint_eq(c->n, 2);
    ck_assert_int_eq(c->n_metrics, 1);
    ck_assert_str_eq(c->metric_names[0], "accuracy");
    double *x, *y;
    size_t n;
    ck_assert(dl_cmp_align(c, DL_CMP_VALID_LOSS, NULL, DL_CMP_X_EPOCH, &x, &y, &n, &err) == DL_OK);
    ck_assert_uint_eq(n, 5); /* epochs 1..5: the shorter run has no value for 4 and 5 */
    for (size_t i = 0; i < n; i++)
        ck_assert(x[i] == (double)(i + 1));
    ck_assert(y[0] == 1.0 && y[2] == 0.9);
    ck_assert(isnan(y[3]) && isnan(y[4]));
    for (size_t i = 0; i < 5; i++)
        ck_assert(y[n + i] == vl_b[i]);
    free(x);
    free(y);
    dl_compare_free(c);
}
END_TEST

START_TEST(align_by_step_and_time)
{
    /* a: 4 batches per epoch, b: 2, so epoch ends fall on different steps */
    int64_t ids[2] = {make_run("a", NULL, 3, 4, vl_a, true), make_run("b", NULL, 5, 2, vl_b, true)};
    dl_compare *c;
    dl_err err = {0};
    ck_assert(dl_compare_load(st, ids, 2, &c, &err) == DL_OK);
    ck_assert(dl_cmp_steps_per_epoch(&c->runs[0]) == 4);
    ck_assert(dl_cmp_steps_per_epoch(&c->runs[1]) == 2);
    double *x, *y;
    size_t n;
    ck_assert(dl_cmp_align(c, DL_CMP_VALID_LOSS, NULL, DL_CMP_X_STEP, &x, &y, &n, &err) == DL_OK);
    /* a ends epochs at steps 4, 8, 12; b at 2, 4, 6, 8, 10 -> union 2,4,6,8,10,12 */
    double want[] = {2, 4, 6, 8, 10, 12};
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++)
        ck_assert(x[i] == want[i]);
    ck_assert(isnan(y[0]) && y[1] == 1.0 && isnan(y[2]) && y[3] == 0.8 && y[5] == 0.9);
    ck_assert(y[n + 0] == 1.2 && y[n + 1] == 0.7 && isnan(y[n + 5]));
    free(x);
    free(y);
    /* time: 10 s per batch from creation, so the same x values in seconds */
    ck_assert(dl_cmp_align(c, DL_CMP_VALID_LOSS, NULL, DL_CMP_X_TIME, &x, &y, &n, &err) == DL_OK);
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(x[i] - 10 * want[i]) < 1e-6, "x[%zu] = %g", i, x[i]);
    free(x);
    free(y);
    /* batch series by epoch: fractional positions inside each epoch */
    size_t nb;
    ck_assert(dl_cmp_series(&c->runs[0], DL_CMP_TRAIN_LOSS, NULL, DL_CMP_X_EPOCH, &x, &y, &nb,
                            &err) == DL_OK);
    ck_assert_uint_eq(nb, 12);
    ck_assert(x[0] == 0 && x[1] == 0.25 && x[4] == 1.0 && x[11] == 2.75);
    ck_assert(fabs(y[11] - (2 - 11 / 100.0)) < 1e-12);
    free(x);
    free(y);
    /* a metric series by name; an unknown metric is empty */
    ck_assert(dl_cmp_series(&c->runs[1], DL_CMP_METRIC, "accuracy", DL_CMP_X_EPOCH, &x, &y, &nb,
                            &err) == DL_OK);
    ck_assert_uint_eq(nb, 5);
    ck_assert(fabs(y[4] - (1 - 0.5 / 4)) < 1e-12);
    free(x);
    free(y);
    ck_assert(dl_cmp_series(&c->runs[1], DL_CMP_METRIC, "f1", DL_CMP_X_EPOCH, &x, &y, &nb, &err) ==
              DL_OK);
    ck_assert_uint_eq(nb, 0);
    ck_assert(dl_cmp_series(&c->runs[1], DL_CMP_METRIC, NULL, DL_CMP_X_EPOCH, &x, &y, &nb, &err) ==
              DL_EINVAL);
    dl_compare_free(c);
}
END_TEST

static const dl_cmp_figure *fig(const dl_cmp_figure *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return &f[i];
    ck_abort_msg("no figure '%s'", name);
    return NULL;
}

START_TEST(figures_and_baseline_deltas)
{
    int64_t ids[2] = {make_run("a", NULL, 3, 4, vl_a, true), make_run("b", NULL, 5, 2, vl_b, true)};
    dl_err err = {0};
    ck_assert(dl_store_baseline_set(st, ids[0], true, &err) == DL_OK);
    dl_compare *c;
    ck_assert(dl_compare_load(st, ids, 2, &c, &err) == DL_OK);
    ck_assert_int_eq(c->baseline, 0);
    dl_cmp_figure *f;
    size_t nf;
    ck_assert(dl_cmp_figures(c, &f, &nf, &err) == DL_OK);
    const dl_cmp_figure *best = fig(f, nf, "best valid_loss"),
                        *fin = fig(f, nf, "final valid_loss");
    ck_assert(best->value[0] == 0.8 && best->epoch[0] == 1);
    ck_assert(best->value[1] == 0.5 && best->epoch[1] == 4);
    ck_assert(fin->value[0] == 0.9 && fin->epoch[0] == 2);
    const dl_cmp_figure *acc = fig(f, nf, "best accuracy");
    ck_assert(!acc->lower_better);
    ck_assert(fabs(acc->value[1] - (1 - 0.5 / 4)) < 1e-12 && acc->epoch[1] == 4);
    const dl_cmp_figure *ep = fig(f, nf, "epochs"), *tt = fig(f, nf, "train time"),
                        *ips = fig(f, nf, "images/s");
    ck_assert(ep->value[0] == 3 && ep->value[1] == 5);
    ck_assert(tt->value[0] == 120 && tt->value[1] == 100 && tt->is_time);
    ck_assert(fabs(ips->value[0] - 1000.0 * 3 / 120) < 1e-9);
    /* deltas against run a */
    ck_assert(fabs(dl_cmp_delta(c, best, 1) - (0.5 - 0.8)) < 1e-12);
    ck_assert(dl_cmp_delta(c, best, 0) == 0);
    ck_assert(dl_cmp_delta(c, ep, 1) == 2);
    /* the screen's `b` moves the baseline to run b: deltas flip sign */
    c->baseline = 1;
    ck_assert(fabs(dl_cmp_delta(c, best, 0) - 0.3) < 1e-12);
    c->baseline = -1;
    ck_assert(isnan(dl_cmp_delta(c, best, 0)));
    dl_cmp_figures_free(f, nf);
    dl_compare_free(c);
}
END_TEST

START_TEST(refresh_follows_a_running_run)
{
    int64_t ids[2] = {make_run("a", NULL, 3, 4, vl_a, true),
                      make_run("live", NULL, 1, 2, vl_b, false)};
    dl_err err = {0};
    dl_store *reader;
    ck_assert(dl_store_open(dir, DL_STORE_READONLY, &reader, &err) == DL_OK);
    dl_compare *c;
    ck_assert(dl_compare_load(reader, ids, 2, &c, &err) == DL_OK);
    ck_assert_uint_eq(c->runs[1].n_epochs, 1);
    int changed = -1;
    ck_assert(dl_compare_refresh(c, reader, &changed, &err) == DL_OK);
    ck_assert_int_eq(changed, 0);
    dl_epoch_row er = {.epoch = 1, .train_loss = 1, .valid_loss = 0.4, .duration = 5, .t = 0};
    ck_assert(dl_store_log_epoch(st, ids[1], &er, &err) == DL_OK);
    ck_assert(dl_compare_refresh(c, reader, &changed, &err) == DL_OK);
    ck_assert_int_eq(changed, 1);
    ck_assert_uint_eq(c->runs[1].n_epochs, 2);
    ck_assert(c->runs[1].epochs[1].valid_loss == 0.4);
    dl_compare_free(c);
    dl_store_close(reader);
}
END_TEST

START_TEST(load_refuses_bad_lists)
{
    int64_t id = make_run("a", NULL, 1, 1, vl_a, true);
    int64_t ids[2] = {id, id};
    dl_compare *c;
    dl_err err = {0};
    ck_assert(dl_compare_load(st, ids, 2, &c, &err) == DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    int64_t missing[2] = {id, 999};
    ck_assert(dl_compare_load(st, missing, 2, &c, &err) != DL_OK);
    ck_assert_ptr_null(c);
}
END_TEST

/* ---- hyper-parameters ---- */

static const dl_cmp_param *param(const dl_cmp_param *p, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].key, key) == 0)
            return &p[i];
    return NULL;
}

START_TEST(diff_one_key)
{
    const char *cfg[3] = {"{\"arch\":\"resnet-xs\",\"bs\":64,\"lr\":0.001}",
                          "{\"arch\":\"resnet-xs\",\"bs\":64,\"lr\":0.01}",
                          "{\"arch\":\"resnet-xs\",\"bs\":64,\"lr\":0.0001}"};
    dl_cmp_param *p;
    size_t np;
    dl_err err = {0};
    ck_assert(dl_cmp_params(cfg, NULL, 3, false, &p, &np, &err) == DL_OK);
    ck_assert_uint_eq(np, 1);
    ck_assert_str_eq(p[0].key, "lr");
    ck_assert_str_eq(p[0].value[0], "0.001");
    ck_assert_str_eq(p[0].value[1], "0.01");
    ck_assert_str_eq(p[0].value[2], "0.0001");
    dl_cmp_params_free(p, np, 3);
    /* all: every key, in order of first appearance, flagged */
    ck_assert(dl_cmp_params(cfg, NULL, 3, true, &p, &np, &err) == DL_OK);
    ck_assert_uint_eq(np, 3);
    ck_assert_str_eq(p[0].key, "arch");
    ck_assert(!p[0].differs && !p[1].differs && p[2].differs);
    ck_assert_str_eq(p[0].value[2], "resnet-xs");
    ck_assert_str_eq(p[1].value[0], "64");
    dl_cmp_params_free(p, np, 3);
}
END_TEST

START_TEST(diff_nested_and_missing_keys)
{
    const char *cfg[2] = {"{\"prep\":{\"size\":28,\"mean\":[0.5],\"aug\":{\"flip\":true}},\"seed\":"
                          "42,\"argv\":[1,2]}",
                          "{\"prep\":{\"size\":64,\"mean\":[0.5],\"aug\":{\"flip\":false}},"
                          "\"seed\":42,\"argv\":[1,2],"
                          "\"pretrained\":\"imagenet\"}"};
    const char *names[2] = {"r1", "r2"};
    dl_cmp_param *p;
    size_t np;
    dl_err err = {0};
    ck_assert(dl_cmp_params(cfg, names, 2, false, &p, &np, &err) == DL_OK);
    ck_assert_uint_eq(np, 3);
    const dl_cmp_param *size = param(p, np, "prep.size"), *flip = param(p, np, "prep.aug.flip"),
                       *pre = param(p, np, "pretrained");
    ck_assert(size && flip && pre);
    ck_assert_str_eq(size->value[0], "28");
    ck_assert_str_eq(size->value[1], "64");
    ck_assert_str_eq(flip->value[0], "true");
    ck_assert_ptr_null(pre->value[0]);
    ck_assert_str_eq(pre->value[1], "imagenet");
    ck_assert_ptr_null(param(p, np, "prep.mean"));
    ck_assert_ptr_null(param(p, np, "seed"));
    dl_cmp_params_free(p, np, 2);
    ck_assert(dl_cmp_params(cfg, names, 2, true, &p, &np, &err) == DL_OK);
    const dl_cmp_param *mean = param(p, np, "prep.mean");
    ck_assert(mean && !mean->differs);
    ck_assert_str_eq(mean->value[1], "[0.5]");
    ck_assert_str_eq(param(p, np, "argv")->value[0], "[1,2]"); /* not a command line: kept whole */
    dl_cmp_params_free(p, np, 2);
    /* arrays of reals read like single reals (%.6g), strings in them stay quoted */
    const char *vec[2] = {
        "{\"mean\":[0.39976820349693298,0.37863659858703613],\"tags\":[\"a\",[]]}",
        "{\"mean\":[0.2825562059879303],\"tags\":[]}"};
    ck_assert(dl_cmp_params(vec, names, 2, false, &p, &np, &err) == DL_OK);
    ck_assert_str_eq(param(p, np, "mean")->value[0], "[0.399768,0.378637]");
    ck_assert_str_eq(param(p, np, "mean")->value[1], "[0.282556]");
    ck_assert_str_eq(param(p, np, "tags")->value[0], "[\"a\",[]]");
    ck_assert_str_eq(param(p, np, "tags")->value[1], "[]");
    dl_cmp_params_free(p, np, 2);
}
END_TEST

/* A run of the previous schema (its command line as "argv") is read with the option table: its
 * learning rate is the row "lr" in the explicit form, a flag the schedule it chose, and settings
 * that are not hyper-parameters (name, runs, no-tui) are left out. */
START_TEST(diff_reads_the_command_line)
{
    const char *cfg[2] = {"{\"argv\":[\"train\",\"--lr\",\"1e-3\",\"--name\",\"s-1\",\"--no-tui\","
                          "\"--bs\",\"64\",\"fashion-mnist\"],\"bs\":64}",
                          "{\"argv\":[\"train\",\"--lr=1e-2\",\"--name\",\"s-2\",\"--fit\",\"--"
                          "bs\",\"64\",\"--runs\",\"/x\",\"fashion-mnist\"],"
                          "\"bs\":64}"};
    dl_cmp_param *p;
    size_t np;
    dl_err err = {0};
    ck_assert(dl_cmp_params(cfg, NULL, 2, false, &p, &np, &err) == DL_OK);
    ck_assert_uint_eq(np, 2);
    const dl_cmp_param *lr = param(p, np, "lr"), *sched = param(p, np, "schedule");
    ck_assert(lr && sched);
    ck_assert_str_eq(lr->value[0], "..0.001");
    ck_assert_str_eq(lr->value[1], "..0.01");
    ck_assert_str_eq(sched->value[0], "one-cycle");
    ck_assert_str_eq(sched->value[1], "fit");
    dl_cmp_params_free(p, np, 2);
    ck_assert(dl_cmp_params(cfg, NULL, 2, true, &p, &np, &err) == DL_OK);
    ck_assert_str_eq(param(p, np, "data")->value[1], "fashion-mnist");
    ck_assert_str_eq(param(p, np, "bs")->value[0], "64");
    ck_assert_str_eq(param(p, np, "epochs")->value[0], "1"); /* the default, stored as such */
    ck_assert_ptr_null(param(p, np, "name"));
    ck_assert_ptr_null(param(p, np, "runs"));
    ck_assert_ptr_null(param(p, np, "threads"));
    ck_assert_ptr_null(param(p, np, "argv"));
    dl_cmp_params_free(p, np, 2);
}
END_TEST

START_TEST(diff_identical_and_bad)
{
    const char *same[2] = {"{\"a\":{\"b\":1},\"c\":\"x\"}", "{\"c\":\"x\",\"a\":{\"b\":1}}"};
    dl_cmp_param *p;
    size_t np = 9;
    dl_err err = {0};
    ck_assert(dl_cmp_params(same, NULL, 2, false, &p, &np, &err) == DL_OK);
    ck_assert_uint_eq(np, 0);
    ck_assert_ptr_null(p);
    /* a run without a configuration: all its keys are missing, so everything differs */
    const char *none[2] = {"{\"a\":1}", NULL};
    ck_assert(dl_cmp_params(none, NULL, 2, false, &p, &np, &err) == DL_OK);
    ck_assert_uint_eq(np, 1);
    ck_assert_ptr_null(p[0].value[1]);
    dl_cmp_params_free(p, np, 2);
    const char *bad[2] = {"{\"a\":1}", "{\"a\":"};
    const char *names[2] = {"good-1", "broken-2"};
    ck_assert(dl_cmp_params(bad, names, 2, false, &p, &np, &err) == DL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "broken-2"));
    const char *arr[2] = {"{\"a\":1}", "[1,2]"};
    ck_assert(dl_cmp_params(arr, names, 2, false, &p, &np, &err) == DL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a JSON object"));
}
END_TEST

START_TEST(xaxis_names)
{
    dl_cmp_xaxis x;
    dl_err err = {0};
    ck_assert(dl_cmp_xaxis_parse("time", &x, &err) == DL_OK && x == DL_CMP_X_TIME);
    ck_assert(dl_cmp_xaxis_parse("epoch", &x, &err) == DL_OK && x == DL_CMP_X_EPOCH);
    ck_assert(dl_cmp_xaxis_parse("wall", &x, &err) == DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "wall"));
    ck_assert(dl_cmp_lower_is_better("error_rate") && !dl_cmp_lower_is_better("accuracy"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, align_by_epoch_different_lengths);
    tcase_add_test(tc, align_by_step_and_time);
    tcase_add_test(tc, figures_and_baseline_deltas);
    tcase_add_test(tc, refresh_follows_a_running_run);
    tcase_add_test(tc, load_refuses_bad_lists);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("params");
    tcase_add_test(tp, diff_one_key);
    tcase_add_test(tp, diff_nested_and_missing_keys);
    tcase_add_test(tp, diff_identical_and_bad);
    tcase_add_test(tp, diff_reads_the_command_line);
    tcase_add_test(tp, xaxis_names);
    suite_add_tcase(s, tp);
    return tu_run(s);
}
