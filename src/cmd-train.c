/* cmd-train: `dllab train DATA [options]` trains a classifier the fastai way on a background
 * thread and, headless (--no-tui, or stdout not a terminal), prints fastai's epoch table (epoch,
 * train_loss, valid_loss, metrics, time) and a final line naming the run, with a progress line
 * redrawn in place within each epoch when stdout is a terminal; otherwise it opens the training
 * dashboard (`c` and `t` show the confusion matrix and the top losses once a fit has ended). Each
 * fit ends with the interpretation of the validation set saved to the run. `--resume RUN`
 * continues a run from its last checkpoint with the options it was started with (fit, flat-cos,
 * one-cycle, or fine-tune stopped in either phase); `--from-epoch K` rewinds to epoch K's
 * checkpoint in a new run. The dashboard's event log starts with the files the data pipeline
 * skipped. Ctrl-C / SIGTERM stop at the next batch boundary, save a checkpoint and mark the run
 * stopped. Exit codes: 0 finished, 1 failure / stopped / diverged, 2 usage. */
#include "config.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/numfmt.h"
#include "core/file.h"
#include "core/learn/remote.h"
#include "core/learn/dist.h"
#include "src/commands.h"
#include "src/interp-report.h"
#include "src/runs-util.h"
#include "src/train-run.h"
#include "src/train-progress.h"
#include "src/train-setup.h"
#include "ui/feed-store.h"
#include "ui/ui.h"

#define SYNOPSIS                                                                                   \
    "usage: dllab train DATA [options] [--no-tui]\n"                                               \
    "       dllab train --resume RUN [--from-epoch K] [--no-tui]\n\n"                              \
    "Trains an image classifier (fastai's fit_one_cycle / fine_tune) and records the run.\n"       \
    "DATA: a folder, an archive, fashion-mnist or fashion-mosaic (see dllab data --help).\n\n"

/* ---- fastai's epoch table ---- */
typedef struct table {
    FILE *out;
    atomic_int on; /* off while the dashboard owns the terminal */
    int width[3 + DL_SNAP_METRICS];
    bool header_printed; /* of the current fit */
    int n_epochs_printed;
    /* On a terminal, a progress line within the epoch, drawn by the main thread from the
     * published snapshots and erased (under mu) before the trainer's thread prints a row. */
    dl_progress_line progress;
    pthread_mutex_t mu;
} table;

static void fmt_time(double s, char *buf, size_t cap)
{
    long t = (long)s;
    if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%02ld:%02ld", t / 60, t % 60);
}

/* The header and the column widths. Widths are set at every fit's start even while the dashboard
 * owns the terminal: a detached run (or a dashboard that failed) turns the table on mid-fit, and
 * its first row prints the header it missed. */
static void table_header(table *t, dl_learner *l, bool print)
{
    int nm = dl_learner_config(l)->n_metrics;
    const char *cols[3 + DL_SNAP_METRICS];
    int n = 0;
    cols[n++] = "epoch";
    cols[n++] = "train_loss";
    cols[n++] = "valid_loss";
    for (int i = 0; i < nm; i++)
        cols[n++] = dl_learner_metric_name(l, i);
    for (int i = 0; i < n; i++) {
        t->width[i] = (int)strlen(cols[i]) > 10 ? (int)strlen(cols[i]) : 10;
        if (print)
            fprintf(t->out, "%-*s  ", t->width[i], cols[i]);
    }
    if (print) {
        fprintf(t->out, "time\n");
        fflush(t->out);
    }
    t->header_printed = print;
}

