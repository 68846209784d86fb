/* lrfind: the maths of fastai's learning-rate finder (docs/fastai.md §5), as pure functions the
 * learner's loop calls: the exponential sweep, the loss smoothing, the stop rule, the window the
 * suggesters look at, and the four suggesters (valley, steep, minimum, slide).
 *
 * The learner runs the batches: before batch i it sets every group's lr to dl_lrfind_lr(cfg, i);
 * after it, it feeds the batch loss to dl_lrfind_record, which smooths it, appends (lr, smoothed)
 * to the curve and says whether to stop (smoothed > 4 x best, a NaN/inf loss, or num_it points).
 *
 * Suggestions never crash: a window that is empty or too short for a suggester, NaN points (the
 * window is cut at the first non-finite loss, fastai #3476) and curves that diverged early
 * (fastai #3658) give ok = false with a reason. Deliberate differences from fastai, each visible:
 *   - valley: when the loss never decreases in the window fastai returns lrs[0]; dllab says
 *     "no suggestion". When fastai's index is -1 (longest decreasing run of 2 starting at 0) it
 *     wraps to the last point; dllab does the same, as fastai does.
 *   - slide needs at least lr_diff+1 = 16 points (fastai raises IndexError below that).
 *   - inf is treated like NaN when cutting the window (fastai only checks NaN). */
#ifndef DL_LRFIND_H
#define DL_LRFIND_H

#include <stdbool.h>

typedef struct dl_lrfind_cfg {
    double start_lr; /* 1e-7 */
    double end_lr;   /* 10 (never reached: the last lr is at i = num_it-1) */
    int num_it;      /* 100; values below 6 are raised to 6 as fastai does */
    bool stop_div;   /* true: stop when smoothed > 4 x best */
} dl_lrfind_cfg;

dl_lrfind_cfg dl_lrfind_defaults(void);
/* lr_i = start * (end/start)^(i/num_it). */
double dl_lrfind_lr(const dl_lrfind_cfg *cfg, int i);
/* Epochs the sweep needs with n_iter training batches per epoch: num_it / n_iter + 1. */
int dl_lrfind_epochs(const dl_lrfind_cfg *cfg, int n_iter);

/* fastai's AvgSmoothLoss: v <- 0.98 v + 0.02 loss; value = v / (1 - 0.98^count). */
typedef struct dl_smooth {
    double beta, v;
    long count;
} dl_smooth;

void dl_smooth_reset(dl_smooth *s); /* beta 0.98 */
double dl_smooth_add(dl_smooth *s, double loss);

/* The sweep's running record. lrs/losses are caller-provided arrays of max(num_it, 6) entries. */
typedef struct dl_lrfind_run {
    dl_lrfind_cfg cfg;
    dl_smooth smooth;
    double best;
    int n;                   /* points recorded */
    double *lrs;             /* [num_it], after raising it to 6 */
    double *losses;          /* [num_it] smoothed, same size */
    const char *stop_reason; /* static string once stopped, else NULL */
} dl_lrfind_run;

void dl_lrfind_begin(dl_lrfind_run *r, const dl_lrfind_cfg *cfg, double *lrs, double *losses);
/* Records the batch that ran at lr (the last group's) with raw loss; returns true when the
 * sweep must stop now (the diverging batch is recorded, as fastai does). */
bool dl_lrfind_record(dl_lrfind_run *r, double lr, double loss);

typedef enum dl_suggest_kind {
    DL_SUGGEST_VALLEY = 0,
    DL_SUGGEST_STEEP,
    DL_SUGGEST_MINIMUM,
    DL_SUGGEST_SLIDE,
    DL_SUGGEST_COUNT
} dl_suggest_kind;

typedef struct dl_suggestion {
    bool ok;
    double lr;        /* the suggested learning rate */
    double x, y;      /* the plot marker (lr, loss): always x == lr */
    int idx;          /* index in the window of the point nearest the marker */
    char reason[160]; /* why there is no suggestion (when !ok) */
} dl_suggestion;

const char *dl_suggest_name(dl_suggest_kind k); /* "valley", "steep", "minimum", "slide" */

/* The suggesters' window over a recorded curve of n points: [num_it/10, n-5) of the requested
 * num_it (Python slice semantics), then cut at the first non-finite loss. Sets *start and *len;
 * len may be 0. */
void dl_lrfind_window(const double *losses, int n, int num_it, int *start, int *len);

/* Each works on a window (lrs, losses of n points) as fastai's suggester of the same name. */
dl_suggestion dl_suggest_valley(const double *lrs, const double *losses, int n);
dl_suggestion dl_suggest_steep(const double *lrs, const double *losses, int n);
/* lr_min / 10; the marker (x, y, idx) is at that lr on the curve (y interpolated on log lr, idx
 * the nearest point), not at the lowest point, so it shows where the value it lists lies. */
dl_suggestion dl_suggest_minimum(const double *lrs, const double *losses, int n);
/* fastai defaults: lr_diff 15, thresh 0.005, adjust_value 1. */
dl_suggestion dl_suggest_slide(const double *lrs, const double *losses, int n, int lr_diff,
                               double thresh, double adjust_value);

/* Windows the recorded curve and runs all four (slide with its defaults); out[DL_SUGGEST_COUNT],
 * idx fields are made relative to the whole curve. */
void dl_lrfind_suggest_all(const double *lrs, const double *losses, int n, int num_it,
                           dl_suggestion out[DL_SUGGEST_COUNT]);

#endif
