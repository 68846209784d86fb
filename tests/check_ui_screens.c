/* check_ui_screens: dllab's screens driven without a terminal. A dl_control is filled by hand
 * (as a trainer would), the screens draw into grids at 80x24 and 120x40 that are compared with
 * golden text in tests/fixtures/ui/ (DLLAB_UPDATE_GOLDEN=1 rewrites them), and keys are checked
 * to post the right commands to the trainer; the lr/momentum strip and the event log's
 * checkpoint and skipped-file lines are checked cell by cell. */
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn/control.h"
#include "core/lrfind/lrfind.h"
#include "core/store/store.h"
#include "tests/golden.h"
#include "core/run/run_cfg.h"
#include "tests/testutil.h"
#include "ui/app.h"
#include "ui/feed.h"
#include "ui/layout.h"
#include "ui/screens.h"

/* A trainer's worth of progress: 3 epochs of 50 batches, 2 validations, events. */
static dl_control *fake_training(void)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    unsigned s = 7;
    double smooth = 0, pw = 1;
    for (int step = 0; step < 130; step++) {
        s = s * 1103515245u + 12345u;
        double raw = 2.2 * exp(-step / 40.0) + 0.35 + 0.2 * (((s >> 16) % 1000) / 1000.0 - 0.5);
        smooth = 0.98 * smooth + 0.02 * raw;
        pw *= 0.98;
        double lr = 1e-3 * (step < 40 ? 0.04 + 0.96 * step / 40.0
                                      : 0.5 * (1 + cos(M_PI * (step - 40) / 110.0)));
        /* one-cycle's momentum: 0.95 down to 0.85 while the lr warms up, back up as it anneals */
        double mom =
            step < 40 ? 0.95 - 0.1 * step / 40.0 : 0.9 - 0.05 * cos(M_PI * (step - 40) / 110.0);
        dl_curve_point p = {.kind = DL_POINT_TRAIN,
                            .step = (uint64_t)step,
                            .epoch = step / 50,
                            .lr = lr,
                            .loss = smooth / (1 - pw),
                            .raw = raw,
                            .mom = mom};
        dl_control_push_point(c, &p);
        if (step == 49 || step == 99) {
            dl_curve_point v = {.kind = DL_POINT_VALID,
                                .step = (uint64_t)step,
                                .epoch = step / 50,
                                .lr = lr,
                                .loss = step == 49 ? 0.74 : 0.52};
            dl_control_push_point(c, &v);
        }
    }
    dl_event e = {.step = 0, .n_groups = 3, .frozen_to = 2, .text = "freeze frozen_to 2"};
    dl_control_push_event(c, &e);
    e.step = 60;
    snprintf(e.text, sizeof e.text, "scale_lr x2");
    dl_control_push_event(c, &e);
    e.step = 99;
    snprintf(e.text, sizeof e.text, "checkpoint epoch-1 (valid_loss 0.52)");
    dl_control_push_event(c, &e);
    dl_snapshot sn = {.phase = DL_PHASE_TRAIN,
                      .epoch = 2,
                      .n_epochs = 3,
                      .batch = 29,
                      .n_batches = 50,
                      .step = 129,
                      .n_groups = 3,
                      .lr = {1e-5, 1e-4, 1e-3},
                      .mom = 0.9,
                      .frozen_to = 2,
                      .last_loss = 0.4,
                      .smooth_loss = 0.45,
                      .valid_loss = 0.52,
                      .n_metrics = 1,
                      .metric_name = {"accuracy"},
                      .metric = {0.8125},
                      .images_per_s = 812,
                      .eta_s = 95};
    dl_control_publish(c, &sn);
    return c;
}

static char *render(dl_app *app, int cols, int rows, int ascii)
{
    dl_ui_env env = {ascii, ascii ? DL_COLOR_MONO : DL_COLOR_256};
    dl_app_set_env(app, &env);
    dl_grid *g = dl_grid_new(cols, rows);
    dl_app_draw(app, g);
    char *s = dl_grid_dump(g);
    dl_grid_free(g);
    return s;
}

static int take_all(dl_control *c, dl_cmd *out, int cap)
{
    return (int)dl_control_take(c, out, (size_t)cap);
}

