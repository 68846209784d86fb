/* feed-store: a feed filled from the run store (see feed-store.h). */
#include "ui/feed-store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/learn/remote.h"
#include "ui/screens.h"

/* ---- history ---- */
int dl_feed_load_store(dl_feed *f, dl_store *st, int64_t run_id, int64_t until_step,
                       int until_epoch, dl_err *err)
{
    int changed = 0;
    int64_t after = f->train.n ? (int64_t)f->train.x[f->train.n - 1] : -1;
    dl_batch_row *b = NULL;
    size_t nb = 0;
    if (dl_store_batches(st, run_id, after, &b, &nb, err) != DL_OK)
        return -1;
    if (until_step >= 0)
        while (nb > 0 && b[nb - 1].step >= until_step)
            nb--;
    for (size_t i = 0; i < nb; i++) {
        dl_curve_point p = {.kind = DL_POINT_TRAIN,
                            .step = (uint64_t)b[i].step,
                            .epoch = b[i].epoch,
                            .lr = b[i].n_lr > 0 ? b[i].lr[b[i].n_lr - 1] : NAN,
                            .loss = b[i].smooth_loss,
                            .raw = b[i].loss,
                            .mom = b[i].mom};
        dl_feed_add_point(f, &p);
        f->snap.step = (uint64_t)b[i].step;
        f->snap.epoch = b[i].epoch;
        f->snap.n_groups = b[i].n_lr;
        for (int g = 0; g < b[i].n_lr && g < DL_MAX_GROUPS; g++)
            f->snap.lr[g] = b[i].lr[g];
        f->snap.mom = b[i].mom;
        f->snap.last_loss = b[i].loss;
        f->snap.smooth_loss = b[i].smooth_loss;
        changed = 1;
    }
    dl_epoch_row *e = NULL;
    size_t ne = 0;
    if (dl_store_epochs(st, run_id, &e, &ne, err) != DL_OK) {
        free(b);
        return -1;
    }
    if (until_epoch >= 0)
        while (ne > 0 && e[ne - 1].epoch >= until_epoch)
            ne--;
    if (ne > (size_t)f->n_epochs) {
        for (size_t i = (size_t)f->n_epochs; i < ne; i++) {
            /* The valid point sits at the last batch of its epoch (batches per epoch from the
             * run's summary), or after the last batch seen. */
            dl_curve_point p = {
                .kind = DL_POINT_VALID, .epoch = e[i].epoch, .loss = e[i].valid_loss};
            /* the last batch row of that epoch when it was just read (batch and epoch rows
             * number epochs alike), else from batches per epoch */
            int64_t last = -1;
            for (size_t k = 0; k < nb; k++)
                if (b[k].epoch == e[i].epoch && b[k].step > last)
                    last = b[k].step;
            if (last >= 0)
                p.step = (uint64_t)last;
            else if (f->snap.n_batches > 0)
                p.step = (uint64_t)((int64_t)(e[i].epoch + 1) * f->snap.n_batches - 1);
            else if (f->train.n > 0)
                p.step = (uint64_t)f->train.x[f->train.n - 1];
            dl_feed_add_point(f, &p);
            dl_feed_epoch *row = &f->epochs[f->n_epochs - 1];
            row->train_loss = e[i].train_loss;
            row->n_metrics = e[i].n_metrics < DL_SNAP_METRICS ? e[i].n_metrics : DL_SNAP_METRICS;
            for (int m = 0; m < row->n_metrics; m++) {
                row->metric[m] = e[i].metrics[m].value;
                snprintf(f->snap.metric_name[m], DL_SNAP_NAME, "%s", e[i].metrics[m].name);
            }
            /* Durations: the table prints differences of t. */
            row->t = (f->n_epochs > 1 ? f->epochs[f->n_epochs - 2].t : 0) + e[i].duration;
            f->snap.n_metrics = row->n_metrics;
            f->snap.valid_loss = e[i].valid_loss;
        }
        changed = 1;
    }
    free(e);
    free(b);
    int64_t after_ev = -1;
    int kept = dl_feed_events_kept(f);
    if (kept > 0)
        after_ev = (int64_t)dl_feed_event(f, kept - 1)->seq;
    dl_event_row *ev = NULL;
    size_t nev = 0;
    if (dl_store_events(st, run_id, after_ev, &ev, &nev, err) != DL_OK)
        return -1;
    for (size_t i = 0; i < nev; i++) {
        dl_event de;
        memset(&de, 0, sizeof de);
        de.seq = (uint64_t)ev[i].id;
        de.step = (uint64_t)(ev[i].step > 0 ? ev[i].step : 0);
        de.t = ev[i].t;
        const char *text = NULL;
        json_t *j = ev[i].payload && *ev[i].payload ? json_loads(ev[i].payload, 0, NULL) : NULL;
        if (j && json_is_object(j) && json_is_string(json_object_get(j, "text")))
            text = json_string_value(json_object_get(j, "text"));
        /* a command from another process says whose it was, as the trainer's own log does */
        const char *origin =
            j && json_is_object(j) ? json_string_value(json_object_get(j, "origin")) : NULL;
        if (origin && strcmp(origin, "key") != 0)
            snprintf(de.text, sizeof de.text, "%.40s%s%.40s (%.40s)", ev[i].kind,
                     text && *text ? " " : "", text ? text : "", origin);
        else
            snprintf(de.text, sizeof de.text, "%.63s%s%.62s", ev[i].kind, text && *text ? " " : "",
                     text ? text : "");
        json_decref(j);
        dl_feed_add_event(f, &de);
        changed = 1;
    }
    dl_events_free(ev, nev);
    return changed;
}