static void table_row(table *t, dl_learner *l)
{
    int nm = dl_learner_config(l)->n_metrics;
    if (!t->header_printed)
        table_header(t, l, true);
    const dl_epoch_result *r = dl_learner_epoch_row(l);
    char tm[32];
    fmt_time(r->duration, tm, sizeof tm);
    char a[32], b[32], ep[32]; /* fixed width: a diverging loss keeps time in place */
    /* fine_tune's frozen phase is labelled, as on the dashboard */
    snprintf(ep, sizeof ep, "%s%d", dl_learner_frozen_fit(l) ? "frozen " : "", r->epoch);
    fprintf(t->out, "%-*s  %-*s  %-*s  ", t->width[0], ep, t->width[1],
            dl_fmt_fit(r->train_loss, 6, t->width[1], a, sizeof a), t->width[2],
            dl_fmt_fit(r->valid_loss, 6, t->width[2], b, sizeof b));
    for (int i = 0; i < nm; i++)
        fprintf(t->out, "%-*s  ", t->width[3 + i],
                dl_fmt_fit(r->metrics[i], 6, t->width[3 + i], a, sizeof a));
    fprintf(t->out, "%s\n", tm);
    /* fastai prints its trackers' decisions under the row */
    if (!strncmp(dl_learner_message(l), "No improvement", 14))
        fprintf(t->out, "%s\n", dl_learner_message(l));
    fflush(t->out);
    t->n_epochs_printed++;
}

static dl_status table_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    (void)err;
    table *t = user;
    if (ev != DL_EV_BEFORE_FIT && ev != DL_EV_AFTER_EPOCH)
        return DL_OK;
    bool on = atomic_load(&t->on);
    if (!on && ev == DL_EV_BEFORE_FIT)
        table_header(t, l, false); /* widths only: the table may be turned on mid-fit */
    if (!on)
        return DL_OK;
    pthread_mutex_lock(&t->mu);
    dl_progress_line_clear(&t->progress);
    if (ev == DL_EV_BEFORE_FIT)
        table_header(t, l, true);
    else
        table_row(t, l);
    pthread_mutex_unlock(&t->mu);
    return DL_OK;
}

/* The interpretation is computed on the training thread when each fit ends (the only thread that
 * may run the model) and saved to the run, where the dashboard's `c` key finds it. It is the
 * interpretation of the fit's best epoch (the checkpoint flagged best), from the predictions its
 * validation pass made, so it costs no pass of its own; a fit stopped early is interpreted too.
 * Headless, a summary line follows the table; the event log says which epoch it shows. */
typedef struct interp_ctx {
    dl_session *s;
    float thresh;
    table *t;
} interp_ctx;

static dl_status interp_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    (void)err;
    interp_ctx *c = user;
    if (ev != DL_EV_AFTER_FIT)
        return DL_OK;
    float *lg, *tf;
    int32_t *ti;
    int n, k, epoch;
    bool best;
    if (dl_learner_fit_preds(l, &lg, &ti, &tf, &n, &k, &epoch, &best, NULL) != DL_OK)
        return DL_OK; /* no validation pass completed: nothing to interpret */
    free(lg), free(ti), free(tf);
    bool table_on = atomic_load(&c->t->on);
    dl_report_opts ro = {.thresh = c->thresh,
                         .top_k = 9,
                         .min_val = 1,
                         .save = true,
                         .fit_pass = true,
                         .summary = table_on ? stdout : NULL};
    if (table_on) {
        pthread_mutex_lock(&c->t->mu);
        dl_progress_line_clear(&c->t->progress);
    }
    /* failures are reported on stderr, training is done */
    int rc = dl_interp_report(c->s, "train", &ro, NULL);
    if (table_on)
        pthread_mutex_unlock(&c->t->mu);
    if (rc == DL_EXIT_OK) {
        char text[160];
        snprintf(text, sizeof text, "of %s epoch %d saved: c confusion, t top losses",
                 best ? "the best" : "the last validated", epoch);
        dl_learner_note(l, "interpretation", text); /* reads "interpretation of the best ..." */
    }
    return DL_OK;
}

/* The dashboard's `c` and `t`: the confusion matrix (or multi-label P/R/F1) and the top losses the
 * last fit saved, read through a store connection of the UI thread's own. */
typedef struct ui_ctx {
    const char *store_dir;
    int64_t run;
    bool detached;     /* `d`: the training goes on in the background */
    int64_t hist_step; /* a resumed run: its history before this step and epoch is shown */
    int hist_epoch;
} ui_ctx;

/* A resumed run's dashboard starts with everything the run did before (batches, epochs,
 * events), read from the store up to where this process continues. */
static void history_hook(void *user, dl_feed *feed)
{
    ui_ctx *u = user;
    dl_store *st;
    if (u->hist_step <= 0 || dl_store_open(u->store_dir, DL_STORE_READONLY, &st, NULL) != DL_OK)
        return;
    dl_feed_load_store(feed, st, u->run, u->hist_step, u->hist_epoch, NULL);
    if (feed->n_epochs > 0)
        feed->t_offset = feed->epochs[feed->n_epochs - 1].t;
    dl_store_close(st);
}