START_TEST(train_screen_renders_a_training)
{
    dl_control *c = fake_training();
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    dl_run_info info = {"fmnist-resnet-xs-1", "fashion-mnist (idx) 60000/10000", "resnet-xs"};
    ck_assert_int_eq(dl_screen_train(&s, c, NULL, &info, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    ck_assert(s.tick(dl_app_top(app), app) & DL_R_REDRAW);
    ck_assert_int_eq(s.tick(dl_app_top(app), app), DL_R_NONE); /* nothing new */
    char *t = render(app, 80, 24, 0);
    tu_assert_golden("train-80x24.txt", t);
    ck_assert_ptr_nonnull(strstr(t, "fmnist-resnet-xs-1"));
    ck_assert_ptr_nonnull(strstr(t, "epoch 3/3"));
    ck_assert_ptr_nonnull(strstr(t, "frozen 0-1"));
    ck_assert_ptr_nonnull(strstr(t, "0.520000")); /* epoch table valid loss */
    ck_assert_ptr_nonnull(strstr(t, "scale_lr x2"));
    /* the 80-column key bar: the steering keys first, "? more" for the rest */
    const char *bar = strrchr(t, '\n') ? t : t;
    for (const char *p = t; (p = strchr(p, '\n')) && p[1]; p++)
        bar = p + 1;
    ck_assert_msg(strstr(bar, "p pause") && strstr(bar, "e stop-epoch") &&
                      strstr(bar, "= lr-set") && strstr(bar, "l lr-find") && strstr(bar, "? more"),
                  "key bar: %s", bar);
    free(t);
    t = render(app, 120, 40, 0);
    tu_assert_golden("train-120x40.txt", t);
    free(t);
    t = render(app, 80, 24, 1);
    for (const char *p = t; *p; p++)
        ck_assert_msg((*p >= 32 && *p < 127) || *p == '\n', "non-ASCII byte in ASCII mode");
    tu_assert_golden("train-80x24-ascii.txt", t);
    free(t);
    t = render(app, 70, 20, 0);
    ck_assert_ptr_nonnull(strstr(t, "terminal too small"));
    free(t);
    dl_app_free(app);
    /* A data description longer than the header stops before the phase, which ends the line. */
    app = dl_app_new(NULL);
    dl_run_info wide = {"fmnist-resnet-xs-1",
                        "a-long-folder-of-photos-of-cats-and-dogs (folder per class) 6000/1500",
                        "resnet-xs"};
    ck_assert_int_eq(dl_screen_train(&s, c, NULL, &wide, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    s.tick(dl_app_top(app), app);
    t = render(app, 80, 24, 0);
    char *eol = strchr(t, '\n');
    ck_assert_ptr_nonnull(eol);
    while (eol > t && eol[-1] == ' ')
        eol--;
    ck_assert_msg(eol - t >= 6 && strncmp(eol - 6, " train", 6) == 0, "header: %.*s",
                  (int)(eol - t), t);
    free(t);
    dl_app_free(app);
    dl_control_free(c);
}
END_TEST

/* The strip under the loss plot: the lr (train colour) and the momentum the points carry (valid
 * colour), each scaled to its own range, with the momentum's value beside it. */
START_TEST(train_strip_draws_lr_and_momentum)
{
    dl_control *c = fake_training();
    dl_feed feed;
    dl_feed_init(&feed, c);
    ck_assert_int_eq(dl_feed_pull(&feed), 1);
    ck_assert_int_eq(feed.mom.n, feed.train.n);
    ck_assert_float_eq_tol(feed.mom.y[0], 0.95f, 1e-6f);
    ck_assert_float_eq_tol(feed.mom.y[40], 0.85f, 1e-6f);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_int_eq(dl_screen_train(&s, NULL, &feed, NULL, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    dl_ui_env env = {0, DL_COLOR_256};
    dl_app_set_env(app, &env);
    dl_grid *g = dl_grid_new(80, 24);
    dl_app_draw(app, g);
    dl_train_layout l;
    ck_assert_int_eq(dl_layout_train(80, 24, &l), 0);
    int lr_cells = 0, mom_cells = 0, top_mom = 0, bottom_mom = 0;
    for (int y = l.sched.y; y < l.sched.y + l.sched.h; y++)
        for (int x = l.sched.x + 9; x < l.sched.x + l.sched.w; x++) {
            const dl_cell *cell = dl_grid_cat(g, x, y);
            lr_cells += cell->role == DL_ROLE_TRAIN;
            mom_cells += cell->role == DL_ROLE_VALID;
            top_mom += cell->role == DL_ROLE_VALID && y == l.sched.y;
            bottom_mom += cell->role == DL_ROLE_VALID && y == l.sched.y + l.sched.h - 1;
        }
    ck_assert_int_gt(lr_cells, 10);
    ck_assert_int_gt(mom_cells, 10);
    /* 0.95 at the start is the top of the momentum's range, 0.85 (step 40) its bottom */
    ck_assert_int_gt(top_mom, 0);
    ck_assert_int_gt(bottom_mom, 0);
    char *t = dl_grid_dump(g);
    ck_assert_ptr_nonnull(strstr(t, "mom 0.9"));
    free(t);
    dl_grid_free(g);
    dl_app_free(app);
    dl_feed_free(&feed);
    dl_control_free(c);
}
END_TEST

/* Checkpoints (written or failed) and skipped input files pushed by the learner reach the feed
 * and the event log, a failed write in the "bad" colour and the skipped files as a warning. */
START_TEST(train_event_log_shows_checkpoints_and_skipped_files)
{
    dl_control *c = fake_training();
    static const char *const texts[] = {"warning skipped 4 input files: a.jpg, b.jpg, c.jpg, ...",
                                        "checkpoint epoch-1 (best)", "checkpoint step-120",
                                        "checkpoint-failed epoch-2: No space left on device"};
    for (int i = 0; i < 4; i++) {
        dl_event e = {.step = 100 + (uint64_t)i, .n_groups = 3, .frozen_to = 0};
        snprintf(e.text, sizeof e.text, "%s", texts[i]);
        dl_control_push_event(c, &e);
    }
    dl_feed feed;
    dl_feed_init(&feed, c);
    ck_assert_int_eq(dl_feed_pull(&feed), 1);
    ck_assert_int_eq(dl_feed_events_kept(&feed), 7);
    ck_assert_str_eq(dl_feed_event(&feed, 6)->text, texts[3]);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_int_eq(dl_screen_train(&s, NULL, &feed, NULL, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    dl_ui_env env = {0, DL_COLOR_256};
    dl_app_set_env(app, &env);
    dl_grid *g = dl_grid_new(120, 40);
    dl_app_draw(app, g);
    char *t = dl_grid_dump(g);
    /* (the event panel is 46 columns wide at 120x40: long lines are cut) */
    ck_assert_ptr_nonnull(strstr(t, "warning skipped 4 input files"));
    ck_assert_ptr_nonnull(strstr(t, "checkpoint epoch-1 (best)"));
    ck_assert_ptr_nonnull(strstr(t, "checkpoint step-120"));
    ck_assert_ptr_nonnull(strstr(t, "checkpoint-failed epoch-2: No"));
    /* the role of each line's text: find the rows */
    int row_fail = -1, row_skip = -1, row = 0;
    for (const char *p = t; *p; row++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1),
                 p);
        if (strstr(line, "checkpoint-failed"))
            row_fail = row;
        if (strstr(line, "warning skipped"))
            row_skip = row;
        p = nl ? nl + 1 : p + len;
    }
    ck_assert_int_ge(row_fail, 0);
    ck_assert_int_ge(row_skip, 0);
    int bad = 0, warn = 0;
    for (int x = 0; x < 120; x++) {
        bad += dl_grid_cat(g, x, row_fail)->role == DL_ROLE_BAD;
        warn += dl_grid_cat(g, x, row_skip)->role == DL_ROLE_WARN;
    }
    ck_assert_int_gt(bad, 20);
    ck_assert_int_gt(warn, 20);
    free(t);
    dl_grid_free(g);
    dl_app_free(app);
    dl_feed_free(&feed);
    dl_control_free(c);
}
END_TEST

/* fine_tune between its phases: the frozen fit has ended and another follows. The badge is not
 * "done", the frozen epoch is labelled, and l starts the finder (a saved run's l only shows its
 * stored curve). */
START_TEST(train_between_fine_tune_phases_is_not_done)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    for (int step = 1; step <= 30; step++) {
        dl_curve_point p = {.kind = DL_POINT_TRAIN,
                            .step = (uint64_t)step,
                            .lr = 1e-3,
                            .loss = 2.0 - step * 0.01,
                            .raw = 2.0 - step * 0.01,
                            .frozen_fit = true};
        dl_control_push_point(c, &p);
    }
    dl_curve_point v = {
        .kind = DL_POINT_VALID, .step = 30, .epoch = 0, .loss = 1.9, .frozen_fit = true};
    dl_control_push_point(c, &v);
    dl_snapshot sn = {.phase = DL_PHASE_NEXT_FIT,
                      .epoch = 0,
                      .n_epochs = 1,
                      .batch = 29,
                      .n_batches = 30,
                      .n_groups = 3,
                      .lr = {2e-4, 2e-4, 2e-3},
                      .frozen_to = 2,
                      .frozen_fit = true,
                      .valid_loss = 1.9};
    dl_control_publish(c, &sn);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_int_eq(dl_screen_train(&s, c, NULL, NULL, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    s.tick(dl_app_top(app), app);
    char *t = render(app, 120, 40, 0);
    ck_assert_msg(strstr(t, "next fit") && !strstr(t, " done"), "%s", t);
    ck_assert_msg(strstr(t, "frozen epoch 1/1"), "%s", t);
    ck_assert_msg(strstr(t, "frozen 0 "), "%s", t);
    free(t);
    dl_app_key(app, 'l');
    ck_assert_str_eq(dl_app_top(app)->name, "lrfind");
    dl_cmd cmd[4];
    ck_assert_int_eq(take_all(c, cmd, 4), 1);
    ck_assert_int_eq(cmd[0].kind, DL_CMD_LRFIND);
    dl_app_free(app);
    dl_control_free(c);
}
END_TEST

START_TEST(train_keys_post_commands)
{
    dl_control *c = fake_training();
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_int_eq(dl_screen_train(&s, c, NULL, NULL, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    s.tick(dl_app_top(app), app);
    const char *keys = "fu+-psl";
    for (const char *k = keys; *k; k++)
        dl_app_key(app, *k);
    /* l opened the LR finder over the same feed; Esc goes back to the dashboard. */
    ck_assert_int_eq(dl_app_depth(app), 2);
    ck_assert_str_eq(dl_app_top(app)->name, "lrfind");
    dl_app_key(app, DL_KEY_ESC);
    ck_assert_int_eq(dl_app_depth(app), 1);
    dl_app_key(app, 'e');
    /* the status line says what will happen, not the command's internal name */
    char *said = render(app, 120, 40, 0);
    ck_assert_msg(strstr(said, "will stop at the end of this epoch") != NULL &&
                      strstr(said, "stop_after_epoch") == NULL,
                  "%s", said);
    free(said);
    dl_cmd cmd[16];
    int n = take_all(c, cmd, 16);
    ck_assert_int_eq(n, 8);
    ck_assert_int_eq(cmd[0].kind, DL_CMD_FREEZE);
    ck_assert_int_eq(cmd[0].arg, -1);
    ck_assert_int_eq(cmd[1].kind, DL_CMD_UNFREEZE);
    ck_assert_int_eq(cmd[2].kind, DL_CMD_SCALE_LR);
    ck_assert_double_eq(cmd[2].factor, 2);
    ck_assert_int_eq(cmd[3].kind, DL_CMD_SCALE_LR);
    ck_assert_double_eq(cmd[3].factor, 0.5);
    ck_assert_int_eq(cmd[4].kind, DL_CMD_PAUSE);
    ck_assert_int_eq(cmd[5].kind, DL_CMD_SAVE);
    ck_assert_int_eq(cmd[6].kind, DL_CMD_LRFIND);
    ck_assert_int_eq(cmd[7].kind, DL_CMD_STOP_AFTER_EPOCH);
    /* p resumes when the trainer reports it paused. */
    dl_snapshot sn;
    dl_control_read(c, &sn);
    sn.phase = DL_PHASE_PAUSED;
    dl_control_publish(c, &sn);
    s.tick(dl_app_top(app), app);
    dl_app_key(app, 'p');
    ck_assert_int_eq(take_all(c, cmd, 16), 1);
    ck_assert_int_eq(cmd[0].kind, DL_CMD_RESUME);
    /* '=' prompt: a range, then garbage (refused with a message, nothing posted). */
    const char *typed = "=1e-5:1e-3\n=abc\n";
    for (const char *k = typed; *k; k++)
        dl_app_key(app, *k);
    ck_assert_int_eq(take_all(c, cmd, 16), 1);
    ck_assert_int_eq(cmd[0].kind, DL_CMD_SET_LR);
    ck_assert_int_eq(cmd[0].lr.kind, DL_LR_RANGE);
    ck_assert_double_eq_tol(cmd[0].lr.lo, 1e-5, 1e-18);
    ck_assert_double_eq_tol(cmd[0].lr.hi, 1e-3, 1e-15);
    char *t = render(app, 80, 24, 0);
    ck_assert_ptr_nonnull(strstr(t, "'abc' is not an lr"));
    free(t);
    /* A single lr is fastai's float (every group), ..HI its slice(HI), as the CLI's --lr; Esc
     * cancels a prompt. */
    const char *typed2 = "=3e-4\n=..2e-3\n=1\x1b";
    for (const char *k = typed2; *k; k++)
        dl_app_key(app, *k);
    ck_assert_int_eq(take_all(c, cmd, 16), 2);
    ck_assert_int_eq(cmd[0].lr.kind, DL_LR_CONST);
    ck_assert_double_eq_tol(cmd[0].lr.hi, 3e-4, 1e-15);
    ck_assert_int_eq(cmd[1].lr.kind, DL_LR_SLICE_HI);
    ck_assert_double_eq_tol(cmd[1].lr.hi, 2e-3, 1e-15);
    /* x/y/[ toggles only change the view. */
    dl_app_key(app, 'x');
    dl_app_key(app, 'y');
    dl_app_key(app, '[');
    ck_assert_int_eq(take_all(c, cmd, 16), 0);
    t = render(app, 80, 24, 0);
    ck_assert_ptr_nonnull(strstr(t, "smoothing 0.95"));
    ck_assert_ptr_nonnull(strstr(t, "epoch"));
    free(t);
    /* Once a fit has ended, a steering key is still posted (fine_tune's next phase applies it)
     * but the message no longer promises the next batch. */
    dl_control_read(c, &sn);
    sn.phase = DL_PHASE_DONE;
    dl_control_publish(c, &sn);
    s.tick(dl_app_top(app), app);
    dl_app_key(app, 'u');
    ck_assert_int_eq(take_all(c, cmd, 16), 1);
    t = render(app, 120, 40, 0);
    ck_assert_msg(strstr(t, "this fit has ended") != NULL &&
                      strstr(t, "from the next batch") == NULL,
                  "%s", t);
    free(t);
    /* q asks, y confirms: the trainer is told to stop (it saves its state). */
    sn.phase = DL_PHASE_TRAIN;
    dl_control_publish(c, &sn);
    s.tick(dl_app_top(app), app);
    dl_app_key(app, 'q');
    ck_assert_int_eq(take_all(c, cmd, 16), 0);
    dl_app_key(app, 'y');
    ck_assert(dl_app_quitting(app));
    ck_assert_int_eq(take_all(c, cmd, 16), 1);
    ck_assert_int_eq(cmd[0].kind, DL_CMD_STOP_NOW);
    dl_app_free(app);
    dl_control_free(c);
}
END_TEST

START_TEST(train_screen_shows_divergence)
{
    dl_control *c = fake_training();
    dl_snapshot sn;
    dl_control_read(c, &sn);
    sn.phase = DL_PHASE_DIVERGED;
    snprintf(sn.message, sizeof sn.message, "diverged at lr 0.08");
    dl_control_publish(c, &sn);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    dl_screen_train(&s, c, NULL, NULL, NULL, NULL);
    dl_app_push(app, &s);
    s.tick(dl_app_top(app), app);
    char *t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "diverged at lr 0.08"));
    ck_assert_ptr_nonnull(strstr(t, "set a lower lr (try 1e-4)"));
    free(t);
    /* The learner the UI drives pauses instead: same offer; once resumed, no banner. */
    sn.phase = DL_PHASE_PAUSED;
    dl_control_publish(c, &sn);
    s.tick(dl_app_top(app), app);
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "set a lower lr"));
    free(t);
    sn.phase = DL_PHASE_TRAIN;
    dl_control_publish(c, &sn);
    s.tick(dl_app_top(app), app);
    t = render(app, 100, 30, 0);
    ck_assert_ptr_null(strstr(t, "set a lower lr"));
    free(t);
    /* Tab cycles the big panel: loss, lr schedule, LR-finder curve, loss. */
    dl_app_key(app, '\t');
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "learning rate (last group)"));
    free(t);
    dl_app_key(app, '\t');
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "LR finder"));
    free(t);
    dl_app_key(app, '\t');
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "loss (smoothing"));
    free(t);
    dl_app_free(app);
    dl_control_free(c);
}
END_TEST