int dl_feed_from_store(dl_feed *f, dl_store *st, int64_t run_id, dl_err *err)
{
    return dl_feed_load_store(f, st, run_id, -1, -1, err);
}

/* ---- following a run trained elsewhere ---- */
#define N_SENT 32

struct dl_feed_attach {
    dl_feed *f;
    dl_store *st;
    int64_t run_id;
    dl_control *proxy;
    char origin[48];
    int64_t sent[N_SENT]; /* commands posted and not yet acknowledged (0: free slot) */
    int64_t last_dv;
    double last_poll;
    int64_t lrfind_id;
    int64_t pid;
    int ended;
    dl_run_status status;
    char note[200];
    int note_new;
};

static double now_s(void) { return dl_ui_now(); }

static void set_note(dl_feed_attach *a, const char *msg)
{
    snprintf(a->note, sizeof a->note, "%.190s", msg);
    a->note_new = 1;
}

static void forward(dl_feed_attach *a)
{
    dl_cmd cmds[DL_CONTROL_QUEUE];
    size_t n = dl_control_take(a->proxy, cmds, DL_CONTROL_QUEUE);
    for (size_t i = 0; i < n; i++) {
        char word[32], arg[64], msg[200];
        dl_steer_format(&cmds[i], word, sizeof word, arg, sizeof arg);
        if (a->ended) {
            snprintf(msg, sizeof msg, "%s not sent: the training has ended", word);
            set_note(a, msg);
            continue;
        }
        int64_t id = 0;
        dl_err err;
        if (dl_store_steer_post(a->st, a->run_id, word, arg, a->origin, &id, &err) != DL_OK) {
            set_note(a, err.msg);
            continue;
        }
        for (int k = 0; k < N_SENT; k++)
            if (!a->sent[k]) {
                a->sent[k] = id;
                break;
            }
    }
}

static int check_acks(dl_feed_attach *a)
{
    int changed = 0;
    for (int k = 0; k < N_SENT; k++) {
        if (!a->sent[k])
            continue;
        dl_steer_row r;
        if (dl_store_steer_get(a->st, a->sent[k], &r, NULL) != DL_OK) {
            a->sent[k] = 0;
            continue;
        }
        if (r.state != DL_STEER_APPLIED && r.state != DL_STEER_REFUSED)
            continue;
        char msg[200];
        if (r.state == DL_STEER_APPLIED)
            snprintf(msg, sizeof msg, "applied %s%s%s at step %lld", r.cmd, r.arg[0] ? " " : "",
                     r.arg, (long long)r.step);
        else
            snprintf(msg, sizeof msg, "refused %s%s%s: %.90s", r.cmd, r.arg[0] ? " " : "", r.arg,
                     r.reason);
        set_note(a, msg);
        a->sent[k] = 0;
        changed = 1;
    }
    return changed;
}

static int load_lrfind(dl_feed_attach *a)
{
    dl_lrfind *l = NULL;
    size_t n = 0;
    int changed = 0;
    if (dl_store_lrfinds(a->st, a->run_id, &l, &n, NULL) != DL_OK || n == 0)
        return 0;
    const dl_lrfind *last = &l[n - 1];
    if (last->id != a->lrfind_id) {
        a->lrfind_id = last->id;
        for (size_t i = 0; i < last->n; i++) {
            dl_curve_point p = {
                .kind = DL_POINT_LRFIND, .step = i, .lr = last->lr[i], .loss = last->loss[i]};
            dl_feed_add_point(a->f, &p);
        }
        a->f->lrfind_done = 1;
        changed = 1;
    }
    dl_lrfinds_free(l, n);
    return changed;
}

