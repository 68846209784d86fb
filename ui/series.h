/* series: preparing a long series for a narrow plot. Min/max decimation keeps, per bucket, the
 * smallest and largest sample in their original order, so a one-batch loss spike survives any
 * zoom level (plain striding or averaging would erase it). Debiased EMA smoothing is fastai's
 * SmoothenValue / TensorBoard's: avg = b*avg + (1-b)*y, shown as avg / (1 - b^k) with k the
 * number of finite samples seen, so the first points are not dragged towards zero. Non-finite
 * samples are skipped (the smoothed value carries over). */
#ifndef DL_UI_SERIES_H
#define DL_UI_SERIES_H

/* out[i] = debiased EMA of y[0..i] with factor beta in [0,1). Before any finite sample out is
 * NaN. out may alias y. */
void dl_series_ema(const float *y, int n, double beta, float *out);

/* Reduces (x[i], y[i]), i < n, x increasing, to at most 2*buckets points: the whole x range is
 * cut into `buckets` equal-width bins, and each non-empty bin contributes its minimum and maximum
 * y (one point when they coincide), in index order. The first and last samples are always kept.
 * ox/oy must hold 2*buckets + 2 values. Returns the number of points written. When n <= 2*buckets
 * the series is copied unchanged. Non-finite y are dropped. Runs in one pass over the samples
 * (it is called on the whole history every frame); returns 0 when out of memory. */
int dl_series_decimate(const float *x, const float *y, int n, int buckets, float *ox, float *oy);

/* A downsampled history that costs the same to draw at 1 000 and 1 000 000 samples: bins of
 * `per_bin` consecutive samples (a power of two), each keeping its minimum and maximum y with their
 * x (so a spike survives) and the mean of z. When DL_SUMMARY_BINS bins are full, neighbours merge
 * pairwise and per_bin doubles: the top of a min/max/mean pyramid, O(1) amortised per sample.
 * Non-finite y are left out of min/max (a bin of only NaN yields NaN points). */
#define DL_SUMMARY_BINS 2048

typedef struct dl_summary_bin {
    float x_lo, y_lo, x_hi, y_hi; /* the minimum's and the maximum's sample */
    double z_sum;
    int count;
} dl_summary_bin;

typedef struct dl_series_summary {
    dl_summary_bin *bins; /* DL_SUMMARY_BINS, allocated at the first sample */
    int n_bins;           /* bins in use, the last one possibly open (count < per_bin) */
    int per_bin;
    long samples;
} dl_series_summary;

/* Adds one sample; returns -1 when out of memory (the summary then stays as it was). */
int dl_summary_push(dl_series_summary *s, float x, float y, float z);
void dl_summary_free(dl_series_summary *s);
/* Writes the summary as a series of 2 points per bin (its extremes in x order; z the bin's mean
 * z): ox/oy/oz hold 2 * DL_SUMMARY_BINS values. Returns the number of points. */
int dl_summary_points(const dl_series_summary *s, float *ox, float *oy, float *oz);

#endif
