/* check_steer: the steering channel through the run store: a command written by one connection is
 * taken by the poller (core/learn/remote.c) within a fraction of a second and posted to the
 * learner's control queue with its origin and id; taken rows are not taken twice, but a new
 * poller (a resumed run) takes those a dead one left; acknowledgements are written once and
 * together with their event; the steering words round-trip; the live snapshot round-trips. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/learn/remote.h"
#include "core/store/store.h"
#include "tests/testutil.h"

static char *dir;

static void setup(void) { dir = tu_mkdtemp(); }
static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

static dl_store *open_rw(void)
{
    dl_store *st;
    dl_err err = {0};
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    return st;
}

static int64_t new_run(dl_store *st)
{
    dl_run_spec spec = {.name_prefix = "steer", .dataset = "d", .arch = "resnet-xs"};
    int64_t id;
    char name[DL_STORE_NAME_MAX];
    dl_err err = {0};
    ck_assert_msg(dl_store_run_create(st, &spec, &id, name, sizeof name, &err) == DL_OK, "%s",
                  err.msg);
    return id;
}

/* Waits up to limit seconds for a command in the control's queue. */
static size_t wait_cmds(dl_control *c, dl_cmd *out, size_t cap, double limit)
{
    double t0 = dl_clock_now();
    size_t n = 0;
    while (n == 0 && dl_clock_now() - t0 < limit) {
        dl_control_wait(c, 50);
        n = dl_control_take(c, out, cap);
    }
    return n;
}

