/* series: debiased EMA and min/max decimation (see series.h). */
#include "ui/series.h"

#include <math.h>
#include <stdlib.h>

void dl_series_ema(const float *y, int n, double beta, float *out)
{
    double avg = 0, pw = 1;
    int seen = 0;
    for (int i = 0; i < n; i++) {
        float v = y[i];
        if (isfinite(v)) {
            avg = beta * avg + (1 - beta) * v;
            /* beta^k underflows into denormals after a few ten thousand steps, where every
             * multiply is ~100x slower; the bias correction is exactly 1 long before that. */
            pw = pw > 1e-20 ? pw * beta : 0;
            seen = 1;
        }
        out[i] = seen ? (float)(avg / (1 - pw)) : NAN;
    }
}

int dl_series_decimate(const float *x, const float *y, int n, int buckets, float *ox, float *oy)
{
    int m = 0;
    if (n <= 0 || buckets <= 0)
        return 0;
    if (n <= 2 * buckets) {
        for (int i = 0; i < n; i++)
            if (isfinite(y[i])) {
                ox[m] = x[i];
                oy[m++] = y[i];
            }
        return m;
    }
    double x0 = x[0], x1 = x[n - 1], span = x1 - x0;
    double scale = span > 0 ? buckets / span : 0;
    /* One pass: each sample lands in its bin by arithmetic, so the cost is a few ns per sample
     * (this runs over the whole history every frame). */
    int *imin = malloc(sizeof(int) * 2 * (size_t)buckets);
    if (!imin)
        return 0;
    int *imax = imin + buckets;
    for (int b = 0; b < buckets; b++)
        imin[b] = imax[b] = -1;
    for (int i = 0; i < n; i++) {
        float v = y[i];
        if (!isfinite(v))
            continue;
        int b = (int)((x[i] - x0) * scale);
        b = b < 0 ? 0 : b >= buckets ? buckets - 1 : b;
        if (imin[b] < 0) {
            imin[b] = imax[b] = i;
            continue;
        }
        if (v < y[imin[b]])
            imin[b] = i;
        if (v > y[imax[b]])
            imax[b] = i;
    }
    for (int b = 0; b < buckets; b++) {
        if (imin[b] < 0)
            continue;
        int first = imin[b] < imax[b] ? imin[b] : imax[b], second = imin[b] < imax[b] ? imax[b] : imin[b];
        ox[m] = x[first];
        oy[m++] = y[first];
        if (second != first) {
            ox[m] = x[second];
            oy[m++] = y[second];
        }
    }
    free(imin);
    /* Keep the end points so the curve spans the whole range. */
    if (m > 0 && isfinite(y[0]) && ox[0] != x[0]) {
        for (int k = m; k > 0; k--) {
            ox[k] = ox[k - 1];
            oy[k] = oy[k - 1];
        }
        ox[0] = x[0];
        oy[0] = y[0];
        m++;
    }
    if (m > 0 && isfinite(y[n - 1]) && ox[m - 1] != x[n - 1]) {
        ox[m] = x[n - 1];
        oy[m++] = y[n - 1];
    }
    return m;
}
