/* interp: classification interpretation on a fixed set of predictions (fastai's
 * ClassificationInterpretation). Built once from the validation logits and targets:
 *   single-label: confusion matrix (rows actual, columns predicted = argmax, vocab order),
 *                 most_confused(min_val) (off-diagonal counts >= min_val, count descending, ties in
 *                 row-major order), top losses (item, actual, predicted, prob of the predicted
 * class, per-item cross-entropy); multi-label:  per-class TP/FP/FN/TN, precision/recall/F1 at a
 * threshold (0 when undefined, as sklearn), micro-F1, and a threshold sweep reporting the best
 * accuracy_multi and the best micro-F1; top losses use the per-item BCE averaged over classes. It
 * refuses targets out of range (naming the item) and asks of a single-label interpretation only
 * single-label figures (and vice versa). */
#ifndef DL_INTERP_H
#define DL_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct dl_interp {
    int n, k;
    bool multi;
    float *probs;    /* (n, k): softmax (single-label) or sigmoid (multi-label) */
    float *losses;   /* (n) per-item loss */
    int32_t *actual; /* (n) single-label targets; NULL for multi-label */
    int32_t *pred;   /* (n) argmax; NULL for multi-label */
    float *targets;  /* (n, k) 0/1 multi-label targets; NULL for single-label */
} dl_interp;

/* Builds from logits (n, k). Pass actual (n) for single-label or targets (n, k) for multi-label. */
dl_status dl_interp_init(dl_interp *it, const float *logits, const int32_t *actual,
                         const float *targets, int n, int k, dl_err *err);
void dl_interp_clear(dl_interp *it);

/* cm (k, k) = counts, rows actual, columns predicted. Single-label only. */
dl_status dl_interp_confusion(const dl_interp *it, int64_t *cm, dl_err *err);

typedef struct dl_confused {
    int actual, predicted;
    int64_t count;
} dl_confused;
/* Writes up to cap pairs to out and returns how many pairs qualify (may exceed cap). */
size_t dl_interp_most_confused(const dl_interp *it, int64_t min_val, dl_confused *out, size_t cap);

typedef struct dl_top_loss {
    int64_t item;          /* index into the validation set */
    int actual, predicted; /* single-label; -1 for multi-label */
    float prob;            /* probability of the predicted class (fastai's plot_top_losses) */
    float loss;
} dl_top_loss;
/* The k largest (or smallest) per-item losses, ties by item index; returns how many written. */
size_t dl_interp_top_losses(const dl_interp *it, size_t k, bool largest, dl_top_loss *out);

typedef struct dl_class_prf {
    int64_t tp, fp, fn, tn;
    double precision, recall, f1;
} dl_class_prf;
/* Multi-label only: per-class figures at thresh (prob > thresh is positive) into out (k);
 * *micro_f1 (may be NULL) pools the counts over classes. */
dl_status dl_interp_per_class(const dl_interp *it, float thresh, dl_class_prf *out,
                              double *micro_f1, dl_err *err);

typedef struct dl_sweep_point {
    float thresh;
    double acc_multi, micro_f1;
} dl_sweep_point;
/* Multi-label only: steps thresholds linspace(lo, hi) into out (steps); *best_acc and *best_f1
 * receive the index of the first maximum of each. fastbook sweeps 29 values in [0.05, 0.95]. */
dl_status dl_interp_sweep(const dl_interp *it, float lo, float hi, int steps, dl_sweep_point *out,
                          int *best_acc, int *best_f1, dl_err *err);

#endif
