/* axes: tick selection and value<->position mapping for plot axes. Linear axes use Heckbert's
 * "nice numbers" (steps of 1, 2 or 5 times a power of ten); log axes put ticks at decades, and
 * at 2x and 5x when the range spans fewer than two decades (the LR finder's log-x axis).
 * A log axis refuses non-positive bounds (dl_axis_set returns -1). */
#ifndef DL_UI_AXES_H
#define DL_UI_AXES_H

#include <stddef.h>

typedef struct dl_axis {
    double lo, hi; /* data range shown; lo < hi */
    int log;       /* 1: base-10 logarithmic */
} dl_axis;

#define DL_AXIS_MAX_TICKS 32

/* Sets a range; widens a degenerate one (lo == hi) to something drawable. Returns 0, or -1
 * when the bounds are not finite or (log) not positive. */
int dl_axis_set(dl_axis *a, double lo, double hi, int log);
/* Fits the axis to finite values of v (and positive ones for log), then rounds the ends outward
 * to nice numbers (linear) or 1-2-5 values (log) when `nice`. Returns -1 when nothing fits. */
int dl_axis_fit(dl_axis *a, const float *v, size_t n, int log, int nice);
/* Extends the axis to include the finite values of v (no rounding). */
void dl_axis_include(dl_axis *a, const float *v, size_t n);
/* Maps value v to a position in [p0, p1] (p0 for lo, p1 for hi; pass p0 > p1 to flip).
 * Non-positive values on a log axis map to NaN. */
double dl_axis_map(const dl_axis *a, double v, double p0, double p1);
/* Inverse of dl_axis_map. */
double dl_axis_unmap(const dl_axis *a, double p, double p0, double p1);

/* A nice step for about `target` intervals over [lo, hi]. */
double dl_nice_step(double lo, double hi, int target);
/* Ticks inside [lo, hi]: at most `max` (and DL_AXIS_MAX_TICKS), ascending. Returns the count. */
int dl_axis_ticks(const dl_axis *a, int max, double *ticks);
/* Formats a tick: linear with as many decimals as step needs ("0.25", "1200", "1.5e-05" for tiny
 * or huge), log as "1e-3"/"2e-3" (or "1", "10", "100" between 1e-2 and 1e4). */
void dl_axis_label(const dl_axis *a, double v, double step, char *buf, size_t n);

#endif