/* A synthetic LR-finder sweep: flat, then falling, then exploding. */
static void push_sweep(dl_control *c, int n)
{
    dl_lrfind_cfg cfg = dl_lrfind_defaults();
    dl_smooth sm;
    dl_smooth_reset(&sm);
    for (int i = 0; i < n; i++) {
        double lr = dl_lrfind_lr(&cfg, i), t = log10(lr);
        double raw = t < -4 ? 2.3 : t < -2 ? 2.3 - 0.9 * (t + 4) : 0.5 + 4 * (t + 2) * (t + 2);
        dl_curve_point p = {.kind = DL_POINT_LRFIND,
                            .step = (uint64_t)i,
                            .lr = lr,
                            .loss = dl_smooth_add(&sm, raw),
                            .raw = raw};
        dl_control_push_point(c, &p);
    }
}

START_TEST(lrfind_screen_cursor_and_suggestions)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    push_sweep(c, 90);
    dl_feed feed;
    dl_feed_init(&feed, c);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_int_eq(dl_screen_lrfind(&s, c, &feed, 100, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    s.tick(dl_app_top(app), app);
    ck_assert_int_eq(feed.lrfind.n, 90);
    char *t = render(app, 100, 30, 0);
    tu_assert_golden("lrfind-100x30.txt", t);
    ck_assert_ptr_nonnull(strstr(t, "valley"));
    ck_assert_ptr_nonnull(strstr(t, "cursor"));
    free(t);
    /* The cursor starts on the valley suggestion; Left moves it one point lower. */
    double lrs[90], losses[90];
    for (int i = 0; i < 90; i++) {
        lrs[i] = feed.lrfind.x[i];
        losses[i] = feed.lrfind.y[i];
    }
    dl_suggestion sug[DL_SUGGEST_COUNT];
    dl_lrfind_suggest_all(lrs, losses, 90, 100, sug);
    ck_assert(sug[DL_SUGGEST_VALLEY].ok);
    int valley = sug[DL_SUGGEST_VALLEY].idx;
    dl_app_key(app, DL_KEY_LEFT);
    dl_app_key(app, DL_KEY_LEFT);
    dl_app_key(app, DL_KEY_RIGHT);
    dl_app_key(app, DL_KEY_ENTER);
    dl_cmd cmd[4];
    ck_assert_int_eq(take_all(c, cmd, 4), 2);
    ck_assert_int_eq(cmd[0].kind, DL_CMD_SET_LR);
    ck_assert_int_eq(cmd[0].lr.kind, DL_LR_CONST); /* the cursor's rate for every group */
    ck_assert_double_eq_tol(cmd[0].lr.hi, feed.lrfind.x[valley - 1], 1e-12);
    ck_assert_int_eq(cmd[1].kind, DL_CMD_RESUME);
    ck_assert_int_eq(dl_app_depth(app), 0); /* Enter closed the finder */
    /* A new sweep (step back to 0) replaces the curve. */
    push_sweep(c, 10);
    dl_feed_pull(&feed);
    ck_assert_int_eq(feed.lrfind.n, 10);
    dl_app_free(app);
    dl_feed_free(&feed);
    dl_control_free(c);
}
END_TEST

/* Column of glyph ch on line `line` of a rendering, within its first `width` columns (ASCII). */
static int glyph_col(const char *t, int line, char ch, int width)
{
    for (int i = 0; i < line && t; i++)
        t = strchr(t, '\n') ? strchr(t, '\n') + 1 : NULL;
    for (int c = 0; t && c < width && t[c] && t[c] != '\n'; c++)
        if (t[c] == ch)
            return c;
    return -1;
}

/* Markers sit at the lr they list (minimum included: lowest-loss lr / 10), their glyphs have a
 * row of their own, each suggestion is explained, and v/s/m/l put the cursor on the exact value
 * that Enter then uses. */
START_TEST(lrfind_screen_suggestion_keys_and_markers)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    push_sweep(c, 90);
    dl_feed feed;
    dl_feed_init(&feed, c);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_int_eq(dl_screen_lrfind(&s, c, &feed, 100, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    s.tick(dl_app_top(app), app);
    double lrs[90], losses[90];
    for (int i = 0; i < 90; i++) {
        lrs[i] = feed.lrfind.x[i];
        losses[i] = feed.lrfind.y[i];
    }
    dl_suggestion sug[DL_SUGGEST_COUNT];
    dl_lrfind_suggest_all(lrs, losses, 90, 100, sug);
    for (int k = 0; k < DL_SUGGEST_COUNT; k++)
        ck_assert(sug[k].ok && sug[k].x == sug[k].lr);
    /* slide 1.2e-3 < valley 1.4e-3 < minimum 3.3e-3 < steep 7.6e-3: the glyphs in that order, on
     * the row under the title (line 2), none hidden by the legend on line 1 */
    ck_assert(sug[DL_SUGGEST_MINIMUM].lr > sug[DL_SUGGEST_VALLEY].lr &&
              sug[DL_SUGGEST_MINIMUM].lr < sug[DL_SUGGEST_STEEP].lr);
    char *t = render(app, 100, 30, 0);
    int v = glyph_col(t, 2, 'v', 80), st = glyph_col(t, 2, 's', 80), m = glyph_col(t, 2, 'm', 80),
        l = glyph_col(t, 2, 'l', 80);
    ck_assert_msg(v > 0 && st > 0 && m > 0 && l > 0, "glyphs v%d s%d m%d l%d", v, st, m, l);
    ck_assert_msg(l < v && v < m && m < st, "glyphs out of lr order: l%d v%d m%d s%d", l, v, m, st);
    ck_assert_ptr_nonnull(strstr(t, "middle of the longest steep descent (fastai's default)"));
    ck_assert_ptr_nonnull(strstr(t, "a tenth of the lr with the lowest loss"));
    ck_assert_ptr_nonnull(strstr(t, "the cursor starts at valley"));
    ck_assert_ptr_nonnull(strstr(t, "> v valley   1.4e-3"));
    free(t);
    /* m: the cursor reads the listed minimum; Enter trains at exactly that lr */
    dl_app_key(app, 'm');
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "cursor: minimum"));
    ck_assert_ptr_nonnull(strstr(t, "lr   3.3e-3"));
    ck_assert_ptr_nonnull(strstr(t, "> m minimum  3.3e-3"));
    free(t);
    dl_app_key(app, 's');
    dl_app_key(app, 'l');
    dl_app_key(app, 'm');
    dl_app_key(app, DL_KEY_ENTER);
    dl_cmd cmd[4];
    ck_assert_int_eq(take_all(c, cmd, 4), 2);
    ck_assert_int_eq(cmd[0].kind, DL_CMD_SET_LR);
    ck_assert(cmd[0].lr.kind == DL_LR_CONST && cmd[0].lr.hi == sug[DL_SUGGEST_MINIMUM].lr);
    dl_app_free(app);
    /* s, then Left: back on the curve's points, one below steep */
    app = dl_app_new(NULL);
    ck_assert_int_eq(dl_screen_lrfind(&s, c, &feed, 100, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    dl_app_key(app, 's');
    dl_app_key(app, DL_KEY_LEFT);
    dl_app_key(app, DL_KEY_ENTER);
    ck_assert_int_eq(take_all(c, cmd, 4), 2);
    ck_assert_double_eq_tol(cmd[0].lr.hi, feed.lrfind.x[sug[DL_SUGGEST_STEEP].idx - 1], 1e-12);
    dl_app_free(app);
    dl_feed_free(&feed);
    dl_control_free(c);
}
END_TEST

/* r asks a live learner for a new sweep; once the learner's job has ended it says so instead of
 * posting a command nobody reads. */
START_TEST(lrfind_screen_rerun_only_while_the_learner_lives)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    push_sweep(c, 30);
    dl_snapshot sn = {.phase = DL_PHASE_LRFIND, .n_groups = 1};
    dl_control_publish(c, &sn);
    dl_feed feed;
    dl_feed_init(&feed, c);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_int_eq(dl_screen_lrfind(&s, c, &feed, 100, NULL, NULL), DL_OK);
    dl_app_push(app, &s);
    s.tick(dl_app_top(app), app);
    dl_cmd cmd[4];
    dl_app_key(app, 'r');
    ck_assert_int_eq(take_all(c, cmd, 4), 1);
    ck_assert_int_eq(cmd[0].kind, DL_CMD_LRFIND);
    sn.phase = DL_PHASE_DONE;
    dl_control_publish(c, &sn);
    dl_app_top(app)->tick(dl_app_top(app), app);
    ck_assert_int_eq(feed.snap.phase, DL_PHASE_DONE);
    dl_app_key(app, 'r');
    ck_assert_int_eq(take_all(c, cmd, 4), 0);
    char *t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "run dllab lrfind again"));
    free(t);
    dl_app_free(app);
    dl_feed_free(&feed);
    dl_control_free(c);
}
END_TEST

