/* learner: creation, events, one training batch, validation, freezing, the published snapshot
 * and the command boundary; the fit loop is in learner_fit.c, the LR finder in core/lrfind/sweep.c,
 * checkpoints in learner_state.c, the thread in learner_thread.c. See learner.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/learn/dist.h"
#include "core/learn/learner_internal.h"
#include "core/log.h"
#include "core/ops/ops.h"

static const char *const ev_names[] = {
    "before_fit",  "before_epoch",    "before_train",   "before_batch", "after_pred",
    "after_loss",  "before_backward", "after_backward", "after_step",   "after_batch",
    "after_train", "before_validate", "after_validate", "after_epoch",  "after_fit"};
_Static_assert(sizeof ev_names / sizeof *ev_names == DL_EV_COUNT, "event names"); /* tripwire */

const char *dl_event_kind_name(dl_event_kind k)
{
    return (unsigned)k < DL_EV_COUNT ? ev_names[k] : "unknown";
}

double dl_learner_now(void) { return dl_clock_now(); }

void dl_learner_cfg_init(dl_learner_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->opt = DL_OPTIM_ADAM;
    cfg->wd = NAN;
    cfg->lr = 1e-3;
    cfg->moms[0] = 0.95, cfg->moms[1] = 0.85, cfg->moms[2] = 0.95;
    cfg->thresh = 0.5f;
    cfg->plateau_patience = 1;
    cfg->checkpoint_each_epoch = true;
    cfg->snapshot_every = 50;
}

/* ---- batch sources over dl_loader ---- */
static int64_t loader_n(void *ctx) { return dl_loader_batches(ctx); }
static dl_status loader_start(void *ctx, int epoch, dl_err *err)
{
    return dl_loader_start_epoch(ctx, epoch, err);
}
static dl_status loader_next(void *ctx, dl_batch *b, dl_err *err)
{
    return dl_loader_next(ctx, b, err);
}

dl_batch_source dl_batch_source_loader(dl_loader *l)
{
    dl_batch_source s = {l, loader_n, loader_start, loader_next};
    return s;
}

dl_status dl_learner_create(dl_learner **out, const dl_learner_cfg *cfg, dl_model *model,
                            dl_batch_source train, dl_batch_source valid, dl_control *control,
                            dl_err *err)
{
    *out = NULL;
    if (!train.n_batches || !train.next || !train.start_epoch)
        return dl_err_set(err, DL_EINVAL, "learner needs a training batch source");
    dl_learner *l = calloc(1, sizeof *l);
    if (!l)
        return dl_err_set(err, DL_ENOMEM, "out of memory creating the learner");
    l->cfg = *cfg;
    snprintf(l->monitor, sizeof l->monitor, "%s", cfg->monitor ? cfg->monitor : "valid_loss");
    l->cfg.monitor = l->monitor;
    if (l->cfg.snapshot_every <= 0)
        l->cfg.snapshot_every = 50;
    if (l->cfg.plateau_patience <= 0)
        l->cfg.plateau_patience = 1;
    if (l->cfg.n_metrics < 0 || l->cfg.n_metrics > DL_SNAP_METRICS) {
        free(l);
        return dl_err_set(err, DL_EINVAL, "learner: %d metrics (at most %d)", cfg->n_metrics,
                          DL_SNAP_METRICS);
    }
    l->model = model;
    l->ps = dl_model_params(model);
    l->train = train;
    l->valid = valid;
    l->control = control;
    l->n_groups = dl_model_n_groups(model);
    l->n_out = dl_model_config(model)->n_out;
    dl_status st = dl_optim_init(&l->opt, cfg->opt, l->ps, err);
    if (st != DL_OK) {
        free(l);
        return st;
    }
    if (!isnan(cfg->wd))
        dl_optim_set_wd_all(&l->opt, cfg->wd);
    for (int g = 0; g < l->n_groups; g++)
        dl_optim_set_lr(&l->opt, g, l->cfg.lr);
    if ((st = dl_optim_check_hyper(&l->opt, err)) != DL_OK) {
        dl_optim_free(&l->opt);
        free(l);
        return st;
    }
    l->frozen_to = 0;
    for (int g = 0; g < l->n_groups; g++)
        if (l->ps->frozen[g])
            l->frozen_to = g + 1;
    dl_smooth_reset(&l->smooth);
    l->smooth_value = NAN;
    l->loss = NAN;
    l->row.valid_loss = NAN;
    l->row.train_loss = NAN;
    l->lower_better = dl_metric_lower_is_better(l->monitor);
    l->best = l->lower_better ? INFINITY : -INFINITY;
    l->best_epoch = -1;
    l->phase = DL_PHASE_IDLE;
    *out = l;
    return DL_OK;
}

