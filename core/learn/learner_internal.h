/* learner_internal: the learner's private state, shared by learner*.c only. */
#ifndef DL_LEARNER_INTERNAL_H
#define DL_LEARNER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/learn/diverge.h"
#include "core/learn/learner.h"

#define DL_MAX_CALLBACKS 16

/* A bit-exact copy of everything training mutates: weights, BN buffers, optimiser state. */
typedef struct dl_train_state_copy {
    float *data, *buf, *s0, *s1;
    int64_t *ibuf, *steps;
    dl_hyper h[DL_MAX_GROUPS];
    uint64_t weights_id; /* the learner's weights_id when taken: a restore brings it back */
    bool valid;
} dl_train_state_copy;

/* The logits and targets of one whole validation pass, tagged with the weights_id they came from,
 * so the interpretation after a fit reuses the last validation instead of predicting again. */
typedef struct dl_preds_cache {
    float *logits, *tf;            /* (n, k); tf: multi-label targets (NULL for class targets) */
    int32_t *ti;                   /* class targets (NULL for multi-label) */
    size_t n, cap, cap_tf, cap_ti; /* items held; room (items) in logits, tf, ti */
    int k;
    int epoch; /* the run's epoch (the store's numbering) whose weights made the pass */
    uint64_t weights_id;
    bool multi;  /* the pass's targets are multi-label (tf), else classes (ti) */
    bool failed; /* out of memory during the pass: it cannot be marked valid */
    bool valid;  /* a complete pass */
} dl_preds_cache;

struct dl_learner {
    dl_learner_cfg cfg;
    char monitor[64];
    dl_model *model;
    dl_params *ps;
    dl_optim opt;
    dl_batch_source train, valid;
    dl_control *control;
    dl_store *store;
    int64_t run_id;
    struct {
        dl_callback_fn fn;
        void *user;
    } cb[DL_MAX_CALLBACKS];
    int n_cb;
    int n_groups, n_out;

    /* the fit in progress */
    dl_fit_sched sched;
    bool in_fit;
    int epoch, n_epochs, batch, n_iter;
    int fit_start_epoch;
    double pos;
    uint64_t step;
    int epochs_done; /* epochs completed since creation, over all fits: the store's epoch numbers */
    double loss, smooth_value;
    dl_smooth smooth;
    int frozen_to;
    bool frozen_fit; /* this fit is fine_tune's frozen phase (epochs shown as "frozen N") */
    bool more_fits;  /* another fit follows this one: its end is not "done" */
    dl_epoch_result row;
    double t_fit0, t_epoch0;
    uint64_t images_fit; /* images trained since the fit began (images/s) */
    /* The clock of the fit's progress: paused time counts for nothing (img/s and the ETA stop),
     * validation is timed apart so the ETA can add the passes still to come. */
    double t_paused;                /* seconds paused in this fit, closed pauses */
    double t_pause0;                /* start of the pause in progress, 0 when not paused */
    double t_valid_sum;             /* seconds of this fit's completed validation passes */
    int valid_passes;               /* completed validation passes in this fit */
    double t_valid0;                /* start of the validation pass in progress, 0 outside one */
    int valid_batch, valid_batches; /* progress of that pass (batches done, batches in all) */
    int resume_epoch, resume_batch; /* where a loaded checkpoint continues */
    int ckpt_epoch, ckpt_batch;     /* the next batch to train, recorded in checkpoints */
    bool sched_loaded;

    /* control state */
    bool paused, stop_now, stop_after_epoch, stopped;
    bool diverged;
    double diverged_lr;
    dl_diverge explode; /* the finite smoothed loss exploding (diverge.h) */
    double
        valid_items; /* items the last validation saw: a non-finite loss over some is divergence */
    /* persistence: a checkpoint or epoch row that could not be written (e.g. a full disk) */
    bool unsaved;      /* the saved state lags behind the training */
    bool rows_lost;    /* an epoch row was lost: only stays unsaved */
    bool batch_warned; /* a batch-row failure was reported; quiet until one succeeds */
    char unsaved_why[DL_ERR_MSG_MAX];
    dl_phase phase;
    char message[160];
    /* the command being applied at this boundary: its origin goes into the events it causes,
     * and a command from the store's steering channel is acknowledged with the first of them */
    const dl_cmd *cmd;
    bool cmd_acked, cmd_refused;
    char cmd_reason[160];

