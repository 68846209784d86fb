/* metrics: fastai's validation metrics and their batch-size-weighted averages.
 * accuracy (argmax == target), error_rate (1 - accuracy) and accuracy_multi (sigmoid, then
 * prob > thresh compared with the 0/1 targets over all N*K elements) are computed per batch and
 * averaged weighted by batch size (dl_wavg), which gives the exact global mean as fastai's does.
 * (fastai's debiased loss smoothing is dl_smooth in core/lrfind/lrfind.h.)
 * It refuses unknown metric names (dl_metric_parse returns DL_EINVAL naming the choices). */
#ifndef DL_METRICS_H
#define DL_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef enum dl_metric_kind {
    DL_METRIC_ERROR_RATE = 0,
    DL_METRIC_ACCURACY,
    DL_METRIC_ACCURACY_MULTI,
    DL_METRIC_COUNT
} dl_metric_kind;

/* Column name, as fastai's table shows it ("error_rate", "accuracy", "accuracy_multi"). */
const char *dl_metric_name(dl_metric_kind k);
/* Parses a name (case-sensitive, as above); err names the valid choices. */
dl_status dl_metric_parse(const char *name, dl_metric_kind *out, dl_err *err);
/* True when lower is better (the name contains "loss" or "error", as fastai's trackers decide). */
bool dl_metric_lower_is_better(const char *name);

/* Fraction of rows of logits (n, k) whose first argmax equals targets[i]. */
double dl_metric_accuracy(const float *logits, const int32_t *targets, int n, int k);
/* Fraction of the n*k elements where (sigmoid(logit) > thresh) == (target > 0.5);
 * with sigmoid false, logits are taken as probabilities already. */
double dl_metric_accuracy_multi(const float *logits, const float *targets, int n, int k,
                                float thresh, bool sigmoid);
/* One metric on one batch: single-label metrics read targets_i, accuracy_multi reads targets_f. */
double dl_metric_eval(dl_metric_kind kind, const float *logits, const int32_t *targets_i,
                      const float *targets_f, int n, int k, float thresh);

/* Average weighted by batch size. */
typedef struct dl_wavg {
    double sum, count;
} dl_wavg;
static inline void dl_wavg_reset(dl_wavg *a) { a->sum = 0, a->count = 0; }
static inline void dl_wavg_add(dl_wavg *a, double value, int bs)
{
    a->sum += value * bs, a->count += bs;
}
double dl_wavg_value(const dl_wavg *a); /* NAN when empty */

#endif