void dl_learner_free(dl_learner *l)
{
    if (!l)
        return;
    if (l->running)
        dl_learner_join(l, NULL);
    dl_optim_free(&l->opt);
    dl_state_copy_free(&l->good);
    dl_state_copy_free(&l->best_copy);
    dl_preds_cache_free(&l->last_preds);
    dl_preds_cache_free(&l->best_preds);
    free(l->dlogits);
    free(l);
}

void dl_learner_attach_store(dl_learner *l, dl_store *st, int64_t run_id)
{
    l->store = st;
    l->run_id = run_id;
}

dl_status dl_learner_add_callback(dl_learner *l, dl_callback_fn fn, void *user, dl_err *err)
{
    if (l->n_cb == DL_MAX_CALLBACKS)
        return dl_err_set(err, DL_ENOSPC, "learner: more than %d callbacks", DL_MAX_CALLBACKS);
    l->cb[l->n_cb].fn = fn;
    l->cb[l->n_cb].user = user;
    l->n_cb++;
    return DL_OK;
}

dl_status dl_learner_fire(dl_learner *l, dl_event_kind ev, dl_err *err)
{
    for (int i = 0; i < l->n_cb; i++) {
        dl_status st = l->cb[i].fn(l, ev, l->cb[i].user, err);
        if (st == DL_ESTOPPED) {
            l->stop_now = true;
            continue;
        }
        if (st != DL_OK)
            return dl_err_wrap(err, "callback at %s", dl_event_kind_name(ev));
    }
    return DL_OK;
}

/* ---- accessors ---- */
const dl_epoch_result *dl_learner_epoch_row(const dl_learner *l) { return &l->row; }
dl_model *dl_learner_model(dl_learner *l) { return l->model; }
dl_optim *dl_learner_optim(dl_learner *l) { return &l->opt; }
const dl_learner_cfg *dl_learner_config(const dl_learner *l) { return &l->cfg; }
uint64_t dl_learner_step(const dl_learner *l) { return l->step; }
double dl_learner_loss(const dl_learner *l) { return l->loss; }
void dl_learner_set_loss(dl_learner *l, double loss) { l->loss = loss; }
void dl_learner_set_valid_loss(dl_learner *l, double v) { l->row.valid_loss = v; }
double dl_learner_smooth_loss(const dl_learner *l) { return l->smooth_value; }
int dl_learner_frozen_to(const dl_learner *l) { return l->frozen_to; }
bool dl_learner_frozen_fit(const dl_learner *l) { return l->frozen_fit; }
bool dl_learner_diverged(const dl_learner *l) { return l->diverged; }
const char *dl_learner_unsaved(const dl_learner *l) { return l->unsaved ? l->unsaved_why : NULL; }
double dl_learner_diverged_lr(const dl_learner *l) { return l->diverged_lr; }
bool dl_learner_stopped(const dl_learner *l) { return l->stopped; }
const char *dl_learner_message(const dl_learner *l) { return l->message; }

const char *dl_learner_metric_name(const dl_learner *l, int i)
{
    return i >= 0 && i < l->cfg.n_metrics ? dl_metric_name(l->cfg.metrics[i]) : "";
}

/* ---- events into the control and the store ---- */
/* One event with the step, lr per group and frozen state, to the control (the dashboard's event
 * log) and/or the store. */