static int detach_hook(void *user, dl_app *app)
{
    ui_ctx *u = user;
    (void)app;
    u->detached = true;
    return DL_R_QUIT;
}

/* After `d`: the terminal is let go and the training goes on headless. SIGHUP (the window
 * closing) is ignored, the terminal's descriptors are replaced by /dev/null and the run's log
 * (DIR/RUN/train.log, where the epoch table goes from now on), so nothing writes to a terminal
 * that may be gone. */
static void go_background(dl_session *s, table *t)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dl_store_dir(s->st), s->run_name);
    dl_mkdir_p(path, NULL);
    snprintf(path + strlen(path), sizeof path - strlen(path), "/train.log");
    printf("run %s goes on in the background (pid %ld): dllab attach %s brings it back; its "
           "output goes to %s\n(this shell waits for it: Ctrl-Z then bg gives the prompt back)\n",
           s->run_name, (long)getpid(), s->run_name, path);
    fflush(stdout);
    fflush(stderr);
    signal(SIGHUP, SIG_IGN);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (nul >= 0)
        dup2(nul, 0);
    if (log < 0)
        log = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (log >= 0) {
        dup2(log, 1);
        dup2(log, 2);
        close(log);
    }
    if (nul >= 0)
        close(nul);
    atomic_store(&t->on, 1);
}

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

static void build_job(const dl_run_cfg *c, dl_session *s, bool resumed, dl_job *job)
{
    memset(job, 0, sizeof *job);
    if (c->schedule == DL_SCHEDULE_FINE_TUNE) {
        /* resumed: the learner finds the checkpoint's phase (frozen or unfrozen) in the plan */
        job->kind = DL_JOB_FINE_TUNE;
        job->epochs = c->epochs;
        job->freeze_epochs = c->freeze_epochs;
        job->base_lr = c->lr.hi;
        return;
    }
    job->kind = DL_JOB_FIT;
    dl_fit_opts_init(&job->fit,
                     c->schedule == DL_SCHEDULE_FIT        ? DL_FIT_CONST
                     : c->schedule == DL_SCHEDULE_FLAT_COS ? DL_FIT_FLAT_COS
                                                           : DL_FIT_ONE_CYCLE,
                     c->epochs, 0);
    job->fit.lr = c->lr;
    if (resumed)
        job->fit.start_epoch = dl_learner_resume_epoch(s->l);
}

/* --resume RUN: the run's stored configuration, with this command line's settings of the
 * invocation (--runs, --threads, --no-tui, --from-epoch) on top; a hyper-parameter cannot change.
 */
static int resume_cfg(dl_run_cfg *c, int64_t *run_out, char *orig_name, size_t cap)
{
    for (size_t i = 0; i < dl_opt_count(); i++)
        if (c->given[i] && (dl_opt_at(i)->flags & DL_OPT_HYPER)) {
            fprintf(stderr,
                    "dllab train: --%s: a resumed run keeps its configuration (start a new run to "
                    "change it)\n",
                    dl_opt_at(i)->name);
            return DL_EXIT_USAGE;
        }
    dl_store *st;
    if (dl_cli_open("train", c->runs[0] ? c->runs : NULL, 0, &st) != 0)
        return DL_EXIT_FAIL;
    int64_t run;
    dl_run_cfg b;
    dl_err err = {0};
    int rc = dl_cli_find("train", st, c->resume, &run);
    int64_t owner = 0;
    if (rc == 0 && c->from_epoch < 0 && dl_store_run_owner(st, run, &owner, NULL) == DL_OK &&
        owner) {
        /* Checked again, atomically, when the run is taken over (claim_run). */
        fprintf(stderr,
                "dllab train: run %s is being trained by process %lld, which is still running: "
                "not resuming it twice\n",
                c->resume, (long long)owner);
        rc = DL_EXIT_FAIL;
    }
    if (rc == 0 && dl_run_cfg_from_run(&b, st, run, &err) != DL_OK) {
        fprintf(stderr, "dllab train: %s\n", err.msg);
        rc = DL_EXIT_FAIL;
    }
    dl_run r;
    if (rc == 0 && dl_store_run_get(st, run, &r, NULL) == DL_OK) {
        snprintf(orig_name, cap, "%s", r.name);
        bool done = r.status == DL_RUN_FINISHED;
        dl_run_clear(&r);
        if (done && c->from_epoch < 0) { /* it would print an empty table and "finished" again */
            fprintf(stderr,
                    "dllab train: run %s has finished all its epochs: nothing to resume "
                    "(--from-epoch K rewinds to epoch K as a new run)\n",
                    orig_name);
            rc = DL_EXIT_FAIL;
        }
    }
    dl_store_close(st);
    if (rc != 0)
        return rc;
    char text[DL_CFG_STR + 64];
    for (size_t i = 0; i < dl_opt_count(); i++)
        if (dl_opt_at(i)->type != DL_OPT_SET &&
            (c->given[i] || !(dl_opt_at(i)->flags & DL_OPT_STORED))) {
            dl_run_cfg_get(c, dl_opt_at(i), text, sizeof text);
            dl_run_cfg_set(&b, dl_opt_at(i), text, NULL);
        }
    *c = b;
    *run_out = run;
    return -1;
}

