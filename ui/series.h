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

#endif
