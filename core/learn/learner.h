/* learner: fastai's Learner in C. A learner = model + training and validation batch sources +
 * loss (cross-entropy, or BCE-with-logits for multi-label) + optimiser + metrics + callbacks, with
 * fastai's events. It runs fit (constant lr), fit_flat_cos, fit_one_cycle and fine_tune with the
 * schedules of core/sched, freezes and unfreezes parameter groups (clearing the optimiser state),
 * spreads a learning rate over groups (slice(hi) or lo..hi), runs the LR finder (restoring weights,
 * BatchNorm buffers and optimiser state bit-exactly), validates each epoch in eval mode, tracks a
 * monitored value (best checkpoint, early stopping, reduce-lr-on-plateau, load-best), writes
 * checkpoints to the run store, and handles divergence (NaN/inf loss: skip the step, restore the
 * last good state, record the lr, mark the run diverged).
 *
 * Threads: a learner is driven by exactly one thread (the training thread). Everybody else talks
 * to it through its dl_control (core/learn/control.h): commands in, snapshots out. The commands
 * are drained at every batch boundary (before each training batch) and applied in order.
 *
 * Changing the lr during a scheduled fit (set_lr / scale_lr, reduce-lr-on-plateau) follows
 * core/sched's rule: the lr jumps to the requested value now and the remainder of the schedule
 * keeps its shape, rescaled by new/current per group (momentum untouched).
 *
 * Refuses: batches whose class count differs from the model's output, lr values that are not
 * finite and positive, an lr range with lo > hi, a monitor name that is not a column. */
#ifndef DL_LEARNER_H
#define DL_LEARNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/data/data.h"
#include "core/err.h"
#include "core/learn/control.h"
#include "core/learn/metrics.h"
#include "core/lrfind/lrfind.h"
#include "core/models/model.h"
#include "core/train/optim.h"
#include "core/train/sched.h"
#include "core/store/store.h"

/* Where batches come from. The loader adapter below is what dllab uses; tests may feed synthetic
 * batches. start_epoch(e) must make the epoch's order a function of e only (resume relies on it).
 */
typedef struct dl_batch_source {
    void *ctx;
    int64_t (*n_batches)(void *ctx);
    dl_status (*start_epoch)(void *ctx, int epoch, dl_err *err);
    /* Next batch; b->n == 0 ends the epoch. */
    dl_status (*next)(void *ctx, dl_batch *b, dl_err *err);
} dl_batch_source;

dl_batch_source dl_batch_source_loader(dl_loader *l);

/* fastai's callback events, in the order they fire. */
typedef enum dl_event_kind {
    DL_EV_BEFORE_FIT = 0,
    DL_EV_BEFORE_EPOCH,
    DL_EV_BEFORE_TRAIN,
    DL_EV_BEFORE_BATCH,
    DL_EV_AFTER_PRED,
    DL_EV_AFTER_LOSS, /* a callback may replace the loss (dl_learner_set_loss), e.g. to test NaN */
    DL_EV_BEFORE_BACKWARD,
    DL_EV_AFTER_BACKWARD,
    DL_EV_AFTER_STEP,
    DL_EV_AFTER_BATCH,
    DL_EV_AFTER_TRAIN,
    DL_EV_BEFORE_VALIDATE,
    DL_EV_AFTER_VALIDATE,
    DL_EV_AFTER_EPOCH, /* dl_learner_epoch_row() holds the row just finished */
    DL_EV_AFTER_FIT,
    DL_EV_COUNT
} dl_event_kind;

const char *dl_event_kind_name(dl_event_kind k);

typedef struct dl_learner dl_learner;
/* Returning DL_ESTOPPED stops the fit at the next boundary (after-fit still runs); any other
 * error aborts it and is returned by the fit. */
typedef dl_status (*dl_callback_fn)(dl_learner *l, dl_event_kind ev, void *user, dl_err *err);