static int load_resume(dl_session *s, int64_t run)
{
    dl_tensor_map m;
    dl_err err = {0};
    dl_status st = dl_run_checkpoint_read(s->st, run, s->cfg.from_epoch, false, &m, &err);
    if (st == DL_OK) {
        st = dl_learner_state_from_map(s->l, &m, &err);
        dl_tensor_map_free(&m);
    }
    if (st != DL_OK) {
        fprintf(stderr, "dllab train: resuming %s: %s\n", s->cfg.resume, err.msg);
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}

/* --resume of the same run: this process becomes its writer, unless another live one already is
 * (two resumes at once, or the original training still going). */
static int claim_run(dl_session *s)
{
    int64_t owner = 0;
    dl_err err = {0};
    if (dl_store_run_claim(s->st, s->run, &owner, &err) == DL_OK)
        return DL_EXIT_OK;
    fprintf(stderr, "dllab train: %s%s\n", err.msg, owner ? ": not resuming it twice" : "");
    return DL_EXIT_FAIL;
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
        rs = DL_RUN_STOPPED, rc = dl_control_signal_pending() ? DL_EXIT_FAIL : DL_EXIT_OK,
        word = "stopped";
    }
    /* What the store holds decides: a run whose last state could not be saved (a full disk) is
     * not finished, and resumes from its last checkpoint once there is space. */
    const char *unsaved = dl_learner_unsaved(s->l);
    if (unsaved && rs != DL_RUN_CRASHED) {
        fprintf(stderr, "dllab train: not everything was saved: %s\n", unsaved);
        rs = DL_RUN_CRASHED, rc = DL_EXIT_FAIL, word = "failed";
    }
    dl_err e2;
    bool recorded = dl_store_run_finish(s->st, s->run, rs, &e2) == DL_OK;
    /* commands that came too late get their answer, so no one waits for them */
    dl_store_steer_close(s->st, s->run, "the training ended before applying it",
                         (int64_t)dl_learner_step(s->l), NULL, NULL);
    if (!recorded) {
        fprintf(stderr,
                "dllab train: the end of the run could not be recorded (the store will show it as "
                "crashed): %s\n",
                e2.msg);
        rc = DL_EXIT_FAIL, word = "failed";
    }
    dl_run r;
    char best[160] = "";
    if (dl_store_run_get(s->st, s->run, &r, NULL) == DL_OK) {
        /* the store counts the epochs the dashboard showed too, where no table was printed */
        if (r.n_epochs > epochs_done)
            epochs_done = r.n_epochs;
        if (r.best_epoch >= 0) {
            /* the store numbers epochs over the run; the tables restart per fit, and fine_tune's
             * frozen ones read "frozen K": say it the way the table did */
            int k = r.best_epoch,
                fz = s->cfg.schedule == DL_SCHEDULE_FINE_TUNE ? s->cfg.freeze_epochs : 0;
            snprintf(best, sizeof best, ", best valid_loss %.6f at epoch %s%d", r.best_valid_loss,
                     k < fz ? "frozen " : "", k < fz ? k : k - fz);
        }
        dl_run_clear(&r);
    }
    if (dl_learner_diverged(s->l))
        printf("diverged at lr %g: lower the learning rate (dllab lrfind helps)\n",
               dl_learner_diverged_lr(s->l));
    if (unsaved || !recorded) {
        dl_checkpoint_row ck;
        if (dl_store_checkpoint_latest(s->st, s->run, &ck, NULL) == DL_OK) {
            printf("run %s failed to save its last state (its checkpoint of epoch %d is kept) in "
                   "%s: free "
                   "space, then dllab train --resume %s\n",
                   s->run_name, ck.epoch, dl_store_dir(s->st), s->run_name);
            dl_checkpoint_row_clear(&ck);
        } else {
            printf("run %s failed to save its state (no checkpoint was kept) in %s: free space and "
                   "train again\n",
                   s->run_name, dl_store_dir(s->st));
        }
        return rc;
    }
    printf("run %s %s (%d epoch%s%s) in %s\n", s->run_name, word, epochs_done,
           epochs_done == 1 ? "" : "s", best, dl_store_dir(s->st));
    if (rs == DL_RUN_STOPPED || rs == DL_RUN_CRASHED) /* it continues where it stopped */
        printf("continue it with: dllab train --resume %s%s%s\n", s->run_name,
               s->cfg.runs[0] ? " --runs " : "", s->cfg.runs);
    return rc;
}