void dl_learner_emit_event(dl_learner *l, bool to_control, bool to_store, const char *kind,
                           const char *text)
{
    dl_event e;
    memset(&e, 0, sizeof e);
    e.step = l->step;
    e.n_groups = l->n_groups;
    for (int g = 0; g < l->n_groups; g++)
        e.lr[g] = l->opt.h[g].lr;
    e.frozen_to = l->frozen_to;
    const dl_cmd *cmd = l->cmd;
    if (cmd && cmd->origin[0]) /* a command from another process says whose it was */
        snprintf(e.text, sizeof e.text, "%s%s%.70s (%.40s)", kind, text[0] ? " " : "", text,
                 cmd->origin);
    else
        snprintf(e.text, sizeof e.text, "%s%s%.100s", kind, text[0] ? " " : "", text);
    if (to_control && l->control)
        dl_control_push_event(l->control, &e);
    if (to_store && l->store) {
        char payload[512], esc[220];
        size_t j = 0;
        for (const char *c = text; *c && j + 7 < sizeof esc; c++) { /* JSON string escapes */
            unsigned char ch = (unsigned char)*c;
            if (ch == '"' || ch == '\\')
                esc[j++] = '\\', esc[j++] = (char)ch;
            else if (ch < 0x20)
                j += (size_t)snprintf(esc + j, sizeof esc - j, "\\u%04x", ch);
            else
                esc[j++] = (char)ch;
        }
        esc[j] = 0;
        int k = snprintf(payload, sizeof payload, "{\"text\":\"%s\",\"frozen_to\":%d,\"lr\":[", esc,
                         l->frozen_to);
        for (int g = 0; g < l->n_groups && k < (int)sizeof payload - 40; g++)
            k += snprintf(payload + k, sizeof payload - (size_t)k, "%s%.9g", g ? "," : "", e.lr[g]);
        k += snprintf(payload + k, sizeof payload - (size_t)k, "]");
        if (cmd && k < (int)sizeof payload - 60) /* origin: only printable ASCII gets this far */
            k += snprintf(payload + k, sizeof payload - (size_t)k, ",\"origin\":\"%s\"",
                          cmd->origin[0] ? cmd->origin : "key");
        snprintf(payload + k, sizeof payload - (size_t)k, "}");
        dl_err err;
        dl_status s;
        if (cmd && cmd->remote_id && !l->cmd_acked) {
            /* the event and the command's acknowledgement commit together */
            s = dl_store_log_event_steer(l->store, l->run_id, kind, (int64_t)l->step, payload,
                                         cmd->remote_id,
                                         l->cmd_refused ? DL_STEER_REFUSED : DL_STEER_APPLIED,
                                         l->cmd_refused ? l->cmd_reason : "", &err);
            l->cmd_acked = s == DL_OK;
        } else {
            s = dl_store_log_event(l->store, l->run_id, kind, (int64_t)l->step, 0, payload, &err);
        }
        if (s != DL_OK)
            dl_log(DL_LOG_WARN, "recording event '%s': %s", kind, err.msg);
    }
    dl_log(DL_LOG_DEBUG, "event at step %llu: %s", (unsigned long long)l->step, e.text);
}

void dl_learner_log_event(dl_learner *l, const char *kind, const char *fmt, ...)
{
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    dl_learner_emit_event(l, true, true, kind, text);
}

void dl_learner_warn(dl_learner *l, const char *text)
{
    dl_learner_emit_event(l, true, true, DL_EV_WARNING, text);
    dl_log(DL_LOG_WARN, "%s", text);
}

void dl_learner_note_skipped(dl_learner *l, const dl_dataset *ds)
{
    size_t n = ds ? dl_data_n_skipped(ds) : 0;
    if (n == 0)
        return;
    char text[200];
    int k = snprintf(text, sizeof text, "skipped %zu input file%s:", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && i < 3 && k < (int)sizeof text; i++) {
        const char *why, *path = dl_data_skipped(ds, i, &why);
        const char *base = strrchr(path, '/');
        k += snprintf(text + k, sizeof text - (size_t)k, "%s %s", i ? "," : "",
                      base ? base + 1 : path);
    }
    if (n > 3 && k < (int)sizeof text)
        snprintf(text + k, sizeof text - (size_t)k, ", ...");
    dl_learner_emit_event(l, true, false, DL_EV_WARNING, text);
}