static dl_phase phase_of(dl_run_status s)
{
    return s == DL_RUN_FINISHED   ? DL_PHASE_DONE
           : s == DL_RUN_DIVERGED ? DL_PHASE_DIVERGED
           : s == DL_RUN_CRASHED  ? DL_PHASE_FAILED
                                  : DL_PHASE_STOPPED;
}

/* The run's status and its process: a run whose process is gone has ended, however its row
 * reads (the store marks it crashed on its next write-open). */
static int check_status(dl_feed_attach *a)
{
    dl_run r;
    memset(&r, 0, sizeof r);
    if (dl_store_run_get(a->st, a->run_id, &r, NULL) != DL_OK)
        return 0;
    dl_run_status status = r.status;
    dl_run_clear(&r);
    int64_t owner = 0;
    if (status == DL_RUN_RUNNING && dl_store_run_owner(a->st, a->run_id, &owner, NULL) == DL_OK &&
        owner == 0)
        status = DL_RUN_CRASHED;
    if (status == DL_RUN_RUNNING)
        return 0;
    a->ended = 1;
    a->status = status;
    a->pid = 0;
    a->f->snap.phase = phase_of(status);
    a->f->snap.eta_s = NAN;
    a->f->snap.images_per_s = 0;
    char msg[200];
    snprintf(msg, sizeof msg,
             status == DL_RUN_CRASHED ? "the training process is gone: the run crashed (dllab "
                                        "train --resume continues it); q leaves"
                                      : "the training has ended: %s; q leaves",
             dl_run_status_name(status));
    snprintf(a->f->snap.message, sizeof a->f->snap.message, "%.150s", msg);
    set_note(a, msg);
    return 1;
}

static int attach_pull(dl_feed *f, void *user)
{
    dl_feed_attach *a = user;
    forward(a);
    double t = now_s();
    if ((t - a->last_poll) * 1e3 < DL_ATTACH_POLL_MS)
        return 0;
    a->last_poll = t;
    int changed = check_acks(a);
    if (a->ended)
        return changed;
    int64_t dv = dl_store_data_version(a->st);
    if (dv == a->last_dv)
        return changed;
    a->last_dv = dv;
    /* the live snapshot first: the epoch rows' x positions need the batches per epoch */
    char *json = NULL;
    dl_snapshot live = f->snap;
    bool have_live = dl_store_live_get(a->st, a->run_id, &json, NULL, NULL, NULL) == DL_OK &&
                     dl_snapshot_from_json(json, &live) == 0;
    free(json);
    if (have_live && live.n_batches > 0)
        f->snap.n_batches = live.n_batches;
    dl_err err;
    if (dl_feed_load_store(f, a->st, a->run_id, -1, -1, &err) > 0)
        changed = 1;
    changed |= load_lrfind(a);
    if (have_live) {
        live.gen = f->snap.gen + 1;
        f->snap = live;
        changed = 1;
    }
    changed |= check_status(a);
    return changed;
}

dl_status dl_feed_attach_open(dl_feed_attach **out, dl_feed *f, dl_store *st, int64_t run_id,
                              dl_control **proxy, dl_err *err)
{
    *out = NULL;
    dl_feed_attach *a = calloc(1, sizeof *a);
    if (!a)
        return dl_err_set(err, DL_ENOMEM, "out of memory attaching");
    dl_status s = dl_control_create(&a->proxy, err);
    if (s) {
        free(a);
        return s;
    }
    a->f = f;
    a->st = st;
    a->run_id = run_id;
    a->last_dv = -2;
    a->last_poll = -1e9;
    a->lrfind_id = -1;
    snprintf(a->origin, sizeof a->origin, "attach pid %lld", (long long)getpid());
    dl_store_run_owner(st, run_id, &a->pid, NULL);
    f->source = attach_pull;
    f->source_user = a;
    attach_pull(f, a);      /* the history at once */
    a->note_new = a->ended; /* only the end is worth telling now */
    *proxy = a->proxy;
    *out = a;
    return DL_OK;
}

void dl_feed_attach_flush(dl_feed_attach *a)
{
    if (a)
        forward(a);
}

void dl_feed_attach_close(dl_feed_attach *a)
{
    if (!a)
        return;
    a->f->source = NULL;
    dl_control_free(a->proxy);
    free(a);
}

const char *dl_feed_attach_note(dl_feed_attach *a)
{
    if (!a->note_new)
        return NULL;
    a->note_new = 0;
    return a->note;
}

int dl_feed_attach_ended(const dl_feed_attach *a, dl_run_status *status)
{
    if (status)
        *status = a->status;
    return a->ended;
}

int64_t dl_feed_attach_pid(const dl_feed_attach *a) { return a->pid; }
