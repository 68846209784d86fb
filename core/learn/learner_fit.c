/* learner_fit: the fit loop (fastai's event order), fit / fit_flat_cos / fit_one_cycle /
 * fine_tune over core/sched's schedules, the tracker (best by monitor, early stopping,
 * reduce-lr-on-plateau, load-best) and divergence handling. See learner.h.
 *
 * Divergence: a non-finite loss skips the step; weights, BN buffers and optimiser state go back
 * to the last good copy (taken at the start of the fit and every cfg.snapshot_every batches); the
 * lr is recorded and the run marked diverged. With pause_on_diverge (a UI is attached) the
 * learner pauses so the user can lower the lr and resume; otherwise the fit ends with
 * DL_EDIVERGED. A non-finite validation loss (over a non-empty validation set) ends the fit the
 * same way, without recording or checkpointing that epoch. So does a finite loss that explodes
 * (core/learn/diverge.h); the last good copy is only refreshed while the loss is not climbing. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/learn/learner_internal.h"
#include "core/log.h"

void dl_fit_opts_init(dl_fit_opts *o, dl_fit_kind kind, int epochs, double lr)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->epochs = epochs;
    o->lr.kind = DL_LR_CONST; /* fastai's fit_one_cycle(n, lr): every group lr */
    o->lr.hi = lr;
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static bool monitor_value(const dl_learner *l, double *v)
{
    if (strcmp(l->monitor, "valid_loss") == 0)
        *v = l->row.valid_loss;
    else if (strcmp(l->monitor, "train_loss") == 0)
        *v = l->row.train_loss;
    else {
        for (int i = 0; i < l->cfg.n_metrics; i++)
            if (strcmp(l->monitor, dl_learner_metric_name(l, i)) == 0) {
                *v = l->row.metrics[i];
                return true;
            }
        return false;
    }
    return true;
}

/* fastai's TrackerCallback family after an epoch; sets *early when early stopping fires. */
static void track(dl_learner *l, bool *improved, bool *early)
{
    double v = NAN;
    monitor_value(l, &v);
    *improved = l->lower_better ? v < l->best - l->cfg.min_delta : v > l->best + l->cfg.min_delta;
    *early = false;
    if (*improved) {
        l->best = v;
        l->best_epoch = l->row.epoch;
        l->wait = 0;
        l->plateau_wait = 0;
        if (l->cfg.load_best && dl_state_copy_take(&l->best_copy, l, false) != DL_OK)
            dl_log(DL_LOG_WARN, "out of memory keeping the best weights: load-best disabled");
        /* their predictions too: the interpretation after the fit (of the best epoch, whose
         * checkpoint is the one flagged best) then needs no pass of its own */
        dl_preds_cache_copy(&l->best_preds, &l->last_preds);
        snprintf(l->message, sizeof l->message, "Better model found at %s %d with %s value: %g.",
                 l->frozen_fit ? "frozen epoch" : "epoch", l->row.epoch, l->monitor, v);
        return;
    }
    l->wait++;
    l->plateau_wait++;
    if (l->cfg.plateau_factor > 0 && l->plateau_wait >= l->cfg.plateau_patience) {
        dl_err e;
        double f = 1.0 / l->cfg.plateau_factor;
        if (dl_fit_sched_scale_lr(&l->sched, f, &e) == DL_OK) {
            for (int g = 0; g < l->n_groups; g++)
                dl_optim_set_lr(&l->opt, g, l->opt.h[g].lr * f);
            dl_learner_log_event(l, DL_EV_LR_CHANGE, "plateau: lr divided by %g",
                                 l->cfg.plateau_factor);
        }
        l->plateau_wait = 0;
    }
    if (l->cfg.patience > 0 && l->wait >= l->cfg.patience) {
        snprintf(l->message, sizeof l->message, "No improvement since epoch %d: early stopping",
                 l->row.epoch - l->wait);
        dl_learner_log_event(l, DL_EV_STOP, "%s", l->message);
        *early = true;
    }
}