/* Throughput and time left of the fit in progress. Paused seconds are taken out of the clock;
 * validation is timed apart: the ETA is the training batches left at the training rate plus the
 * validation passes left (this one's rest included) at the measured pass time, or, before any
 * pass finished, at the rate of the pass in progress, or a third of a training batch per
 * validation batch (a forward pass without the backward) when none has started. */
static void dl_learner_timing(const dl_learner *l, dl_snapshot *s)
{
    double now = dl_learner_now();
    double paused = l->t_paused + (l->t_pause0 > 0 ? now - l->t_pause0 : 0);
    double in_valid = l->t_valid0 > 0 ? now - l->t_valid0 : 0;
    double train_s = now - l->t_fit0 - paused - l->t_valid_sum - in_valid;
    s->images_per_s = train_s > 0 ? (double)l->images_fit / train_s : 0;
    s->valid_batch = l->valid_batch;
    s->valid_batches = l->valid_batches;
    long done = (long)(l->epoch - l->fit_start_epoch) * l->n_iter + l->batch;
    if (l->phase == DL_PHASE_VALID)
        done = (long)(l->epoch + 1 - l->fit_start_epoch) * l->n_iter;
    long total = (long)(l->n_epochs - l->fit_start_epoch) * l->n_iter;
    if (!l->in_fit || done <= 0 || train_s <= 0 ||
        (l->phase != DL_PHASE_TRAIN && l->phase != DL_PHASE_VALID)) {
        s->eta_s = NAN;
        return;
    }
    double per_batch = train_s / (double)done;
    int64_t nvb = l->valid.n_batches ? l->valid.n_batches(l->valid.ctx) : 0;
    double pass = l->valid_passes > 0 ? l->t_valid_sum / l->valid_passes
                  : l->valid_batch > 0 && l->valid_batches > 0
                      ? in_valid / l->valid_batch * l->valid_batches
                      : per_batch / 3 * (double)(nvb > 0 ? nvb : 0);
    /* this epoch's pass included, unless it has ended (phase valid until the next epoch) */
    int passes_left = l->n_epochs - l->epoch - (l->phase == DL_PHASE_VALID && l->t_valid0 == 0);
    double eta = per_batch * (double)(total - done) + pass * passes_left - in_valid;
    s->eta_s = eta > 0 ? eta : 0;
}

void dl_learner_publish(dl_learner *l)
{
    if (!l->control)
        return;
    dl_snapshot s;
    memset(&s, 0, sizeof s);
    s.phase = l->paused && l->phase == DL_PHASE_TRAIN ? DL_PHASE_PAUSED : l->phase;
    s.epoch = l->epoch;
    s.n_epochs = l->n_epochs;
    s.batch = l->batch;
    s.n_batches = l->n_iter;
    s.step = l->step;
    s.n_groups = l->n_groups;
    for (int g = 0; g < l->n_groups; g++)
        s.lr[g] = l->opt.h[g].lr;
    s.mom = l->opt.h[l->n_groups - 1].mom;
    s.frozen_to = l->frozen_to;
    s.frozen_fit = l->frozen_fit;
    s.last_loss = l->loss;
    s.smooth_loss = l->smooth_value;
    s.valid_loss = l->row.valid_loss;
    s.n_metrics = l->cfg.n_metrics;
    for (int i = 0; i < l->cfg.n_metrics; i++) {
        snprintf(s.metric_name[i], DL_SNAP_NAME, "%s", dl_learner_metric_name(l, i));
        s.metric[i] = l->row.metrics[i];
    }
    dl_learner_timing(l, &s);
    snprintf(s.message, sizeof s.message, "%s", l->message);
    dl_control_publish(l->control, &s);
}

