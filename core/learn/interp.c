/* interp: confusion matrix, most_confused, top losses, multi-label figures; see interp.h.
 * Probabilities and per-item losses are computed once here from the logits with a stable
 * log-sum-exp (softmax / cross-entropy) or log1p form (sigmoid / BCE-with-logits). */
#include "core/learn/interp.h"

#include "core/learn/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void dl_interp_clear(dl_interp *it)
{
    free(it->probs);
    free(it->losses);
    free(it->actual);
    free(it->pred);
    free(it->targets);
    memset(it, 0, sizeof *it);
}

static double bce_logit(double x, double y) { return fmax(x, 0.0) - x * y + log1p(exp(-fabs(x))); }

dl_status dl_interp_init(dl_interp *it, const float *logits, const int32_t *actual,
                         const float *targets, int n, int k, dl_err *err)
{
    memset(it, 0, sizeof *it);
    if (n < 0 || k < 1 || (actual == NULL) == (targets == NULL))
        return dl_err_set(err, DL_EINVAL,
                          "interpretation needs n >= 0, k >= 1 and exactly one of "
                          "class targets or multi-label targets (n %d, k %d)",
                          n, k);
    it->n = n;
    it->k = k;
    it->multi = targets != NULL;
    size_t nk = (size_t)n * (size_t)k;
    it->probs = malloc((nk ? nk : 1) * sizeof *it->probs);
    it->losses = malloc((n ? (size_t)n : 1) * sizeof *it->losses);
    if (it->multi) {
        it->targets = malloc((nk ? nk : 1) * sizeof *it->targets);
    } else {
        it->actual = malloc((n ? (size_t)n : 1) * sizeof *it->actual);
        it->pred = malloc((n ? (size_t)n : 1) * sizeof *it->pred);
    }
    if (!it->probs || !it->losses || (it->multi ? !it->targets : (!it->actual || !it->pred))) {
        dl_interp_clear(it);
        return dl_err_set(err, DL_ENOMEM, "out of memory for the interpretation of %d items", n);
    }
    for (int i = 0; i < n; i++) {
        const float *x = logits + (size_t)i * k;
        float *p = it->probs + (size_t)i * k;
        for (int j = 0; j < k; j++)
            if (!isfinite(x[j])) { /* a NaN would make every comparison below false */
                dl_interp_clear(it);
                return dl_err_set(
                    err, DL_EDIVERGED,
                    "item %d: the model's output for class %d is %g: the weights have "
                    "diverged (retrain with a lower learning rate)",
                    i, j, (double)x[j]);
            }
        if (it->multi) {
            double l = 0;
            for (int j = 0; j < k; j++) {
                float y = targets[(size_t)i * k + j];
                if (!(y >= 0.0f && y <= 1.0f)) {
                    dl_interp_clear(it);
                    return dl_err_set(err, DL_EINVAL,
                                      "item %d class %d: multi-label target %g is not in [0, 1]", i,
                                      j, (double)y);
                }
                it->targets[(size_t)i * k + j] = y;
                p[j] = (float)(1.0 / (1.0 + exp(-(double)x[j])));
                l += bce_logit(x[j], y);
            }
            it->losses[i] = (float)(l / k);
        } else {
            int32_t t = actual[i];
            if (t < 0 || t >= k) {
                dl_interp_clear(it);
                return dl_err_set(err, DL_EINVAL,
                                  "item %d: class target %d is outside the vocab [0, %d)", i,
                                  (int)t, k);
            }
            int best = 0;
            double mx = x[0];
            for (int j = 1; j < k; j++)
                if (x[j] > x[best])
                    best = j, mx = x[j];
            double s = 0;
            for (int j = 0; j < k; j++)
                s += exp((double)x[j] - mx);
            double lse = mx + log(s);
            for (int j = 0; j < k; j++)
                p[j] = (float)exp((double)x[j] - lse);
            it->losses[i] = (float)(lse - x[t]);
            it->actual[i] = t;
            it->pred[i] = best;
        }
    }
    return DL_OK;
}

dl_status dl_interp_confusion(const dl_interp *it, int64_t *cm, dl_err *err)
{
    if (it->multi)
        return dl_err_set(err, DL_EINVAL,
                          "a confusion matrix needs single-label predictions; "
                          "use the per-class figures for multi-label");
    memset(cm, 0, sizeof *cm * (size_t)it->k * (size_t)it->k);
    for (int i = 0; i < it->n; i++)
        cm[(size_t)it->actual[i] * it->k + it->pred[i]]++;
    return DL_OK;
}

static int cmp_confused(const void *a, const void *b)
{
    const dl_confused *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->actual != y->actual)
        return x->actual - y->actual;
    return x->predicted - y->predicted;
}