static void record_batch(dl_learner *l, int epoch)
{
    double lr = l->opt.h[l->n_groups - 1].lr;
    if (l->control) {
        dl_curve_point p = {.kind = DL_POINT_TRAIN,
                            .step = l->step,
                            .epoch = epoch,
                            .lr = lr,
                            .loss = l->smooth_value,
                            .raw = l->loss,
                            .mom = l->opt.h[l->n_groups - 1].mom,
                            .frozen_fit = l->frozen_fit};
        dl_control_push_point(l->control, &p);
    }
    if (l->store) {
        dl_batch_row r;
        memset(&r, 0, sizeof r);
        r.step = (int64_t)l->step;
        r.epoch = l->epochs_done; /* the store numbers epochs over the whole run (fine_tune: both
                                     phases) */
        r.n_lr = l->n_groups < DL_STORE_MAX_GROUPS ? l->n_groups : DL_STORE_MAX_GROUPS;
        for (int g = 0; g < r.n_lr; g++)
            r.lr[g] = l->opt.h[g].lr;
        r.mom = l->opt.h[l->n_groups - 1].mom;
        r.loss = l->loss;
        r.smooth_loss = l->smooth_value;
        r.t = wall_now();
        dl_err e;
        /* Unwritten rows stay buffered and go with the next commit that succeeds: one warning,
         * not one per batch. */
        if (dl_store_log_batch(l->store, l->run_id, &r, &e) == DL_OK) {
            l->batch_warned = false;
        } else if (!l->batch_warned) {
            l->batch_warned = true;
            dl_log(DL_LOG_WARN,
                   "recording batch %lld: %s (the rows are kept in memory and retried; further "
                   "failures are not reported)",
                   (long long)r.step, e.msg);
        }
    }
}

static void record_epoch(dl_learner *l, bool improved)
{
    if (l->control) {
        dl_curve_point p = {.kind = DL_POINT_VALID,
                            .step = l->step,
                            .epoch = l->row.epoch,
                            .lr = l->opt.h[l->n_groups - 1].lr,
                            .loss = l->row.valid_loss,
                            .raw = l->row.valid_loss,
                            .mom = l->opt.h[l->n_groups - 1].mom,
                            .frozen_fit = l->frozen_fit};
        dl_control_push_point(l->control, &p);
    }
    if (!l->store)
        return;
    dl_epoch_row r;
    memset(&r, 0, sizeof r);
    r.epoch = l->epochs_done - 1;
    r.train_loss = l->row.train_loss;
    r.valid_loss = l->row.valid_loss;
    r.duration = l->row.duration;
    r.t = wall_now();
    r.n_metrics = l->cfg.n_metrics;
    for (int i = 0; i < l->cfg.n_metrics; i++) {
        snprintf(r.metrics[i].name, sizeof r.metrics[i].name, "%s", dl_learner_metric_name(l, i));
        r.metrics[i].value = l->row.metrics[i];
    }
    dl_err e;
    if (dl_store_log_epoch(l->store, l->run_id, &r, &e) != DL_OK) {
        dl_log(DL_LOG_WARN, "recording epoch %d: %s", r.epoch, e.msg);
        l->unsaved = l->rows_lost = true;
        snprintf(l->unsaved_why, sizeof l->unsaved_why, "epoch %d not recorded: %.900s", r.epoch,
                 e.msg);
    }
    /* A failed checkpoint is recorded by the store as an event; training goes on. */
    if (l->cfg.checkpoint_each_epoch && dl_learner_save_checkpoint(l, NULL, improved, &e) != DL_OK)
        dl_log(DL_LOG_WARN, "checkpoint of epoch %d: %s", r.epoch, e.msg);
}

static void on_diverged(dl_learner *l, const dl_err *why)
{
    l->diverged = true;
    l->diverged_lr = l->opt.h[l->n_groups - 1].lr;
    dl_state_copy_restore(&l->good, l, true);
    /* the copy brought back its old hyper-parameters: show (and offer to lower) the rates the
     * schedule is at, not the ones of the copy */
    for (int g = 0; g < l->n_groups && l->in_fit; g++)
        dl_optim_set_lr(&l->opt, g, dl_fit_sched_lr(&l->sched, g, l->pos));
    snprintf(l->message, sizeof l->message, "diverged at lr %g (step %llu): weights restored",
             l->diverged_lr, (unsigned long long)l->step);
    dl_learner_log_event(l, DL_EV_WARNING, "diverged at lr %.6g: %s", l->diverged_lr, why->msg);
    if (l->cfg.pause_on_diverge && l->control)
        l->paused = true;
    else
        l->stop_now = true;
}

/* The finite smoothed loss exploded (diverge.h): handled as a NaN loss, and the smoother starts
 * again so the restored weights are judged by their own losses. */
static bool exploded(dl_learner *l, dl_status *result, dl_err *err)
{
    if (!dl_diverge_add(&l->explode, l->smooth_value))
        return false;
    dl_err why;
    dl_diverge_why(&l->explode, l->smooth_value, why.msg, sizeof why.msg);
    on_diverged(l, &why);
    dl_smooth_reset(&l->smooth);
    l->smooth_value = NAN;
    dl_diverge_rearm(&l->explode);
    if (!l->paused)
        *result = dl_err_set(err, DL_EDIVERGED, "%s", l->message);
    return true;
}

