/* series: debiased EMA and min/max decimation (see series.h). */
#include "ui/series.h"

#include <math.h>

void dl_series_ema(const float *y, int n, double beta, float *out)
{
    double avg = 0, pw = 1;
    int seen = 0;
    for (int i = 0; i < n; i++) {
        float v = y[i];
        if (isfinite(v)) {
            avg = beta * avg + (1 - beta) * v;
            pw *= beta;
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
    int i = 0;
    for (int b = 0; b < buckets && i < n; b++) {
        double hi = b == buckets - 1 ? INFINITY : x0 + span * (b + 1) / buckets;
        int imin = -1, imax = -1;
        for (; i < n && (x[i] < hi || b == buckets - 1); i++) {
            if (!isfinite(y[i]))
                continue;
            if (imin < 0 || y[i] < y[imin])
                imin = i;
            if (imax < 0 || y[i] > y[imax])
                imax = i;
        }
        if (imin < 0)
            continue;
        int first = imin < imax ? imin : imax, second = imin < imax ? imax : imin;
        ox[m] = x[first];
        oy[m++] = y[first];
        if (second != first) {
            ox[m] = x[second];
            oy[m++] = y[second];
        }
    }
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