/* ---- freezing ---- */
void dl_learner_freeze_to(dl_learner *l, int n)
{
    int idx = n < 0 ? l->n_groups + n : n;
    if (idx < 0)
        idx = 0;
    if (idx >= l->n_groups && l->n_groups > 0)
        dl_log(DL_LOG_WARN, "freezing %d groups; the model has %d: the whole model is frozen", idx,
               l->n_groups);
    dl_params_freeze_to(l->ps, idx);
    l->freeze_gen++;
    l->frozen_to = idx > l->n_groups ? l->n_groups : idx;
    dl_optim_clear(&l->opt); /* fastai wipes the optimiser state on every freeze/unfreeze */
    /* the last good state must not resurrect old optimiser moments */
    l->good.valid = false;
    dl_learner_log_event(l, idx == 0 ? DL_EV_UNFREEZE : DL_EV_FREEZE, "%d", l->frozen_to);
}

void dl_learner_freeze(dl_learner *l) { dl_learner_freeze_to(l, -1); }
void dl_learner_unfreeze(dl_learner *l) { dl_learner_freeze_to(l, 0); }

/* ---- one batch ---- */
static dl_status check_batch(dl_learner *l, const dl_batch *b, dl_err *err)
{
    if (b->n_classes != l->n_out)
        return dl_err_set(err, DL_ESHAPE, "batch has %d classes but the model outputs %d",
                          b->n_classes, l->n_out);
    if (!b->onehot) {
        if (!b->targets)
            return dl_err_set(err, DL_EINVAL,
                              "batch has neither class targets nor one-hot targets");
        for (int i = 0; i < b->n; i++)
            if (b->targets[i] < 0 || b->targets[i] >= l->n_out)
                return dl_err_set(err, DL_EINVAL, "batch item %d: class %d outside [0, %d)", i,
                                  (int)b->targets[i], l->n_out);
    }
    size_t need = (size_t)b->n * (size_t)l->n_out;
    if (need > l->dlogits_cap) {
        float *p = realloc(l->dlogits, need * sizeof *p);
        if (!p)
            return dl_err_set(err, DL_ENOMEM, "out of memory for the loss gradient");
        l->dlogits = p;
        l->dlogits_cap = need;
    }
    return DL_OK;
}

static double batch_loss(dl_learner *l, const dl_batch *b, const float *logits, float *dlogits)
{
    return b->onehot ? dl_bce_with_logits(dlogits, logits, b->onehot, b->n, l->n_out)
                     : dl_cross_entropy(dlogits, logits, b->targets, b->n, l->n_out);
}

dl_status dl_learner_train_batch(dl_learner *l, const dl_batch *b, dl_err *err)
{
    dl_status st = check_batch(l, b, err);
    const float *logits;
    l->weights_id = ++l->next_weights_id; /* even a diverged batch moved the BN running stats */
    if (st == DL_OK && l->rep)
        return dl_learner_train_batch_dp(l, b, err);
    if (st == DL_OK)
        st = dl_model_forward(l->model, b->images, b->n, b->h, b->w, true, &logits, err);
    if (st == DL_OK)
        st = dl_learner_fire(l, DL_EV_AFTER_PRED, err);
    if (st != DL_OK)
        return st;
    l->loss = batch_loss(l, b, logits, l->dlogits);
    if ((st = dl_learner_fire(l, DL_EV_AFTER_LOSS, err)) != DL_OK)
        return st;
    if (!isfinite(l->loss))
        return dl_err_set(err, DL_EDIVERGED, "loss is %g at step %llu (lr %g)", l->loss,
                          (unsigned long long)l->step, l->opt.h[l->n_groups - 1].lr);
    if ((st = dl_learner_fire(l, DL_EV_BEFORE_BACKWARD, err)) != DL_OK)
        return st;
    dl_params_zero_grad(l->ps);
    if ((st = dl_model_backward(l->model, l->dlogits, err)) != DL_OK)
        return st;
    if ((st = dl_learner_fire(l, DL_EV_AFTER_BACKWARD, err)) != DL_OK)
        return st;
    dl_optim_step(&l->opt);
    return dl_learner_fire(l, DL_EV_AFTER_STEP, err);
}

