/* metrics: accuracy, error_rate, accuracy_multi, weighted averages; see metrics.h. */
#include "core/learn/metrics.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {"error_rate", "accuracy", "accuracy_multi"};
/* tripwire: a metric without its name breaks the build, not a table */
_Static_assert(sizeof names / sizeof *names == DL_METRIC_COUNT, "metric names");

const char *dl_metric_name(dl_metric_kind k)
{
    return (unsigned)k < DL_METRIC_COUNT ? names[k] : "unknown";
}

dl_status dl_metric_parse(const char *name, dl_metric_kind *out, dl_err *err)
{
    for (int i = 0; i < DL_METRIC_COUNT; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (dl_metric_kind)i;
            return DL_OK;
        }
    return dl_err_set(err, DL_EINVAL,
                      "unknown metric '%s' (choose error_rate, accuracy or accuracy_multi)", name);
}

bool dl_metric_lower_is_better(const char *name)
{
    return strstr(name, "loss") != NULL || strstr(name, "error") != NULL;
}

double dl_metric_accuracy(const float *logits, const int32_t *targets, int n, int k)
{
    if (n <= 0)
        return NAN;
    long hit = 0;
    for (int i = 0; i < n; i++) {
        const float *row = logits + (size_t)i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (row[j] > row[best])
                best = j;
        hit += best == targets[i];
    }
    return (double)hit / n;
}

double dl_metric_accuracy_multi(const float *logits, const float *targets, int n, int k,
                                float thresh, bool sigmoid)
{
    size_t total = (size_t)n * (size_t)k;
    if (total == 0)
        return NAN;
    size_t hit = 0;
    for (size_t i = 0; i < total; i++) {
        float p = sigmoid ? 1.0f / (1.0f + expf(-logits[i])) : logits[i];
        hit += (p > thresh) == (targets[i] > 0.5f);
    }
    return (double)hit / (double)total;
}

double dl_metric_eval(dl_metric_kind kind, const float *logits, const int32_t *targets_i,
                      const float *targets_f, int n, int k, float thresh)
{
    switch (kind) {
    case DL_METRIC_ACCURACY:
        return dl_metric_accuracy(logits, targets_i, n, k);
    case DL_METRIC_ERROR_RATE:
        return 1.0 - dl_metric_accuracy(logits, targets_i, n, k);
    case DL_METRIC_ACCURACY_MULTI:
        return dl_metric_accuracy_multi(logits, targets_f, n, k, thresh, true);
    default:
        return NAN;
    }
}

double dl_wavg_value(const dl_wavg *a) { return a->count > 0 ? a->sum / a->count : NAN; }
