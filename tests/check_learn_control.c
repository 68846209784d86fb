/* check_learn_control: the command queue and the published snapshot, exercised with real threads:
 * commands arrive in order and only when the trainer takes them, the queue bound is reported,
 * a paused trainer wakes on a command, readers never see a torn snapshot, the rings hand out
 * every point once and count what fell off, and the wake fd becomes readable on publish. */
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/learn/control.h"
#include "tests/testutil.h"

START_TEST(queue_is_fifo_and_bounded)
{
    dl_control *c;
    dl_err err;
    ck_assert_int_eq(dl_control_create(&c, &err), DL_OK);
    for (int i = 0; i < DL_CONTROL_QUEUE; i++) {
        dl_cmd cmd = {.kind = DL_CMD_SCALE_LR, .factor = i};
        ck_assert_int_eq(dl_control_post(c, &cmd, &err), DL_OK);
    }
    dl_cmd extra = {.kind = DL_CMD_PAUSE};
    ck_assert_int_eq(dl_control_post(c, &extra, &err), DL_ENOSPC);
    ck_assert_ptr_nonnull(strstr(err.msg, "pause"));
    dl_cmd bad = {.kind = DL_CMD_COUNT};
    ck_assert_int_eq(dl_control_post(c, &bad, &err), DL_EINVAL);

    dl_cmd out[10];
    int expect = 0;
    size_t n;
    while ((n = dl_control_take(c, out, 10)) > 0)
        for (size_t i = 0; i < n; i++)
            ck_assert_double_eq(out[i].factor, expect++);
    ck_assert_int_eq(expect, DL_CONTROL_QUEUE);
    ck_assert_int_eq(dl_control_post(c, &extra, &err), DL_OK); /* room again after draining */
    ck_assert_uint_eq(dl_control_take(c, out, 10), 1);
    ck_assert_int_eq(out[0].kind, DL_CMD_PAUSE);
    dl_control_free(c);
}
END_TEST

typedef struct poster_arg {
    dl_control *c;
    int n;
} poster_arg;

static void *poster(void *p)
{
    poster_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        dl_cmd cmd = {.kind = DL_CMD_SET_LR, .lr.hi = i};
        while (dl_control_post(a->c, &cmd, NULL) == DL_ENOSPC)
            sched_yield();
    }
    return NULL;
}

START_TEST(commands_from_another_thread_arrive_in_order)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    poster_arg a = {c, 5000};
    pthread_t th;
    pthread_create(&th, NULL, poster, &a);
    int expect = 0;
    dl_cmd out[DL_CONTROL_QUEUE];
    while (expect < a.n) {
        dl_control_wait(c, 100);
        size_t n = dl_control_take(c, out, DL_CONTROL_QUEUE);
        for (size_t i = 0; i < n; i++)
            ck_assert_double_eq(out[i].lr.hi, expect++);
    }
    pthread_join(th, NULL);
    ck_assert_uint_eq(dl_control_take(c, out, 1), 0);
    dl_control_free(c);
}
END_TEST

static void *delayed_resume(void *p)
{
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    dl_cmd cmd = {.kind = DL_CMD_RESUME};
    dl_control_post(p, &cmd, NULL);
    return NULL;
}

START_TEST(paused_trainer_wakes_on_command_and_times_out_without)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    double t0 = dl_control_elapsed(c);
    ck_assert(!dl_control_wait(c, 30)); /* nothing queued: times out */
    ck_assert_double_ge(dl_control_elapsed(c) - t0, 0.025);

    pthread_t th;
    pthread_create(&th, NULL, delayed_resume, c);
    t0 = dl_control_elapsed(c);
    ck_assert(dl_control_wait(c, 5000));
    ck_assert_double_lt(dl_control_elapsed(c) - t0, 2.0); /* woken, not timed out */
    pthread_join(th, NULL);
    dl_cmd out;
    ck_assert_uint_eq(dl_control_take(c, &out, 1), 1);
    ck_assert_int_eq(out.kind, DL_CMD_RESUME);

    /* A pending signal ends the wait too (the trainer must notice Ctrl-C while paused). */
    dl_control_signal_raise();
    t0 = dl_control_elapsed(c);
    ck_assert(!dl_control_wait(c, 5000));
    ck_assert_double_lt(dl_control_elapsed(c) - t0, 1.0);
    ck_assert(dl_control_signal_pending());
    dl_control_signal_clear();
    ck_assert(!dl_control_signal_pending());
    dl_control_free(c);
}
END_TEST

/* Writer publishes snapshots whose fields all derive from one counter; a torn copy would break
 * the relation. */
static pthread_barrier_t start_barrier;

static void *publisher(void *p)
{
    dl_control *c = p;
    pthread_barrier_wait(&start_barrier);
    dl_snapshot s;
    memset(&s, 0, sizeof s);
    for (int i = 1; i <= 20000; i++) {
        s.step = (uint64_t)i;
        s.batch = i % 97;
        s.epoch = i / 97;
        for (int g = 0; g < DL_MAX_GROUPS; g++)
            s.lr[g] = i * (g + 1);
        s.last_loss = i * 0.5;
        s.phase = i == 20000 ? DL_PHASE_DONE : DL_PHASE_TRAIN;
        dl_control_publish(c, &s);
        dl_curve_point pt = {.kind = DL_POINT_TRAIN, .step = (uint64_t)i, .loss = i};
        dl_control_push_point(c, &pt);
    }
    return NULL;
}

