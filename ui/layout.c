/* layout: the training screen's panels as a function of the size (see layout.h). */
#include "ui/layout.h"

#include "ui/app.h"

int dl_rect_overlap(dl_rect a, dl_rect b)
{
    if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0)
        return 0;
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

int dl_layout_train(int cols, int rows, dl_train_layout *o)
{
    if (cols < DL_UI_MIN_COLS || rows < DL_UI_MIN_ROWS)
        return -1;
    o->header = (dl_rect){0, 0, cols, 2};
    o->progress = (dl_rect){0, 2, cols, 1};
    o->keys = (dl_rect){0, rows - 1, cols, 1};
    int top = 3, bottom = rows - 1; /* rows [top, bottom) are free */
    const int sched_h = 3;
    if (cols >= 120) {
        /* The right column fits the epoch table with one metric and the time (48 columns). */
        int right = cols / 3 > 48 ? cols / 3 : 48, left = cols - right - 1;
        o->plot = (dl_rect){0, top, left, bottom - top - sched_h};
        o->sched = (dl_rect){0, bottom - sched_h, left, sched_h};
        int table_h = (bottom - top) / 2;
        o->table = (dl_rect){left + 1, top, right, table_h};
        o->events = (dl_rect){left + 1, top + table_h, right, bottom - top - table_h};
    } else {
        /* The bottom band (table | events) takes a quarter of the height, at least 6 rows. */
        int band = (rows - 4) / 4;
        if (band < 6)
            band = 6;
        int plot_h = bottom - top - sched_h - band;
        o->plot = (dl_rect){0, top, cols, plot_h};
        o->sched = (dl_rect){0, top + plot_h, cols, sched_h};
        int half = cols / 2 + 7; /* the epoch table needs a little more than the events */
        o->table = (dl_rect){0, bottom - band, half, band};
        o->events = (dl_rect){half, bottom - band, cols - half, band};
    }
    return 0;
}
