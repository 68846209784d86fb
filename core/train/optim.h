/* optim: fastai's optimisers over a parameter store: SGD with momentum and Adam, both with
 * decoupled weight decay (docs/fastai.md §6), hyper-parameters per parameter group.
 *
 * The store's two state mirrors hold the optimiser state: SGD keeps its momentum buffer in
 * state0; Adam keeps exp_avg in state0 and exp_avg_sq in state1, plus one step counter per entry
 * (entries frozen for a while have taken fewer steps, and bias correction must use their own
 * count). A step updates every entry for which dl_params_trainable() is true and leaves all others
 * (frozen entries, buffers) and their state untouched, bit for bit.
 *
 * It refuses nothing at step time (the hot path has no error path); dl_optim_check_hyper validates
 * hyper-parameters once when the learner sets them. It never allocates in dl_optim_step. */
#ifndef DL_OPTIM_H
#define DL_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/params.h"
#include "core/tensor_map.h"

typedef enum dl_optim_kind { DL_OPTIM_SGD = 0, DL_OPTIM_ADAM = 1 } dl_optim_kind;

/* One group's hyper-parameters, read at every step (a scheduler rewrites lr and mom between
 * steps). mom is SGD's momentum or Adam's beta1; sqr_mom is Adam's beta2; eps is added outside
 * the square root (fastai). wd is decoupled: p <- p * (1 - lr * wd). */
typedef struct dl_hyper {
    double lr, mom, sqr_mom, eps, wd;
} dl_hyper;

typedef struct dl_optim {
    dl_optim_kind kind;
    dl_params *ps;             /* not owned */
    int n_groups;              /* = ps->n_groups */
    dl_hyper h[DL_MAX_GROUPS]; /* per group; the learner writes these before each step */
    bool wd_bn_bias; /* false (fastai's default): no decay on DL_PARAM_NORM/BIAS entries */
    int64_t *step;   /* ps->n counters (only parameter entries are used) */
} dl_optim;

/* fastai's defaults: SGD lr 1e-3, mom 0, wd 0 (so fastai's fit() with SGD has no momentum;
 * fit_one_cycle schedules it); Adam lr 1e-3, mom 0.9, sqr_mom 0.99, eps 1e-5, wd 0.01. */
dl_hyper dl_optim_defaults(dl_optim_kind kind);
/* Binds an optimiser to a finalised store, every group set to the defaults, state cleared. */
dl_status dl_optim_init(dl_optim *o, dl_optim_kind kind, dl_params *ps, dl_err *err);
void dl_optim_free(dl_optim *o);
const char *dl_optim_kind_name(dl_optim_kind kind); /* "sgd", "adam" */
/* Parses "sgd" / "adam". */
dl_status dl_optim_kind_parse(const char *s, dl_optim_kind *out, dl_err *err);

/* Setters for the learner's schedule: lr of one group (ignored outside 0..DL_MAX_GROUPS-1);
 * momentum and weight decay for every group (fastai gives every group the same mom and wd). */
void dl_optim_set_lr(dl_optim *o, int group, double lr);
void dl_optim_set_mom_all(dl_optim *o, double mom);
void dl_optim_set_wd_all(dl_optim *o, double wd);
/* Rejects non-finite or negative lr/wd/eps, mom or sqr_mom outside [0, 1), naming the group. */
dl_status dl_optim_check_hyper(const dl_optim *o, dl_err *err);

/* One update of every trainable entry from ps->grad. The loops also run over each entry's zero
 * padding to a multiple of 16 floats (see optim.c); padding stays zero. */
void dl_optim_step(dl_optim *o);
/* Zeroes the state mirrors and step counters (fastai: freeze, unfreeze, reset_opt). */
void dl_optim_clear(dl_optim *o);

/* Appends the whole optimiser state to out (which may already hold model weights):
 *   "opt.state0.<param>" F32 (the param's shape) for every parameter entry, frozen ones included;
 *   for Adam also "opt.state1.<param>";
 *   "opt.step"  I64 [n parameter entries], the step counters in entry order;
 *   "opt.hyper" I64 [n_groups, 5], the bit patterns of the doubles (lr, mom, sqr_mom, eps, wd),
 *               so that a restore is bit-exact;
 *   metadata "opt.kind" = "sgd"/"adam" and "opt.wd_bn_bias" = "0"/"1". */
dl_status dl_optim_state_to_map(const dl_optim *o, dl_tensor_map *out, dl_err *err);
/* Restores what dl_optim_state_to_map wrote (other names in m are ignored). The kind must
 * match; a missing tensor or a wrong shape is an error naming the key; nothing is changed on error.
 */
dl_status dl_optim_state_from_map(dl_optim *o, const dl_tensor_map *m, dl_err *err);

#endif
