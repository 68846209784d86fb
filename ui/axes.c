/* axes: nice ticks, log scaling and tick labels (see axes.h). */
#include "ui/axes.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int dl_axis_set(dl_axis *a, double lo, double hi, int log)
{
    if (!isfinite(lo) || !isfinite(hi) || (log && (lo <= 0 || hi <= 0)))
        return -1;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (lo == hi) {
        if (log) {
            lo /= 2;
            hi *= 2;
        } else {
            double d = lo == 0 ? 1 : fabs(lo) * 0.1;
            lo -= d;
            hi += d;
        }
    }
    a->lo = lo;
    a->hi = hi;
    a->log = log;
    return 0;
}

double dl_nice_step(double lo, double hi, int target)
{
    double range = hi - lo;
    if (!(range > 0) || target < 1)
        return 1;
    double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return nice * mag;
}

void dl_axis_include(dl_axis *a, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]) || (a->log && v[i] <= 0))
            continue;
        if (v[i] < a->lo)
            a->lo = v[i];
        if (v[i] > a->hi)
            a->hi = v[i];
    }
}

/* The nearest value of the 1, 2, 5 x 10^k series at or below (dir < 0) or above (dir > 0) v > 0. */
static double nice125(double v, int dir)
{
    static const double m[] = {1, 2, 5, 10};
    double d = pow(10, floor(log10(v) + 1e-9));
    if (dir < 0) {
        for (int i = 3; i >= 0; i--)
            if (m[i] * d <= v * (1 + 1e-9))
                return m[i] * d;
        return d;
    }
    for (int i = 0; i < 4; i++)
        if (m[i] * d >= v * (1 - 1e-9))
            return m[i] * d;
    return 10 * d;
}

int dl_axis_fit(dl_axis *a, const float *v, size_t n, int log, int nice)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]) || (log && v[i] <= 0))
            continue;
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    if (!(lo <= hi))
        return -1;
    if (dl_axis_set(a, lo, hi, log) != 0)
        return -1;
    if (nice) {
        if (log) {
            /* Out to the next 1-2-5 value, not the next decade: a loss from 1.3 to 4.5 gets 1..5,
             * not 1..10 with the curve squeezed into a third of the rows. */
            a->lo = nice125(a->lo, -1);
            a->hi = nice125(a->hi, +1);
            if (a->lo >= a->hi)
                a->hi = nice125(a->hi * 1.01, +1);
        } else {
            double step = dl_nice_step(a->lo, a->hi, 5);
            a->lo = floor(a->lo / step + 1e-9) * step;
            a->hi = ceil(a->hi / step - 1e-9) * step;
        }
    }
    return 0;
}

double dl_axis_map(const dl_axis *a, double v, double p0, double p1)
{
    double t;
    if (a->log) {
        if (!(v > 0))
            return NAN;
        t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    } else {
        t = (v - a->lo) / (a->hi - a->lo);
    }
    return p0 + t * (p1 - p0);
}

double dl_axis_unmap(const dl_axis *a, double p, double p0, double p1)
{
    double t = (p - p0) / (p1 - p0);
    if (a->log)
        return pow(10, log10(a->lo) + t * (log10(a->hi) - log10(a->lo)));
    return a->lo + t * (a->hi - a->lo);
}

static int in_range(const dl_axis *a, double v)
{
    /* Axis ends often come from float data: allow float rounding. */
    double eps = (a->log ? v : (a->hi - a->lo)) * 1e-6;
    return v >= a->lo - eps && v <= a->hi + eps;
}

int dl_axis_ticks(const dl_axis *a, int max, double *ticks)
{
    if (max > DL_AXIS_MAX_TICKS)
        max = DL_AXIS_MAX_TICKS;
    if (max < 1)
        return 0;
    int n = 0;
    if (a->log) {
        int d0 = (int)floor(log10(a->lo) + 1e-9), d1 = (int)ceil(log10(a->hi) - 1e-9);
        int decades = d1 - d0;
        /* Thin out decades when there are more than max of them. */
        int every = 1;
        while ((decades / every) + 1 > max)
            every++;
        static const double sub[] = {1, 2, 5};
        /* Under two decades of span, decade ticks alone are too few: add 2x and 5x. */
        int nsub = log10(a->hi) - log10(a->lo) < 2 ? 3 : 1;
        for (int d = d0; d <= d1; d++) {
            if ((d - d0) % every)
                continue;
            for (int s = 0; s < nsub; s++) {
                double v = sub[s] * pow(10, d);
                if (in_range(a, v) && n < max)
                    ticks[n++] = v;
            }
        }
        return n;
    }
    for (int target = max; target >= 1; target--) {
        double step = dl_nice_step(a->lo, a->hi, target);
        double first = ceil(a->lo / step - 1e-9) * step;
        int count = (int)floor((a->hi - first) / step + 1e-9) + 1;
        if (count > max)
            continue;
        for (n = 0; n < count; n++) {
            double v = first + n * step;
            ticks[n] = fabs(v) < step * 1e-9 ? 0 : v;
        }
        return n;
    }
    return 0;
}

void dl_axis_label(const dl_axis *a, double v, double step, char *buf, size_t n)
{
    if (a->log) {
        int e = (int)floor(log10(v) + 1e-9);
        double m = v / pow(10, e);
        int mi = (int)lround(m);
        if (e >= -2 && e <= 3)
            snprintf(buf, n, "%g", mi * pow(10, e));
        else
            snprintf(buf, n, "%de%d", mi, e);
        return;
    }
    double av = fabs(v);
    if (v == 0) {
        snprintf(buf, n, "0");
        return;
    }
    if (av >= 1e6 || av < 1e-4 || step < 1e-4) {
        snprintf(buf, n, "%.2g", v);
        return;
    }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    /* A step like 0.25 needs one more decimal than its magnitude says. */
    double scaled = step * pow(10, dec);
    if (fabs(scaled - round(scaled)) > 1e-6)
        dec++;
    snprintf(buf, n, "%.*f", dec, v);
}
