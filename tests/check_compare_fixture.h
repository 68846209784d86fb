/* check_compare_fixture: a small run store for the compare, export and screen suites: three
 * finished runs "lr-a-1", "lr-b-1", "lr-c-1" of 3, 4 and 2 epochs (4 batches each, metric
 * accuracy), configs differing in lr and prep.size (run c lacks "pretrained"), run a with an
 * LR-finder curve and a 3-class confusion matrix. Header-only: each suite includes it once. */
#ifndef DL_CHECK_COMPARE_FIXTURE_H
#define DL_CHECK_COMPARE_FIXTURE_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/store/store.h"

static int64_t cf_run(dl_store *st, const char *prefix, const char *config, int epochs,
                      double lr_scale)
{
    dl_err err = {0};
    dl_run_spec spec = {.name_prefix = prefix,
                        .dataset = "fake",
                        .arch = "resnet-xs",
                        .n_train = 512,
                        .n_valid = 128,
                        .config_json = config,
                        .vocab_json = "[\"cat\",\"dog\",\"owl\"]"};
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
        for (int b = 0; b < 4; b++, step++) {
            double loss = 2.0 * exp(-0.2 * lr_scale * (double)step) + 0.05 * (b % 2);
            dl_batch_row row = {.step = step,
                                .epoch = e,
                                .n_lr = 1,
                                .lr = {1e-3 * lr_scale},
                                .loss = loss,
                                .smooth_loss = loss,
                                .t = t0 + 2.0 * (double)(step + 1)};
            ck_assert(dl_store_log_batch(st, id, &row, &err) == DL_OK);
        }
        double vl = 1.5 * exp(-0.5 * lr_scale * (e + 1));
        dl_epoch_row er = {.epoch = e,
                           .train_loss = vl * 1.1,
                           .valid_loss = vl,
                           .duration = 8.0,
                           .t = t0 + 2.0 * (double)step,
                           .n_metrics = 1};
        snprintf(er.metrics[0].name, DL_STORE_NAME_MAX, "accuracy");
        er.metrics[0].value = 1 - vl / 3;
        ck_assert(dl_store_log_epoch(st, id, &er, &err) == DL_OK);
    }
    ck_assert(dl_store_run_finish(st, id, DL_RUN_FINISHED, &err) == DL_OK);
    return id;
}

static void cf_build(const char *dir, int64_t ids[3])
{
    dl_store *st;
    dl_err err = {0};
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    ids[0] = cf_run(
        st, "lr-a",
        "{\"arch\":\"resnet-xs\",\"lr\":0.001,\"prep\":{\"size\":28},\"pretrained\":\"none\"}", 3,
        1);
    ids[1] = cf_run(
        st, "lr-b",
        "{\"arch\":\"resnet-xs\",\"lr\":0.01,\"prep\":{\"size\":28},\"pretrained\":\"none\"}", 4,
        2);
    ids[2] =
        cf_run(st, "lr-c", "{\"arch\":\"resnet-xs\",\"lr\":0.001,\"prep\":{\"size\":64}}", 2, 0.5);
    double lr[20], loss[20];
    for (int i = 0; i < 20; i++) {
        lr[i] = 1e-6 * pow(10, i * 0.3);
        loss[i] = 2.5 - 0.1 * i + (i > 15 ? 0.8 * (i - 15) : 0);
    }
    dl_lr_suggestion sug = {.method = "valley", .lr = lr[10], .loss = loss[10]};
    ck_assert(dl_store_lrfind_save(st, ids[0], 0, lr, loss, 20, &sug, 1, NULL, &err) == DL_OK);
    ck_assert(dl_store_interp_save(
                  st, ids[0], 2, "confusion",
                  "{\"vocab\":[\"cat\",\"dog\",\"owl\"],\"matrix\":[[40,2,1],[3,38,2],[0,5,37]]}",
                  &err) == DL_OK);
    dl_store_close(st);
}

#endif
