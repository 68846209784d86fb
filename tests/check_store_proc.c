/* check_store_proc: the store under real processes. A forked writer logs a synthetic run and is
 * SIGKILLed at a random moment, again and again (DLLAB_STORE_KILLS times, 120 by default; `make
 * stress-store` runs thousands); after each kill the store must open, the run must be marked
 * crashed, no epoch may be torn (an epoch row always comes with all its batches and metrics), and
 * every row the writer had seen committed must be there. Then two writers and a reader at once. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/rng.h"
#include "core/store/store.h"
#include "tests/testutil.h"

enum { BATCHES_PER_EPOCH = 6, METRICS = 2 };

/* What the writer tells the parent, after the call that made it durable returned. */
typedef struct report {
    char tag; /* 'R' run created (val = id), 'E' epoch committed, 'F' batches flushed to step */
    int64_t val;
} report;

static double loss_of(int64_t step) { return 3.0 / (1.0 + 0.1 * (double)step); }

static void say(int fd, char tag, int64_t val)
{
    report r = {tag, val};
    if (fd >= 0)
        (void)!write(fd, &r, sizeof r);
}

/* The synthetic trainer: epochs of BATCHES_PER_EPOCH batches, a flush every 4 batches, an event
 * and a checkpoint record per epoch. Returns 0 when done. */
static int writer(const char *dir, const char *prefix, int epochs, int fd, useconds_t batch_sleep)
{
    dl_store *st;
    dl_err err = {0};
    if (dl_store_open(dir, 0, &st, &err) != DL_OK) {
        fprintf(stderr, "writer: %s\n", err.msg);
        return 2;
    }
    dl_run_spec spec = {
        .name_prefix = prefix, .dataset = "synthetic", .arch = "none", .n_train = 60};
    int64_t id;
    if (dl_store_run_create(st, &spec, &id, NULL, 0, &err) != DL_OK) {
        fprintf(stderr, "writer: %s\n", err.msg);
        return 3;
    }
    say(fd, 'R', id);
    int64_t step = 0;
    for (int e = 0; e < epochs; e++) {
        for (int b = 0; b < BATCHES_PER_EPOCH; b++, step++) {
            dl_batch_row r = {.step = step,
                              .epoch = e,
                              .n_lr = 1,
                              .lr = {1e-3},
                              .mom = 0.9,
                              .loss = loss_of(step),
                              .smooth_loss = loss_of(step),
                              .t = 1.7e9 + (double)step};
            if (dl_store_log_batch(st, id, &r, &err) != DL_OK)
                return 4;
            if (step % 4 == 3) {
                if (dl_store_flush(st, &err) != DL_OK)
                    return 5;
                say(fd, 'F', step);
            }
            if (batch_sleep)
                usleep(batch_sleep);
        }
        dl_epoch_row er = {.epoch = e,
                           .train_loss = loss_of(step - 1),
                           .valid_loss = 1.0 / (e + 1),
                           .duration = 1,
                           .t = 1.7e9 + (double)step,
                           .n_metrics = METRICS};
        snprintf(er.metrics[0].name, sizeof er.metrics[0].name, "accuracy");
        er.metrics[0].value = e / 100.0;
        snprintf(er.metrics[1].name, sizeof er.metrics[1].name, "error_rate");
        er.metrics[1].value = 1 - e / 100.0;
        if (dl_store_log_epoch(st, id, &er, &err) != DL_OK)
            return 6;
        say(fd, 'E', e);
        if (dl_store_log_event(st, id, DL_EV_WARNING, step, 0, "{\"msg\":\"epoch done\"}", &err) !=
                DL_OK ||
            dl_store_checkpoint_record(st, id, "x.safetensors", e, step, er.valid_loss, true,
                                       &err) != DL_OK)
            return 7;
    }
    if (dl_store_run_finish(st, id, DL_RUN_FINISHED, &err) != DL_OK)
        return 8;
    dl_store_close(st);
    return 0;
}