START_TEST(readers_never_see_torn_snapshots)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    pthread_t th;
    pthread_barrier_init(&start_barrier, NULL, 2);
    pthread_create(&th, NULL, publisher, c);
    pthread_barrier_wait(&start_barrier);
    dl_snapshot s;
    uint64_t last_gen = 0, last_step = 0, since = 0, dropped_total = 0, got = 0;
    dl_curve_point pts[256];
    do {
        struct pollfd pfd = {.fd = dl_control_wake_fd(c), .events = POLLIN};
        poll(&pfd, 1, 100);
        dl_control_drain_wake(c);
        dl_control_read(c, &s);
        ck_assert_uint_ge(s.gen, last_gen);
        ck_assert_uint_ge(s.step, last_step);
        last_gen = s.gen;
        last_step = s.step;
        if (s.step > 0) {
            ck_assert_int_eq(s.batch, (int)(s.step % 97));
            ck_assert_int_eq(s.epoch, (int)(s.step / 97));
            ck_assert_double_eq(s.last_loss, s.step * 0.5);
            for (int g = 0; g < DL_MAX_GROUPS; g++)
                ck_assert_double_eq(s.lr[g], (double)s.step * (g + 1));
        }
        uint64_t dropped, before = since;
        size_t n = dl_control_read_points(c, &since, pts, 256, &dropped);
        dropped_total += dropped;
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_eq(pts[i].seq, before + dropped + i);
            ck_assert_double_eq(pts[i].loss, (double)pts[i].seq + 1);
        }
        got += n;
    } while (s.phase != DL_PHASE_DONE);
    pthread_join(th, NULL);
    uint64_t dropped;
    size_t n;
    while ((n = dl_control_read_points(c, &since, pts, 256, &dropped)) > 0)
        got += n, dropped_total += dropped;
    ck_assert_uint_eq(got + dropped_total,
                      20000); /* every point either read once or counted lost */
    ck_assert_uint_eq(last_gen, 20000);
    pthread_barrier_destroy(&start_barrier);
    dl_control_free(c);
}
END_TEST

START_TEST(event_ring_keeps_the_newest_and_counts_the_rest)
{
    dl_control *c;
    ck_assert_int_eq(dl_control_create(&c, NULL), DL_OK);
    int total = DL_CONTROL_EVENTS + 10;
    for (int i = 0; i < total; i++) {
        dl_event e = {.step = (uint64_t)i * 3, .n_groups = 2, .frozen_to = 1};
        e.lr[1] = i;
        snprintf(e.text, sizeof e.text, "event %d", i);
        dl_control_push_event(c, &e);
    }
    struct pollfd pfd = {.fd = dl_control_wake_fd(c), .events = POLLIN};
    ck_assert_int_eq(poll(&pfd, 1, 0), 1);
    dl_control_drain_wake(c);
    ck_assert_int_eq(poll(&pfd, 1, 0), 0); /* drained: no longer readable */

    static dl_event out[DL_CONTROL_EVENTS + 10];
    uint64_t since = 0, dropped = 0;
    size_t n = dl_control_read_events(c, &since, out, DL_CONTROL_EVENTS + 10, &dropped);
    ck_assert_uint_eq(n, DL_CONTROL_EVENTS);
    ck_assert_uint_eq(dropped, 10);
    ck_assert_uint_eq(out[0].seq, 10);
    ck_assert_str_eq(out[0].text, "event 10");
    ck_assert_uint_eq(out[n - 1].step, (uint64_t)(total - 1) * 3);
    ck_assert_double_ge(out[n - 1].t, out[0].t);
    ck_assert_uint_eq(since, (uint64_t)total);
    ck_assert_uint_eq(dl_control_read_events(c, &since, out, 4, &dropped), 0);
    ck_assert_uint_eq(dropped, 0);
    dl_control_free(c);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(dl_cmd_name(DL_CMD_STOP_AFTER_EPOCH), "stop_after_epoch");
    ck_assert_str_eq(dl_cmd_name(DL_CMD_LRFIND), "lrfind");
    ck_assert_str_eq(dl_cmd_name(DL_CMD_COUNT), "unknown");
    ck_assert_str_eq(dl_phase_name(DL_PHASE_DIVERGED), "diverged");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("learn_control");
    TCase *tc = tcase_create("control");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, queue_is_fifo_and_bounded);
    tcase_add_test(tc, commands_from_another_thread_arrive_in_order);
    tcase_add_test(tc, paused_trainer_wakes_on_command_and_times_out_without);
    tcase_add_test(tc, readers_never_see_torn_snapshots);
    tcase_add_test(tc, event_ring_keeps_the_newest_and_counts_the_rest);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
