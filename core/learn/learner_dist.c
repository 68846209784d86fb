/* learner_dist: the learner's side of data parallelism. A batch goes through the replicas
 * (core/learn/replicas.c) when the learner has them; across the ranks of an mpirun job, rank 0's
 * state is everyone's: once before training (weights, optimiser state, schedule and counters, so a
 * resumed or pretrained run starts the same everywhere) and at every batch boundary (the result
 * of the commands rank 0 applied: schedule and lr per group, frozen groups, stop), so every rank
 * takes the same step. Only rank 0 has a store; the others compute and follow. */
#include <math.h>
#include <string.h>

#include "core/learn/dist.h"
#include "core/learn/learner_internal.h"
#include "core/learn/replicas.h"

void dl_learner_set_replicas(dl_learner *l, dl_replicas *r) { l->rep = r; }

dl_status dl_learner_train_batch_dp(dl_learner *l, const dl_batch *b, dl_err *err)
{
    /* the logits live in the replicas: after_pred / after_loss see the loss only */
    dl_status st = dl_replicas_step(l->rep, b, &l->loss, err);
    if (st == DL_OK)
        st = dl_learner_fire(l, DL_EV_AFTER_PRED, err);
    if (st == DL_OK)
        st = dl_learner_fire(l, DL_EV_AFTER_LOSS, err);
    if (st != DL_OK)
        return st;
    if (!isfinite(l->loss)) /* the same on every rank: the loss is the global one */
        return dl_err_set(err, DL_EDIVERGED, "loss is %g at step %llu (lr %g)", l->loss,
                          (unsigned long long)l->step, l->opt.h[l->n_groups - 1].lr);
    if ((st = dl_learner_fire(l, DL_EV_BEFORE_BACKWARD, err)) != DL_OK ||
        (st = dl_learner_fire(l, DL_EV_AFTER_BACKWARD, err)) != DL_OK)
        return st;
    dl_optim_step(&l->opt);
    return dl_learner_fire(l, DL_EV_AFTER_STEP, err);
}

/* What a boundary decides, as rank 0 decided it. */
typedef struct boundary_state {
    dl_fit_sched sched;
    dl_hyper h[DL_MAX_GROUPS];
    int frozen_to;
    unsigned freeze_gen;
    int status; /* rank 0's boundary failed: everyone stops */
    bool stop_now, stop_after_epoch;
} boundary_state;

void dl_learner_dist_boundary(dl_learner *l, dl_status *st)
{
    if (dl_dist_size() < 2)
        return;
    boundary_state s;
    memset(&s, 0, sizeof s);
    s.sched = l->sched;
    memcpy(s.h, l->opt.h, sizeof s.h);
    s.frozen_to = l->frozen_to;
    s.freeze_gen = l->freeze_gen;
    s.status = (int)*st;
    s.stop_now = l->stop_now;
    s.stop_after_epoch = l->stop_after_epoch;
    dl_dist_bcast(&s, sizeof s);
    if (dl_dist_rank() == 0)
        return;
    if (s.freeze_gen != l->freeze_gen) { /* a freeze also wipes the optimiser state: do it too */
        dl_learner_freeze_to(l, s.frozen_to);
        l->freeze_gen = s.freeze_gen;
    }
    l->sched = s.sched;
    memcpy(l->opt.h, s.h, sizeof s.h);
    l->stop_now = s.stop_now || s.status != DL_OK;
    l->stop_after_epoch = s.stop_after_epoch;
    l->paused = false;
}

/* Everything a run carries from batch to batch besides the blocks. */
typedef struct scalar_state {
    uint64_t step, weights_id, next_weights_id;
    int epochs_done, resume_epoch, resume_batch, n_epochs, frozen_to;
    unsigned freeze_gen;
    bool sched_loaded, frozen[DL_MAX_GROUPS];
    dl_fit_sched sched;
    dl_hyper h[DL_MAX_GROUPS];
    dl_smooth smooth;
    double smooth_value, best;
    int best_epoch, wait, plateau_wait;
    dl_rng drop;
} scalar_state;