START_TEST(confusion_screen)
{
    int64_t cm[9] = {50, 3, 0, 10, 40, 1, 0, 2, 47};
    const char *names[3] = {"cat", "dog", "horse"};
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_int_eq(dl_screen_confusion(&s, cm, 3, names, NULL), DL_OK);
    dl_app_push(app, &s);
    char *t = render(app, 80, 24, 1);
    tu_assert_golden("confusion-80x24-ascii.txt", t);
    /* Most confused first: dog predicted as cat (10). */
    char *first = strstr(t, "10 dog > cat"), *second = strstr(t, "3 cat > dog");
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(second);
    ck_assert(first < second);
    free(t);
    dl_app_key(app, 'n');
    t = render(app, 80, 24, 1);
    ck_assert_ptr_nonnull(strstr(t, "row-normalised"));
    ck_assert_ptr_nonnull(strstr(t, "0.94")); /* 47/49 */
    free(t);
    ck_assert_int_ne(dl_screen_confusion(&s, cm, 0, names, NULL), DL_OK);
    dl_app_free(app);
}
END_TEST

START_TEST(confusion_scrolls_many_classes)
{
    enum { K = 37 };
    int64_t *cm = calloc(K * K, sizeof *cm);
    for (int i = 0; i < K; i++)
        cm[i * K + i] = 20 + i;
    cm[5 * K + 7] = 9;
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    dl_screen_confusion(&s, cm, K, NULL, NULL);
    dl_app_push(app, &s);
    char *t = render(app, 120, 40, 0);
    ck_assert_ptr_nonnull(strstr(t, "rows 1-34 of 37"));
    free(t);
    for (int i = 0; i < 5; i++)
        dl_app_key(app, DL_KEY_DOWN);
    t = render(app, 120, 40, 0);
    ck_assert_ptr_nonnull(strstr(t, "rows 4-37 of 37")); /* clamped at the end */
    ck_assert_ptr_nonnull(strstr(t, "9 5 > 7"));
    ck_assert_ptr_nonnull(strstr(t, "columns 0-"));
    /* Colour mode: heat-map cells carry RGB backgrounds, green on the diagonal. */
    dl_grid *g = dl_grid_new(120, 40);
    dl_ui_env env = {0, DL_COLOR_256};
    dl_app_set_env(app, &env);
    dl_app_draw(app, g);
    int diag_green = 0;
    for (int x = 0; x < 120; x++)
        for (int y = 0; y < 40; y++) {
            const dl_cell *cell = dl_grid_at(g, x, y);
            if ((cell->attr & DL_ATTR_RGB_BG) &&
                ((cell->bg >> 8) & 0xff) > ((cell->bg >> 16) & 0xff) + 40)
                diag_green++;
        }
    ck_assert_int_gt(diag_green, 30);
    dl_grid_free(g);
    free(t);
    /* Right scrolls the columns; it stops at the last one. */
    for (int i = 0; i < 60; i++)
        dl_app_key(app, DL_KEY_RIGHT);
    t = render(app, 120, 40, 0);
    ck_assert_ptr_nonnull(strstr(t, "of 37 (Left/Right scroll)"));
    ck_assert_ptr_nonnull(strstr(t, "-36 of 37"));
    free(t);
    dl_app_free(app);
    free(cm);
}
END_TEST