typedef struct dl_learner_cfg {
    dl_optim_kind opt; /* default Adam */
    double wd;         /* NAN: the optimiser's default (Adam 0.01, SGD 0) */
    double lr;         /* default lr for fits given lr <= 0: 1e-3 */
    double moms[3];    /* one-cycle momentum 0.95, 0.85, 0.95 */
    int n_metrics;
    dl_metric_kind metrics[DL_SNAP_METRICS];
    float thresh; /* accuracy_multi threshold, default 0.5 */
    /* tracking (docs/fastai.md §8); monitor NULL = "valid_loss" */
    const char *monitor;
    double min_delta;
    int patience;          /* early stopping after this many epochs without improvement; 0 = off */
    double plateau_factor; /* reduce-lr-on-plateau: divide lrs by this; 0 = off */
    int plateau_patience;  /* default 1 */
    bool load_best;        /* at the end of each fit, load the best checkpointed weights */
    bool checkpoint_each_epoch; /* default true when a store is attached */
    int snapshot_every;    /* batches between "last good state" copies (divergence); default 50 */
    bool pause_on_diverge; /* a UI is attached: pause instead of ending the fit */
} dl_learner_cfg;

void dl_learner_cfg_init(dl_learner_cfg *cfg);

/* The learner borrows model, sources, control and store: they must outlive it. valid may have
 * n_batches == NULL (no validation). control and store may be NULL. */
dl_status dl_learner_create(dl_learner **out, const dl_learner_cfg *cfg, dl_model *model,
                            dl_batch_source train, dl_batch_source valid, dl_control *control,
                            dl_err *err);
void dl_learner_free(dl_learner *l);

/* Attaches the run store (checkpoints, batch/epoch rows, events, LR-finder curves). */
void dl_learner_attach_store(dl_learner *l, dl_store *st, int64_t run_id);
dl_status dl_learner_add_callback(dl_learner *l, dl_callback_fn fn, void *user, dl_err *err);

/* ---- fitting ---- */
typedef enum dl_fit_kind { DL_FIT_CONST = 0, DL_FIT_FLAT_COS, DL_FIT_ONE_CYCLE } dl_fit_kind;

typedef struct dl_fit_opts {
    dl_fit_kind kind;
    int epochs;
    dl_lr_spec lr;         /* lr.hi <= 0: the learner's lr for every group (fastai's float) */
    double pct_start;      /* <= 0: the schedule's default (one-cycle 0.25, flat-cos 0.75) */
    double div, div_final; /* <= 0: 25 and 1e5 */
    int start_epoch;       /* resume: skip epochs before this one (schedule position kept) */
} dl_fit_opts;

/* Defaults with lr for every group, as fastai's float (lr <= 0: the learner's). */
void dl_fit_opts_init(dl_fit_opts *o, dl_fit_kind kind, int epochs, double lr);
dl_status dl_learner_fit(dl_learner *l, const dl_fit_opts *o, dl_err *err);
/* fastai's fine_tune: freeze, one-cycle(freeze_epochs, slice(base_lr), pct 0.99), base_lr/2,
 * unfreeze, one-cycle(epochs, slice(base_lr/100, base_lr), pct 0.3, div 5). freeze_epochs 0 skips
 * the frozen phase. After dl_learner_state_from_map it resumes instead: the checkpoint's phase
 * continues from the batch it names (its schedule, frozen and optimiser state as saved), then the
 * later phases run as planned; a checkpoint that is no point of this plan is refused (DL_EINVAL).
 */
dl_status dl_learner_fine_tune(dl_learner *l, int epochs, double base_lr, int freeze_epochs,
                               dl_err *err);

/* ---- freezing ---- */
void dl_learner_freeze_to(dl_learner *l, int n); /* clears the optimiser state, logs an event */
void dl_learner_freeze(dl_learner *l);
void dl_learner_unfreeze(dl_learner *l);

