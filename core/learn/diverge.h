/* diverge: telling a training loss that explodes from one that is merely noisy, before it becomes
 * NaN (docs/fastai.md §8.1). A NaN or infinite loss is caught by the learner itself; this watches
 * the finite smoothed loss of a fit.
 *
 * The rule: the smoothed loss has been above 4x the lowest smoothed loss of the fit (the LR
 * finder's stopping rule) and above the fit's first loss for DL_DIVERGE_PATIENCE batches in a
 * row, and is higher than when it crossed. The first-loss condition keeps a fit whose loss is
 * already tiny (best 0.02, a bump to 0.1) from counting as diverged: a diverging fit ends worse
 * than an untrained model. Pure arithmetic, no learner: a unit test feeds it numbers. */
#ifndef DL_DIVERGE_H
#define DL_DIVERGE_H

#include <stdbool.h>

#define DL_DIVERGE_FACTOR 4.0
#define DL_DIVERGE_PATIENCE 5

typedef struct dl_diverge {
    double first;   /* the fit's first smoothed loss (NAN until one is seen) */
    double best;    /* lowest smoothed loss since the fit began */
    double crossed; /* smoothed loss when the current run above the limit began */
    int above;      /* batches in a row above the limit */
} dl_diverge;

/* A new fit: forget everything. */
void dl_diverge_reset(dl_diverge *d);
/* After a restore of the weights: the run above the limit is over (best and first are kept). */
void dl_diverge_rearm(dl_diverge *d);
/* One batch's smoothed loss; true when the rule above says the fit diverged. */
bool dl_diverge_add(dl_diverge *d, double smoothed);
/* The loss is not climbing: weights taken now are a safe "last good" copy. */
bool dl_diverge_healthy(const dl_diverge *d);
/* "smoothed loss 1.2e+09 is above 4x its best 2.1 for 5 batches" (for the event log). */
void dl_diverge_why(const dl_diverge *d, double smoothed, char *buf, int cap);

#endif
