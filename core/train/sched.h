/* sched: fastai's hyper-parameter schedules (docs/fastai.md §2-§4) as pure functions of the
 * training position, plus the rules that spread one learning rate over parameter groups.
 *
 * Position (docs/fastai.md §1.1): batch i (0-based) of epoch e in a fit of n_epoch epochs of
 * n_iter batches is scheduled at pos = (e*n_iter + i) / (n_epoch*n_iter), in [0, 1). The learner
 * evaluates a dl_fit_sched at pos before every training batch and writes the values into the
 * optimiser.
 *
 * Building blocks: SchedNo (constant), SchedLin, SchedCos (fastai's form
 * a + (1 + cos(pi*(1-p))) * (b-a)/2), SchedExp (a*(b/a)^p), and combine_scheds: consecutive phases
 * with fractions pcts summing to 1; at a phase boundary the later phase is used.
 *
 * Mid-run learning-rate changes (the UI's "set lr" / "scale lr" commands), the rule:
 *   the schedule keeps its shape and is rescaled from the current position on. For group g with
 *   scheduled value cur_g at pos and requested value new_g, every remaining scheduled value of
 *   that group is multiplied by new_g / cur_g, so the lr jumps to new_g now and then follows the
 *   same warm-up/annealing curve (a one-cycle keeps its peak position and its final /div_final
 *   ratio). Scaling by a factor multiplies every group's remainder by that factor. When cur_g is 0
 *   or not finite (nothing to scale), that group's remainder becomes the constant new_g.
 *   Momentum schedules are never touched.
 *
 * Refuses: non-finite or non-positive learning rates, pct outside [0, 1], zero groups, more than
 * DL_MAX_GROUPS groups, phases that do not sum to 1, an lr string it cannot read (naming it). */
#ifndef DL_SCHED_H
#define DL_SCHED_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/params.h" /* DL_MAX_GROUPS */

typedef enum dl_sched_kind {
    DL_SCHED_NO = 0,
    DL_SCHED_LIN,
    DL_SCHED_COS,
    DL_SCHED_EXP
} dl_sched_kind;

/* One phase: from start to end as p goes 0 -> 1 (SchedNo stays at start). */
typedef struct dl_sched {
    dl_sched_kind kind;
    double start, end;
} dl_sched;

double dl_sched_at(const dl_sched *s, double p);

#define DL_SCHED_MAX_PHASES 4

/* combine_scheds: phase k covers [edge[k], edge[k+1]); edge[0] = 0, edge[n] = 1. */
typedef struct dl_sched_combo {
    int n;
    double edge[DL_SCHED_MAX_PHASES + 1];
    dl_sched ph[DL_SCHED_MAX_PHASES];
} dl_sched_combo;

/* pcts: n fractions >= 0 summing to 1 (within 1e-9). */
dl_status dl_sched_combine(dl_sched_combo *c, int n, const double *pcts, const dl_sched *phases,
                           dl_err *err);
/* Value at pos; pos outside [0, 1] is clamped (fastai picks the last phase whose start <= pos). */
double dl_sched_combo_at(const dl_sched_combo *c, double pos);

/* The schedule of one fit: a learning-rate schedule per group and optionally one momentum
 * schedule shared by every group (fit and fit_flat_cos leave momentum alone). */
typedef struct dl_fit_sched {
    int n_groups;
    dl_sched_combo lr[DL_MAX_GROUPS];
    bool has_mom;
    dl_sched_combo mom;
} dl_fit_sched;

/* Checks a schedule that came from outside (e.g. the bytes of a checkpoint): group count, phase
 * counts, kinds, edges rising from 0 to 1, finite values; the message names the group and phase.
 * Evaluating an unchecked corrupt schedule could read past its phase arrays. */
dl_status dl_fit_sched_validate(const dl_fit_sched *s, dl_err *err);

/* pos of batch iter of epoch epoch (both 0-based). */
double dl_sched_pos(long epoch, long iter, long n_epoch, long n_iter);
/* lr of group at pos; a group out of range gives the last group's (the one fastai records). */
double dl_fit_sched_lr(const dl_fit_sched *s, int group, double pos);
/* Returns false (and leaves *mom) when momentum is not scheduled. */
bool dl_fit_sched_mom(const dl_fit_sched *s, double pos, double *mom);

/* fastai's fit(): constant lr[g] for the whole fit; momentum not scheduled. */
dl_status dl_sched_fit(dl_fit_sched *s, int n_groups, const double *lr, dl_err *err);

typedef struct dl_one_cycle_opts {
    double div;       /* start = lr_max/div (25) */
    double div_final; /* end = lr_max/div_final (1e5) */
    double pct_start; /* warm-up fraction (0.25) */
    double moms[3];   /* 0.95 -> 0.85 at pct_start -> 0.95 */
} dl_one_cycle_opts;

