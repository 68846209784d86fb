/* diverge: the exploding-loss rule (see diverge.h). */
#include "core/learn/diverge.h"

#include <math.h>
#include <stdio.h>

void dl_diverge_reset(dl_diverge *d)
{
    d->first = NAN;
    d->best = INFINITY;
    d->crossed = NAN;
    d->above = 0;
}

void dl_diverge_rearm(dl_diverge *d)
{
    d->above = 0;
    d->crossed = NAN;
}

bool dl_diverge_add(dl_diverge *d, double s)
{
    if (!isfinite(s))
        return false; /* NaN/inf is the learner's own check */
    if (isnan(d->first))
        d->first = s;
    if (s < d->best)
        d->best = s;
    if (!(s > DL_DIVERGE_FACTOR * d->best && s > d->first)) {
        dl_diverge_rearm(d);
        return false;
    }
    if (d->above++ == 0)
        d->crossed = s;
    return d->above >= DL_DIVERGE_PATIENCE && s > d->crossed;
}

bool dl_diverge_healthy(const dl_diverge *d) { return d->above == 0; }

void dl_diverge_why(const dl_diverge *d, double s, char *buf, int cap)
{
    snprintf(buf, (size_t)cap, "smoothed loss %.4g is above %gx its best %.4g for %d batches", s,
             DL_DIVERGE_FACTOR, d->best, d->above);
}
