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
        int first = imin[b] < imax[b] ? imin[b] : imax[b],
            second = imin[b] < imax[b] ? imax[b] : imin[b];
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

static void bin_start(dl_summary_bin *b, float x, float y, float z)
{
    b->x_lo = b->x_hi = x;
    b->y_lo = b->y_hi = y; /* NaN when y is not finite: any finite sample replaces it */
    b->z_sum = z;
    b->count = 1;
}

static void bin_add(dl_summary_bin *b, float x, float y)
{
    if (!isfinite(y))
        return;
    if (!(y >= b->y_lo)) /* also replaces a NaN */
        b->x_lo = x, b->y_lo = y;
    if (!(y <= b->y_hi))
        b->x_hi = x, b->y_hi = y;
}

/* a (earlier) absorbs b (later): its extremes, its count and its z sum */
static void bin_merge(dl_summary_bin *a, const dl_summary_bin *b)
{
    if (isfinite(b->y_lo))
        bin_add(a, b->x_lo, b->y_lo);
    if (isfinite(b->y_hi))
        bin_add(a, b->x_hi, b->y_hi);
    a->z_sum += b->z_sum;
    a->count += b->count;
}

int dl_summary_push(dl_series_summary *s, float x, float y, float z)
{
    if (!s->bins) {
        s->bins = malloc(sizeof *s->bins * DL_SUMMARY_BINS);
        if (!s->bins)
            return -1;
        s->n_bins = 0;
        s->per_bin = 1;
    }
    dl_summary_bin *last = s->n_bins ? &s->bins[s->n_bins - 1] : NULL;
    if (last && last->count < s->per_bin) {
        bin_add(last, x, y);
        last->z_sum += z;
        last->count++;
    } else {
        if (s->n_bins == DL_SUMMARY_BINS) { /* full: halve the resolution */
            for (int i = 0; i < DL_SUMMARY_BINS / 2; i++) {
                s->bins[i] = s->bins[2 * i];
                bin_merge(&s->bins[i], &s->bins[2 * i + 1]);
            }
            s->n_bins = DL_SUMMARY_BINS / 2;
            s->per_bin *= 2;
        }
        bin_start(&s->bins[s->n_bins++], x, y, z);
    }
    s->samples++;
    return 0;
}

void dl_summary_free(dl_series_summary *s)
{
    free(s->bins);
    s->bins = NULL;
    s->n_bins = 0;
    s->per_bin = 1;
    s->samples = 0;
}

int dl_summary_points(const dl_series_summary *s, float *ox, float *oy, float *oz)
{
    int m = 0;
    for (int i = 0; i < s->n_bins; i++) {
        const dl_summary_bin *b = &s->bins[i];
        const float z = (float)(b->z_sum / b->count);
        const int lo_first = !(b->x_hi < b->x_lo);
        ox[m] = lo_first ? b->x_lo : b->x_hi, oy[m] = lo_first ? b->y_lo : b->y_hi, oz[m++] = z;
        ox[m] = lo_first ? b->x_hi : b->x_lo, oy[m] = lo_first ? b->y_hi : b->y_lo, oz[m++] = z;
    }
    return m;
}