START_TEST(test_words_round_trip)
{
    const char *cases[][2] = {{"lr", "1e-05..0.001"}, {"lr", "0.003"},  {"lr", "..0.002"},
                              {"lr-scale", "0.5"},    {"unfreeze", ""}, {"freeze", ""},
                              {"freeze", "2"},        {"stop", ""},     {"stop-now", ""},
                              {"pause", ""},          {"resume", ""},   {"save", ""},
                              {"lrfind", ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dl_cmd c;
        dl_err err = {0};
        ck_assert_msg(dl_steer_parse(cases[i][0], cases[i][1], &c, &err) == DL_OK, "%s %s: %s",
                      cases[i][0], cases[i][1], err.msg);
        char w[32], a[64];
        dl_steer_format(&c, w, sizeof w, a, sizeof a);
        ck_assert_str_eq(w, cases[i][0]);
        ck_assert_str_eq(a, cases[i][1]);
    }
    dl_cmd c;
    dl_err err = {0};
    ck_assert_int_eq(dl_steer_parse("lr", "=0.002", &c, &err), DL_OK);
    ck_assert(c.lr.kind == DL_LR_CONST && c.lr.hi == 0.002); /* one rate for every group */
    ck_assert_int_eq(dl_steer_parse("lr", "0.003", &c, &err), DL_OK);
    ck_assert(c.lr.kind == DL_LR_CONST && c.lr.hi == 0.003); /* fastai's float: every group */
    ck_assert_int_eq(dl_steer_parse("lr", "..0.003", &c, &err), DL_OK);
    ck_assert(c.lr.kind == DL_LR_SLICE_HI && c.lr.hi == 0.003); /* slice(hi) */
    ck_assert_int_eq(dl_steer_parse("lr", "", &c, &err), DL_EINVAL);
    ck_assert_int_eq(dl_steer_parse("lr", "fast", &c, &err), DL_EINVAL);
    ck_assert_int_eq(dl_steer_parse("lr-scale", "-2", &c, &err), DL_EINVAL);
    ck_assert_int_eq(dl_steer_parse("unfreeze", "now", &c, &err), DL_EINVAL);
    ck_assert_int_eq(dl_steer_parse("warp", "", &c, &err), DL_EINVAL);
    ck_assert_msg(strstr(err.msg, "unfreeze") != NULL, "the choices are listed: %s", err.msg);
}
END_TEST

START_TEST(test_poller_takes_once_and_resume_takes_leftovers)
{
    dl_store *st = open_rw();
    int64_t run = new_run(st);
    dl_control *ctl;
    ck_assert_int_eq(dl_control_create(&ctl, NULL), DL_OK);
    dl_remote *rem;
    dl_err err = {0};
    ck_assert_msg(dl_remote_start(dir, run, ctl, &rem, &err) == DL_OK, "%s", err.msg);
    int64_t id1, id2;
    ck_assert_int_eq(dl_store_steer_post(st, run, "unfreeze", "", "cli", &id1, &err), DL_OK);
    double t0 = dl_clock_now();
    dl_cmd got[8];
    size_t n = wait_cmds(ctl, got, 8, 5);
    double took = dl_clock_now() - t0;
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(got[0].kind, DL_CMD_UNFREEZE);
    ck_assert_int_eq(got[0].remote_id, id1);
    ck_assert_str_eq(got[0].origin, "cli");
    fprintf(stderr, "check_steer: taken %.0f ms after it was written\n", took * 1e3);
    dl_steer_row r;
    ck_assert_int_eq(dl_store_steer_get(st, id1, &r, &err), DL_OK);
    ck_assert_int_eq(r.state, DL_STEER_TAKEN);
    /* a second command while the first is still unanswered: only the new one is posted */
    ck_assert_int_eq(dl_store_steer_post(st, run, "lr", "1e-05..0.001", "attach pid 7", &id2, &err),
                     DL_OK);
    n = wait_cmds(ctl, got, 8, 5);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(got[0].remote_id, id2);
    ck_assert(got[0].lr.kind == DL_LR_RANGE && got[0].lr.lo == 1e-5 && got[0].lr.hi == 1e-3);
    /* the trainer answers the second with its event, in one transaction */
    ck_assert_int_eq(dl_store_log_event_steer(st, run, "lr-change", 12, "{\"origin\":\"x\"}", id2,
                                              DL_STEER_APPLIED, "", &err),
                     DL_OK);
    bool changed = true;
    ck_assert_int_eq(dl_store_steer_finish(st, id2, DL_STEER_REFUSED, "late", 13, &changed, &err),
                     DL_OK);
    ck_assert_msg(!changed, "an answered command is answered once");
    ck_assert_int_eq(dl_store_steer_get(st, id2, &r, &err), DL_OK);
    ck_assert_int_eq(r.state, DL_STEER_APPLIED);
    ck_assert_int_eq(r.step, 12);
    dl_remote_stop(rem);
    /* the process "died" with id1 taken but unanswered: a resumed run's poller takes it again,
     * never id2 */
    dl_control *ctl2;
    ck_assert_int_eq(dl_control_create(&ctl2, NULL), DL_OK);
    ck_assert_int_eq(dl_remote_start(dir, run, ctl2, &rem, &err), DL_OK);
    n = wait_cmds(ctl2, got, 8, 5);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(got[0].remote_id, id1);
    usleep(300000);
    ck_assert_uint_eq(dl_control_take(ctl2, got, 8), 0);
    dl_remote_stop(rem);
    /* the end of a training answers what is left */
    int closed = 0;
    ck_assert_int_eq(dl_store_steer_close(st, run, "ended", 20, &closed, &err), DL_OK);
    ck_assert_int_eq(closed, 1);
    ck_assert_int_eq(dl_store_steer_get(st, id1, &r, &err), DL_OK);
    ck_assert_int_eq(r.state, DL_STEER_REFUSED);
    ck_assert_str_eq(r.reason, "ended");
    dl_control_free(ctl);
    dl_control_free(ctl2);
    dl_store_close(st);
}
END_TEST

/* Two watchers (two connections, two origins) writing at once: their commands reach the queue in
 * the order they were committed. */
START_TEST(test_watchers_in_order)
{
    dl_store *a = open_rw(), *b = open_rw();
    int64_t run = new_run(a);
    dl_control *ctl;
    ck_assert_int_eq(dl_control_create(&ctl, NULL), DL_OK);
    dl_remote *rem;
    dl_err err = {0};
    ck_assert_int_eq(dl_remote_start(dir, run, ctl, &rem, &err), DL_OK);
    int64_t ids[6];
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(dl_store_steer_post(i % 2 ? b : a, run, i % 2 ? "lr-scale" : "pause",
                                             i % 2 ? "2" : "", i % 2 ? "attach pid 2" : "cli",
                                             &ids[i], &err),
                         DL_OK);
    dl_cmd got[16];
    size_t n = 0;
    double t0 = dl_clock_now();
    while (n < 6 && dl_clock_now() - t0 < 5) {
        dl_control_wait(ctl, 50);
        n += dl_control_take(ctl, got + n, 16 - n);
    }
    ck_assert_uint_eq(n, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(got[i].remote_id, ids[i]);
        ck_assert_str_eq(got[i].origin, i % 2 ? "attach pid 2" : "cli");
    }
    dl_remote_stop(rem);
    dl_control_free(ctl);
    dl_store_close(a);
    dl_store_close(b);
}
END_TEST

START_TEST(test_live_snapshot)
{
    dl_store *st = open_rw();
    int64_t run = new_run(st);
    dl_control *ctl;
    ck_assert_int_eq(dl_control_create(&ctl, NULL), DL_OK);
    dl_snapshot s;
    memset(&s, 0, sizeof s);
    s.phase = DL_PHASE_VALID;
    s.epoch = 2;
    s.n_epochs = 5;
    s.batch = 30;
    s.n_batches = 31;
    s.step = 92;
    s.n_groups = 3;
    s.lr[0] = 1e-4, s.lr[1] = 1e-4, s.lr[2] = 1e-3;
    s.frozen_to = 2;
    s.valid_loss = NAN;
    s.n_metrics = 1;
    snprintf(s.metric_name[0], DL_SNAP_NAME, "error_rate");
    s.metric[0] = 0.25;
    snprintf(s.message, sizeof s.message, "a \"quoted\" message");
    dl_control_publish(ctl, &s);
    dl_remote *rem;
    dl_err err = {0};
    ck_assert_int_eq(dl_remote_start(dir, run, ctl, &rem, &err), DL_OK);
    dl_remote_stop(rem); /* writes the last snapshot */
    char *json = NULL;
    ck_assert_int_eq(dl_store_live_get(st, run, &json, NULL, NULL, &err), DL_OK);
    dl_snapshot b;
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(dl_snapshot_from_json(json, &b), 0);
    free(json);
    ck_assert_int_eq(b.phase, DL_PHASE_VALID);
    ck_assert_int_eq(b.epoch, 2);
    ck_assert_int_eq(b.n_batches, 31);
    ck_assert_uint_eq(b.step, 92);
    ck_assert_int_eq(b.n_groups, 3);
    ck_assert(b.lr[2] == 1e-3 && b.lr[0] == 1e-4);
    ck_assert_int_eq(b.frozen_to, 2);
    ck_assert(isnan(b.valid_loss));
    ck_assert_str_eq(b.metric_name[0], "error_rate");
    ck_assert(b.metric[0] == 0.25);
    ck_assert_str_eq(b.message, "a \"quoted\" message");
    dl_control_free(ctl);
    dl_store_close(st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("steer");
    TCase *tc = tcase_create("channel");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_words_round_trip);
    tcase_add_test(tc, test_poller_takes_once_and_resume_takes_leftovers);
    tcase_add_test(tc, test_watchers_in_order);
    tcase_add_test(tc, test_live_snapshot);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
