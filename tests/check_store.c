/* check_store: the run store's API: run names, buffered batch rows and their one-second commit,
 * epochs with metrics, events, LR-finder sweeps, interpretation results, skipped files,
 * checkpoints (real safetensors writes, an injected ENOSPC, a real write failure through
 * RLIMIT_FSIZE), lookup by name/id/prefix with ambiguity, tags/notes/baseline/rm, crash marking,
 * migration from schema 1, and refusal of foreign, corrupt, truncated and newer files without
 * modifying them, and a read-only folder. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io/safetensors.h"
#include "core/store/internal.h"
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

static int64_t new_run(dl_store *st, const char *prefix, char *name)
{
    dl_run_spec spec = {.name_prefix = prefix,
                        .dataset = "fashion-mnist",
                        .arch = "resnet-xs",
                        .n_train = 600,
                        .n_valid = 100,
                        .vocab_json = "[\"a\",\"b\"]",
                        .config_json = "{\"lr\":0.001}",
                        .blas_kernel = "Haswell"};
    int64_t id;
    char buf[DL_STORE_NAME_MAX];
    dl_err err = {0};
    ck_assert_msg(dl_store_run_create(st, &spec, &id, name ? name : buf, DL_STORE_NAME_MAX, &err) ==
                      DL_OK,
                  "%s", err.msg);
    return id;
}

static dl_batch_row batch(int64_t step, int epoch)
{
    dl_batch_row r = {.step = step,
                      .epoch = epoch,
                      .n_lr = 2,
                      .lr = {1e-4, 1e-3},
                      .mom = 0.9,
                      .loss = 1.0 / (1 + step),
                      .smooth_loss = 2.0 / (1 + step),
                      .t = 1e9 + step};
    return r;
}

static const char *db_path(void)
{
    static char p[1200];
    snprintf(p, sizeof p, "%s/runs.db", dir);
    return p;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

START_TEST(names_are_unique_and_never_reused)
{
    dl_store *st = open_rw();
    char a[DL_STORE_NAME_MAX], b[DL_STORE_NAME_MAX], c[DL_STORE_NAME_MAX], d[DL_STORE_NAME_MAX];
    new_run(st, "fmnist resnet/xs", a);
    new_run(st, "fmnist resnet/xs", b);
    int64_t idc = new_run(st, "fmnist resnet/xs", c);
    ck_assert_str_eq(a, "fmnist-resnet-xs-1");
    ck_assert_str_eq(b, "fmnist-resnet-xs-2");
    ck_assert_str_eq(c, "fmnist-resnet-xs-3");
    dl_err err = {0};
    ck_assert_int_eq(dl_store_run_remove(st, idc, &err), DL_OK);
    new_run(st, "fmnist resnet/xs", d);
    ck_assert_str_eq(d, "fmnist-resnet-xs-4"); /* a removed run's name is not handed out again */
    new_run(st, "", d);
    ck_assert_str_eq(d, "run-1");
    dl_store_close(st);
}
END_TEST

