/* cmd-train: `dllab train DATA [options]` trains a classifier the fastai way on a background
 * thread and, headless (--no-tui, or stdout not a terminal), prints fastai's epoch table (epoch,
 * train_loss, valid_loss, metrics, time) and a final line naming the run; on a terminal it opens
 * the training dashboard (`c` and `t` show the confusion matrix and the top losses once a fit has ended). Each fit ends with
 * the interpretation of the validation set saved to the run. `--resume RUN` continues a run from its
 * last checkpoint with the options it was started with (fit, flat-cos, one-cycle, or fine-tune
 * stopped in either phase); `--from-epoch K` rewinds to epoch K's checkpoint in a new run. The
 * dashboard's event log starts with the files the data pipeline skipped. Ctrl-C / SIGTERM stop at the next batch boundary, save a checkpoint
 * and mark the run stopped. Exit codes: 0 finished, 1 failure / stopped / diverged, 2 usage. */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/commands.h"
#include "src/interp-report.h"
#include "src/runs-util.h"
#include "src/train-setup.h"
#include "ui/ui.h"

static void usage(FILE *o)
{
    fprintf(o, "usage: dllab train DATA [options] [--no-tui]\n"
               "       dllab train --resume RUN [--from-epoch K] [--no-tui]\n\n"
               "Trains an image classifier (fastai's fit_one_cycle / fine_tune) and records the run.\n"
               "DATA: a folder, an archive, fashion-mnist or fashion-mosaic (see dllab data --help).\n\n");
    dl_train_args_usage(o);
}

/* ---- fastai's epoch table ---- */
typedef struct table {
    FILE *out;
    atomic_int on; /* off while the dashboard owns the terminal */
    int width[3 + DL_SNAP_METRICS];
    int n_epochs_printed;
} table;

static void fmt_time(double s, char *buf, size_t cap)
{
    long t = (long)s;
    if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%02ld:%02ld", t / 60, t % 60);
}

static dl_status table_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    table *t = user;
    if (!atomic_load(&t->on))
        return DL_OK;
    int nm = dl_learner_config(l)->n_metrics;
    if (ev == DL_EV_BEFORE_FIT) {
        const char *cols[3 + DL_SNAP_METRICS];
        int n = 0;
        cols[n++] = "epoch";
        cols[n++] = "train_loss";
        cols[n++] = "valid_loss";
        for (int i = 0; i < nm; i++)
            cols[n++] = dl_learner_metric_name(l, i);
        for (int i = 0; i < n; i++) {
            t->width[i] = (int)strlen(cols[i]) > 10 ? (int)strlen(cols[i]) : 10;
            fprintf(t->out, "%-*s  ", t->width[i], cols[i]);
        }
        fprintf(t->out, "time\n");
        fflush(t->out);
    } else if (ev == DL_EV_AFTER_EPOCH) {
        const dl_epoch_result *r = dl_learner_epoch_row(l);
        char tm[32];
        fmt_time(r->duration, tm, sizeof tm);
        fprintf(t->out, "%-*d  %-*.6f  %-*.6f  ", t->width[0], r->epoch, t->width[1], r->train_loss, t->width[2],
                r->valid_loss);
        for (int i = 0; i < nm; i++)
            fprintf(t->out, "%-*.6f  ", t->width[3 + i], r->metrics[i]);
        fprintf(t->out, "%s\n", tm);
        /* fastai prints its trackers' decisions under the row */
        if (!strncmp(dl_learner_message(l), "No improvement", 14))
            fprintf(t->out, "%s\n", dl_learner_message(l));
        fflush(t->out);
        t->n_epochs_printed++;
    }
    return DL_OK;
}

/* The interpretation is computed on the training thread when each fit ends (the only thread that
 * may run the model) and saved to the run, where the dashboard's `c` key finds it. */
typedef struct interp_ctx {
    dl_session *s;
    float thresh;
} interp_ctx;

static dl_status interp_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    interp_ctx *c = user;
    if (ev != DL_EV_AFTER_FIT || dl_learner_stopped(l) || isnan(dl_learner_epoch_row(l)->valid_loss))
        return DL_OK;
    dl_report_opts ro = {.epoch = dl_learner_epoch_row(l)->epoch, .thresh = c->thresh, .top_k = 9, .min_val = 1,
                         .save = true};
    dl_interp_report(c->s, "train", &ro, NULL); /* failures are reported on stderr, training is done */
    return DL_OK;
}

/* The dashboard's `c` and `t`: the confusion matrix (or multi-label P/R/F1) and the top losses the
 * last fit saved, read through a store connection of the UI thread's own. */
typedef struct ui_ctx {
    const char *store_dir;
    int64_t run;
} ui_ctx;