/* The session's run: a new one, or with --resume the same run (no new row, the learner writes
 * where it stopped) unless --from-epoch rewinds into a new one. */
static int attach_run(dl_session *s, int64_t resume_run, const char *orig)
{
    if (!s->cfg.resume[0])
        return dl_cli_new_run(s, "train", NULL);
    if (s->cfg.from_epoch < 0) {
        s->run = resume_run;
        snprintf(s->run_name, sizeof s->run_name, "%s", orig);
        dl_learner_attach_store(s->l, s->st, s->run);
        return DL_EXIT_OK;
    }
    char prefix[DL_STORE_NAME_MAX + 16];
    snprintf(prefix, sizeof prefix, "%s-rewind", orig);
    return dl_cli_new_run(s, "train", prefix);
}

/* Headless on a terminal: redraws the progress line from what the trainer publishes until the
 * job is done (the wake fd says when something was published; the timeout keeps the ETA
 * ticking through a long batch). */
static void show_progress(dl_session *s, table *t)
{
    struct pollfd pfd = {.fd = dl_control_wake_fd(s->ctl), .events = POLLIN};
    while (!dl_learner_job_done(s->l)) {
        poll(&pfd, 1, 250);
        dl_control_drain_wake(s->ctl);
        dl_snapshot sn;
        dl_control_read(s->ctl, &sn);
        pthread_mutex_lock(&t->mu);
        if (atomic_load(&t->on) && (sn.phase == DL_PHASE_TRAIN || sn.phase == DL_PHASE_VALID))
            dl_progress_line_draw(&t->progress, &sn, false);
        pthread_mutex_unlock(&t->mu);
    }
    pthread_mutex_lock(&t->mu);
    dl_progress_line_clear(&t->progress);
    pthread_mutex_unlock(&t->mu);
}