/* Runs epochs [start_epoch, epochs) of the schedule in l->sched, the first one from batch skip. */
static dl_status run_fit(dl_learner *l, int epochs, int start_epoch, int skip, dl_err *err)
{
    int64_t n_iter = l->train.n_batches(l->train.ctx);
    if (n_iter <= 0)
        return dl_err_set(
            err, DL_EINVAL,
            "the training set yields no full batch (batch size larger than the set?)");
    if (epochs < 1 || start_epoch < 0 || start_epoch > epochs)
        return dl_err_set(err, DL_EINVAL, "fit of %d epochs starting at epoch %d", epochs,
                          start_epoch);
    double v;
    if (!monitor_value(l, &v))
        return dl_err_set(err, DL_EINVAL,
                          "monitor '%s' is not a column (train_loss, valid_loss or a metric)",
                          l->monitor);
    l->in_fit = true;
    l->n_epochs = epochs;
    l->n_iter = (int)n_iter;
    l->fit_start_epoch = start_epoch;
    l->t_fit0 = dl_learner_now();
    l->images_fit = 0;
    l->t_paused = l->t_pause0 = l->t_valid_sum = l->t_valid0 = 0;
    l->valid_passes = l->valid_batch = l->valid_batches = 0;
    l->stop_now = l->stop_after_epoch = l->stopped = l->diverged = false;
    l->message[0] = 0;
    l->ckpt_epoch = start_epoch;
    l->ckpt_batch = skip;
    if (start_epoch == 0 && skip == 0) { /* reset_on_fit, as fastai's trackers and smoother */
        dl_smooth_reset(&l->smooth);
        l->smooth_value = NAN;
        l->best = l->lower_better ? INFINITY : -INFINITY;
        l->best_epoch = -1;
        l->wait = l->plateau_wait = 0;
        l->best_copy.valid = false;
        l->best_preds.valid = false;
    }
    dl_diverge_reset(&l->explode);
    dl_status st = dl_state_copy_take(&l->good, l, true);
    if (st != DL_OK)
        st = dl_err_set(err, st, "out of memory for the last-good copy of the weights");
    if (st == DL_OK)
        st = dl_learner_fire(l, DL_EV_BEFORE_FIT, err);
    bool early = false;
    dl_status result = DL_OK;
    for (int e = start_epoch; st == DL_OK && e < epochs && !l->stop_now && !early; e++) {
        l->epoch = e;
        l->phase = DL_PHASE_TRAIN;
        l->t_epoch0 = dl_learner_now();
        if ((st = l->train.start_epoch(l->train.ctx, e, err)) != DL_OK)
            break;
        if ((st = dl_learner_fire(l, DL_EV_BEFORE_EPOCH, err)) != DL_OK ||
            (st = dl_learner_fire(l, DL_EV_BEFORE_TRAIN, err)) != DL_OK)
            break;
        int first = e == start_epoch ? skip : 0;
        for (int i = 0;; i++) {
            l->batch = i;
            if (i >= first && ((st = dl_learner_boundary(l, err)) != DL_OK || l->stop_now))
                break;
            dl_batch b;
            if ((st = l->train.next(l->train.ctx, &b, err)) != DL_OK || b.n == 0)
                break;
            if (i < first)
                continue; /* resuming mid-epoch: these batches were trained before the checkpoint */
            l->pos = dl_sched_pos(e, i, epochs, n_iter);
            for (int g = 0; g < l->n_groups; g++)
                dl_optim_set_lr(&l->opt, g, dl_fit_sched_lr(&l->sched, g, l->pos));
            double mom;
            if (dl_fit_sched_mom(&l->sched, l->pos, &mom))
                dl_optim_set_mom_all(&l->opt, mom);
            if ((st = dl_learner_fire(l, DL_EV_BEFORE_BATCH, err)) != DL_OK)
                break;
            dl_err why;
            st = dl_learner_train_batch(l, &b, &why);
            if (st == DL_EDIVERGED) {
                on_diverged(l, &why);
                if (!l->paused)
                    result = dl_err_set(err, DL_EDIVERGED, "%s", l->message);
                st = DL_OK;
                dl_learner_publish(l);
                continue;
            }
            if (st != DL_OK) {
                if (err)
                    *err = why;
                break;
            }
            l->step++;
            l->images_fit += (uint64_t)b.n;
            l->smooth_value = dl_smooth_add(&l->smooth, l->loss);
            l->ckpt_epoch = e;
            l->ckpt_batch = i + 1;
            if (l->step % (uint64_t)l->cfg.snapshot_every == 0 && dl_diverge_healthy(&l->explode) &&
                dl_state_copy_take(&l->good, l, true) != DL_OK)
                dl_log(DL_LOG_WARN, "out of memory refreshing the last-good copy");
            record_batch(l, e);
            if (exploded(l, &result, err)) {
                dl_learner_publish(l);
                continue;
            }
            if ((st = dl_learner_fire(l, DL_EV_AFTER_BATCH, err)) != DL_OK)
                break;
            dl_learner_publish(l);
        }
        if (st != DL_OK)
            break;
        if (l->batch >= l->n_iter)
            l->batch = l->n_iter - 1; /* the loop ended on the empty batch that closes the epoch */
        if ((st = dl_learner_fire(l, DL_EV_AFTER_TRAIN, err)) != DL_OK || l->stop_now)
            break;
        l->phase = DL_PHASE_VALID;
        dl_learner_publish(l);
        l->row.epoch = e;
        l->row.train_loss = l->smooth_value;
        l->row.n_metrics = l->cfg.n_metrics;
        if ((st = dl_learner_fire(l, DL_EV_BEFORE_VALIDATE, err)) != DL_OK ||
            (st = dl_learner_validate(l, &l->row.valid_loss, l->row.metrics, err)) != DL_OK ||
            (st = dl_learner_fire(l, DL_EV_AFTER_VALIDATE, err)) != DL_OK)
            break;
        if (l->valid_items > 0 && !isfinite(l->row.valid_loss)) {
            /* The last step broke the weights (finite train loss, NaN/inf outputs): the epoch is
             * neither recorded nor checkpointed, so no NaN model is ever saved. */
            dl_err why;
            dl_err_set(&why, DL_EDIVERGED, "valid_loss is %g after epoch %d", l->row.valid_loss, e);
            on_diverged(l, &why);
            l->stop_now = true; /* a pause cannot help: the epoch is over */
            l->paused = false;
            result = dl_err_set(err, DL_EDIVERGED, "%s", l->message);
            break;
        }
        l->row.duration = dl_learner_now() - l->t_epoch0;
        l->epochs_done++;
        bool improved;
        track(l, &improved, &early);
        l->ckpt_epoch = e + 1;
        l->ckpt_batch = 0;
        record_epoch(l, improved);
        if ((st = dl_learner_fire(l, DL_EV_AFTER_EPOCH, err)) != DL_OK)
            break;
        dl_learner_publish(l);
        if (l->stop_after_epoch) {
            l->stopped = true;
            break;
        }
    }
    if (l->stop_now && !l->diverged) {
        l->stopped = true;
        dl_err e2;
        if (l->store && dl_learner_save_checkpoint(l, "stopped", false, &e2) != DL_OK)
            dl_log(DL_LOG_WARN, "checkpoint at stop: %s", e2.msg);
    }
    /* fastai's SaveModelCallback loads the best model in its own after_fit, so after-fit work
     * (interpretation) sees the best weights. */
    if (st == DL_OK && l->cfg.load_best && l->best_copy.valid) {
        dl_state_copy_restore(&l->best_copy, l, false);
        dl_learner_log_event(l, DL_EV_CHECKPOINT, "loaded the best weights (epoch %d)",
                             l->best_epoch);
    }
    if (st == DL_OK)
        st = dl_learner_fire(l, DL_EV_AFTER_FIT, err);
    if (l->store)
        dl_store_flush(l->store, NULL);
    l->in_fit = false;
    l->phase = st != DL_OK                      ? DL_PHASE_FAILED
               : l->diverged && result != DL_OK ? DL_PHASE_DIVERGED
               : l->stopped                     ? DL_PHASE_STOPPED
               : l->more_fits                   ? DL_PHASE_NEXT_FIT
                                                : DL_PHASE_DONE;
    dl_learner_publish(l);
    return st != DL_OK ? st : result;
}