static int push_stored(ui_ctx *u, dl_app *app, char *msg, int cap,
                       int (*push)(dl_app *, dl_store *, int64_t, char *, int))
{
    dl_store *st;
    dl_err err = {0};
    if (dl_store_open(u->store_dir, DL_STORE_READONLY, &st, &err) != DL_OK) {
        snprintf(msg, (size_t)cap, "%s", err.msg);
        return 1;
    }
    int rc = push(app, st, u->run, msg, cap) == 0 ? 0 : 1;
    dl_store_close(st);
    return rc;
}

static int confusion_hook(void *user, dl_app *app, char *msg, int cap)
{
    return push_stored(user, app, msg, cap, dl_ui_push_stored_confusion);
}

static int top_losses_hook(void *user, dl_app *app, char *msg, int cap)
{
    return push_stored(user, app, msg, cap, dl_ui_push_stored_top_losses);
}

static int build_job(const dl_train_args *a, dl_session *s, bool resumed, dl_job *job)
{
    memset(job, 0, sizeof *job);
    dl_fit_choice fc = a->fit != DL_CHOOSE_DEFAULT ? a->fit : a->pretrained ? DL_CHOOSE_FINE_TUNE : DL_CHOOSE_ONE_CYCLE;
    if (fc == DL_CHOOSE_FINE_TUNE) {
        /* resumed: the learner finds the checkpoint's phase (frozen or unfrozen) in the plan */
        job->kind = DL_JOB_FINE_TUNE;
        job->epochs = a->epochs;
        job->freeze_epochs = a->freeze_epochs;
        job->base_lr = a->lr_set ? a->lr.hi : 2e-3;
        return DL_EXIT_OK;
    }
    job->kind = DL_JOB_FIT;
    dl_fit_opts_init(&job->fit, fc == DL_CHOOSE_FIT ? DL_FIT_CONST : fc == DL_CHOOSE_FLAT_COS ? DL_FIT_FLAT_COS
                                                                                             : DL_FIT_ONE_CYCLE,
                     a->epochs, 0);
    if (a->lr_set)
        job->fit.lr = a->lr;
    if (resumed)
        job->fit.start_epoch = dl_learner_resume_epoch(s->l);
    return DL_EXIT_OK;
}

/* --resume RUN: the session is rebuilt from the run's own command line. */
static int resume_args(dl_train_args *a, int64_t *run_out, char *orig_name, size_t cap)
{
    dl_store *st;
    if (dl_cli_open("train", a->runs, 0, &st) != 0)
        return DL_EXIT_FAIL;
    int64_t run;
    int rc = dl_cli_find("train", st, a->resume, &run);
    dl_train_args b __attribute__((cleanup(dl_train_args_release))) = {0};
    if (rc == 0)
        rc = dl_train_args_from_run(&b, "train", st, run, usage);
    if (rc < 0) {
        dl_run r;
        if (dl_store_run_get(st, run, &r, NULL) == DL_OK) {
            snprintf(orig_name, cap, "%s", r.name);
            bool done = r.status == DL_RUN_FINISHED;
            dl_run_clear(&r);
            if (done && a->from_epoch < 0) { /* it would print an empty table and "finished" again */
                fprintf(stderr,
                        "dllab train: run %s has finished all its epochs: nothing to resume "
                        "(--from-epoch K rewinds to epoch K as a new run)\n",
                        orig_name);
                dl_store_close(st);
                return DL_EXIT_FAIL;
            }
        }
        b.resume = a->resume;
        b.from_epoch = a->from_epoch;
        b.no_tui = a->no_tui || b.no_tui;
        b.runs = a->runs;
        if (a->threads)
            b.threads = a->threads;
        *a = b;
        b.owned_argv = NULL; /* a owns the run's command line now */
        *run_out = run;
    }
    dl_store_close(st);
    return rc;
}