/* ---- validation ---- */
dl_status dl_learner_validate(dl_learner *l, double *valid_loss, double *metrics, dl_err *err)
{
    /* The outputs (the epoch row, which snapshots publish) keep their last values until the pass
     * ends: the pass publishes its progress, and a half-done pass must not blank the dashboard's
     * last epoch row. */
    l->valid_items = 0;
    if (!l->valid.next) {
        *valid_loss = NAN;
        for (int i = 0; i < l->cfg.n_metrics; i++)
            metrics[i] = NAN;
        return DL_OK;
    }
    dl_status st = l->valid.start_epoch(l->valid.ctx, 0, err);
    dl_wavg loss, m[DL_SNAP_METRICS];
    dl_wavg_reset(&loss);
    for (int i = 0; i < DL_SNAP_METRICS; i++)
        dl_wavg_reset(&m[i]);
    dl_batch b;
    dl_preds_cache_reset(&l->last_preds, l->n_out);
    /* Progress of the pass, published per batch while a fit runs (10 000 images take minutes on
     * a CPU: the dashboard shows the pass and its ETA instead of a frozen bar). */
    bool timed = l->in_fit;
    if (timed) {
        l->t_valid0 = dl_learner_now();
        l->valid_batch = 0;
        int64_t nvb = l->valid.n_batches ? l->valid.n_batches(l->valid.ctx) : 0;
        l->valid_batches = nvb > 0 ? (int)nvb : 0;
    }
    while (st == DL_OK && (st = l->valid.next(l->valid.ctx, &b, err)) == DL_OK && b.n > 0) {
        const float *logits;
        if ((st = check_batch(l, &b, err)) != DL_OK)
            break;
        if ((st = dl_model_forward(l->model, b.images, b.n, b.h, b.w, false, &logits, err)) !=
            DL_OK)
            break;
        dl_preds_cache_add(&l->last_preds, &b, logits);
        if (timed) {
            l->valid_batch++;
            dl_learner_publish(l);
        }
        dl_wavg_add(&loss, batch_loss(l, &b, logits, NULL), b.n);
        for (int i = 0; i < l->cfg.n_metrics; i++)
            dl_wavg_add(&m[i],
                        dl_metric_eval(l->cfg.metrics[i], logits, b.targets, b.onehot, b.n,
                                       l->n_out, l->cfg.thresh),
                        b.n);
    }
    if (timed) {
        l->t_valid_sum += dl_learner_now() - l->t_valid0;
        l->valid_passes++;
        l->t_valid0 = 0;
    }
    if (st != DL_OK) {
        *valid_loss = NAN;
        for (int i = 0; i < l->cfg.n_metrics; i++)
            metrics[i] = NAN;
        return dl_err_wrap(err, "validation");
    }
    l->last_preds.valid = !l->last_preds.failed;
    l->last_preds.weights_id = l->weights_id;
    l->last_preds.epoch = l->epochs_done; /* in a fit: the epoch being validated */
    *valid_loss = dl_wavg_value(&loss);
    l->valid_items = loss.count;
    for (int i = 0; i < l->cfg.n_metrics; i++)
        metrics[i] = dl_wavg_value(&m[i]);
    return DL_OK;
}