/* A finished run in a fresh store: 2 epochs of 20 batches, an event, a confusion result. */
static dl_store *make_store(char **dir, int64_t *id)
{
    *dir = tu_mkdtemp();
    dl_store *st;
    dl_err err;
    ck_assert_msg(dl_store_open(*dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    dl_run_spec spec = {.name_prefix = "pets-resnet18",
                        .dataset = "pets (folder)",
                        .arch = "resnet18",
                        .n_train = 80,
                        .n_valid = 20,
                        .vocab_json = "[\"cat\",\"dog\"]",
                        .host = "testhost",
                        .pid = 1};
    char name[128];
    ck_assert_msg(dl_store_run_create(st, &spec, id, name, sizeof name, &err) == DL_OK, "%s",
                  err.msg);
    for (int step = 0; step < 40; step++) {
        dl_batch_row b = {.step = step,
                          .epoch = step / 20,
                          .n_lr = 2,
                          .lr = {1e-4, 1e-3},
                          .mom = 0.9,
                          .loss = 1.5 - step * 0.03 + (step % 3) * 0.05,
                          .smooth_loss = 1.5 - step * 0.03,
                          .t = 1000 + step};
        ck_assert(dl_store_log_batch(st, *id, &b, &err) == DL_OK);
        if (step % 20 == 19) {
            dl_epoch_row e = {.epoch = step / 20,
                              .train_loss = 1.5 - step * 0.03,
                              .valid_loss = step < 20 ? 0.9 : 0.6,
                              .duration = 12.5,
                              .t = 1000 + step,
                              .n_metrics = 1};
            snprintf(e.metrics[0].name, sizeof e.metrics[0].name, "error_rate");
            e.metrics[0].value = step < 20 ? 0.25 : 0.15;
            ck_assert(dl_store_log_epoch(st, *id, &e, &err) == DL_OK);
        }
    }
    ck_assert(dl_store_log_event(st, *id, "unfreeze", 20, 1020, "{\"text\":\"all groups\"}",
                                 &err) == DL_OK);
    ck_assert(dl_store_interp_save(st, *id, 1, "confusion",
                                   "{\"vocab\":[\"cat\",\"dog\"],\"matrix\":[[9,1],[2,8]]}",
                                   &err) == DL_OK);
    ck_assert(
        dl_store_interp_save(st, *id, 1, "top-losses",
                             "[{\"item\":3,\"path\":\"/nonexistent/x.jpg\",\"actual\":\"dog\","
                             "\"predicted\":\"cat\",\"prob\":0.91,\"loss\":2.41}]",
                             &err) == DL_OK);
    ck_assert(dl_store_run_finish(st, *id, DL_RUN_FINISHED, &err) == DL_OK);
    return st;
}

/* A run training in another process, opened from home: its header says the epoch it is in of
 * the planned epochs (not "epoch 1/1 batch 63/63" from the rows done so far) and keeps the item
 * counts whole; once it crashed, it says "crashed" with neither an ETA nor 0 img/s. */
START_TEST(run_view_of_a_running_then_crashed_run)
{
    char *dir = tu_mkdtemp();
    dl_store *st;
    dl_err err;
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    dl_run_spec spec = {.name_prefix = "fmnist-resnet-xs",
                        .dataset = "fashion-mnist (built-in fashion-mnist)",
                        .arch = "resnet-xs",
                        .n_train = 60000,
                        .n_valid = 10000,
                        .vocab_json = "[\"a\",\"b\"]",
                        .config_json = "{\"data\":\"fashion-mnist\",\"epochs\":3,\"bs\":3000,"
                                       "\"schedule\":\"one-cycle\"}",
                        .host = "testhost",
                        .pid = 1};
    char name[128];
    int64_t id;
    ck_assert_msg(dl_store_run_create(st, &spec, &id, name, sizeof name, &err) == DL_OK, "%s",
                  err.msg);
    for (int step = 0; step < 30; step++) { /* 20 batches an epoch: 10 into the second */
        dl_batch_row b = {.step = step,
                          .epoch = step / 20,
                          .n_lr = 1,
                          .lr = {1e-3},
                          .loss = 1,
                          .smooth_loss = 1,
                          .t = 1000 + step};
        ck_assert(dl_store_log_batch(st, id, &b, &err) == DL_OK);
    }
    dl_epoch_row e = {.epoch = 0, .train_loss = 1, .valid_loss = 0.9, .duration = 12, .t = 1019};
    ck_assert(dl_store_log_epoch(st, id, &e, &err) == DL_OK);
    dl_store_flush(st, NULL);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_msg(dl_screen_run(&s, st, id, &err) == DL_OK, "%s", err.msg);
    dl_app_push(app, &s);
    char *t = render(app, 80, 24, 0);
    ck_assert_msg(strstr(t, "epoch 2/3") && strstr(t, "batch 10/20"), "%s", t);
    ck_assert_msg(strstr(t, "fashion-mnist 60000/10000"), "%s", t);
    free(t);
    dl_app_free(app);
    ck_assert(dl_store_run_finish(st, id, DL_RUN_CRASHED, &err) == DL_OK);
    app = dl_app_new(NULL);
    ck_assert_msg(dl_screen_run(&s, st, id, &err) == DL_OK, "%s", err.msg);
    dl_app_push(app, &s);
    t = render(app, 80, 24, 0);
    ck_assert_msg(strstr(t, "crashed") && !strstr(t, "failed") && !strstr(t, "ETA") &&
                      !strstr(t, "0 img/s"),
                  "%s", t);
    free(t);
    dl_app_free(app);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(run_view_from_store)
{
    char *dir;
    int64_t id;
    dl_store *st = make_store(&dir, &id);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    dl_err err;
    ck_assert_msg(dl_screen_run(&s, st, id, &err) == DL_OK, "%s", err.msg);
    dl_app_push(app, &s);
    char *t = render(app, 80, 24, 0);
    tu_assert_golden("run-80x24.txt", t);
    ck_assert_ptr_nonnull(strstr(t, "pets-resnet18-1"));
    ck_assert_ptr_nonnull(strstr(t, "error_rate"));
    ck_assert_ptr_nonnull(strstr(t, "0.600000"));
    ck_assert_ptr_nonnull(strstr(t, "unfreeze all groups"));
    ck_assert_ptr_nonnull(strstr(t, "finished"));
    /* A saved run has no steering keys (f is not bound on the run view); c opens the stored
     * confusion matrix. */
    ck_assert_int_eq(dl_action_for_key(DL_SCR_RUN, 'f'), DL_ACT_NONE);
    ck_assert_ptr_null(strstr(t, "f freeze"));
    free(t);
    dl_app_key(app, 'c');
    ck_assert_int_eq(dl_app_depth(app), 2);
    t = render(app, 80, 24, 1);
    ck_assert_ptr_nonnull(strstr(t, "2 dog > cat"));
    ck_assert_ptr_nonnull(strstr(t, "[9]"));
    free(t);
    /* Back on the run view, t opens the top-losses images with their labels (a missing file is
     * drawn black; its label still says what it was). */
    dl_app_key(app, DL_KEY_ESC);
    dl_app_key(app, 't');
    ck_assert_int_eq(dl_app_depth(app), 2);
    ck_assert_str_eq(dl_app_top(app)->name, "images");
    t = render(app, 80, 24, 0);
    /* fastai's caption: prediction/actual, then loss / probability, none of it cut */
    ck_assert_msg(strstr(t, "cat/dog") && strstr(t, "2.41 / 0.91"), "%s", t);
    free(t);
    dl_app_free(app);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A long run name: whole when the width allows, else cut keeping its end (the run number). */
START_TEST(home_long_run_names)
{
    char *dir;
    int64_t id;
    dl_store *st = make_store(&dir, &id);
    dl_err err;
    dl_run_spec spec = {.name_prefix = "my-very-long-experiment-name-for-cats",
                        .dataset = "cats",
                        .arch = "resnet-xs",
                        .host = "testhost",
                        .pid = 1};
    int64_t id2;
    char name[128];
    ck_assert(dl_store_run_create(st, &spec, &id2, name, sizeof name, &err) == DL_OK);
    ck_assert(dl_store_run_finish(st, id2, DL_RUN_FINISHED, &err) == DL_OK);
    /* a `dllab lrfind` sweep: listed as the finder it is, not a 0-epoch training */
    dl_run_spec fs = {.name_prefix = "sweep", .dataset = "cats", .arch = "resnet-xs", .pid = 1};
    int64_t id3;
    ck_assert(dl_store_run_create(st, &fs, &id3, name, sizeof name, &err) == DL_OK);
    const double lrs[3] = {1e-5, 1e-3, 1e-1}, losses[3] = {2, 1, 3};
    int64_t lf;
    ck_assert(dl_store_lrfind_save(st, id3, 0, lrs, losses, 3, NULL, 0, &lf, &err) == DL_OK);
    ck_assert(dl_store_run_finish(st, id3, DL_RUN_FINISHED, &err) == DL_OK);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_msg(dl_screen_home(&s, st, NULL, &err) == DL_OK, "%s", err.msg);
    dl_app_push(app, &s);
    char *t = render(app, 120, 40, 0);
    ck_assert_msg(strstr(t, "my-very-long-experiment-name-for-cats-1 "), "%s", t);
    const char *sw = strstr(t, "sweep-1 ");
    ck_assert_msg(sw && strstr(sw, "lr finder") && strstr(sw, "lr finder") < strchr(sw, '\n'), "%s",
                  t);
    free(t);
    t = render(app, 80, 24, 1);
    ck_assert_msg(strstr(t, "~"), "%s", t);
    ck_assert_msg(strstr(t, "cats-1 "), "%s", t);
    ck_assert_ptr_nonnull(strstr(t, "finished"));
    free(t);
    dl_app_free(app);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(home_lists_marks_deletes_and_requests)
{
    char *dir;
    int64_t id;
    dl_store *st = make_store(&dir, &id);
    dl_err err;
    dl_run_spec spec = {.name_prefix = "fmnist-resnet-xs",
                        .dataset = "fashion-mnist",
                        .arch = "resnet-xs",
                        .host = "testhost",
                        .pid = 1};
    int64_t id2;
    char name[128];
    ck_assert(dl_store_run_create(st, &spec, &id2, name, sizeof name, &err) == DL_OK);
    ck_assert(dl_store_run_finish(st, id2, DL_RUN_STOPPED, &err) == DL_OK);
    dl_app *app = dl_app_new(NULL);
    dl_screen s;
    ck_assert_msg(dl_screen_home(&s, st, NULL, &err) == DL_OK, "%s", err.msg);
    dl_app_push(app, &s);
    char *t = render(app, 80, 24, 0);
    ck_assert_ptr_nonnull(strstr(t, "pets-resnet18-1"));
    ck_assert_ptr_nonnull(strstr(t, "fmnist-resnet-xs-1"));
    ck_assert_ptr_nonnull(strstr(t, "error_rate 0.1500"));
    ck_assert_ptr_nonnull(strstr(t, "stopped"));
    ck_assert_ptr_nonnull(strstr(t, "2 runs, 0 marked"));
    free(t);
    /* Mark both (Space moves down), compare without a hook says so. */
    dl_app_key(app, DL_KEY_UP);
    dl_app_key(app, ' ');
    dl_app_key(app, ' ');
    dl_app_key(app, 'c');
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "2 marked"));
    ck_assert_ptr_nonnull(strstr(t, "dllab compare RUN RUN"));
    free(t);
    /* Enter opens the run view of the selection; Esc comes back. */
    dl_app_key(app, DL_KEY_UP);
    dl_app_key(app, DL_KEY_ENTER);
    ck_assert_int_eq(dl_app_depth(app), 2);
    ck_assert_str_eq(dl_app_top(app)->name, "run");
    dl_app_key(app, DL_KEY_ESC);
    ck_assert_int_eq(dl_app_depth(app), 1);
    /* d asks; n keeps the run; d y deletes it. */
    dl_app_key(app, 'd');
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "Delete run pets-resnet18-1"));
    free(t);
    dl_app_key(app, 'n');
    dl_run *runs;
    size_t n;
    ck_assert(dl_store_runs_list(st, NULL, &runs, &n, &err) == DL_OK);
    ck_assert_uint_eq(n, 2);
    dl_runs_free(runs, n);
    dl_app_key(app, 'd');
    dl_app_key(app, 'y');
    ck_assert(dl_store_runs_list(st, NULL, &runs, &n, &err) == DL_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(runs[0].name, "fmnist-resnet-xs-1");
    dl_runs_free(runs, n);
    /* n opens the new-run form; a bad value shows in place and nothing starts; typed q and ? are
     * text there, not keys */
    ck_assert_ptr_null(dl_home_request(dl_app_top(app)));
    dl_screen *home = dl_app_top(app);
    dl_app_key(app, 'n');
    ck_assert_int_eq(dl_app_depth(app), 2);
    for (int i = 0; i < 20; i++)
        dl_app_key(app, DL_KEY_BACKSPACE);
    for (const char *k = "/no/such-q?"; *k; k++)
        dl_app_key(app, *k);
    dl_app_key(app, DL_KEY_ENTER);
    ck_assert(!dl_app_quitting(app));
    ck_assert_int_eq(dl_app_depth(app), 2);
    t = render(app, 80, 24, 0);
    ck_assert_msg(strstr(t, "/no/such-q?: no such folder or archive") != NULL, "%s", t);
    free(t);
    /* epochs 0 is refused with the table's message as the field is left */
    for (int i = 0; i < 20; i++)
        dl_app_key(app, DL_KEY_BACKSPACE);
    for (const char *k = "fashion-mnist"; *k; k++)
        dl_app_key(app, *k);
    dl_app_key(app, DL_KEY_DOWN);
    dl_app_key(app, DL_KEY_DOWN);
    dl_app_key(app, DL_KEY_BACKSPACE);
    dl_app_key(app, '0');
    dl_app_key(app, DL_KEY_DOWN);
    t = render(app, 80, 24, 0);
    ck_assert_msg(strstr(t, "--epochs: '0' is not a positive integer") != NULL, "%s", t);
    ck_assert_ptr_null(strstr(t, "no such folder"));
    free(t);
    dl_app_key(app, DL_KEY_ENTER); /* refused: the cursor goes to the bad field */
    ck_assert(!dl_app_quitting(app));
    dl_app_key(app, DL_KEY_BACKSPACE);
    dl_app_key(app, '2');
    /* Tab completes the data field: fashion-m -> fashion-mnist, then fashion-mosaic */
    dl_app_key(app, DL_KEY_UP);
    dl_app_key(app, DL_KEY_UP);
    for (int i = 0; i < 20; i++)
        dl_app_key(app, DL_KEY_BACKSPACE);
    for (const char *k = "fashion-m"; *k; k++)
        dl_app_key(app, *k);
    dl_app_key(app, '\t');
    dl_app_key(app, '\t');
    t = render(app, 80, 24, 0);
    ck_assert_msg(strstr(t, "fashion-mosaic") != NULL, "%s", t);
    free(t);
    dl_app_key(app, DL_KEY_ENTER);
    /* Enter ends the UI with the configuration: the form's defaults, epochs 2 */
    ck_assert(dl_app_quitting(app));
    ck_assert_int_eq(dl_app_depth(app), 1);
    const dl_run_cfg *req = dl_home_request(home);
    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(req->epochs, 2);
    ck_assert_int_eq(req->limit, 10000);
    ck_assert_int_eq(req->valid_limit, 2500);
    ck_assert_str_eq(req->arch, "resnet-xs");
    ck_assert_str_eq(req->data, "fashion-mosaic");
    dl_app_free(app);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A trainer thread publishing while the UI thread pulls: every point arrives once, in order. */
typedef struct producer {
    dl_control *c;
    int n;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        dl_curve_point pt = {
            .kind = DL_POINT_TRAIN, .step = (uint64_t)i, .lr = 1e-3, .loss = i, .raw = i};
        dl_control_push_point(p->c, &pt);
        if (i % 50 == 0) {
            dl_snapshot sn = {.phase = DL_PHASE_TRAIN, .step = (uint64_t)i};
            dl_control_publish(p->c, &sn);
        }
    }
    dl_snapshot sn = {.phase = DL_PHASE_DONE, .step = (uint64_t)p->n};
    dl_control_publish(p->c, &sn);
    return NULL;
}

START_TEST(feed_pulls_while_a_trainer_publishes)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    dl_feed f;
    dl_feed_init(&f, c);
    producer p = {c, 3000}; /* below the ring size, so nothing may be dropped */
    pthread_t th;
    pthread_create(&th, NULL, produce, &p);
    while (f.snap.phase != DL_PHASE_DONE)
        dl_feed_pull(&f);
    pthread_join(th, NULL);
    dl_feed_pull(&f);
    ck_assert_int_eq(f.train.n, 3000);
    ck_assert_uint_eq(f.dropped, 0);
    for (int i = 0; i < f.train.n; i++)
        ck_assert_float_eq(f.train.x[i], (float)i);
    /* The wake fd was drained by the pulls: the UI's poll() would sleep now. */
    ck_assert_int_eq(dl_feed_pull(&f), 0);
    struct pollfd pf = {.fd = dl_control_wake_fd(c), .events = POLLIN};
    ck_assert_int_eq(poll(&pf, 1, 0), 0);
    dl_feed_free(&f);
    dl_control_free(c);
}
END_TEST

START_TEST(multilabel_view_from_store)
{
    char *dir;
    int64_t id;
    dl_store *st = make_store(&dir, &id);
    dl_err err;
    dl_run_spec spec = {.name_prefix = "mosaic",
                        .dataset = "fashion-mosaic",
                        .arch = "resnet-xs",
                        .host = "h",
                        .pid = 1};
    int64_t ml;
    char name[128];
    ck_assert(dl_store_run_create(st, &spec, &ml, name, sizeof name, &err) == DL_OK);
    ck_assert(dl_store_interp_save(
                  st, ml, 0, "per-class",
                  "{\"thresh\":0.5,\"micro_f1\":0.8,\"classes\":["
                  "{\"class\":\"bag\",\"precision\":0.9,\"recall\":0.8,\"f1\":0.847},"
                  "{\"class\":\"shirt\",\"precision\":0.4,\"recall\":0.3,\"f1\":0.343}]}",
                  &err) == DL_OK);
    ck_assert(dl_store_interp_save(
                  st, ml, 0, "thresh-sweep",
                  "{\"points\":[{\"thresh\":0.3,\"micro_f1\":0.7,\"accuracy_multi\":0.85},"
                  "{\"thresh\":0.5,\"micro_f1\":0.8,\"accuracy_multi\":0.9},"
                  "{\"thresh\":0.7,\"micro_f1\":0.75,\"accuracy_multi\":0.92}]}",
                  &err) == DL_OK);
    dl_app *app = dl_app_new(NULL);
    char msg[256];
    ck_assert_int_eq(dl_ui_push_stored_confusion(app, st, ml, msg, sizeof msg), 0);
    char *t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "threshold 0.50 (micro-F1 0.8000)"));
    ck_assert_ptr_nonnull(strstr(t, "shirt"));
    ck_assert_ptr_nonnull(strstr(t, "threshold 0.50: micro-F1 0.8000, accuracy 0.9000"));
    free(t);
    dl_app_key(app, DL_KEY_RIGHT);
    dl_app_key(app, DL_KEY_RIGHT); /* stops at the last point */
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "threshold 0.70: micro-F1 0.7500, accuracy 0.9200"));
    /* stored without per-class figures per threshold: the table says which threshold it shows */
    ck_assert_ptr_nonnull(strstr(t, "per class at threshold 0.50"));
    ck_assert_ptr_nonnull(strstr(t, "stored at 0.50 only"));
    ck_assert_ptr_nonnull(strstr(t, "* best micro-F1 0.8000 at 0.50 (b jumps there)"));
    free(t);
    dl_app_free(app);

    /* With each class's P/R/F1 at every sweep threshold the table follows the slider, and b jumps
     * to the best micro-F1 (the first maximum, as the CLI reports it). */
    int64_t ml2;
    ck_assert(dl_store_run_create(st, &spec, &ml2, name, sizeof name, &err) == DL_OK);
    ck_assert(dl_store_interp_save(
                  st, ml2, 0, "per-class",
                  "{\"thresh\":0.5,\"micro_f1\":0.8,\"classes\":["
                  "{\"class\":\"bag\",\"precision\":0.9,\"recall\":0.8,\"f1\":0.847},"
                  "{\"class\":\"shirt\",\"precision\":0.4,\"recall\":0.3,\"f1\":0.343}]}",
                  &err) == DL_OK);
    ck_assert(dl_store_interp_save(
                  st, ml2, 0, "thresh-sweep",
                  "{\"points\":[{\"thresh\":0.3,\"micro_f1\":0.85,\"accuracy_multi\":0.85,"
                  "\"prf\":[[0.61,0.95,0.743],[0.31,0.72,0.433]]},"
                  "{\"thresh\":0.5,\"micro_f1\":0.8,\"accuracy_multi\":0.9,"
                  "\"prf\":[[0.9,0.8,0.847],[0.4,0.3,0.343]]},"
                  "{\"thresh\":0.7,\"micro_f1\":0.75,\"accuracy_multi\":0.92,"
                  "\"prf\":[[0.97,0.52,0.677],[0.88,0.11,0.196]]}]}",
                  &err) == DL_OK);
    app = dl_app_new(NULL);
    ck_assert_int_eq(dl_ui_push_stored_confusion(app, st, ml2, msg, sizeof msg), 0);
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "per class at threshold 0.50 (micro-F1 0.8000)"));
    ck_assert_ptr_nonnull(strstr(t, "shirt                 0.4000    0.3000  0.343"));
    ck_assert_ptr_null(strstr(t, "stored at 0.50 only"));
    free(t);
    dl_app_key(app, DL_KEY_RIGHT);
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(strstr(t, "per class at threshold 0.70 (micro-F1 0.7500)"));
    ck_assert_ptr_nonnull(strstr(t, "shirt                 0.8800    0.1100  0.196"));
    ck_assert_ptr_nonnull(strstr(t, "* best micro-F1 0.8500 at 0.30 (b jumps there)"));
    free(t);
    dl_app_key(app, 'b');
    t = render(app, 100, 30, 0);
    ck_assert_ptr_nonnull(
        strstr(t, "per class at threshold 0.30 (micro-F1 0.8500)  * best micro-F1"));
    ck_assert_ptr_nonnull(strstr(t, "bag                   0.6100    0.9500  0.743"));
    ck_assert_ptr_nonnull(strstr(t, "threshold 0.30: micro-F1 0.8500, accuracy 0.8500"));
    free(t);
    /* A run with nothing stored says so. */
    dl_app_free(app);
    app = dl_app_new(NULL);
    int64_t empty;
    ck_assert(dl_store_run_create(st, &spec, &empty, name, sizeof name, &err) == DL_OK);
    ck_assert_int_eq(dl_ui_push_stored_confusion(app, st, empty, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "no interpretation stored"));
    ck_assert_int_eq(dl_ui_push_stored_top_losses(app, st, empty, msg, sizeof msg), -1);
    ck_assert_int_eq(dl_app_depth(app), 0);
    dl_app_free(app);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The progress bar during a validation pass shows the pass and its ETA (not a frozen training
 * bar with ETA --:--); once the fit has ended it shows no ETA. */
