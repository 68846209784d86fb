/* train-progress: the headless progress line (see train-progress.h). */
#include "src/train-progress.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fmt.h"

void dl_progress_line_init(dl_progress_line *p, FILE *out)
{
    p->out = out;
    p->tty = isatty(fileno(out)) != 0;
    p->shown = false;
    p->last_draw = 0;
}

void dl_progress_line_text(const dl_snapshot *sn, char *buf, size_t cap)
{
    char eta[16];
    dl_fmt_duration_text(sn->eta_s, eta, sizeof eta);
    if (sn->phase == DL_PHASE_VALID && sn->valid_batches > 0)
        snprintf(buf, cap, "  valid %d/%d  ETA %s", sn->valid_batch, sn->valid_batches, eta);
    else
        snprintf(buf, cap, "  batch %d/%d  loss %.4f  %.0f img/s  ETA %s", sn->batch + 1,
                 sn->n_batches, sn->smooth_loss, sn->images_per_s, eta);
}

void dl_progress_line_draw(dl_progress_line *p, const dl_snapshot *sn, bool force)
{
    /* a finished validation pass says nothing new until the next epoch (or the fit ends) */
    if (!p->tty || sn->n_batches <= 0 ||
        (sn->phase == DL_PHASE_VALID && sn->valid_batch >= sn->valid_batches))
        return;
    double now = dl_clock_now();
    if (!force && p->shown && now - p->last_draw < 0.2)
        return;
    char text[160];
    dl_progress_line_text(sn, text, sizeof text);
    if (p->shown && strcmp(text, p->last) == 0)
        return;
    snprintf(p->last, sizeof p->last, "%s", text);
    /* \033[K erases what a longer previous line left */
    fprintf(p->out, "\r%s\033[K", text);
    fflush(p->out);
    p->shown = true;
    p->last_draw = now;
}

void dl_progress_line_clear(dl_progress_line *p)
{
    if (!p->shown)
        return;
    fprintf(p->out, "\r\033[K");
    fflush(p->out);
    p->shown = false;
}