dl_status dl_learner_fit(dl_learner *l, const dl_fit_opts *o, dl_err *err)
{
    bool resuming = o->start_epoch > 0 || (l->sched_loaded && l->resume_batch > 0);
    if (!(resuming && l->sched_loaded)) {
        double lr[DL_MAX_GROUPS];
        dl_lr_spec spec = o->lr;
        if (!(spec.hi > 0)) {
            spec.kind = DL_LR_CONST;
            spec.hi = l->cfg.lr;
        }
        dl_status st = dl_lr_spread(&spec, l->n_groups, lr, err);
        if (st != DL_OK)
            return st;
        if (o->kind == DL_FIT_CONST) {
            st = dl_sched_fit(&l->sched, l->n_groups, lr, err);
        } else if (o->kind == DL_FIT_FLAT_COS) {
            st = dl_sched_flat_cos(&l->sched, l->n_groups, lr,
                                   o->pct_start > 0 ? o->pct_start : 0.75,
                                   o->div_final > 0 ? o->div_final : 1e5, err);
        } else {
            dl_one_cycle_opts oc = dl_one_cycle_defaults();
            if (o->pct_start > 0)
                oc.pct_start = o->pct_start;
            if (o->div > 0)
                oc.div = o->div;
            if (o->div_final > 0)
                oc.div_final = o->div_final;
            memcpy(oc.moms, l->cfg.moms, sizeof oc.moms);
            st = dl_sched_one_cycle(&l->sched, l->n_groups, lr, &oc, err);
        }
        if (st != DL_OK)
            return st;
    }
    int skip = resuming && o->start_epoch == l->resume_epoch ? l->resume_batch : 0;
    l->sched_loaded = false;
    l->frozen_fit = l->more_fits = false;
    return run_fit(l, o->epochs, o->start_epoch, skip, err);
}

