/* train-progress: headless training's progress within an epoch. On a terminal one line (batch,
 * smoothed loss, img/s, ETA; the validation pass too) is redrawn in place with \r at most five
 * times a second and erased before the epoch's table row; without a terminal nothing is printed
 * per batch, so logs hold only fastai's table. */
#ifndef DL_TRAIN_PROGRESS_H
#define DL_TRAIN_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "core/learn/control.h"

typedef struct dl_progress_line {
    FILE *out;
    bool tty;         /* out is a terminal: draw; otherwise every call is a no-op */
    bool shown;       /* a line is on screen (erase it before printing anything else) */
    double last_draw; /* monotonic seconds of the last redraw */
    char last[160];   /* the text on screen: an unchanged one is not redrawn */
} dl_progress_line;

void dl_progress_line_init(dl_progress_line *p, FILE *out);
/* The text of the line for a snapshot, without \r: "  batch 30/63  loss 0.4512  812 img/s  ETA
 * 01:35" or "  valid 12/157  ETA 00:40". */
void dl_progress_line_text(const dl_snapshot *sn, char *buf, size_t cap);
/* Redraws the line (throttled unless force). */
void dl_progress_line_draw(dl_progress_line *p, const dl_snapshot *sn, bool force);
/* Erases the line, so a table row can be printed in its place. */
void dl_progress_line_clear(dl_progress_line *p);

#endif