/* Checks a run's rows: contiguous batch steps with the right values, each epoch row complete.
 * Epochs are read before batches: a writer may commit between the two reads, and rows only grow,
 * so every epoch seen first must find its batches in the later read (the other order races). */
static void check_run(dl_store *st, int64_t id, int64_t min_step, int min_epoch)
{
    dl_err err = {0};
    dl_epoch_row *ep;
    size_t ne;
    ck_assert(dl_store_epochs(st, id, &ep, &ne, &err) == DL_OK);
    dl_batch_row *rows;
    size_t n;
    ck_assert_msg(dl_store_batches(st, id, -1, &rows, &n, &err) == DL_OK, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(rows[i].step, (int64_t)i); /* nothing lost in the middle */
        ck_assert_double_eq_tol(rows[i].loss, loss_of(rows[i].step), 1e-12);
        ck_assert_int_eq(rows[i].epoch, (int)(i / BATCHES_PER_EPOCH));
    }
    ck_assert_msg((int64_t)n - 1 >= min_step, "flushed up to step %lld, store has %zu rows",
                  (long long)min_step, n);
    free(rows);
    for (size_t i = 0; i < ne; i++) {
        ck_assert_int_eq(ep[i].epoch, (int)i);
        ck_assert_int_eq(ep[i].n_metrics, METRICS);        /* no epoch without its metrics */
        ck_assert_uint_ge(n, (i + 1) * BATCHES_PER_EPOCH); /* nor without its batches */
    }
    ck_assert_msg((int)ne - 1 >= min_epoch, "epoch %d was committed, store has %zu epochs",
                  min_epoch, ne);
    free(ep);
}

static int kills(void)
{
    const char *e = getenv("DLLAB_STORE_KILLS");
    int k = e ? atoi(e) : 0;
    return k > 0 ? k : 120;
}