/* ---- LR finder ---- */
#define DL_LRFIND_MAX 1000
typedef struct dl_lrfind_curve {
    dl_lrfind_cfg cfg;
    int n;                                         /* points recorded */
    double lr[DL_LRFIND_MAX], loss[DL_LRFIND_MAX]; /* smoothed losses, as recorded (NaN kept) */
    const char *stop_reason;
    dl_suggestion sug[DL_SUGGEST_COUNT];
} dl_lrfind_curve;
/* fastai's lr_find with cfg (NULL: defaults; num_it <= DL_LRFIND_MAX): an exponential sweep on
 * training batches, stopping as core/lrfind says; then the four suggestions. Weights, BN buffers,
 * optimiser state and hyper-parameters, and the learner's smoother are restored bit-exactly.
 * Saved to the store when one is attached. */
dl_status dl_learner_lr_find(dl_learner *l, const dl_lrfind_cfg *cfg, dl_lrfind_curve *curve,
                             dl_err *err);

/* ---- validation and predictions ---- */
/* Runs the validation source in eval mode: weighted mean loss and metrics (out has n_metrics). */
dl_status dl_learner_validate(dl_learner *l, double *valid_loss, double *metrics, dl_err *err);
/* Collects logits (n_valid, k) and targets of the whole validation source (malloc'd; free()).
 * Single-label: *targets_i; multi-label: *targets_f. Reuses the last validation pass (or, after a
 * load_best fit, the best epoch's) when the learner has not changed the weights since; weights
 * changed behind the learner's back (dl_model_load_* after a validation) are not noticed. */
dl_status dl_learner_get_preds(dl_learner *l, float **logits, int32_t **targets_i,
                               float **targets_f, int *n, int *k, dl_err *err);

/* The predictions of the fit's best epoch (by the monitor; the pass its checkpoint flagged best
 * was made from), else of its last validation pass: what the interpretation after a fit shows,
 * with no pass of its own. *epoch: that epoch (the run's numbering); *best: it was the best.
 * DL_ENOTFOUND when the fit completed no validation. */
dl_status dl_learner_fit_preds(dl_learner *l, float **logits, int32_t **targets_i,
                               float **targets_f, int *n, int *k, int *epoch, bool *best,
                               dl_err *err);
/* Records a line in the event log (the dashboard's and the run store's). */
void dl_learner_note(dl_learner *l, const char *kind, const char *text);

/* ---- state ---- */
typedef struct dl_epoch_result {
    int epoch;
    double train_loss, valid_loss, duration;
    int n_metrics;
    double metrics[DL_SNAP_METRICS];
} dl_epoch_result;

const dl_epoch_result *dl_learner_epoch_row(const dl_learner *l);
dl_model *dl_learner_model(dl_learner *l);
dl_optim *dl_learner_optim(dl_learner *l);
const dl_learner_cfg *dl_learner_config(const dl_learner *l);
uint64_t dl_learner_step(const dl_learner *l); /* training batches since creation */
double dl_learner_loss(const dl_learner *l);   /* loss of the current batch */
void dl_learner_set_loss(dl_learner *l, double loss);
/* An after_validate callback may replace the epoch's validation loss before the trackers see it. */
void dl_learner_set_valid_loss(dl_learner *l, double valid_loss);
double dl_learner_smooth_loss(const dl_learner *l);
int dl_learner_frozen_to(const dl_learner *l);
/* The fit running (or last run) is fine_tune's frozen phase: its epochs print as "frozen N". */
bool dl_learner_frozen_fit(const dl_learner *l);
bool dl_learner_diverged(const dl_learner *l);
/* Why the run's saved state lags behind the training (the last checkpoint or an epoch row could
 * not be written, e.g. on a full disk), or NULL when everything trained so far is saved. */
const char *dl_learner_unsaved(const dl_learner *l);
double dl_learner_diverged_lr(const dl_learner *l);
bool dl_learner_stopped(const dl_learner *l); /* a stop command or signal ended the last fit */
/* The last notable message (fastai's tracker lines: "Better model found at epoch ...",
 * "No improvement since epoch ...: early stopping", divergence). "" when none. */