dl_one_cycle_opts dl_one_cycle_defaults(void);
/* fit_one_cycle: per group cosine lr_max[g]/div -> lr_max[g] (until pct_start) ->
 * lr_max[g]/div_final, momentum cosine moms[0] -> moms[1] -> moms[2]. */
dl_status dl_sched_one_cycle(dl_fit_sched *s, int n_groups, const double *lr_max,
                             const dl_one_cycle_opts *o, dl_err *err);
/* fit_flat_cos: lr[g] until pct_start (0.75), then cosine to lr[g]/div_final (1e5); no momentum. */
dl_status dl_sched_flat_cos(dl_fit_sched *s, int n_groups, const double *lr, double pct_start,
                            double div_final, dl_err *err);

/* ---- learning-rate spreading over groups (docs/fastai.md §4.3) ---- */

typedef enum dl_lr_kind {
    DL_LR_CONST = 0, /* one value for every group (a plain float in fastai) */
    DL_LR_SLICE_HI,  /* slice(hi): hi/10 for every group but the last, hi for the last */
    DL_LR_RANGE      /* slice(lo, hi): even_mults(lo, hi, n_groups) */
} dl_lr_kind;

typedef struct dl_lr_spec {
    dl_lr_kind kind;
    double lo, hi; /* lo only for DL_LR_RANGE */
} dl_lr_spec;

/* Geometric spread: out[i] = lo * (hi/lo)^(i/(n-1)); n == 1 gives hi (as fastai's even_mults). */
void dl_even_mults(double lo, double hi, int n, double *out);
dl_status dl_lr_spread(const dl_lr_spec *spec, int n_groups, double *out, dl_err *err);
/* Reads the one learning-rate grammar (the CLI's --lr, the dashboard's '=' key, sweep lists):
 *   "3e-3" or "=3e-3"  DL_LR_CONST, every group 3e-3 (fastai's float)
 *   "..3e-3"           DL_LR_SLICE_HI, fastai's slice(3e-3)
 *   "1e-6..1e-4"       DL_LR_RANGE, slice(1e-6, 1e-4) (lo <= hi)
 * ':' is accepted for '..' ("1e-6:1e-4", ":3e-3"). DL_EINVAL quoting the text otherwise. */
dl_status dl_lr_parse(const char *s, dl_lr_spec *out, dl_err *err);
/* Writes the same grammar back ("%g": "0.003", "..0.003", "1e-06..0.0001"); returns what
 * snprintf returns. */
int dl_lr_format(const dl_lr_spec *spec, char *buf, size_t cap);

/* ---- fine_tune (docs/fastai.md §3) ---- */

typedef struct dl_fine_tune_opts {
    double base_lr;    /* 2e-3 */
    int freeze_epochs; /* 1; 0 skips phase 1 */
    double lr_mult;    /* 100: phase 2 spans base_lr/2/lr_mult .. base_lr/2 */
    double pct_start;  /* 0.3 (phase 2; phase 1 uses 0.99) */
    double div;        /* 5 (phase 2; phase 1 keeps one-cycle's 25) */
    double div_final;  /* 1e5, both phases */
    double moms[3];    /* (0.95, 0.85, 0.95), both phases */
} dl_fine_tune_opts;

dl_fine_tune_opts dl_fine_tune_defaults(void);

typedef struct dl_fine_tune_phase {
    int epochs;
    int freeze_to;                /* what to call before the phase: -1 = freeze(), 0 = unfreeze() */
    double lr_max[DL_MAX_GROUPS]; /* per group, after spreading */
    dl_fit_sched sched;
} dl_fine_tune_phase;

typedef struct dl_fine_tune_plan {
    int n_phases; /* 1 or 2 */
    dl_fine_tune_phase phase[2];
} dl_fine_tune_plan;

/* Phase 1 (when freeze_epochs > 0): freeze(); one-cycle over slice(base_lr) with pct_start 0.99.
 * Phase 2: unfreeze(); one-cycle over slice(base_lr/2/lr_mult, base_lr/2), pct_start, div. */
dl_status dl_sched_fine_tune(dl_fine_tune_plan *p, int n_groups, int epochs,
                             const dl_fine_tune_opts *o, dl_err *err);

/* ---- mid-run changes (rule in the header comment) ---- */

/* Rescales the remainder so that group g is new_lr[g] at pos. */
dl_status dl_fit_sched_set_lr(dl_fit_sched *s, double pos, const double *new_lr, dl_err *err);
/* Multiplies the remainder of every group by factor (> 0, finite). */
dl_status dl_fit_sched_scale_lr(dl_fit_sched *s, double factor, dl_err *err);

#endif