START_TEST(sigkill_at_random_moments)
{
    char *dir = tu_mkdtemp();
    dl_rng rng;
    dl_rng_seed(&rng, (uint64_t)time(NULL), 0, 0);
    int n_kills = kills(), with_run = 0, finished = 0, with_epoch = 0;
    char store[1200];
    for (int k = 0; k < n_kills; k++) {
        /* Every tenth kill starts a new store and kills while it is being created. */
        snprintf(store, sizeof store, "%s/s%d", dir, k / 10);
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            _exit(writer(store, "crash", 40, fds[1], 300));
        }
        close(fds[1]);
        /* Mostly mid-run, sometimes during open/creation (the first few ms). */
        report r;
        int64_t id = -1, flushed = -1;
        int epoch = -1;
        if (k % 10 == 0 || dl_rng_below(&rng, 8) == 0) {
            usleep(dl_rng_below(&rng, 3000)); /* during open, migration or run creation */
        } else {
            /* Mid-run: from the moment the run exists, so a loaded machine does not turn these
             * into early kills. */
            if (read(fds[0], &r, sizeof r) == (ssize_t)sizeof r && r.tag == 'R')
                id = r.val;
            usleep(dl_rng_below(&rng, 50000));
        }
        kill(pid, SIGKILL);
        int ws;
        waitpid(pid, &ws, 0);
        while (read(fds[0], &r, sizeof r) == (ssize_t)sizeof r) {
            if (r.tag == 'R')
                id = r.val;
            else if (r.tag == 'F')
                flushed = r.val;
            else if (r.tag == 'E')
                epoch = (int)r.val;
        }
        close(fds[0]);
        bool done = WIFEXITED(ws);
        if (done)
            ck_assert_msg(WEXITSTATUS(ws) == 0, "writer failed with %d", WEXITSTATUS(ws));

        dl_store *st;
        dl_err err = {0};
        ck_assert_msg(dl_store_open(store, 0, &st, &err) == DL_OK,
                      "kill %d: store does not open: %s", k, err.msg);
        if (id >= 0) {
            with_run++;
            dl_run run;
            ck_assert(dl_store_run_get(st, id, &run, &err) == DL_OK);
            ck_assert_int_eq(run.status, done ? DL_RUN_FINISHED : DL_RUN_CRASHED);
            finished += done;
            dl_run_clear(&run);
            check_run(st, id, flushed, epoch);
            with_epoch += epoch >= 0;
        }
        dl_store_close(st);
    }
    fprintf(stderr,
            "%d kills: %d during a run (%d after an epoch was committed), %d finished first\n",
            n_kills, with_run, with_epoch, finished);
    ck_assert_int_ge(with_run, n_kills / 2); /* most kills landed mid-run */
    ck_assert_int_ge(with_epoch, n_kills / 10);
    ck_assert_int_le(finished, n_kills / 10);
    /* Every run is accounted for: crashed or finished, none left "running". */
    dl_store *st;
    dl_err err = {0};
    ck_assert(dl_store_open(store, 0, &st, &err) == DL_OK);
    dl_run_filter f = {.status = DL_RUN_RUNNING};
    dl_run *runs;
    size_t n;
    ck_assert(dl_store_runs_list(st, &f, &runs, &n, &err) == DL_OK);
    ck_assert_uint_eq(n, 0);
    dl_runs_free(runs, n);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(two_writers_and_a_reader)
{
    char *dir = tu_mkdtemp();
    enum { EPOCHS = 12 };
    pid_t w[2];
    for (int i = 0; i < 2; i++) {
        w[i] = fork();
        if (w[i] == 0)
            _exit(writer(dir, "pair", EPOCHS, -1, 2000));
    }
    /* The reader polls while both write: every snapshot it sees must be consistent. */
    int polls = 0, alive = 2;
    while (alive) {
        dl_store *st;
        dl_err err = {0};
        dl_status s = dl_store_open(dir, DL_STORE_READONLY, &st, &err);
        if (s == DL_OK) {
            dl_run *runs;
            size_t n;
            ck_assert_msg(dl_store_runs_list(st, NULL, &runs, &n, &err) == DL_OK, "%s", err.msg);
            for (size_t i = 0; i < n; i++)
                check_run(st, runs[i].id, -1, -1);
            dl_runs_free(runs, n);
            dl_store_close(st);
            polls++;
        } else {
            ck_assert_msg(s == DL_ENOTFOUND || s == DL_EUNSUPPORTED, "reader: %s",
                          err.msg); /* not created yet */
        }
        usleep(20000);
        for (int i = 0; i < 2; i++) {
            int ws;
            if (w[i] > 0 && waitpid(w[i], &ws, WNOHANG) == w[i]) {
                ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "writer %d failed (%d)", i,
                              ws);
                w[i] = 0;
                alive--;
            }
        }
    }
    ck_assert_int_gt(polls, 5);
    dl_store *st;
    dl_err err = {0};
    ck_assert(dl_store_open(dir, 0, &st, &err) == DL_OK);
    dl_run *runs;
    size_t n;
    ck_assert(dl_store_runs_list(st, NULL, &runs, &n, &err) == DL_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_ne(runs[0].name, runs[1].name);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(runs[i].status, DL_RUN_FINISHED);
        ck_assert_int_eq(runs[i].n_epochs, EPOCHS);
        ck_assert_int_eq(runs[i].n_batches, EPOCHS * BATCHES_PER_EPOCH);
        check_run(st, runs[i].id, EPOCHS * BATCHES_PER_EPOCH - 1, EPOCHS - 1);
    }
    dl_runs_free(runs, n);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_proc");
    TCase *tc = tcase_create("proc");
    tcase_set_timeout(tc, kills() > 200 ? 36000 : 120);
    tcase_add_test(tc, sigkill_at_random_moments);
    tcase_add_test(tc, two_writers_and_a_reader);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