void dl_learner_dist_share_state(dl_learner *l)
{
    if (dl_dist_size() < 2)
        return;
    scalar_state s;
    memset(&s, 0, sizeof s);
    s.step = l->step;
    s.weights_id = l->weights_id;
    s.next_weights_id = l->next_weights_id;
    s.epochs_done = l->epochs_done;
    s.resume_epoch = l->resume_epoch;
    s.resume_batch = l->resume_batch;
    s.n_epochs = l->n_epochs;
    s.frozen_to = l->frozen_to;
    s.freeze_gen = l->freeze_gen;
    s.sched_loaded = l->sched_loaded;
    memcpy(s.frozen, l->ps->frozen, sizeof s.frozen);
    s.sched = l->sched;
    memcpy(s.h, l->opt.h, sizeof s.h);
    s.smooth = l->smooth;
    s.smooth_value = l->smooth_value;
    s.best = l->best;
    s.best_epoch = l->best_epoch;
    s.wait = l->wait;
    s.plateau_wait = l->plateau_wait;
    s.drop = *dl_model_dropout_rng(l->model);
    dl_dist_bcast(&s, sizeof s);
    dl_params *ps = l->ps;
    dl_dist_bcast(ps->data, ps->total * sizeof(float));
    if (ps->state0)
        dl_dist_bcast(ps->state0, ps->total * sizeof(float));
    if (ps->state1)
        dl_dist_bcast(ps->state1, ps->total * sizeof(float));
    dl_dist_bcast(ps->buf, ps->buf_total * sizeof(float));
    dl_dist_bcast(ps->ibuf, ps->ibuf_total * sizeof(int64_t));
    dl_dist_bcast(l->opt.step, ps->n * sizeof(int64_t));
    if (dl_dist_rank() == 0)
        return;
    l->step = s.step;
    l->weights_id = s.weights_id;
    l->next_weights_id = s.next_weights_id;
    l->epochs_done = s.epochs_done;
    l->resume_epoch = s.resume_epoch;
    l->resume_batch = s.resume_batch;
    l->n_epochs = s.n_epochs;
    l->frozen_to = s.frozen_to;
    l->freeze_gen = s.freeze_gen;
    l->sched_loaded = s.sched_loaded;
    memcpy(ps->frozen, s.frozen, sizeof s.frozen);
    l->sched = s.sched;
    memcpy(l->opt.h, s.h, sizeof s.h);
    l->smooth = s.smooth;
    l->smooth_value = s.smooth_value;
    l->best = s.best;
    l->best_epoch = s.best_epoch;
    l->wait = s.wait;
    l->plateau_wait = s.plateau_wait;
    *dl_model_dropout_rng(l->model) = s.drop;
}

/* FNV-1a over the bytes: a checksum of the weights, equal on ranks that took the same steps. */
static uint64_t fnv1a64(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

bool dl_learner_dist_check_weights(dl_learner *l)
{
    if (dl_dist_size() < 2)
        return true;
    uint64_t h = fnv1a64(l->ps->data, l->ps->total * sizeof(float));
    /* All equal iff n * sum(x^2) == sum(x)^2 for each 16-bit piece x of the checksum: exact in
     * doubles for up to ~1400 ranks, and it needs only the watched sum collective. */
    double v[8];
    for (int i = 0; i < 4; i++) {
        double x = (double)((h >> (16 * i)) & 0xffff);
        v[i] = x;
        v[4 + i] = x * x;
    }
    dl_dist_sum_f64(v, 8);
    double n = (double)dl_dist_size();
    bool same = true;
    for (int i = 0; i < 4; i++)
        same &= v[i] * v[i] == n * v[4 + i];
    if (dl_dist_rank() == 0) {
        if (same)
            dl_learner_log_event(l, DL_EV_RANKS_AGREE,
                                 "the %d ranks hold the same weights (checksum %016llx)",
                                 dl_dist_size(), (unsigned long long)h);
        else
            dl_learner_warn(l, "the ranks' weights differ at the end of the job: a rank took "
                               "other steps than rank 0");
    }
    return same;
}