/* Trains on the dashboard (or with the table) until the job ends; returns the status. */
static dl_status run_job(dl_session *s, const dl_job *job, const dl_ui_opts *uo, table *t,
                         dl_err *err)
{
    char data_desc[256];
    snprintf(data_desc, sizeof data_desc, "%.200s, %zu/%zu", s->cfg.data,
             dl_data_count(s->ds, DL_SPLIT_TRAIN), dl_data_count(s->ds, DL_SPLIT_VALID));
    char par[160];
    snprintf(par, sizeof par, "%d replica%s x %d rank%s (%s)%s", s->cfg.replicas,
             s->cfg.replicas == 1 ? "" : "s", dl_dist_size(), dl_dist_size() == 1 ? "" : "s",
             dl_dist_size() > 1 ? "mpi" : "threads", s->cfg.sync_bn ? ", sync-bn" : "");
    if (s->cfg.no_tui && dl_dist_rank() == 0) {
        printf("run %s: %s on %s, %zu train / %zu valid items, %s\n", s->run_name, s->cfg.arch,
               s->cfg.data, dl_data_count(s->ds, DL_SPLIT_TRAIN),
               dl_data_count(s->ds, DL_SPLIT_VALID), par);
        fflush(stdout);
    }
    dl_status st = dl_learner_start(s->l, job, err);
    if (st == DL_OK && s->cfg.no_tui && t->progress.tty)
        show_progress(s, t);
    if (st == DL_OK && !s->cfg.no_tui) {
        char arch[DL_CFG_STR + 200]; /* the header names the model and how it is parallel */
        snprintf(arch, sizeof arch, "%s, %s", s->cfg.arch, par);
        dl_run_info info = {.run_name = s->run_name, .data = data_desc, .arch = arch};
        ui_ctx uc = {.store_dir = dl_store_dir(s->st), .run = s->run};
        if (s->cfg.resume[0] && s->cfg.from_epoch < 0) {
            uc.hist_step = (int64_t)dl_learner_step(s->l);
            uc.hist_epoch = dl_learner_epochs_done(s->l);
        }
        dl_train_hooks hooks = {.user = &uc,
                                .confusion = confusion_hook,
                                .top_losses = top_losses_hook,
                                .history = history_hook,
                                .detach = detach_hook};
        dl_err uerr = {0};
        if (dl_ui_train(s->ctl, &info, &hooks, uo, NULL, &uerr) != DL_OK) {
            /* No usable terminal after all: the table takes over from the next epoch. */
            fprintf(stderr, "dllab train: %s; printing the epoch table\n", uerr.msg);
            atomic_store(&t->on, 1);
        } else if (uc.detached) {
            go_background(s, t);
        }
    }
    if (st == DL_OK)
        st = dl_learner_join(s->l, err);
    return st;
}

/* In an mpirun job every rank must take the same road: rank 0's verdict (an exit code, or -1 to
 * go on) becomes everyone's. Outside a job it is rc itself. */
static int agree_rc(int rc)
{
    if (dl_dist_size() < 2)
        return rc;
    dl_dist_bcast(&rc, sizeof rc);
    return rc;
}

/* Every rank opened its session (a rank without the data cannot train): else all stop. */
static bool all_ranks_ok(int rc)
{
    if (dl_dist_size() < 2)
        return rc == DL_EXIT_OK;
    double failed = rc != DL_EXIT_OK;
    dl_dist_sum_f64(&failed, 1);
    if (failed > 0 && rc == DL_EXIT_OK)
        fprintf(stderr, "dllab train: rank %d: %g other rank(s) could not start\n", dl_dist_rank(),
                failed);
    return failed == 0;
}

/* Rank 0 of an mpirun job marks its run crashed, naming why, before the job is aborted. */
typedef struct crash_ctx {
    char store_dir[4096];
    int64_t run;
} crash_ctx;

static void mark_crashed(void *user, const char *why)
{
    crash_ctx *cc = user;
    dl_store *st;
    if (dl_store_open(cc->store_dir, 0, &st, NULL) != DL_OK)
        return;
    char payload[600];
    json_t *o = json_pack("{s:s,s:i}", "text", why, "ranks", dl_dist_size());
    char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    snprintf(payload, sizeof payload, "%s", txt ? txt : "{}");
    free(txt);
    json_decref(o);
    dl_store_log_event(st, cc->run, "crashed", 0, 0, payload, NULL);
    dl_store_run_finish(st, cc->run, DL_RUN_CRASHED, NULL);
    dl_store_close(st);
}

