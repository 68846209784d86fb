/* screen-run: the run view. It reads a run from the store into a dl_feed (the same model the
 * live dashboard uses) and shows it with the training screen's panels; about once a second it
 * asks the store for rows newer than the ones it has, so a run training in another process keeps
 * moving. Events show their payload's "text" when there is one, else their kind. `c` and `t` open
 * the run's stored interpretation (ui/screen-interp). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/store/store.h"
#include "ui/feed-store.h"
#include "ui/screens.h"

typedef struct run_view {
    dl_store *st;
    int64_t id;
    dl_feed feed;
    int64_t last_step, last_event;
    size_t n_epochs_seen;
    int64_t lrfind_id;
    double last_poll;
} run_view;

static int load_summary(run_view *rv, dl_err *err)
{
    dl_run r;
    memset(&r, 0, sizeof r);
    if (dl_store_run_get(rv->st, rv->id, &r, err) != DL_OK)
        return -1;
    dl_snapshot *sn = &rv->feed.snap;
    sn->phase = r.status == DL_RUN_RUNNING    ? DL_PHASE_TRAIN
                : r.status == DL_RUN_FINISHED ? DL_PHASE_DONE
                : r.status == DL_RUN_DIVERGED ? DL_PHASE_DIVERGED
                : r.status == DL_RUN_CRASHED  ? DL_PHASE_FAILED
                                              : DL_PHASE_STOPPED;
    /* Batches per epoch from the rows seen so far. */
    sn->n_epochs = r.n_epochs;
    if (r.n_epochs > 0 && r.n_batches > 0)
        sn->n_batches = (int)(r.n_batches / (r.n_epochs > 0 ? r.n_epochs : 1));
    sn->batch = sn->n_batches > 0 ? sn->n_batches - 1 : 0;
    sn->epoch = r.n_epochs > 0 ? r.n_epochs - 1 : 0;
    dl_run_clear(&r);
    return 0;
}

static int load_lrfind(run_view *rv)
{
    dl_lrfind *l = NULL;
    size_t n = 0;
    if (dl_store_lrfinds(rv->st, rv->id, &l, &n, NULL) != DL_OK || n == 0)
        return 0;
    const dl_lrfind *last = &l[n - 1];
    int changed = 0;
    if (last->id != rv->lrfind_id) {
        rv->lrfind_id = last->id;
        for (size_t i = 0; i < last->n; i++) {
            dl_curve_point p = {
                .kind = DL_POINT_LRFIND, .step = i, .lr = last->lr[i], .loss = last->loss[i]};
            dl_feed_add_point(&rv->feed, &p);
        }
        rv->feed.lrfind_done = 1;
        changed = 1;
    }
    dl_lrfinds_free(l, n);
    return changed;
}

static int run_tick(void *user, dl_feed *feed, dl_app *app)
{
    run_view *rv = user;
    (void)feed;
    double t = dl_ui_now();
    if (t - rv->last_poll < 1.0)
        return DL_R_NONE;
    rv->last_poll = t;
    dl_err err;
    int changed = dl_feed_from_store(&rv->feed, rv->st, rv->id, &err);
    if (changed < 0) {
        dl_app_message(app, err.msg);
        return DL_R_REDRAW;
    }
    if (changed)
        load_summary(rv, NULL);
    changed |= load_lrfind(rv);
    return changed ? DL_R_REDRAW : DL_R_NONE;
}

static int run_confusion(void *user, dl_app *app, char *msg, int cap)
{
    run_view *rv = user;
    return dl_ui_push_stored_confusion(app, rv->st, rv->id, msg, cap);
}

static int run_top_losses(void *user, dl_app *app, char *msg, int cap)
{
    run_view *rv = user;
    return dl_ui_push_stored_top_losses(app, rv->st, rv->id, msg, cap);
}

static void run_close(void *user)
{
    run_view *rv = user;
    dl_feed_free(&rv->feed);
    free(rv);
}

dl_status dl_screen_run(dl_screen *out, dl_store *st, int64_t run_id, dl_err *err)
{
    run_view *rv = calloc(1, sizeof *rv);
    if (!rv)
        return dl_err_set(err, DL_ENOMEM, "no memory for the run view");
    rv->st = st;
    rv->id = run_id;
    rv->lrfind_id = -1;
    dl_feed_init(&rv->feed, NULL);
    dl_run r;
    memset(&r, 0, sizeof r);
    if (dl_store_run_get(st, run_id, &r, err) != DL_OK) {
        free(rv);
        return err ? err->code : DL_ENOTFOUND;
    }
    char data[160];
    snprintf(data, sizeof data, "%s %lld/%lld", r.dataset ? r.dataset : "?", (long long)r.n_train,
             (long long)r.n_valid);
    dl_run_info info = {r.name, data, r.arch};
    if (load_summary(rv, err) != 0 || dl_feed_from_store(&rv->feed, st, run_id, err) < 0) {
        dl_run_clear(&r);
        run_close(rv);
        return err ? err->code : DL_EIO;
    }
    load_summary(rv, NULL);
    load_lrfind(rv);
    rv->last_poll = dl_ui_now();
    dl_train_hooks hooks = {.user = rv,
                            .confusion = run_confusion,
                            .top_losses = run_top_losses,
                            .tick = run_tick,
                            .close = run_close};
    dl_status s = dl_screen_train(out, NULL, &rv->feed, &info, &hooks, err);
    dl_run_clear(&r);
    if (s != DL_OK) {
        run_close(rv);
        return s;
    }
    out->name = "run";
    out->id = DL_SCR_RUN;
    return DL_OK;
}