/* The phase of plan a loaded checkpoint belongs to, or -1. Phase p's epochs are the store's
 * epochs [off(p), off(p) + epochs(p)); a checkpoint records the epochs done over the whole run and
 * the next epoch within its own fit, so the phase is the one whose offset makes the two agree and
 * whose length is the fit's. (With freeze_epochs > 0 the end of phase 0 has next epoch
 * freeze_epochs while phase 1's start has 0, so no checkpoint fits two phases.) */
static int resume_phase(const dl_learner *l, const dl_fine_tune_plan *plan)
{
    int off = 0;
    for (int p = 0; p < plan->n_phases; p++) {
        int n = plan->phase[p].epochs;
        if (l->n_epochs == n && l->resume_epoch <= n && l->epochs_done == off + l->resume_epoch)
            return p;
        off += n;
    }
    return -1;
}

dl_status dl_learner_fine_tune(dl_learner *l, int epochs, double base_lr, int freeze_epochs,
                               dl_err *err)
{
    dl_fine_tune_opts o = dl_fine_tune_defaults();
    if (base_lr > 0)
        o.base_lr = base_lr;
    o.freeze_epochs = freeze_epochs;
    memcpy(o.moms, l->cfg.moms, sizeof o.moms);
    dl_fine_tune_plan plan;
    dl_status st = dl_sched_fine_tune(&plan, l->n_groups, epochs, &o, err);
    if (st != DL_OK)
        return st;
    /* Resuming (a checkpoint was loaded): continue its phase where it stopped, with its schedule
     * (mid-run rescales included), frozen state and optimiser state; later phases run as planned.
     */
    int first = 0;
    bool resuming = l->sched_loaded;
    l->sched_loaded = false;
    if (resuming && (first = resume_phase(l, &plan)) < 0)
        return dl_err_set(
            err, DL_EINVAL,
            "checkpoint (epoch %d of a %d-epoch fit, %d epochs done) is not a point of "
            "fine_tune(%d, freeze_epochs %d)",
            l->resume_epoch, l->n_epochs, l->epochs_done, epochs, freeze_epochs);
    for (int p = first; st == DL_OK && p < plan.n_phases; p++) {
        /* the dashboard labels the frozen phase's epochs and never calls its end "done" */
        l->frozen_fit = plan.phase[p].freeze_to != 0;
        l->more_fits = p + 1 < plan.n_phases;
        if (resuming && p == first) {
            if (l->resume_epoch >= plan.phase[p].epochs && p + 1 < plan.n_phases)
                continue; /* stopped at the end of this phase: the next one starts afresh */
            st = run_fit(l, plan.phase[p].epochs, l->resume_epoch, l->resume_batch, err);
        } else {
            /* the phase's lrs first, so its freeze/unfreeze event records the rates that follow
             * (peak per group), not the end of the previous phase */
            l->sched = plan.phase[p].sched;
            for (int g = 0; g < l->n_groups; g++)
                dl_optim_set_lr(&l->opt, g, plan.phase[p].lr_max[g]);
            dl_learner_freeze_to(l, plan.phase[p].freeze_to);
            st = run_fit(l, plan.phase[p].epochs, 0, 0, err);
        }
        if (l->stopped || l->diverged)
            break;
    }
    l->frozen_fit = l->more_fits = false;
    return st;
}
