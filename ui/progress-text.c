/* progress-text: the right-hand side of the dashboard's progress bar, and how full the bar is.
 * Training: "batch 30/50  ETA 01:35  812 img/s". Validation: "valid 35/157  ETA 00:40" (a pass
 * over 10 000 images takes minutes on a CPU). Paused, the ETA and img/s stand still (the
 * learner's clock leaves pauses out). A fit that has ended shows no ETA at all. */
#include <stdbool.h>
#include <stdio.h>

#include "ui/screens.h"

double dl_progress_right(const dl_snapshot *sn, char *buf, int cap)
{
    char eta[16];
    dl_fmt_duration(sn->eta_s, eta, sizeof eta);
    double frac = 0;
    if (sn->phase == DL_PHASE_VALID && sn->valid_batches > 0) {
        snprintf(buf, (size_t)cap, " valid %d/%d  ETA %s  %.0f img/s", sn->valid_batch,
                 sn->valid_batches, eta, sn->images_per_s);
        frac = (double)sn->valid_batch / sn->valid_batches;
    } else {
        bool live = sn->phase == DL_PHASE_TRAIN || sn->phase == DL_PHASE_VALID ||
                    sn->phase == DL_PHASE_PAUSED || sn->phase == DL_PHASE_LRFIND;
        /* once the fit has ended the time left is no longer a question, and a saved run has
         * no throughput to show (0 img/s would read as a stalled run) */
        int k = snprintf(buf, (size_t)cap, " batch %d/%d", sn->n_batches ? sn->batch + 1 : 0,
                         sn->n_batches);
        if (live && k < cap)
            k += snprintf(buf + k, (size_t)(cap - k), "  ETA %s", eta);
        if ((live || sn->images_per_s > 0) && k < cap)
            snprintf(buf + k, (size_t)(cap - k), "  %.0f img/s", sn->images_per_s);
        frac = sn->n_batches > 0 ? (double)(sn->batch + 1) / sn->n_batches : 0;
    }
    return frac > 1 ? 1 : frac < 0 ? 0 : frac;
}
