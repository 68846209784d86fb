/* lrfind: the LR finder's sweep and suggestion maths; see lrfind.h. */
#include "core/lrfind/lrfind.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dl_lrfind_cfg dl_lrfind_defaults(void)
{
    return (dl_lrfind_cfg){.start_lr = 1e-7, .end_lr = 10.0, .num_it = 100, .stop_div = true};
}

static int num_it_of(const dl_lrfind_cfg *cfg) { return cfg->num_it < 6 ? 6 : cfg->num_it; }

double dl_lrfind_lr(const dl_lrfind_cfg *cfg, int i)
{
    return cfg->start_lr * pow(cfg->end_lr / cfg->start_lr, (double)i / num_it_of(cfg));
}

int dl_lrfind_epochs(const dl_lrfind_cfg *cfg, int n_iter)
{
    return n_iter > 0 ? num_it_of(cfg) / n_iter + 1 : 1;
}

void dl_smooth_reset(dl_smooth *s) { *s = (dl_smooth){.beta = 0.98, .v = 0, .count = 0}; }

double dl_smooth_add(dl_smooth *s, double loss)
{
    s->count++;
    s->v = s->beta * s->v + (1.0 - s->beta) * loss;
    return s->v / (1.0 - pow(s->beta, (double)s->count));
}

void dl_lrfind_begin(dl_lrfind_run *r, const dl_lrfind_cfg *cfg, double *lrs, double *losses)
{
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->cfg.num_it = num_it_of(cfg);
    dl_smooth_reset(&r->smooth);
    r->best = INFINITY;
    r->lrs = lrs;
    r->losses = losses;
}

bool dl_lrfind_record(dl_lrfind_run *r, double lr, double loss)
{
    if (r->stop_reason)
        return true;
    double sm = dl_smooth_add(&r->smooth, loss);
    r->lrs[r->n] = lr;
    r->losses[r->n] = sm;
    r->n++;
    if (sm < r->best)
        r->best = sm;
    if (!isfinite(sm))
        r->stop_reason = "the loss is not finite (diverged)";
    else if (r->cfg.stop_div && sm > 4.0 * r->best)
        r->stop_reason = "the smoothed loss exceeded 4x the best (diverged)";
    else if (r->n >= r->cfg.num_it)
        r->stop_reason = "all iterations done";
    return r->stop_reason != NULL;
}

const char *dl_suggest_name(dl_suggest_kind k)
{
    static const char *const names[] = {"valley", "steep", "minimum", "slide"};
    _Static_assert(sizeof names / sizeof *names == DL_SUGGEST_COUNT,
                   "suggestion names"); /* tripwire */
    return k >= 0 && k < DL_SUGGEST_COUNT ? names[k] : "?";
}

void dl_lrfind_window(const double *losses, int n, int num_it, int *start, int *len)
{
    int a = num_it / 10, b = n - 5;
    if (a > n)
        a = n;
    if (b < 0)
        b = 0;
    if (b < a)
        b = a;
    int k = a;
    while (k < b && isfinite(losses[k]))
        k++;
    *start = a;
    *len = k - a;
}

static dl_suggestion none(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static dl_suggestion none(const char *fmt, ...)
{
    dl_suggestion s = {.ok = false, .idx = -1};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s.reason, sizeof s.reason, fmt, ap);
    va_end(ap);
    return s;
}

static dl_suggestion at(const double *lrs, const double *losses, int idx, double lr)
{
    return (dl_suggestion){.ok = true, .lr = lr, .x = lrs[idx], .y = losses[idx], .idx = idx};
}

static bool bad_lrs(const double *lrs, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(lrs[i]) || lrs[i] <= 0)
            return true;
    return false;
}

dl_suggestion dl_suggest_valley(const double *lrs, const double *losses, int n)
{
    if (n < 2)
        return none("curve too short: %d point(s) in the window, valley needs 2", n);
    int *lds = malloc((size_t)n * sizeof *lds);
    if (!lds)
        return none("out of memory for %d points", n);
    int max_start = 0, max_end = 0;
    for (int i = 0; i < n; i++)
        lds[i] = 1;
    /* Longest strictly decreasing subsequence ending at i; the first index reaching the maximum. */
    for (int i = 1; i < n; i++) {
        for (int j = 0; j < i; j++)
            if (losses[i] < losses[j] && lds[i] < lds[j] + 1)
                lds[i] = lds[j] + 1;
        if (lds[max_end] < lds[i]) {
            max_end = i;
            max_start = max_end - lds[max_end]; /* fastai's off-by-one: can be -1 */
        }
    }
    int longest = lds[max_end];
    free(lds);
    if (longest < 2)
        return none("the loss never decreases in the window (%d points)", n);
    int span = max_end - max_start;
    /* int(sections) + int(sections/2) with sections = span/3 (both >= 0, so truncation = floor) */
    int idx = max_start + (int)(span / 3.0) + (int)(span / 3.0 / 2.0);
    if (idx < 0)
        idx += n; /* Python's negative index, as fastai */
    return at(lrs, losses, idx, lrs[idx]);
}