dl_status dl_learner_get_preds(dl_learner *l, float **logits_out, int32_t **targets_i,
                               float **targets_f, int *n_out, int *k_out, dl_err *err)
{
    *logits_out = NULL;
    *targets_i = NULL;
    *targets_f = NULL;
    *n_out = 0;
    *k_out = l->n_out;
    if (!l->valid.next)
        return dl_err_set(err, DL_EINVAL, "no validation set to predict on");
    /* After a fit the model holds the weights of its last (or, load_best, its best) validation:
     * those predictions are the answer, no second pass over the validation set. */
    const dl_preds_cache *c = &l->last_preds;
    if (!(c->valid && c->weights_id == l->weights_id) && l->best_preds.valid &&
        l->best_preds.weights_id == l->weights_id)
        c = &l->best_preds;
    if (!(c->valid && c->weights_id == l->weights_id)) {
        double loss, metrics[DL_SNAP_METRICS];
        dl_status st = dl_learner_validate(l, &loss, metrics, err);
        if (st != DL_OK)
            return st;
        c = &l->last_preds;
        if (!c->valid)
            return dl_err_set(err, DL_ENOMEM, "out of memory collecting predictions");
    }
    return dl_preds_cache_export(c, logits_out, targets_i, targets_f, n_out, err);
}

dl_status dl_learner_fit_preds(dl_learner *l, float **logits, int32_t **targets_i,
                               float **targets_f, int *n, int *k, int *epoch, bool *best,
                               dl_err *err)
{
    *k = l->n_out;
    const dl_preds_cache *c = l->best_preds.valid ? &l->best_preds : &l->last_preds;
    if (!c->valid)
        return dl_err_set(err, DL_ENOTFOUND, "no validation pass was completed");
    *epoch = c->epoch;
    *best = c == &l->best_preds;
    return dl_preds_cache_export(c, logits, targets_i, targets_f, n, err);
}

void dl_learner_note(dl_learner *l, const char *kind, const char *text)
{
    dl_learner_emit_event(l, true, true, kind, text);
}

/* ---- commands at the batch boundary ---- */
static void set_group_lrs(dl_learner *l, const double *lr)
{
    for (int g = 0; g < l->n_groups; g++)
        dl_optim_set_lr(&l->opt, g, lr[g]);
}

/* A command that cannot be applied: its acknowledgement carries the reason. */
static void refuse(dl_learner *l, const char *what, const char *why)
{
    l->cmd_refused = true;
    snprintf(l->cmd_reason, sizeof l->cmd_reason, "%.150s", why);
    dl_learner_log_event(l, DL_EV_WARNING, "%s refused: %s", what, why);
}

static dl_status apply(dl_learner *l, const dl_cmd *c, dl_err *err)
{
    double lr[DL_MAX_GROUPS];
    dl_err e2;
    switch (c->kind) {
    case DL_CMD_SET_LR: {
        if (dl_lr_spread(&c->lr, l->n_groups, lr, &e2) != DL_OK) {
            refuse(l, "set_lr", e2.msg);
            return DL_OK;
        }
        if (l->in_fit && dl_fit_sched_set_lr(&l->sched, l->pos, lr, &e2) != DL_OK) {
            refuse(l, "set_lr", e2.msg);
            return DL_OK;
        }
        set_group_lrs(l, lr);
        char text[64];
        dl_lr_format(&c->lr, text, sizeof text); /* as typed: "3e-3", "..3e-3", "1e-5..1e-3" */
        dl_learner_log_event(l, DL_EV_LR_CHANGE, "set %s", text);
        return DL_OK;
    }
    case DL_CMD_SCALE_LR:
        if (!(c->factor > 0 && isfinite(c->factor))) {
            char why[64];
            snprintf(why, sizeof why, "factor %g", c->factor);
            refuse(l, "scale_lr", why);
            return DL_OK;
        }
        if (l->in_fit && dl_fit_sched_scale_lr(&l->sched, c->factor, &e2) != DL_OK) {
            refuse(l, "scale_lr", e2.msg);
            return DL_OK;
        }
        for (int g = 0; g < l->n_groups; g++)
            lr[g] = l->opt.h[g].lr * c->factor;
        set_group_lrs(l, lr);
        dl_learner_log_event(l, DL_EV_LR_CHANGE, "scale %g", c->factor);
        return DL_OK;
    case DL_CMD_FREEZE:
        dl_learner_freeze_to(l, c->arg == 0 ? -1 : c->arg);
        return DL_OK;
    case DL_CMD_UNFREEZE:
        dl_learner_unfreeze(l);
        return DL_OK;
    case DL_CMD_PAUSE:
        if (!l->paused) {
            l->paused = true;
            if (l->store)
                dl_store_flush(l->store, NULL);
            dl_learner_log_event(l, DL_EV_PAUSE, "%s", "");
        }
        return DL_OK;
    case DL_CMD_RESUME:
        if (l->paused) {
            l->paused = false;
            dl_learner_log_event(l, DL_EV_RESUME, "%s", "");
        }
        return DL_OK;
    case DL_CMD_STOP_NOW:
        l->stop_now = true;
        dl_learner_log_event(l, DL_EV_STOP, "%s", "now");
        return DL_OK;
    case DL_CMD_STOP_AFTER_EPOCH:
        l->stop_after_epoch = true;
        dl_learner_log_event(l, DL_EV_STOP, "%s", "after epoch");
        return DL_OK;
    case DL_CMD_SAVE: {
        char name[64];
        snprintf(name, sizeof name, "step-%llu", (unsigned long long)l->step);
        l->ckpt_epoch = l->epoch;
        l->ckpt_batch = l->batch;
        /* The store gets the command (step, lrs, frozen state); the event log shows the
         * checkpoint line dl_learner_save_checkpoint pushes, written or failed. */
        if (dl_learner_save_checkpoint(l, name, false, &e2) != DL_OK)
            dl_learner_emit_event(l, false, true, "save", "failed");
        else
            dl_learner_emit_event(l, false, true, "save", name);
        return DL_OK;
    }
    case DL_CMD_LRFIND:
        if (dl_dist_size() > 1) { /* its batches would be rank 0's alone */
            dl_learner_log_event(l, DL_EV_WARNING, "%s",
                                 "the LR finder is not available in an mpirun job");
            return DL_OK;
        }
        return dl_learner_lrfind_now(l, err);
    default:
        return DL_OK;
    }
}