const char *dl_learner_message(const dl_learner *l);
/* Metric column names as the epoch table prints them. */
const char *dl_learner_metric_name(const dl_learner *l, int i);

/* The data pipeline's skipped input files as one warning event on the control (count and the
 * first three names), for the dashboard's event log; the run store lists them all
 * (dl_store_skipped_add). Nothing when ds skipped nothing. */
void dl_learner_note_skipped(dl_learner *l, const dl_dataset *ds);
/* A warning about the run's setup (e.g. an adapted pretrained stem): one "warning" event on the
 * control and in the store, and a warning line in the log. */
void dl_learner_warn(dl_learner *l, const char *text);

/* ---- checkpoints ---- */
/* The full training state as a tensor map: model state dict, optimiser state ("opt.*") and the
 * learner's own ("learner.*": step, epoch, fit position, peak lrs, smoothing, tracker), added to
 * `out`, which the caller has initialised (dl_tensor_map_init) and frees. */
dl_status dl_learner_state_to_map(const dl_learner *l, dl_tensor_map *out, dl_err *err);
dl_status dl_learner_state_from_map(dl_learner *l, const dl_tensor_map *m, dl_err *err);
/* The model's part of a checkpoint map (everything but "opt.*" and "learner.*"), as a copy
 * (init'ed by this call) that dl_model_load_state_dict / dl_model_load_body accept. */
dl_status dl_checkpoint_model_map(const dl_tensor_map *ckpt, dl_tensor_map *out, dl_err *err);
/* Writes a checkpoint into the attached store as "epoch-<e>" (or file if non-NULL), e counting
 * the epochs of every fit since the learner was created (the store's epoch numbers; the epoch
 * table restarts at 0 for each fit, as fastai's). The control's event log gets "checkpoint FILE"
 * or "checkpoint-failed FILE: why" (the store records its own checkpoint events). */
dl_status dl_learner_save_checkpoint(dl_learner *l, const char *file, bool best, dl_err *err);
/* Epoch after the one stored in a checkpoint loaded by dl_learner_state_from_map (resume point). */
int dl_learner_resume_epoch(const dl_learner *l);
/* Epochs completed over the whole run (the store's epoch numbers of the next epoch row). */
int dl_learner_epochs_done(const dl_learner *l);

/* ---- background thread ---- */
typedef enum dl_job_kind { DL_JOB_FIT = 0, DL_JOB_FINE_TUNE, DL_JOB_LRFIND } dl_job_kind;
typedef struct dl_job {
    dl_job_kind kind;
    dl_fit_opts fit; /* DL_JOB_FIT */
    int epochs, freeze_epochs;
    double base_lr;         /* DL_JOB_FINE_TUNE */
    dl_lrfind_cfg lrfind;   /* DL_JOB_LRFIND */
    dl_lrfind_curve *curve; /* DL_JOB_LRFIND (caller-owned) */
} dl_job;
/* Runs job on a new thread (SIGINT/SIGTERM/SIGPIPE blocked in it). */
dl_status dl_learner_start(dl_learner *l, const dl_job *job, dl_err *err);
/* Waits for the thread; returns the job's status and message. */
dl_status dl_learner_join(dl_learner *l, dl_err *err);
/* Whether a started job has finished (its thread returns; join will not wait), so the caller's
 * thread can poll the progress until then. True when no job runs. */
bool dl_learner_job_done(dl_learner *l);

/* Data parallelism (core/learn/replicas.h): training batches go through r (not owned; NULL: the
 * model alone). */
struct dl_replicas;
void dl_learner_set_replicas(dl_learner *l, struct dl_replicas *r);
/* In an mpirun job: rank 0's weights, optimiser state, schedule and counters to every rank. Call
 * on every rank before the job starts (after a resume's checkpoint was loaded on rank 0). */
void dl_learner_dist_share_state(dl_learner *l);

#endif
