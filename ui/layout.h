/* layout: where the panels of the training / run screen go, as a pure function of the terminal
 * size (unit-tested at 80x24 and 120x40, like nvtop's layout function). Wide terminals
 * (>= 120 columns) put the epoch table and event log beside the plot; narrower ones stack them
 * under it. Refuses sizes below 80x24 (returns -1; the app shows "terminal too small"). */
#ifndef DL_UI_LAYOUT_H
#define DL_UI_LAYOUT_H

#include "ui/grid.h"

typedef struct dl_train_layout {
    dl_rect header;   /* run name, data, arch, groups, lr, phase (2 rows) */
    dl_rect progress; /* epoch/batch bar, ETA, images/s (1 row) */
    dl_rect plot;     /* the loss plot */
    dl_rect sched;    /* lr / momentum schedule strip */
    dl_rect table;    /* fastai's epoch table */
    dl_rect events;   /* event log */
    dl_rect keys;     /* key hints (1 row) */
} dl_train_layout;

int dl_layout_train(int cols, int rows, dl_train_layout *out);
/* 1 when the rectangles a and b share a cell. */
int dl_rect_overlap(dl_rect a, dl_rect b);

#endif
