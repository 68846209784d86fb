/* screen-run: the run view. It reads a run from the store into a dl_feed (the same model the
 * live dashboard uses) and shows it with the training screen's panels; about once a second it
 * asks the store for rows newer than the ones it has, so a run training in another process keeps
 * moving. Events show their payload's "text" when there is one, else their kind. `c` and `t` open
 * the run's stored interpretation (ui/screen-interp). */
#include <jansson.h>
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

/* The epochs the run plans (fine_tune: its frozen epochs too) and its batches per epoch
 * (drop_last: n_train / bs), from the stored configuration; 0 when it does not say. */
static void planned(const dl_run *r, int *epochs, int *per_epoch, int *bs_out)
{
    *epochs = *per_epoch = *bs_out = 0;
    json_t *c = r->config_json ? json_loads(r->config_json, 0, NULL) : NULL;
    if (!json_is_object(c)) {
        json_decref(c);
        return;
    }
    json_int_t e = json_integer_value(json_object_get(c, "epochs")),
               bs = json_integer_value(json_object_get(c, "bs"));
    const char *sched = json_string_value(json_object_get(c, "schedule"));
    if (sched && strcmp(sched, "fine-tune") == 0)
        e += json_integer_value(json_object_get(c, "freeze-epochs"));
    *epochs = e > 0 && e < 1000000 ? (int)e : 0;
    *per_epoch = bs > 0 && r->n_train >= bs ? (int)(r->n_train / bs) : 0;
    *bs_out = bs > 0 && bs < 1000000 ? (int)bs : 0;
    json_decref(c);
}

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
    /* the header says the store's word for a run that is not training ("crashed") */
    snprintf(rv->feed.status, sizeof rv->feed.status, "%s",
             r.status == DL_RUN_RUNNING ? "" : dl_run_status_name(r.status));
    int plan, per_epoch, bs;
    planned(&r, &plan, &per_epoch, &bs);
    if (per_epoch <= 0 && r.n_epochs > 0 && r.n_batches > 0)
        per_epoch = (int)(r.n_batches / r.n_epochs);
    sn->n_batches = per_epoch;
    if (r.status == DL_RUN_RUNNING && r.n_batches > 0 && per_epoch > 0) {
        /* in the epoch of the last batch row, that many batches into it */
        int64_t last =
            rv->feed.train.n ? (int64_t)rv->feed.train.x[rv->feed.train.n - 1] + 1 : r.n_batches;
        sn->epoch = (int)((last - 1) / per_epoch);
        sn->batch = (int)((last - 1) % per_epoch);
    } else {
        sn->epoch = r.n_epochs > 0 ? r.n_epochs - 1 : 0;
        sn->batch = per_epoch > 0 ? per_epoch - 1 : 0;
    }
    sn->n_epochs = plan > sn->epoch ? plan : sn->epoch + 1; /* the planned epochs */
    /* A run training elsewhere: its pace so far from the rows' wall times (validation and
     * start-up included, so a rough figure); a saved run has neither. */
    sn->eta_s = NAN;
    sn->images_per_s = 0;
    int64_t done = (int64_t)sn->epoch * per_epoch + sn->batch + 1;
    double el = r.last_t - r.created;
    if (r.status == DL_RUN_RUNNING && r.n_batches > 0 && el > 0 && plan > 0 && per_epoch > 0) {
        double left = (double)plan * per_epoch - (double)done;
        sn->eta_s = left > 0 ? el / (double)done * left : 0;
        sn->images_per_s = bs > 0 ? (double)done * bs / el : 0;
    }
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
    /* The data as it was typed (the config's "data"; "fashion-mnist", not its description), cut
     * in the middle so the item counts always show. */
    char data[160], cut[48];
    json_t *cfg = r.config_json ? json_loads(r.config_json, 0, NULL) : NULL;
    const char *dname = json_string_value(json_object_get(cfg, "data"));
    if (!dname || !*dname)
        dname = r.dataset && *r.dataset ? r.dataset : "?";
    snprintf(data, sizeof data, "%s %lld/%lld", dl_ui_fit_name(dname, 32, cut, sizeof cut),
             (long long)r.n_train, (long long)r.n_valid);
    json_decref(cfg);
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