START_TEST(progress_shows_the_validation_pass_and_no_eta_once_ended)
{
    dl_snapshot sn = {.phase = DL_PHASE_VALID,
                      .epoch = 0,
                      .n_epochs = 2,
                      .batch = 62,
                      .n_batches = 63,
                      .valid_batch = 35,
                      .valid_batches = 157,
                      .images_per_s = 812,
                      .eta_s = 40};
    char b[96];
    double frac = dl_progress_right(&sn, b, sizeof b);
    ck_assert_str_eq(b, " valid 35/157  ETA 00:40  812 img/s");
    ck_assert_double_eq_tol(frac, 35.0 / 157, 1e-9);
    sn.phase = DL_PHASE_DONE;
    sn.eta_s = NAN;
    dl_progress_right(&sn, b, sizeof b);
    ck_assert_str_eq(b, " batch 63/63  812 img/s");
    sn.phase = DL_PHASE_PAUSED;
    sn.eta_s = 95;
    dl_progress_right(&sn, b, sizeof b);
    ck_assert_str_eq(b, " batch 63/63  ETA 01:35  812 img/s");
    sn.phase = DL_PHASE_FAILED; /* a saved run: no throughput recorded */
    sn.images_per_s = 0;
    dl_progress_right(&sn, b, sizeof b);
    ck_assert_str_eq(b, " batch 63/63");
}
END_TEST