START_TEST(batches_commit_within_a_second_and_with_the_epoch)
{
    dl_store *w = open_rw(), *r;
    dl_err err = {0};
    ck_assert_int_eq(dl_store_open(dir, DL_STORE_READONLY, &r, &err), DL_OK);
    int64_t id = new_run(w, "t", NULL);
    for (int i = 0; i < 5; i++) {
        dl_batch_row b = batch(i, 0);
        ck_assert_int_eq(dl_store_log_batch(w, id, &b, &err), DL_OK);
    }
    dl_batch_row *rows;
    size_t n;
    ck_assert_int_eq(dl_store_batches(r, id, -1, &rows, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 0); /* buffered, not yet committed */
    free(rows);
    usleep(1050 * 1000);
    dl_batch_row b = batch(5, 0);
    ck_assert_int_eq(dl_store_log_batch(w, id, &b, &err), DL_OK);
    ck_assert_int_eq(dl_store_batches(r, id, -1, &rows, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 6); /* the 1 s rule committed everything buffered */
    ck_assert_int_eq(rows[5].n_lr, 2);
    ck_assert_double_eq_tol(rows[5].lr[0], 1e-4, 1e-12);
    ck_assert_double_eq_tol(rows[5].lr[1], 1e-3, 1e-12);
    ck_assert_double_eq_tol(rows[3].loss, 0.25, 1e-12);
    ck_assert_double_eq_tol(rows[3].smooth_loss, 0.5, 1e-12);
    ck_assert_double_eq_tol(rows[3].mom, 0.9, 1e-12);
    free(rows);
    /* Incremental polling by step. */
    ck_assert_int_eq(dl_store_batches(r, id, 3, &rows, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(rows[0].step, 4);
    free(rows);

    for (int i = 6; i < 9; i++) {
        b = batch(i, 0);
        ck_assert_int_eq(dl_store_log_batch(w, id, &b, &err), DL_OK);
    }
    dl_epoch_row e = {.epoch = 0,
                      .train_loss = 0.5,
                      .valid_loss = 0.4,
                      .duration = 2.5,
                      .t = 2e9,
                      .n_metrics = 2};
    snprintf(e.metrics[0].name, sizeof e.metrics[0].name, "accuracy");
    e.metrics[0].value = 0.875;
    snprintf(e.metrics[1].name, sizeof e.metrics[1].name, "error_rate");
    e.metrics[1].value = 0.125;
    ck_assert_int_eq(dl_store_log_epoch(w, id, &e, &err), DL_OK);
    ck_assert_int_eq(dl_store_batches(r, id, -1, &rows, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 9);
    free(rows);
    dl_epoch_row *ep;
    ck_assert_int_eq(dl_store_epochs(r, id, &ep, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ep[0].n_metrics, 2);
    ck_assert_str_eq(ep[0].metrics[1].name, "error_rate");
    ck_assert_double_eq_tol(ep[0].metrics[0].value, 0.875, 1e-12);
    ck_assert_double_eq_tol(ep[0].valid_loss, 0.4, 1e-12);
    free(ep);
    /* A missing validation loss (NaN) reads back as NaN. */
    e.epoch = 1;
    e.valid_loss = NAN;
    e.n_metrics = 0;
    ck_assert_int_eq(dl_store_log_epoch(w, id, &e, &err), DL_OK);
    ck_assert_int_eq(dl_store_epochs(r, id, &ep, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(isnan(ep[1].valid_loss));
    ck_assert_int_eq(ep[1].n_metrics, 0);
    free(ep);

    dl_run run;
    ck_assert_int_eq(dl_store_run_get(r, id, &run, &err), DL_OK);
    ck_assert_int_eq(run.n_epochs, 2);
    ck_assert_int_eq(run.n_batches, 9);
    ck_assert_int_eq(run.best_epoch, 0);
    ck_assert_double_eq_tol(run.best_valid_loss, 0.4, 1e-12);
    ck_assert_str_eq(run.metric_name, "accuracy");
    ck_assert_int_eq(run.status, DL_RUN_RUNNING);
    ck_assert_str_eq(run.dataset, "fashion-mnist");
    ck_assert_str_eq(run.config_json, "{\"lr\":0.001}");
    dl_run_clear(&run);
    ck_assert_int_eq(dl_store_run_finish(w, id, DL_RUN_FINISHED, &err), DL_OK);
    ck_assert_int_eq(dl_store_run_get(r, id, &run, &err), DL_OK);
    ck_assert_int_eq(run.status, DL_RUN_FINISHED);
    ck_assert(run.finished > 0);
    dl_run_clear(&run);

    /* Bad rows are refused with a message naming the step. */
    b = batch(10, 1);
    b.n_lr = 0;
    ck_assert_int_eq(dl_store_log_batch(w, id, &b, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "step 10"));
    /* A read-only handle refuses writes. */
    b = batch(10, 1);
    ck_assert_int_eq(dl_store_log_batch(r, id, &b, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "read-only"));
    dl_store_close(r);
    dl_store_close(w);
}
END_TEST

START_TEST(events_lrfind_interp_skipped)
{
    dl_store *st = open_rw();
    dl_err err = {0};
    int64_t id = new_run(st, "ev", NULL);
    ck_assert_int_eq(dl_store_log_event(st, id, DL_EV_FREEZE, 0, 0, NULL, &err), DL_OK);
    ck_assert_int_eq(dl_store_log_event(st, id, DL_EV_LR_CHANGE, 12, 5.0, "{\"factor\":2}", &err),
                     DL_OK);
    dl_event_row *ev;
    size_t n;
    ck_assert_int_eq(dl_store_events(st, id, -1, &ev, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ev[0].kind, "freeze");
    ck_assert(ev[0].t > 1e9); /* t <= 0 means now */
    ck_assert_str_eq(ev[1].payload, "{\"factor\":2}");
    ck_assert_int_eq(ev[1].step, 12);
    int64_t last = ev[0].id;
    dl_events_free(ev, n);
    ck_assert_int_eq(dl_store_events(st, id, last, &ev, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 1);
    dl_events_free(ev, n);

    double lr[50], loss[50];
    for (int i = 0; i < 50; i++) {
        lr[i] = 1e-7 * pow(10, i / 7.0);
        loss[i] = 2.0 - 0.01 * i;
    }
    loss[3] = NAN;
    dl_lr_suggestion sug[2] = {{"valley", 1e-3, 1.5}, {"minimum", 1e-2, 1.4}};
    int64_t lid;
    ck_assert_int_eq(dl_store_lrfind_save(st, id, 0, lr, loss, 50, sug, 2, &lid, &err), DL_OK);
    dl_lrfind *lf;
    ck_assert_int_eq(dl_store_lrfinds(st, id, &lf, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(lf[0].id, lid);
    ck_assert_uint_eq(lf[0].n, 50);
    ck_assert_double_eq_tol(lf[0].lr[49], lr[49], 1e-15);
    ck_assert(isnan(lf[0].loss[3]));
    ck_assert_uint_eq(lf[0].n_sug, 2);
    ck_assert_str_eq(lf[0].sug[1].method, "minimum");
    dl_lrfinds_free(lf, n);
    lr[4] = -1;
    ck_assert_int_eq(dl_store_lrfind_save(st, id, 0, lr, loss, 50, sug, 2, NULL, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "point 4"));

    ck_assert_int_eq(dl_store_interp_save(st, id, 0, "confusion", "[[1,2],[3,4]]", &err), DL_OK);
    ck_assert_int_eq(dl_store_interp_save(st, id, 2, "confusion", "[[5,0],[0,5]]", &err), DL_OK);
    ck_assert_int_eq(dl_store_interp_save(st, id, 2, "confusion", "[[6,0],[0,4]]", &err), DL_OK);
    char *json;
    int ep = -1;
    ck_assert_int_eq(dl_store_interp_get(st, id, "confusion", &json, &ep, &err), DL_OK);
    ck_assert_str_eq(json, "[[6,0],[0,4]]");
    ck_assert_int_eq(ep, 2);
    free(json);
    ck_assert_int_eq(dl_store_interp_get(st, id, "top-losses", &json, NULL, &err), DL_ENOTFOUND);
    ck_assert_int_eq(dl_store_interp_save(st, id, 2, "per-class", "{\"a\":1}", &err), DL_OK);
    dl_interp_row *ir;
    ck_assert_int_eq(dl_store_interp_list(st, id, &ir, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(ir[0].epoch, 0);
    ck_assert_str_eq(ir[2].kind, "per-class");
    dl_interp_free(ir, n);

    ck_assert_int_eq(dl_store_skipped_add(st, id, "train/3/bad.jpg", "not a JPEG", &err), DL_OK);
    dl_skipped_row *sk;
    ck_assert_int_eq(dl_store_skipped(st, id, &sk, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(sk[0].reason, "not a JPEG");
    dl_skipped_free(sk, n);
    dl_store_close(st);
}
END_TEST

static void make_map(dl_tensor_map *m, int64_t numel, float v)
{
    dl_tensor_map_init(m);
    float *d = malloc((size_t)numel * sizeof *d);
    for (int64_t i = 0; i < numel; i++)
        d[i] = v + (float)i;
    dl_err err = {0};
    ck_assert_int_eq(dl_tensor_map_add(m, "fc.weight", DL_DTYPE_F32, 1, &numel, d, &err), DL_OK);
    ck_assert_int_eq(dl_tensor_map_set_meta(m, "epoch", "1", &err), DL_OK);
    free(d);
}

static dl_status fake_enospc(const char *path, const dl_tensor_map *m, dl_err *err)
{
    return dl_err_set(err, DL_ENOSPC, "writing %s.tmp: No space left on device", path);
}

START_TEST(checkpoints_atomic_and_failures_recorded)
{
    dl_store *st = open_rw();
    dl_err err = {0};
    char name[DL_STORE_NAME_MAX], path[4096];
    int64_t id = new_run(st, "ck", name);
    dl_tensor_map m;
    make_map(&m, 16, 1.0f);
    ck_assert_int_eq(
        dl_store_checkpoint_save(st, id, "epoch-0", &m, 0, 10, 0.9, true, path, sizeof path, &err),
        DL_OK);
    dl_tensor_map_free(&m);
    ck_assert(exists(path));
    ck_assert_ptr_nonnull(strstr(path, name));
    dl_tensor_map back;
    dl_tensor_map_init(&back);
    ck_assert_int_eq(dl_safetensors_read(path, &back, &err), DL_OK);
    ck_assert_float_eq(((float *)dl_tensor_map_get(&back, "fc.weight")->data)[3], 4.0f);
    dl_tensor_map_free(&back);

    make_map(&m, 16, 2.0f);
    ck_assert_int_eq(
        dl_store_checkpoint_save(st, id, "epoch-1", &m, 1, 20, 0.7, true, NULL, 0, &err), DL_OK);
    dl_tensor_map_free(&m);
    dl_checkpoint_row best, latest;
    ck_assert_int_eq(dl_store_checkpoint_best(st, id, &best, &err), DL_OK);
    ck_assert_int_eq(best.epoch, 1);
    dl_checkpoint_row_clear(&best);
    ck_assert_int_eq(dl_store_checkpoint_latest(st, id, &latest, &err), DL_OK);
    ck_assert_int_eq(latest.epoch, 1);
    dl_checkpoint_row_clear(&latest);
    dl_checkpoint_row *all;
    size_t n;
    ck_assert_int_eq(dl_store_checkpoints(st, id, &all, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(!all[0].best && all[1].best); /* only one best */
    dl_checkpoints_free(all, n);

    /* Simulated full disk: error returned, event recorded, previous file intact. */
    size_t len0, len1;
    char *before = tu_slurp(path, &len0);
    ck_assert_msg(before != NULL, "cannot read %s", path);
    dl_store_set_checkpoint_writer(st, fake_enospc);
    make_map(&m, 16, 3.0f);
    ck_assert_int_eq(
        dl_store_checkpoint_save(st, id, "epoch-0", &m, 2, 30, 0.5, true, NULL, 0, &err),
        DL_ENOSPC);
    ck_assert_ptr_nonnull(strstr(err.msg, "previous one is intact"));
    dl_tensor_map_free(&m);
    dl_store_set_checkpoint_writer(st, NULL);
    char *after = tu_slurp(path, &len1);
    ck_assert_msg(after != NULL, "cannot read %s", path);
    ck_assert(len0 == len1 && memcmp(before, after, len0) == 0);
    free(before);
    free(after);
    ck_assert_int_eq(dl_store_checkpoint_best(st, id, &best, &err), DL_OK);
    ck_assert_int_eq(best.epoch, 1); /* the failed save did not become the best */
    dl_checkpoint_row_clear(&best);
    dl_event_row *ev;
    ck_assert_int_eq(dl_store_events(st, id, -1, &ev, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(ev[0].kind, "checkpoint");
    ck_assert_ptr_nonnull(strstr(ev[0].payload, "\"monitor\":0.9,"));
    ck_assert_str_eq(ev[2].kind, "checkpoint-failed");
    ck_assert_ptr_nonnull(strstr(ev[2].payload, "No space left"));
    ck_assert_ptr_nonnull(strstr(ev[2].payload, dl_status_name(DL_ENOSPC)));
    dl_events_free(ev, n);

    ck_assert_int_eq(
        dl_store_checkpoint_save(st, id, "../escape", &m, 0, 0, 0, false, NULL, 0, &err),
        DL_EINVAL);
    /* No monitored value yet (NaN): the event stays valid JSON. */
    make_map(&m, 4, 0.0f);
    ck_assert_int_eq(dl_store_checkpoint_save(st, id, "last", &m, 2, 40, NAN, false, NULL, 0, &err),
                     DL_OK);
    dl_tensor_map_free(&m);
    ck_assert_int_eq(dl_store_events(st, id, -1, &ev, &n, &err), DL_OK);
    ck_assert_ptr_nonnull(strstr(ev[n - 1].payload, "\"monitor\":null"));
    dl_events_free(ev, n);
    dl_store_close(st);
}
END_TEST

/* A real failing write: the file-size limit makes write() fail half-way (EFBIG) in a child. */
START_TEST(checkpoint_real_write_failure_keeps_previous)
{
    dl_store *st = open_rw();
    dl_err err = {0};
    char path[4096];
    int64_t id = new_run(st, "fs", NULL);
    dl_tensor_map m;
    make_map(&m, 1000, 1.0f);
    ck_assert_int_eq(
        dl_store_checkpoint_save(st, id, "model", &m, 0, 0, 1.0, true, path, sizeof path, &err),
        DL_OK);
    dl_tensor_map_free(&m);
    dl_store_close(st);
    size_t len0, len1;
    char *before = tu_slurp(path, &len0);
    ck_assert_msg(before != NULL, "cannot read %s", path);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        dl_store *c;
        if (dl_store_open(dir, 0, &c, NULL) != DL_OK)
            _exit(10);
        struct rlimit rl = {512 * 1024, 512 * 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        dl_tensor_map big;
        make_map(&big, 1 << 20, 5.0f); /* 4 MB */
        dl_status s =
            dl_store_checkpoint_save(c, id, "model", &big, 1, 5, 0.5, true, NULL, 0, NULL);
        dl_store_close(c);
        _exit(s == DL_OK ? 11 : 0);
    }
    int ws;
    waitpid(pid, &ws, 0);
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child status %d", ws);
    char *after = tu_slurp(path, &len1);
    ck_assert_msg(after != NULL, "cannot read %s", path);
    ck_assert(len0 == len1 && memcmp(before, after, len0) == 0);
    free(before);
    free(after);
    st = open_rw();
    dl_event_row *ev;
    size_t n;
    ck_assert_int_eq(dl_store_events(st, id, -1, &ev, &n, &err), DL_OK);
    ck_assert_uint_ge(n, 2);
    ck_assert_str_eq(ev[n - 1].kind, "checkpoint-failed");
    dl_events_free(ev, n);
    dl_checkpoint_row latest;
    ck_assert_int_eq(dl_store_checkpoint_latest(st, id, &latest, &err), DL_OK);
    ck_assert_int_eq(latest.epoch, 0);
    dl_checkpoint_row_clear(&latest);
    dl_store_close(st);
}
END_TEST

START_TEST(find_tag_note_baseline_rm)
{
    dl_store *st = open_rw();
    dl_err err = {0};
    char n1[DL_STORE_NAME_MAX];
    int64_t a = new_run(st, "pets-resnet34", n1);
    int64_t b = new_run(st, "pets-resnet34", NULL);
    int64_t c = new_run(st, "mnist-tiny", NULL);
    int64_t got = -1;
    ck_assert_int_eq(dl_store_run_find(st, "pets-resnet34-1", &got, &err), DL_OK);
    ck_assert_int_eq(got, a);
    char idtxt[32];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)b);
    ck_assert_int_eq(dl_store_run_find(st, idtxt, &got, &err), DL_OK);
    ck_assert_int_eq(got, b);
    ck_assert_int_eq(dl_store_run_find(st, "mn", &got, &err), DL_OK);
    ck_assert_int_eq(got, c);
    ck_assert_int_eq(dl_store_run_find(st, "pets", &got, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "ambiguous"));
    ck_assert_ptr_nonnull(strstr(err.msg, "pets-resnet34-1, pets-resnet34-2"));
    ck_assert_int_eq(dl_store_run_find(st, "cifar", &got, &err), DL_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "cifar"));

    ck_assert_int_eq(dl_store_tag_add(st, a, "best", &err), DL_OK);
    ck_assert_int_eq(dl_store_tag_add(st, a, "aug", &err), DL_OK);
    ck_assert_int_eq(dl_store_tag_add(st, a, "aug", &err), DL_OK);
    ck_assert_int_eq(dl_store_tag_add(st, a, "a,b", &err), DL_EINVAL);
    ck_assert_int_eq(dl_store_tag_add(st, 999, "x", &err), DL_ENOTFOUND);
    ck_assert_int_eq(dl_store_note_set(st, b, "lower lr", &err), DL_OK);
    ck_assert_int_eq(dl_store_baseline_set(st, a, true, &err), DL_OK);
    ck_assert_int_eq(dl_store_baseline_set(st, b, true, &err), DL_OK);
    dl_run *runs;
    size_t n;
    ck_assert_int_eq(dl_store_runs_list(st, NULL, &runs, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(runs[0].tags, "aug,best");
    ck_assert(!runs[0].baseline && runs[1].baseline && !runs[2].baseline);
    ck_assert_str_eq(runs[1].note, "lower lr");
    dl_runs_free(runs, n);
    dl_run_filter f = {.tag = "aug", .status = -1};
    ck_assert_int_eq(dl_store_runs_list(st, &f, &runs, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(runs[0].id, a);
    dl_runs_free(runs, n);
    ck_assert_int_eq(dl_store_run_finish(st, c, DL_RUN_DIVERGED, &err), DL_OK);
    dl_run_filter f2 = {.status = DL_RUN_DIVERGED};
    ck_assert_int_eq(dl_store_runs_list(st, &f2, &runs, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(runs[0].id, c);
    dl_runs_free(runs, n);
    ck_assert_int_eq(dl_store_tag_remove(st, a, "aug", &err), DL_OK);

    /* rm deletes rows, checkpoint files and the run folder. */
    dl_tensor_map m;
    make_map(&m, 8, 0);
    char path[4096];
    ck_assert_int_eq(
        dl_store_checkpoint_save(st, a, "best", &m, 0, 0, 0.1, true, path, sizeof path, &err),
        DL_OK);
    dl_tensor_map_free(&m);
    dl_batch_row br = batch(0, 0);
    ck_assert_int_eq(dl_store_log_batch(st, a, &br, &err), DL_OK);
    ck_assert_int_eq(dl_store_flush(st, &err), DL_OK);
    ck_assert(exists(path));
    ck_assert_int_eq(dl_store_run_remove(st, a, &err), DL_OK);
    ck_assert(!exists(path));
    char folder[2048];
    snprintf(folder, sizeof folder, "%s/%s", dir, n1);
    ck_assert(!exists(folder));
    ck_assert_int_eq(dl_store_run_find(st, "pets", &got, &err), DL_OK); /* no longer ambiguous */
    ck_assert_int_eq(got, b);
    dl_batch_row *rows;
    ck_assert_int_eq(dl_store_batches(st, a, -1, &rows, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 0);
    free(rows);
    dl_store_close(st);
}
END_TEST

START_TEST(dead_process_marks_run_crashed)
{
    dl_store *st = open_rw();
    dl_err err = {0};
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    dl_run_spec dead = {.name_prefix = "dead", .pid = child};
    int64_t id_dead, id_alive, id_reused;
    char name[DL_STORE_NAME_MAX];
    ck_assert_int_eq(dl_store_run_create(st, &dead, &id_dead, name, sizeof name, &err), DL_OK);
    id_alive = new_run(st, "alive", NULL);
    id_reused = new_run(st, "reused", NULL);
    dl_batch_row b = batch(7, 0);
    b.t = 4e9; /* later than the run's creation: the crash time is the last activity */
    ck_assert_int_eq(dl_store_log_batch(st, id_dead, &b, &err), DL_OK);
    dl_store_close(st); /* close flushes */
    /* Our own pid, but a different start time: the pid was reused by another process. */
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(db_path(), &db), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE runs SET pid_start=pid_start+1 WHERE id=%lld",
             (long long)id_reused);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    st = open_rw();
    ck_assert_int_eq(dl_store_crashed_on_open(st), 2);
    dl_run r;
    ck_assert_int_eq(dl_store_run_get(st, id_dead, &r, &err), DL_OK);
    ck_assert_int_eq(r.status, DL_RUN_CRASHED);
    ck_assert_int_eq(r.n_batches, 1);
    ck_assert_double_eq_tol(r.finished, 4e9, 1e-3); /* last activity */
    dl_run_clear(&r);
    ck_assert_int_eq(dl_store_run_get(st, id_alive, &r, &err), DL_OK);
    ck_assert_int_eq(r.status, DL_RUN_RUNNING);
    dl_run_clear(&r);
    ck_assert_int_eq(dl_store_run_get(st, id_reused, &r, &err), DL_OK);
    ck_assert_int_eq(r.status, DL_RUN_CRASHED);
    dl_run_clear(&r);
    dl_event_row *ev;
    size_t n;
    ck_assert_int_eq(dl_store_events(st, id_dead, -1, &ev, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ev[0].kind, "crashed");
    ck_assert_int_eq(ev[0].step, 7);
    dl_events_free(ev, n);
    dl_store_close(st);
    st = open_rw();
    ck_assert_int_eq(dl_store_crashed_on_open(st), 0); /* marked once */
    dl_store_close(st);
}
END_TEST

START_TEST(migrates_schema_1)
{
    char *path = strdup(db_path());
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=1;", DL_STORE_APP_ID);
    ck_assert_int_eq(sqlite3_exec(db, dl_store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "INSERT INTO runs(name, prefix, seq, created, status, finished) "
                                  "VALUES('old-run-1', 'old-run', 1, 1.7e9, 'finished', 1.7e9+60);"
                                  "INSERT INTO name_counters VALUES('old-run', 1);"
                                  "INSERT INTO epochs VALUES(1, 0, 0.9, 0.8, 10, 1.7e9+30);"
                                  "INSERT INTO metrics VALUES(1, 0, 0, 'accuracy', 0.7);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    dl_store *st;
    dl_err err = {0};
    ck_assert_int_eq(dl_store_open(dir, DL_STORE_READONLY, &st, &err), DL_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "older schema 1"));
    st = open_rw();
    ck_assert_int_eq(dl_store_schema_found(st), 1);
    dl_run r;
    ck_assert_int_eq(dl_store_run_get(st, 1, &r, &err), DL_OK);
    ck_assert_str_eq(r.name, "old-run-1");
    ck_assert_str_eq(r.tags, "");
    ck_assert_str_eq(r.metric_name, "accuracy");
    ck_assert_double_eq_tol(r.best_valid_loss, 0.8, 1e-12);
    dl_run_clear(&r);
    ck_assert_int_eq(dl_store_tag_add(st, 1, "imported", &err), DL_OK);
    char name[DL_STORE_NAME_MAX];
    new_run(st, "old-run", name);
    ck_assert_str_eq(name, "old-run-2");
    dl_store_close(st);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(q, 0), DL_STORE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    sqlite3_close(db);
    st = open_rw();
    ck_assert_int_eq(dl_store_schema_found(st), DL_STORE_SCHEMA_VERSION);
    dl_store_close(st);
    free(path);
}
END_TEST

/* Opens must fail with `code` and a message containing `want`, leaving the file byte-identical. */
static void assert_refused(int flags, dl_status code, const char *want)
{
    size_t l0, l1;
    char *before = tu_slurp(db_path(), &l0);
    ck_assert_msg(before != NULL, "cannot read %s", db_path());
    dl_store *st;
    dl_err err = {0};
    dl_status got = dl_store_open(dir, flags, &st, &err);
    ck_assert_msg(got == code, "open gave %d (%s), want %d", got, err.msg, code);
    ck_assert_ptr_null(st);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
    ck_assert_ptr_nonnull(strstr(err.msg, "runs.db"));
    char *after = tu_slurp(db_path(), &l1);
    ck_assert_msg(after != NULL, "cannot read %s", db_path());
    ck_assert_msg(l0 == l1 && memcmp(before, after, l0) == 0, "the file was modified");
    free(before);
    free(after);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(data, 1, n, f) == n);
    fclose(f);
}

START_TEST(refuses_foreign_corrupt_truncated_newer)
{
    const char text[] = "name,loss\nrun,0.5\nthis is a CSV file, not a database at all\n";
    write_file(db_path(), text, sizeof text - 1);
    assert_refused(0, DL_EFORMAT, "not a SQLite database");
    assert_refused(DL_STORE_READONLY, DL_EFORMAT, "not a SQLite database");
    write_file(db_path(), "hi\n", 3);
    assert_refused(0, DL_EFORMAT, "not a SQLite database");
    unlink(db_path());

    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(db_path(), &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db, "CREATE TABLE photos(id INTEGER, path TEXT)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_refused(0, DL_EFORMAT, "not a dllab run store");
    unlink(db_path());

    /* A real store with a few hundred rows, then cut in half. The pages of the empty store hold
     * the schema (page 1 and, as the schema grows, a few more): measured, not assumed. */
    dl_store *st = open_rw();
    dl_store_close(st);
    size_t schema_len;
    free(tu_slurp(db_path(), &schema_len));
    st = open_rw();
    dl_err err = {0};
    int64_t id = new_run(st, "big", NULL);
    for (int i = 0; i < 3000; i++) {
        dl_batch_row b = batch(i, i / 100);
        ck_assert_int_eq(dl_store_log_batch(st, id, &b, &err), DL_OK);
    }
    dl_store_close(st);
    size_t len;
    char *whole = tu_slurp(db_path(), &len);
    ck_assert_msg(whole != NULL, "cannot read %s", db_path());
    ck_assert_uint_gt(len, 8 * 4096);
    write_file(db_path(), whole, len / 2);
    assert_refused(0, DL_EFORMAT, "truncated");
    write_file(db_path(), whole, 60);
    assert_refused(0, DL_EFORMAT, "truncated");
    /* Garbage over the table pages (the schema's pages intact): an error, never a crash. */
    ck_assert_uint_lt(schema_len, len);
    memset(whole + schema_len, 0xA5, len - schema_len);
    write_file(db_path(), whole, len);
    st = NULL;
    dl_status s = dl_store_open(dir, 0, &st, &err);
    if (s == DL_OK) {
        dl_batch_row *rows;
        size_t n;
        s = dl_store_batches(st, id, -1, &rows, &n, &err);
        if (s == DL_OK)
            free(rows);
        dl_store_close(st);
    }
    ck_assert_int_eq(s, DL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "corrupt"));
    write_file(db_path(), whole, len);
    free(whole);

    ck_assert_int_eq(sqlite3_open(db_path(), &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_refused(0, DL_EUNSUPPORTED, "newer dllab (schema 99");
    assert_refused(DL_STORE_READONLY, DL_EUNSUPPORTED, "newer dllab");
}
END_TEST

/* In a child that cannot write the folder (an unprivileged uid when we are root). */
static int run_unprivileged(int (*fn)(void), char *msg, size_t cap)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(99);
        dup2(fds[1], 3);
        _exit(fn());
    }
    close(fds[1]);
    ssize_t got = read(fds[0], msg, cap - 1);
    msg[got > 0 ? got : 0] = 0;
    close(fds[0]);
    int ws;
    waitpid(pid, &ws, 0);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 100;
}

static int try_open_rw(void)
{
    dl_store *st;
    dl_err err = {0};
    dl_status s = dl_store_open(dir, 0, &st, &err);
    (void)!write(3, err.msg, strlen(err.msg));
    if (s == DL_OK) {
        /* Some SQLite builds open and only fail at the first write. */
        int64_t id;
        dl_run_spec spec = {.name_prefix = "x"};
        s = dl_store_run_create(st, &spec, &id, NULL, 0, &err);
        (void)!write(3, err.msg, strlen(err.msg));
        dl_store_close(st);
    }
    return s == DL_OK ? 1 : 0;
}

static int try_list_readonly(void)
{
    dl_store *st;
    dl_err err = {0};
    if (dl_store_open(dir, DL_STORE_READONLY, &st, &err) != DL_OK) {
        (void)!write(3, err.msg, strlen(err.msg));
        return 1;
    }
    dl_run *runs;
    size_t n = 0;
    dl_status s = dl_store_runs_list(st, NULL, &runs, &n, &err);
    if (s == DL_OK)
        dl_runs_free(runs, n);
    dl_store_close(st);
    return s == DL_OK && n == 1 ? 0 : 2;
}

START_TEST(read_only_folder)
{
    char msg[2048];
    ck_assert_int_eq(chmod(dir, 0555), 0);
    int rc = run_unprivileged(try_open_rw, msg, sizeof msg);
    ck_assert_msg(rc == 0, "opening a store in a read-only folder succeeded (rc %d)", rc);
    ck_assert_msg(strstr(msg, "runs.db") && (strstr(msg, "writable") || strstr(msg, "ermission")),
                  "%s", msg);
    ck_assert(!exists(db_path()));

    ck_assert_int_eq(chmod(dir, 0755), 0);
    dl_store *st = open_rw();
    new_run(st, "archived", NULL);
    dl_store_close(st);
    ck_assert_int_eq(chmod(dir, 0555), 0);
    rc = run_unprivileged(try_list_readonly, msg, sizeof msg);
    ck_assert_msg(rc == 0, "reading an archived store failed (rc %d): %s", rc, msg);
    rc = run_unprivileged(try_open_rw, msg, sizeof msg);
    ck_assert_msg(rc == 0, "writing into a read-only folder succeeded");
    ck_assert_msg(strlen(msg) > 0 && strstr(msg, "runs.db"), "%s", msg);
    ck_assert_int_eq(chmod(dir, 0755), 0);
}
END_TEST

START_TEST(default_dir)
{
    unsetenv("DLLAB_RUNS");
    ck_assert_str_eq(dl_store_dir_default(NULL), "dllab-runs");
    setenv("DLLAB_RUNS", "/x/runs", 1);
    ck_assert_str_eq(dl_store_dir_default(NULL), "/x/runs");
    ck_assert_str_eq(dl_store_dir_default("cli"), "cli");
    unsetenv("DLLAB_RUNS");
    dl_store *st;
    dl_err err = {0};
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    ck_assert_int_eq(dl_store_open(sub, DL_STORE_READONLY, &st, &err), DL_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "no run store"));
    ck_assert_int_eq(dl_store_open(sub, 0, &st, &err), DL_OK); /* creates the folders */
    dl_store_close(st);
    dl_run_status s;
    ck_assert_int_eq(dl_run_status_parse("diverged", &s, &err), DL_OK);
    ck_assert_int_eq(s, DL_RUN_DIVERGED);
    ck_assert_int_eq(dl_run_status_parse("done", &s, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'done'"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, names_are_unique_and_never_reused);
    tcase_add_test(tc, batches_commit_within_a_second_and_with_the_epoch);
    tcase_add_test(tc, events_lrfind_interp_skipped);
    tcase_add_test(tc, checkpoints_atomic_and_failures_recorded);
    tcase_add_test(tc, checkpoint_real_write_failure_keeps_previous);
    tcase_add_test(tc, find_tag_note_baseline_rm);
    tcase_add_test(tc, dead_process_marks_run_crashed);
    tcase_add_test(tc, migrates_schema_1);
    tcase_add_test(tc, refuses_foreign_corrupt_truncated_newer);
    tcase_add_test(tc, read_only_folder);
    tcase_add_test(tc, default_dir);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