/* The boundary as this process sees it; across ranks, rank 0's result wins (learner_dist.c). */
static dl_status boundary_local(dl_learner *l, dl_err *err)
{
    for (;;) {
        dl_cmd cmds[DL_CONTROL_QUEUE];
        size_t n = l->control ? dl_control_take(l->control, cmds, DL_CONTROL_QUEUE) : 0;
        for (size_t i = 0; i < n; i++) {
            l->cmd = &cmds[i];
            l->cmd_acked = l->cmd_refused = false;
            l->cmd_reason[0] = 0;
            dl_status st = apply(l, &cmds[i], err);
            if (!l->cmd_acked && cmds[i].remote_id && l->store) {
                /* applied without an event of its own (pause while paused, ...) */
                dl_err e2;
                if (dl_store_steer_finish(l->store, cmds[i].remote_id,
                                          l->cmd_refused ? DL_STEER_REFUSED : DL_STEER_APPLIED,
                                          l->cmd_reason, (int64_t)l->step, NULL, &e2) != DL_OK)
                    dl_log(DL_LOG_WARN, "acknowledging a steering command: %s", e2.msg);
            }
            l->cmd = NULL;
            if (st != DL_OK)
                return st;
        }
        if (dl_control_signal_pending() && !l->stop_now) {
            l->stop_now = true;
            dl_learner_log_event(l, DL_EV_STOP, "%s", "signal");
        }
        if (!l->control)
            l->paused = false; /* nobody could resume us */
        if (!l->paused || l->stop_now) {
            if (l->t_pause0 > 0) { /* the pause is over: its seconds leave the fit's clock */
                l->t_paused += dl_learner_now() - l->t_pause0;
                l->t_pause0 = 0;
            }
            return DL_OK;
        }
        if (l->t_pause0 == 0)
            l->t_pause0 = dl_learner_now();
        dl_learner_publish(l);
        dl_control_wait(l->control, 250);
    }
}

dl_status dl_learner_boundary(dl_learner *l, dl_err *err)
{
    dl_status st = boundary_local(l, err);
    dl_learner_dist_boundary(l, &st);
    return dl_dist_rank() == 0 ? st : DL_OK;
}