    /* tracker (docs/fastai.md §8) */
    bool lower_better;
    double best;
    int best_epoch, wait, plateau_wait;
    dl_train_state_copy best_copy; /* weights of the best epoch (load_best) */
    dl_train_state_copy good;      /* last good state (divergence) */

    float *dlogits;
    size_t dlogits_cap;

    /* Which weights (and BN buffers) the model holds: a fresh id from next_weights_id whenever
     * the learner changes them (a training batch, a checkpoint load); a restore of a state copy
     * brings back that copy's id. Predictions cached with the current id are still true. */
    uint64_t weights_id, next_weights_id;
    dl_preds_cache last_preds; /* the last complete validation pass */
    dl_preds_cache best_preds; /* the pass of the best epoch: the interpretation after a fit */

    /* data parallelism (learner_dist.c): the replicas a batch goes through, NULL: the model alone
     */
    struct dl_replicas *rep;
    unsigned
        freeze_gen; /* counts freezes: ranks > 0 repeat rank 0's (which also clear the optimiser) */

    /* background thread */
    pthread_t th;
    bool running;
    atomic_bool job_done; /* the thread has finished its job (join will not block) */
    dl_job job;
    dl_status job_status;
    dl_err job_err;
};

/* learner_state.c */
dl_status dl_state_copy_take(dl_train_state_copy *c, const dl_learner *l, bool with_opt);
void dl_state_copy_restore(const dl_train_state_copy *c, dl_learner *l, bool with_opt);
void dl_state_copy_free(dl_train_state_copy *c);

/* learner_preds.c */
/* Empties c for a new pass (keeps its memory). */
void dl_preds_cache_reset(dl_preds_cache *c, int k);
/* Appends one batch's logits and targets; sets failed when out of memory or the kind changes. */
void dl_preds_cache_add(dl_preds_cache *c, const dl_batch *b, const float *logits);
/* dst = src (memory reused); false (dst invalid) when out of memory. */
bool dl_preds_cache_copy(dl_preds_cache *dst, const dl_preds_cache *src);
/* Malloc'd copies of the cached predictions for dl_learner_get_preds. */
dl_status dl_preds_cache_export(const dl_preds_cache *c, float **logits, int32_t **ti, float **tf,
                                int *n, dl_err *err);
void dl_preds_cache_free(dl_preds_cache *c);

/* learner_dist.c */
/* dl_learner_train_batch through the replicas (check_batch done). */
dl_status dl_learner_train_batch_dp(dl_learner *l, const dl_batch *b, dl_err *err);
/* After rank 0's boundary: its decisions (schedule, lrs, frozen groups, stop) to every rank. */
void dl_learner_dist_boundary(dl_learner *l, dl_status *st);
/* At the end of a job in an mpirun run: do all ranks hold the same weights? (a collective: every
 * rank calls it). Rank 0 records the answer as an event ("ranks-agree" with the checksum, or a
 * warning). True outside mpirun. */
bool dl_learner_dist_check_weights(dl_learner *l);

/* learner.c, used by the other learner files */
double dl_learner_now(void); /* monotonic seconds */
dl_status dl_learner_fire(dl_learner *l, dl_event_kind ev, dl_err *err);
/* One training batch at the optimiser's current hyper-parameters: forward, loss, backward, step
 * (skipped when the loss is not finite). Sets l->loss. */
dl_status dl_learner_train_batch(dl_learner *l, const dl_batch *b, dl_err *err);
/* Drains and applies the command queue; handles pause (blocks) and the signal flag. */
dl_status dl_learner_boundary(dl_learner *l, dl_err *err);
void dl_learner_publish(dl_learner *l);
/* The LR-finder command: sweeps from the current weights, restores them, and puts the training
 * source back where the fit was (core/lrfind/sweep.c). */
dl_status dl_learner_lrfind_now(dl_learner *l, dl_err *err);
void dl_learner_log_event(dl_learner *l, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same event (step, lr per group, frozen state) to the control and/or the store only: e.g. a
 * checkpoint, which the store records itself, still belongs in the dashboard's event log. */
void dl_learner_emit_event(dl_learner *l, bool to_control, bool to_store, const char *kind,
                           const char *text);

#endif
