/* plot: a line-plot widget. It draws series given as plain arrays (never learner structs) into
 * a rectangle of a dl_grid: y tick labels on the left, a braille canvas, an x axis with ticks
 * and labels, a title and a legend. Series may be smoothed (debiased EMA, factor `beta`) and are
 * min/max decimated to the canvas width first, so spikes stay visible. Markers are vertical lines
 * at an x (the LR finder's suggestions), the cursor is one more, drawn last. Toggles: x by step
 * or by epoch (x values divided by steps_per_epoch), y linear or log (non-positive values are
 * dropped on a log axis). Refuses to draw (only writes "plot too small") below 20x6 cells. */
#ifndef DL_UI_PLOT_H
#define DL_UI_PLOT_H

#include "ui/axes.h"
#include "ui/grid.h"

enum { DL_PLOT_LINE = 0, DL_PLOT_POINTS = 1, DL_PLOT_LINE_POINTS = 2 };

typedef struct dl_plot_series {
    const char *name; /* legend text; NULL leaves it out of the legend */
    const float *x;   /* n values, increasing (steps, or lr for the LR finder) */
    const float *y;   /* n values */
    int n;
    int role;      /* dl_role colour */
    unsigned attr; /* e.g. DL_ATTR_DIM for raw train loss */
    int style;     /* DL_PLOT_* */
    int smooth;    /* 1: draw the debiased EMA of y with the plot's beta */
} dl_plot_series;

typedef struct dl_plot_marker {
    double x;
    int role;
    char glyph; /* on a row of its own above the canvas (never under the legend), e.g. v */
} dl_plot_marker;

#define DL_PLOT_MAX_SERIES 8
#define DL_PLOT_MAX_MARKERS 8

typedef struct dl_plot {
    const char *title;
    const char *xlabel;     /* "step" by default ("epoch" when x_epochs) */
    int xlog, ylog;         /* log scales */
    int x_epochs;           /* 1: x shown in epochs */
    double steps_per_epoch; /* divisor for x_epochs (> 0) */
    double beta;            /* EMA factor for smoothed series; fastai uses 0.98 */
    int ascii;              /* ASCII rendering (no braille, no box drawing) */
    int legend;             /* draw the legend on the title row */
    dl_plot_series series[DL_PLOT_MAX_SERIES];
    int nseries;
    dl_plot_marker markers[DL_PLOT_MAX_MARKERS];
    int nmarkers;
    int has_cursor;
    double cursor_x;
    int fixed_y; /* 1: use ylo/yhi instead of fitting */
    double ylo, yhi;
} dl_plot;

/* Fills p with defaults: beta 0.98, legend on, linear axes, step x. */
void dl_plot_init(dl_plot *p, const char *title);
/* Appends a series; returns its index or -1 when full. */
int dl_plot_add(dl_plot *p, dl_plot_series s);
int dl_plot_add_marker(dl_plot *p, double x, int role, char glyph);

/* What a draw chose, so a screen can place a cursor or label by value. */
typedef struct dl_plot_frame {
    dl_axis xaxis, yaxis;
    dl_rect canvas; /* cells holding the braille canvas */
    int ok;         /* 0 when nothing could be drawn (too small, no data) */
} dl_plot_frame;

/* Draws p into r of g. frame (may be NULL) receives the axes and canvas placement. Returns 0,
 * or -1 when out of memory. */
int dl_plot_draw(const dl_plot *p, dl_grid *g, dl_rect r, dl_plot_frame *frame);

#endif