dl_suggestion dl_suggest_steep(const double *lrs, const double *losses, int n)
{
    if (n < 2)
        return none("curve too short: %d point(s) in the window, steep needs 2", n);
    if (bad_lrs(lrs, n))
        return none("learning rates must be > 0 (%d points)", n);
    int best = 0;
    double best_s = INFINITY;
    for (int i = 0; i + 1 < n; i++) {
        double s = (losses[i + 1] - losses[i]) / (log(lrs[i + 1]) - log(lrs[i]));
        if (s < best_s) {
            best_s = s;
            best = i;
        }
    }
    if (!(best_s < INFINITY))
        return none("no finite slope in the window (%d points)", n);
    return at(lrs, losses, best, lrs[best]);
}

/* np.interp(x, xs, ys) for increasing xs, clamped at both ends. */
static double interp(double x, const double *xs, const double *ys, int n)
{
    if (x <= xs[0])
        return ys[0];
    if (x >= xs[n - 1])
        return ys[n - 1];
    int k = 0;
    while (k + 1 < n && xs[k + 1] < x)
        k++;
    double t = (x - xs[k]) / (xs[k + 1] - xs[k]);
    return ys[k] + t * (ys[k + 1] - ys[k]);
}

/* The loss on the curve at lr (interpolated on log lr) and the index of the nearest point. */
static void on_curve(const double *lrs, const double *losses, int n, double lr, double *y, int *idx)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (fabs(log(lrs[i] / lr)) < fabs(log(lrs[best] / lr)))
            best = i;
    *idx = best;
    if (n < 2) {
        *y = losses[0];
        return;
    }
    double *loglr = malloc((size_t)n * sizeof *loglr);
    if (!loglr) {
        *y = losses[best];
        return;
    }
    for (int i = 0; i < n; i++)
        loglr[i] = log10(lrs[i]);
    *y = interp(log10(lr), loglr, losses, n);
    free(loglr);
}

dl_suggestion dl_suggest_minimum(const double *lrs, const double *losses, int n)
{
    if (n < 1)
        return none("curve too short: %d points in the window, minimum needs 1", n);
    if (bad_lrs(lrs, n))
        return none("learning rates must be > 0 (%d points)", n);
    int best = 0;
    for (int i = 1; i < n; i++)
        if (losses[i] < losses[best])
            best = i;
    /* The marker sits at the lr it suggests (a tenth of the lowest-loss lr), not at the lowest
     * point: a marker that reads 10x its listed value is what confused users. */
    dl_suggestion s = {.ok = true, .lr = lrs[best] / 10.0};
    s.x = s.lr;
    on_curve(lrs, losses, n, s.lr, &s.y, &s.idx);
    return s;
}

dl_suggestion dl_suggest_slide(const double *lrs, const double *losses, int n, int lr_diff,
                               double thresh, double adjust_value)
{
    if (lr_diff < 1)
        return none("slide: lr_diff %d must be >= 1", lr_diff);
    if (n < lr_diff + 1)
        return none("curve too short: %d points in the window, slide needs %d", n, lr_diff + 1);
    if (bad_lrs(lrs, n))
        return none("learning rates must be > 0 (%d points)", n);
    double *g = malloc((size_t)n * 2 * sizeof *g);
    if (!g)
        return none("out of memory for %d points", n);
    double *loglr = g + n;
    /* np.gradient with unit spacing: one-sided at the ends, central inside. */
    g[0] = losses[1] - losses[0];
    g[n - 1] = losses[n - 1] - losses[n - 2];
    for (int i = 1; i + 1 < n; i++)
        g[i] = (losses[i + 1] - losses[i - 1]) / 2.0;
    int r = n - 1, l = r - lr_diff, cand = l;
    while (l >= 0 && fabs(g[r] - g[l]) > thresh) {
        cand = l;
        r--;
        l--;
    }
    double lr = lrs[cand] * adjust_value;
    for (int i = 0; i < n; i++)
        loglr[i] = log10(lrs[i]);
    dl_suggestion s = {.ok = true, .lr = lr, .x = lr, .idx = cand};
    s.y = interp(log10(lr), loglr, losses, n);
    free(g);
    return s;
}

void dl_lrfind_suggest_all(const double *lrs, const double *losses, int n, int num_it,
                           dl_suggestion out[DL_SUGGEST_COUNT])
{
    int a, len;
    dl_lrfind_window(losses, n, num_it, &a, &len);
    out[DL_SUGGEST_VALLEY] = dl_suggest_valley(lrs + a, losses + a, len);
    out[DL_SUGGEST_STEEP] = dl_suggest_steep(lrs + a, losses + a, len);
    out[DL_SUGGEST_MINIMUM] = dl_suggest_minimum(lrs + a, losses + a, len);
    out[DL_SUGGEST_SLIDE] = dl_suggest_slide(lrs + a, losses + a, len, 15, 0.005, 1.0);
    /* Say why a window is short: a non-finite loss cut it, or the sweep stopped early. */
    int end = n - 5 > a ? n - 5 : a;
    char why[96] = "";
    if (a + len < end)
        snprintf(why, sizeof why, "; the loss is not finite from point %d", a + len);
    else if (n < num_it)
        snprintf(why, sizeof why, "; the sweep stopped after %d of %d points", n, num_it);
    for (int k = 0; k < DL_SUGGEST_COUNT; k++) {
        if (out[k].ok) {
            out[k].idx += a;
        } else {
            size_t used = strlen(out[k].reason);
            snprintf(out[k].reason + used, sizeof out[k].reason - used, "%s", why);
        }
    }
}
