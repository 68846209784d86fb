/* compare: several runs of the store side by side (no curses; the text table, the compare screen
 * and the plot export all read this).
 *  - load: N runs with their batch and epoch rows; refresh re-reads runs still training so a live
 *    run can be compared while it moves.
 *  - series: one run's train loss (per batch), valid loss or a metric (per epoch) against x by
 *    step, by epoch (fractional for batches) or by wall time since the run was created;
 *    align: the same quantity of every run on the union of their x values (NaN where a run has no
 *    point, e.g. a shorter run), for tables and CSV.
 *  - figures: best and final valid loss and each metric (with the epoch they happened), epochs,
 *    training time, images/s; deltas against a baseline run.
 *  - params: the hyper-parameter diff of the runs' config JSON, nested keys flattened as a.b.c,
 *    keys missing in a run shown as DL_CMP_MISSING; by default only keys whose values differ.
 * It refuses config text that is not a JSON object (the error names the run) and more than
 * DL_CMP_MAX_RUNS runs. */
#ifndef DL_COMPARE_H
#define DL_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/store/store.h"

#define DL_CMP_MAX_RUNS 64
#define DL_CMP_MISSING "\xe2\x80\x94" /* an em dash: the key is absent in that run */

typedef enum dl_cmp_xaxis { DL_CMP_X_STEP = 0, DL_CMP_X_EPOCH, DL_CMP_X_TIME } dl_cmp_xaxis;
const char *dl_cmp_xaxis_name(dl_cmp_xaxis x); /* "step", "epoch", "time" */
/* "step" | "epoch" | "time"; DL_EINVAL naming the word otherwise. */
dl_status dl_cmp_xaxis_parse(const char *word, dl_cmp_xaxis *out, dl_err *err);

/* What a series holds. */
typedef enum dl_cmp_kind {
    DL_CMP_TRAIN_LOSS = 0, /* raw per-batch loss */
    DL_CMP_TRAIN_SMOOTH,   /* fastai's smoothed per-batch loss */
    DL_CMP_VALID_LOSS,     /* per epoch */
    DL_CMP_EPOCH_TRAIN,    /* per-epoch train loss */
    DL_CMP_METRIC,         /* per epoch, metric by name */
    DL_CMP_LR,             /* per-batch lr of the last parameter group (the head) */
    DL_CMP_MOM             /* per-batch momentum (beta1 for Adam) */
} dl_cmp_kind;

typedef struct dl_cmp_run {
    dl_run run;            /* as the store lists it */
    dl_batch_row *batches; /* step order */
    size_t n_batches;
    dl_epoch_row *epochs; /* epoch order */
    size_t n_epochs;
} dl_cmp_run;

typedef struct dl_compare {
    size_t n;
    dl_cmp_run *runs;
    int baseline;  /* index of the baseline run, -1 for none */
    int n_metrics; /* union of the runs' metric names, in order of first appearance */
    char metric_names[DL_STORE_MAX_METRICS * 2][DL_STORE_NAME_MAX];
} dl_compare;

/* Loads the runs ids[0..n) (n in 2..DL_CMP_MAX_RUNS is not enforced below 1: one run is fine).
 * The baseline is the store's baseline run when it is one of them. */
dl_status dl_compare_load(dl_store *st, const int64_t *ids, size_t n, dl_compare **out,
                          dl_err *err);
/* Re-reads runs that were running (rows and status); *changed = 1 when anything new arrived. */
dl_status dl_compare_refresh(dl_compare *c, dl_store *st, int *changed, dl_err *err);
void dl_compare_free(dl_compare *c);
/* Recomputes metric_names from the loaded rows (load and refresh call it; tests that build a
 * dl_compare by hand call it too). */
void dl_compare_index_metrics(dl_compare *c);

/* Batches per epoch of a run: the batch rows of its first epoch that has an epoch row (so a
 * finished epoch), else of its first epoch so far; 0 when it has no batches. */
double dl_cmp_steps_per_epoch(const dl_cmp_run *r);

/* One run's series. metric: the name for DL_CMP_METRIC (ignored otherwise). x and y are malloc'd
 * (both NULL when n = 0); points with non-finite y are left out. Batch x: step, epoch +
 * fraction (step / steps per epoch), t - created. Epoch x: steps done at its end, epoch + 1,
 * t - created. */
dl_status dl_cmp_series(const dl_cmp_run *r, dl_cmp_kind kind, const char *metric, dl_cmp_xaxis xa,
                        double **x, double **y, size_t *n, dl_err *err);

/* The per-batch lr of parameter group `group` (0 = the body's first; batches with fewer groups
 * are left out), like dl_cmp_series. */
dl_status dl_cmp_lr_series(const dl_cmp_run *r, int group, dl_cmp_xaxis xa, double **x, double **y,
                           size_t *n, dl_err *err);
/* The most parameter groups any batch of the run recorded (0 without batches). */
int dl_cmp_n_groups(const dl_cmp_run *r);

/* Every run's series on the union of their x values (sorted, duplicates merged):
 * x[0..n), y[run * n + i] = run's value at x[i] or NaN. Malloc'd. */
dl_status dl_cmp_align(const dl_compare *c, dl_cmp_kind kind, const char *metric, dl_cmp_xaxis xa,
                       double **x, double **y, size_t *n, dl_err *err);

/* ---- figures -------------------------------------------------------------------------------- */

/* 1 when lower is better for a metric of this name (losses, error rates, perplexity). */
bool dl_cmp_lower_is_better(const char *metric);

typedef struct dl_cmp_figure {
    char name[DL_STORE_NAME_MAX + 8]; /* "best valid_loss", "final accuracy", "epochs", ... */
    double *value;                    /* one per run; NaN when the run lacks it */
    int *epoch;                       /* the epoch it happened (0-based), -1 when not per epoch */
    bool lower_better;
    bool is_time; /* seconds: shown as a duration */
} dl_cmp_figure;

/* The side-by-side table: best/final valid loss, best/final of each metric, epochs, training
 * time (sum of epoch durations), images/s (train items x epochs / time), status is read from
 * runs[i].run.status by the caller. Free with dl_cmp_figures_free. */
dl_status dl_cmp_figures(const dl_compare *c, dl_cmp_figure **out, size_t *n, dl_err *err);
void dl_cmp_figures_free(dl_cmp_figure *f, size_t n);
/* value[run] - value[baseline] (NaN when either is NaN or there is no baseline). */
double dl_cmp_delta(const dl_compare *c, const dl_cmp_figure *f, size_t run);

/* ---- hyper-parameters -------------------------------------------------------------------- */

typedef struct dl_cmp_param {
    char *key;    /* "prep.size" */
    char **value; /* one per run: the value as text (strings unquoted, arrays/objects as compact
                     JSON), or NULL when the run does not have the key */
    bool differs;
} dl_cmp_param;

/* The flattened keys of configs[0..n) (NULL or "" = no config), in order of first appearance;
 * only those that differ unless all. names[i] (may be NULL) names run i in errors. */
dl_status dl_cmp_params(const char *const *configs, const char *const *names, size_t n, bool all,
                        dl_cmp_param **out, size_t *np, dl_err *err);
void dl_cmp_params_free(dl_cmp_param *p, size_t np, size_t n_runs);

#endif