/* Top-loss captions fit their tile: two names share the width evenly, a short one lends its
 * spare cells to the other. */
START_TEST(captions_fit_the_tile)
{
    char b[64];
    const char *l = "Trouser\x1fSandal";
    dl_images_fit_caption(l, strlen(l), 14, b, sizeof b);
    ck_assert_str_eq(b, "Trouser/Sandal");
    l = "T-shirt/top\x1fPullover";
    dl_images_fit_caption(l, strlen(l), 14, b, sizeof b);
    ck_assert_str_eq(b, "T-shir/Pullove");
    l = "T-shirt/top\x1f"
        "Dress";
    dl_images_fit_caption(l, strlen(l), 14, b, sizeof b);
    ck_assert_str_eq(b, "T-shirt/Dress"); /* not "T-shirt//Dress" */
    l = "Bag\x1f"
        "Ankle boot";
    dl_images_fit_caption(l, strlen(l), 12, b, sizeof b);
    ck_assert_str_eq(b, "Bag/Ankle bo");
    l = "8.95 / 0.00";
    dl_images_fit_caption(l, strlen(l), 12, b, sizeof b);
    ck_assert_str_eq(b, "8.95 / 0.00");
}
END_TEST

/* Every steering command's status line is in words; stop-after-epoch pressed while the epoch is
 * being validated says the next epoch (commands apply at the next training batch). */