size_t dl_interp_most_confused(const dl_interp *it, int64_t min_val, dl_confused *out, size_t cap)
{
    if (it->multi)
        return 0;
    size_t kk = (size_t)it->k * (size_t)it->k;
    int64_t *cm = calloc(kk, sizeof *cm);
    dl_confused *all = malloc(kk * sizeof *all);
    size_t n = 0;
    if (cm && all) {
        dl_interp_confusion(it, cm, NULL);
        for (int a = 0; a < it->k; a++)
            for (int p = 0; p < it->k; p++)
                if (a != p && cm[(size_t)a * it->k + p] >= min_val && cm[(size_t)a * it->k + p] > 0)
                    all[n++] = (dl_confused){a, p, cm[(size_t)a * it->k + p]};
        /* qsort is not stable, so the comparator breaks ties by row-major position explicitly. */
        qsort(all, n, sizeof *all, cmp_confused);
        memcpy(out, all, (n < cap ? n : cap) * sizeof *out);
    }
    free(cm);
    free(all);
    return n;
}

typedef struct loss_order {
    const float *losses;
    int sign; /* 1: largest first, -1: smallest first */
} loss_order;

/* Orders item indices by loss, ties by index (stable across runs); qsort_r keeps it reentrant. */
static int cmp_loss(const void *a, const void *b, void *ctx)
{
    const loss_order *o = ctx;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    float li = o->losses[i], lj = o->losses[j];
    if (li != lj)
        return (li > lj ? -1 : 1) * o->sign;
    return i < j ? -1 : 1;
}

size_t dl_interp_top_losses(const dl_interp *it, size_t k, bool largest, dl_top_loss *out)
{
    int64_t *idx = malloc((it->n ? (size_t)it->n : 1) * sizeof *idx);
    if (!idx)
        return 0;
    for (int i = 0; i < it->n; i++)
        idx[i] = i;
    loss_order order = {it->losses, largest ? 1 : -1};
    qsort_r(idx, (size_t)it->n, sizeof *idx, cmp_loss, &order);
    size_t m = k < (size_t)it->n ? k : (size_t)it->n;
    for (size_t r = 0; r < m; r++) {
        int64_t i = idx[r];
        dl_top_loss *t = &out[r];
        t->item = i;
        t->loss = it->losses[i];
        if (it->multi) {
            t->actual = t->predicted = -1;
            float mx = 0;
            for (int j = 0; j < it->k; j++)
                mx = fmaxf(mx, it->probs[(size_t)i * it->k + j]);
            t->prob = mx;
        } else {
            t->actual = it->actual[i];
            t->predicted = it->pred[i];
            t->prob = it->probs[(size_t)i * it->k + it->pred[i]];
        }
    }
    free(idx);
    return m;
}

static double ratio(int64_t a, int64_t b) { return b > 0 ? (double)a / (double)b : 0.0; }

static double f1_of(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

dl_status dl_interp_per_class(const dl_interp *it, float thresh, dl_class_prf *out,
                              double *micro_f1, dl_err *err)
{
    if (!it->multi)
        return dl_err_set(err, DL_EINVAL,
                          "per-class precision/recall at a threshold need multi-label predictions");
    int64_t TP = 0, FP = 0, FN = 0;
    for (int j = 0; j < it->k; j++) {
        dl_class_prf c = {0};
        for (int i = 0; i < it->n; i++) {
            bool pos = it->probs[(size_t)i * it->k + j] > thresh;
            bool y = it->targets[(size_t)i * it->k + j] > 0.5f;
            c.tp += pos && y;
            c.fp += pos && !y;
            c.fn += !pos && y;
            c.tn += !pos && !y;
        }
        c.precision = ratio(c.tp, c.tp + c.fp);
        c.recall = ratio(c.tp, c.tp + c.fn);
        c.f1 = f1_of(c.precision, c.recall);
        TP += c.tp, FP += c.fp, FN += c.fn;
        if (out)
            out[j] = c;
    }
    if (micro_f1)
        *micro_f1 = f1_of(ratio(TP, TP + FP), ratio(TP, TP + FN));
    return DL_OK;
}

dl_status dl_interp_sweep(const dl_interp *it, float lo, float hi, int steps, dl_sweep_point *out,
                          int *best_acc, int *best_f1, dl_err *err)
{
    if (!it->multi)
        return dl_err_set(err, DL_EINVAL, "a threshold sweep needs multi-label predictions");
    if (steps < 1 || !(lo <= hi))
        return dl_err_set(err, DL_EINVAL,
                          "threshold sweep needs steps >= 1 and lo <= hi (got %d, %g..%g)", steps,
                          (double)lo, (double)hi);
    *best_acc = *best_f1 = 0;
    for (int s = 0; s < steps; s++) {
        float th = steps == 1 ? lo : (float)(lo + (double)(hi - lo) * s / (steps - 1));
        out[s].thresh = th;
        out[s].acc_multi =
            dl_metric_accuracy_multi(it->probs, it->targets, it->n, it->k, th, false);
        dl_interp_per_class(it, th, NULL, &out[s].micro_f1, NULL);
        if (out[s].acc_multi > out[*best_acc].acc_multi)
            *best_acc = s;
        if (out[s].micro_f1 > out[*best_f1].micro_f1)
            *best_f1 = s;
    }
    return DL_OK;
}