static int load_resume(dl_session *s, const dl_train_args *a, int64_t run)
{
    dl_tensor_map m;
    dl_err err = {0};
    dl_status st = dl_run_checkpoint_read(s->st, run, a->from_epoch, false, &m, &err);
    if (st == DL_OK) {
        st = dl_learner_state_from_map(s->l, &m, &err);
        dl_tensor_map_free(&m);
    }
    if (st != DL_OK) {
        fprintf(stderr, "dllab train: resuming %s: %s\n", a->resume, err.msg);
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}

static int finish(dl_session *s, dl_status st, const dl_err *err, int epochs_done)
{
    dl_run_status rs = DL_RUN_FINISHED;
    int rc = DL_EXIT_OK;
    const char *word = "finished";
    if (st == DL_EDIVERGED || (dl_learner_diverged(s->l) && st != DL_OK)) {
        rs = DL_RUN_DIVERGED, rc = DL_EXIT_FAIL, word = "diverged";
    } else if (st != DL_OK) {
        rs = DL_RUN_CRASHED, rc = DL_EXIT_FAIL, word = "failed";
        fprintf(stderr, "dllab train: %s\n", err->msg);
    } else if (dl_learner_stopped(s->l)) {
        rs = DL_RUN_STOPPED, rc = dl_control_signal_pending() ? DL_EXIT_FAIL : DL_EXIT_OK, word = "stopped";
    }
    dl_err e2;
    if (dl_store_run_finish(s->st, s->run, rs, &e2) != DL_OK)
        fprintf(stderr, "dllab train: warning: %s\n", e2.msg);
    dl_run r;
    char best[160] = "";
    if (dl_store_run_get(s->st, s->run, &r, NULL) == DL_OK) {
        /* the store counts the epochs the dashboard showed too, where no table was printed */
        if (r.n_epochs > epochs_done)
            epochs_done = r.n_epochs;
        if (r.best_epoch >= 0)
            snprintf(best, sizeof best, ", best valid_loss %.6f at epoch %d", r.best_valid_loss, r.best_epoch);
        dl_run_clear(&r);
    }
    if (dl_learner_diverged(s->l))
        printf("diverged at lr %g: lower the learning rate (dllab lrfind helps)\n", dl_learner_diverged_lr(s->l));
    printf("run %s %s (%d epoch%s%s) in %s\n", s->run_name, word, epochs_done, epochs_done == 1 ? "" : "s", best,
           dl_store_dir(s->st));
    return rc;
}

int cmd_train(int argc, char **argv)
{
    dl_ui_opts uo;
    dl_ui_opts_take(&uo, &argc, argv);
    /* --resume fills it from the run's record: released on every return */
    dl_train_args a __attribute__((cleanup(dl_train_args_release))) = {0};
    int rc = dl_train_args_parse(&a, "train", argc, argv, usage);
    if (rc >= 0)
        return rc;
    int64_t resume_run = 0;
    char orig[DL_STORE_NAME_MAX] = "";
    bool resumed = a.resume != NULL;
    if (resumed && (rc = resume_args(&a, &resume_run, orig, sizeof orig)) >= 0)
        return rc;

    dl_session s;
    if ((rc = dl_session_open(&s, &a)) != DL_EXIT_OK)
        return rc;
    if (resumed && a.from_epoch < 0) {
        /* Continue the same run: no new row, the learner writes where it stopped. */
        s.run = resume_run;
        snprintf(s.run_name, sizeof s.run_name, "%s", orig);
        dl_learner_attach_store(s.l, s.st, s.run);
    } else {
        char prefix[DL_STORE_NAME_MAX + 16];
        snprintf(prefix, sizeof prefix, "%s-rewind", orig);
        if ((rc = dl_session_new_run(&s, &a, a.argc, a.argv, resumed ? prefix : NULL)) != DL_EXIT_OK) {
            dl_session_close(&s);
            return rc;
        }
    }
    if (resumed && (rc = load_resume(&s, &a, resume_run)) != DL_EXIT_OK) {
        dl_session_close(&s);
        return rc;
    }
    dl_job job;
    if ((rc = build_job(&a, &s, resumed, &job)) != DL_EXIT_OK) {
        dl_session_close(&s);
        return rc;
    }
    dl_learner_note_skipped(s.l, s.ds); /* the dashboard's event log lists what the data pipeline skipped */
    table t = {.out = stdout};
    atomic_init(&t.on, a.no_tui);
    dl_err err = {0};
    dl_learner_add_callback(s.l, table_cb, &t, &err);
    interp_ctx ic = {.s = &s, .thresh = a.thresh};
    dl_learner_add_callback(s.l, interp_cb, &ic, &err);
    dl_control_install_signals(s.ctl, &err);
    char data_desc[256];
    snprintf(data_desc, sizeof data_desc, "%s, %zu/%zu", a.data.source ? a.data.source : "?",
             dl_data_count(s.ds, DL_SPLIT_TRAIN), dl_data_count(s.ds, DL_SPLIT_VALID));
    if (a.no_tui) {
        printf("run %s: %s on %s, %zu train / %zu valid items\n", s.run_name, a.arch,
               a.data.source ? a.data.source : "?", dl_data_count(s.ds, DL_SPLIT_TRAIN),
               dl_data_count(s.ds, DL_SPLIT_VALID));
        fflush(stdout);
    }
    dl_status st = dl_learner_start(s.l, &job, &err);
    if (st == DL_OK && !a.no_tui) {
        dl_run_info info = {.run_name = s.run_name, .data = data_desc, .arch = a.arch};
        ui_ctx uc = {.store_dir = dl_store_dir(s.st), .run = s.run};
        dl_train_hooks hooks = {.user = &uc, .confusion = confusion_hook, .top_losses = top_losses_hook};
        dl_err uerr = {0};
        if (dl_ui_train(s.ctl, &info, &hooks, &uo, NULL, &uerr) != DL_OK) {
            /* No usable terminal after all: the table takes over from the next epoch. */
            fprintf(stderr, "dllab train: %s; printing the epoch table\n", uerr.msg);
            atomic_store(&t.on, 1);
        }
    }
    if (st == DL_OK)
        st = dl_learner_join(s.l, &err);
    rc = finish(&s, st, &err, t.n_epochs_printed);
    dl_session_close(&s);
    return rc;
}