START_TEST(steering_messages_in_words)
{
    char b[256];
    for (int k = 0; k < DL_CMD_COUNT; k++) {
        dl_cmd c = {.kind = (dl_cmd_kind)k, .lr = {DL_LR_CONST, 0, 1e-3}, .factor = 2};
        dl_cmd_describe(&c, DL_PHASE_TRAIN, b, sizeof b);
        ck_assert_msg(strchr(b, '_') == NULL && strncmp(b, "command", 7) != 0, "%d: %s", k, b);
    }
    dl_cmd c = {.kind = DL_CMD_STOP_AFTER_EPOCH};
    dl_cmd_describe(&c, DL_PHASE_VALID, b, sizeof b);
    ck_assert_str_eq(b, "will stop at the end of the next epoch (this one is being validated)");
    c = (dl_cmd){.kind = DL_CMD_SET_LR, .lr = {DL_LR_RANGE, 1e-5, 3.8}};
    dl_cmd_describe(&c, DL_PHASE_TRAIN, b, sizeof b);
    ck_assert_str_eq(b, "lr will be 1e-5..3.8 from the next batch");
    c = (dl_cmd){.kind = DL_CMD_SET_LR, .lr = {DL_LR_CONST, 0, 3e-3}};
    dl_cmd_describe(&c, DL_PHASE_TRAIN, b, sizeof b);
    ck_assert_str_eq(b, "lr will be 3e-3 for every group from the next batch");
}
END_TEST

START_TEST(number_formats)
{
    char b[32];
    dl_fmt_lr(1e-3, b, sizeof b);
    ck_assert_str_eq(b, "1e-3");
    dl_fmt_lr(3.2e-4, b, sizeof b);
    ck_assert_str_eq(b, "3.2e-4");
    dl_fmt_lr(9.96e-6, b, sizeof b);
    ck_assert_str_eq(b, "1e-5");
    dl_fmt_lr(0, b, sizeof b);
    ck_assert_str_eq(b, "0");
    dl_fmt_lr(NAN, b, sizeof b);
    ck_assert_str_eq(b, "-");
    /* from 0.1 to 999 the plain decimal a fastai user types, never 3.8e0 */
    dl_fmt_lr(3.8, b, sizeof b);
    ck_assert_str_eq(b, "3.8");
    dl_fmt_lr(0.25, b, sizeof b);
    ck_assert_str_eq(b, "0.25");
    dl_fmt_lr(50, b, sizeof b);
    ck_assert_str_eq(b, "50");
    dl_fmt_lr(0.1, b, sizeof b);
    ck_assert_str_eq(b, "0.1");
    dl_fmt_lr(1.2e-2, b, sizeof b);
    ck_assert_str_eq(b, "1.2e-2");
    dl_fmt_duration(95, b, sizeof b);
    ck_assert_str_eq(b, "01:35");
    dl_fmt_duration(3725, b, sizeof b);
    ck_assert_str_eq(b, "1:02:05");
    dl_fmt_duration(-1, b, sizeof b);
    ck_assert_str_eq(b, "--:--");
}
END_TEST

static Suite *screens_suite(void)
{
    Suite *s = suite_create("ui-screens");
    TCase *c = tcase_create("screens");
    tcase_add_test(c, train_screen_renders_a_training);
    tcase_add_test(c, train_strip_draws_lr_and_momentum);
    tcase_add_test(c, train_event_log_shows_checkpoints_and_skipped_files);
    tcase_add_test(c, train_keys_post_commands);
    tcase_add_test(c, train_between_fine_tune_phases_is_not_done);
    tcase_add_test(c, train_screen_shows_divergence);
    tcase_add_test(c, lrfind_screen_cursor_and_suggestions);
    tcase_add_test(c, lrfind_screen_suggestion_keys_and_markers);
    tcase_add_test(c, lrfind_screen_rerun_only_while_the_learner_lives);
    tcase_add_test(c, confusion_screen);
    tcase_add_test(c, confusion_scrolls_many_classes);
    tcase_add_test(c, run_view_from_store);
    tcase_add_test(c, run_view_of_a_running_then_crashed_run);
    tcase_add_test(c, number_formats);
    tcase_add_test(c, steering_messages_in_words);
    tcase_add_test(c, captions_fit_the_tile);
    tcase_add_test(c, progress_shows_the_validation_pass_and_no_eta_once_ended);
    tcase_add_test(c, multilabel_view_from_store);
    tcase_add_test(c, feed_pulls_while_a_trainer_publishes);
    tcase_add_test(c, home_lists_marks_deletes_and_requests);
    tcase_add_test(c, home_long_run_names);
    suite_add_tcase(s, c);
    return s;
}

int main(void) { return tu_run(screens_suite()); }
