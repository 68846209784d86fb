/* lrfind/sweep: fastai's lr_find run by the learner: the sweep's batches, then a bit-exact
 * restore of weights, BN buffers, optimiser state and hyper-parameters, the step counter, the
 * loss smoother and the dropout stream (fastai leaves its RNG advanced; dllab does not, so an LR
 * sweep in the middle of a fit leaves the fit exactly as it would have been). The sweep maths (lrs,
 * smoothing, stop rule, suggestions) is core/lrfind's. Refuses num_it above DL_LRFIND_MAX and an
 * empty training set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn/learner_internal.h"
#include "core/log.h"

static void save_to_store(dl_learner *l, const dl_lrfind_curve *c)
{
    if (!l->store)
        return;
    dl_lr_suggestion sug[DL_SUGGEST_COUNT];
    size_t ns = 0;
    for (int k = 0; k < DL_SUGGEST_COUNT; k++)
        if (c->sug[k].ok) {
            snprintf(sug[ns].method, sizeof sug[ns].method, "%s",
                     dl_suggest_name((dl_suggest_kind)k));
            sug[ns].lr = c->sug[k].lr;
            sug[ns].loss = c->sug[k].y;
            ns++;
        }
    dl_err e;
    if (dl_store_lrfind_save(l->store, l->run_id, (int64_t)l->step, c->lr, c->loss, (size_t)c->n,
                             sug, ns, NULL, &e) != DL_OK)
        dl_log(DL_LOG_WARN, "recording the LR-finder curve: %s", e.msg);
}

dl_status dl_learner_lr_find(dl_learner *l, const dl_lrfind_cfg *cfg_in, dl_lrfind_curve *c,
                             dl_err *err)
{
    dl_lrfind_cfg cfg = cfg_in ? *cfg_in : dl_lrfind_defaults();
    if (cfg.num_it > DL_LRFIND_MAX)
        return dl_err_set(err, DL_EINVAL, "lr_find: num_it %d exceeds %d", cfg.num_it,
                          DL_LRFIND_MAX);
    if (!(cfg.start_lr > 0 && cfg.end_lr > cfg.start_lr && isfinite(cfg.end_lr)))
        return dl_err_set(err, DL_EINVAL, "lr_find: need 0 < start_lr < end_lr (got %g, %g)",
                          cfg.start_lr, cfg.end_lr);
    int64_t n_iter = l->train.n_batches(l->train.ctx);
    if (n_iter <= 0)
        return dl_err_set(err, DL_EINVAL, "lr_find: the training set yields no full batch");

    dl_train_state_copy saved;
    memset(&saved, 0, sizeof saved);
    if (dl_state_copy_take(&saved, l, true) != DL_OK) {
        dl_state_copy_free(&saved);
        return dl_err_set(err, DL_ENOMEM, "lr_find: out of memory saving the weights");
    }
    dl_smooth smooth = l->smooth;
    double smooth_value = l->smooth_value, loss = l->loss;
    uint64_t step = l->step;
    dl_phase phase = l->phase;
    /* Unlike fastai, the dropout stream is restored too, so a sweep leaves no trace on training. */
    dl_rng drop = *dl_model_dropout_rng(l->model);

    memset(c, 0, sizeof *c);
    dl_lrfind_run r;
    dl_lrfind_begin(&r, &cfg, c->lr, c->loss);
    c->cfg = r.cfg;
    l->phase = DL_PHASE_LRFIND;
    dl_learner_log_event(l, DL_EV_LRFIND_START, "%g..%g over %d batches", cfg.start_lr, cfg.end_lr,
                         r.cfg.num_it);
    int n_epoch = dl_lrfind_epochs(&r.cfg, (int)n_iter);
    dl_status st = DL_OK;
    bool stop = false;
    int i = 0;
    for (int e = 0; e < n_epoch && !stop && st == DL_OK; e++) {
        if ((st = l->train.start_epoch(l->train.ctx, e, err)) != DL_OK)
            break;
        for (;;) {
            dl_batch b;
            if ((st = l->train.next(l->train.ctx, &b, err)) != DL_OK || b.n == 0)
                break;
            double lr = dl_lrfind_lr(&r.cfg, i);
            for (int g = 0; g < l->n_groups; g++)
                dl_optim_set_lr(&l->opt, g, lr);
            dl_err why;
            st = dl_learner_train_batch(l, &b, &why);
            if (st == DL_EDIVERGED)
                st = DL_OK; /* a NaN loss is a point of the curve; the step was skipped */
            if (st != DL_OK) {
                if (err)
                    *err = why;
                break;
            }
            stop = dl_lrfind_record(&r, lr, l->loss);
            if (l->control) {
                dl_curve_point p = {.kind = DL_POINT_LRFIND,
                                    .step = (uint64_t)i,
                                    .lr = lr,
                                    .loss = r.losses[r.n - 1],
                                    .raw = l->loss};
                dl_control_push_point(l->control, &p);
                l->batch = i;
                dl_learner_publish(l);
            }
            i++;
            if (stop || dl_control_signal_pending()) {
                stop = true;
                break;
            }
        }
    }
    /* Put everything back exactly, whatever happened (fastai reloads its saved file). */
    dl_state_copy_restore(&saved, l, true);
    dl_state_copy_free(&saved);
    dl_params_zero_grad(l->ps);
    l->smooth = smooth;
    l->smooth_value = smooth_value;
    l->loss = loss;
    l->step = step;
    l->phase = phase;
    *dl_model_dropout_rng(l->model) = drop;
    if (st != DL_OK)
        return dl_err_wrap(err, "lr_find");
    c->n = r.n;
    c->stop_reason = r.stop_reason ? r.stop_reason : "the training set ran out";
    dl_lrfind_suggest_all(c->lr, c->loss, c->n, r.cfg.num_it, c->sug);
    save_to_store(l, c);
    const dl_suggestion *v = &c->sug[DL_SUGGEST_VALLEY];
    if (v->ok)
        dl_learner_log_event(l, DL_EV_LRFIND_END, "%d points, valley %.3g", c->n, v->lr);
    else
        dl_learner_log_event(l, DL_EV_LRFIND_END, "%d points, no suggestion: %s", c->n, v->reason);
    return DL_OK;
}

dl_status dl_learner_lrfind_now(dl_learner *l, dl_err *err)
{
    dl_lrfind_curve *c = malloc(sizeof *c);
    if (!c)
        return dl_err_set(err, DL_ENOMEM, "out of memory for the LR-finder curve");
    int epoch = l->epoch, batch = l->batch;
    dl_status st = dl_learner_lr_find(l, NULL, c, err);
    free(c);
    if (st != DL_OK || !l->in_fit)
        return st;
    /* The sweep consumed the training source: restart this epoch and skip what was trained. */
    l->batch = batch;
    if ((st = l->train.start_epoch(l->train.ctx, epoch, err)) != DL_OK)
        return st;
    for (int i = 0; i < batch && st == DL_OK; i++) {
        dl_batch b;
        st = l->train.next(l->train.ctx, &b, err);
    }
    return st;
}