int dl_train_cfg(dl_run_cfg *c, const dl_ui_opts *uo, char *run_name, size_t cap)
{
    int64_t resume_run = 0;
    char orig[DL_STORE_NAME_MAX] = "";
    bool resumed = c->resume[0] != 0;
    const bool lead = dl_dist_rank() == 0, dist = dl_dist_size() > 1;
    int rc = -1;
    if (dist)
        c->no_tui = true; /* an mpirun job has no terminal */
    if (resumed && lead)
        rc = resume_cfg(c, &resume_run, orig, sizeof orig);
    if ((rc = agree_rc(rc)) >= 0)
        return rc;
    if (dist) { /* rank 0's effective configuration (a resume's stored one) is everyone's */
        dl_dist_bcast(c, sizeof *c);
        c->no_tui = true;
    }
    dl_session s;
    rc = dl_cli_session_open(&s, c, "train");
    if (!all_ranks_ok(rc)) {
        if (rc == DL_EXIT_OK)
            dl_session_close(&s);
        return DL_EXIT_FAIL;
    }
    rc = -1;
    if (lead) {
        if ((rc = attach_run(&s, resume_run, orig)) == DL_EXIT_OK &&
            (!resumed || (rc = load_resume(&s, resume_run)) == DL_EXIT_OK) &&
            (!resumed || s.cfg.from_epoch >= 0 || (rc = claim_run(&s)) == DL_EXIT_OK))
            rc = -1;
    }
    if ((rc = agree_rc(rc)) >= 0) {
        dl_session_close(&s);
        return rc;
    }
    dl_learner_dist_share_state(s.l); /* weights, optimiser and counters: rank 0's */
    if (run_name)
        snprintf(run_name, cap, "%s", s.run_name);
    dl_job job;
    build_job(&s.cfg, &s, resumed, &job);
    crash_ctx cc = {.run = s.run};
    if (dist && lead) {
        snprintf(cc.store_dir, sizeof cc.store_dir, "%s", dl_store_dir(s.st));
        dl_dist_set_abort_hook(mark_crashed, &cc);
    }
    dl_learner_note_skipped(
        s.l, s.ds); /* the dashboard's event log lists what the data pipeline skipped */
    table t = {.out = stdout};
    atomic_init(&t.on, s.cfg.no_tui && lead);
    dl_progress_line_init(&t.progress, stdout);
    if (dist) /* mpirun hands its ranks a pty even when the job's output goes to a file */
        t.progress.tty = false;
    pthread_mutex_init(&t.mu, NULL);
    dl_err err = {0};
    interp_ctx ic = {.s = &s, .thresh = (float)s.cfg.thresh, .t = &t};
    if (lead) { /* the other ranks compute and follow: no table, store or report of their own */
        dl_learner_add_callback(s.l, table_cb, &t, &err);
        dl_learner_add_callback(s.l, interp_cb, &ic, &err);
    }
    dl_control_install_signals(s.ctl, &err);
    /* Other processes steer this run through the store (dllab steer, dllab attach). Under mpirun
     * only rank 0 polls: it applies commands at the batch boundary and broadcasts the result. */
    dl_remote *remote = NULL;
    dl_err rerr = {0};
    if (lead && dl_remote_start(dl_store_dir(s.st), s.run, s.ctl, &remote, &rerr) != DL_OK)
        fprintf(stderr, "dllab train: steering from other processes is off: %s\n", rerr.msg);
    dl_status st = run_job(&s, &job, uo, &t, &err);
    dl_remote_stop(remote);
    if (lead) {
        rc = finish(&s, st, &err, t.n_epochs_printed);
    } else {
        rc = st == DL_OK ? DL_EXIT_OK : DL_EXIT_FAIL;
        if (st != DL_OK && st != DL_EDIVERGED)
            fprintf(stderr, "dllab train: rank %d: %s\n", dl_dist_rank(), err.msg);
    }
    dl_dist_set_abort_hook(NULL, NULL);
    pthread_mutex_destroy(&t.mu);
    dl_session_close(&s);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    dl_ui_opts uo;
    dl_ui_opts_take(&uo, &argc, argv);
    dl_run_cfg c;
    const char *data;
    int n_pos;
    int rc = dl_cli_cfg_parse(&c, "train", SYNOPSIS, argc, argv, &data, 1, &n_pos);
    if (rc >= 0)
        return rc;
    if (n_pos == 1 && (rc = dl_cli_set_data(&c, "train", data)) >= 0)
        return rc;
    if (!c.data[0] && !c.resume[0]) {
        fprintf(stderr, "dllab train: missing DATA (dllab train --help)\n");
        return DL_EXIT_USAGE;
    }
    if (c.from_epoch >= 0 && !c.resume[0]) {
        fprintf(stderr, "dllab train: --from-epoch needs --resume RUN\n");
        return DL_EXIT_USAGE;
    }
    return dl_train_cfg(&c, &uo, NULL, 0);
}
