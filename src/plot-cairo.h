/* plot-cairo: publication-quality figures drawn with cairo into PNG or SVG files: a line chart
 * (lines and/or markers, linear or log axes with "nice" ticks and labels, optional vertical
 * marker lines, a legend) and a heat map (cells with their values, class names, a colour bar).
 * Lives in src/ so core never links cairo. Refuses sizes outside 160x120..8000x8000, charts with
 * no finite point, log axes with no positive value, and file names that are neither .png nor
 * .svg when the format is taken from the name. */
#ifndef DL_PLOT_CAIRO_H
#define DL_PLOT_CAIRO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define DL_PC_MAX_LINES 64
#define DL_PC_MAX_VLINES 8

typedef enum dl_pc_format { DL_PC_PNG = 0, DL_PC_SVG } dl_pc_format;

typedef struct dl_pc_line {
    const char *label; /* legend text; NULL leaves it out of the legend */
    const double *x,
        *y; /* n points; non-finite (and, on log axes, non-positive) ones are skipped */
    size_t n;
    int color;    /* palette index (tab10 colours, cycled) */
    double alpha; /* 0 = opaque */
    double width; /* line width in px, 0 = 2 */
    bool dashed;
    bool markers;      /* a dot at every point */
    bool no_line;      /* markers only */
    bool bars;         /* a bar from 0 to y at every x (grouped bars: shift each by bar_offset) */
    double bar_offset; /* in x units */
    double bar_width;  /* in x units */
} dl_pc_line;

typedef struct dl_pc_vline {
    double x;
    const char *label;
    int color;
} dl_pc_vline;

typedef struct dl_pc_chart {
    const char *title, *xlabel, *ylabel;
    bool xlog, ylog;
    dl_pc_line lines[DL_PC_MAX_LINES];
    int nlines;
    dl_pc_vline vlines[DL_PC_MAX_VLINES];
    int nvlines;
    const char *const *cats; /* ncats > 0: x is categorical, x = 0..ncats-1 labelled cats[x] */
    int ncats;
    bool fixed_y; /* y from ylo to yhi instead of fitting the data */
    double ylo, yhi;
} dl_pc_chart;

/* Ticks for [lo, hi]: linear 1/2/5 x 10^k steps, about `want` of them; log: every decade (or
 * every k-th when there are many) over three decades or more, 1-2-5 steps below that, and linear
 * ticks when even those give fewer than three. Returns the count (<= cap). */
int dl_pc_ticks(double lo, double hi, bool log, int want, double *ticks, int cap);
/* A tick label: "0.5", "1e-3", "2e-5", "100". */
void dl_pc_tick_label(double v, bool log, double step, char *buf, size_t cap);

/* Draws the chart into a w x h file. The legend takes the corner that hides no vertical-line
 * label and the fewest points; markers on the border are drawn whole. */
dl_status dl_pc_chart_write(const dl_pc_chart *c, dl_pc_format fmt, const char *path, int w, int h,
                            dl_err *err);
/* n (1..4) charts in one file: side by side, or one above the other when stacked. */
dl_status dl_pc_charts_write(const dl_pc_chart *const *cs, int n, bool stacked, dl_pc_format fmt,
                             const char *path, int w, int h, dl_err *err);

/* A k x k heat map of m (row-major; rows = actual, columns = predicted) with the counts written
 * in the cells, names (k, may be NULL) on both axes and a colour bar from 0 to max. */
dl_status dl_pc_heatmap_write(const char *title, const double *m, int k, const char *const *names,
                              dl_pc_format fmt, const char *path, int w, int h, dl_err *err);

/* The tab10 colour of a palette index, as 0..1 RGB. */
void dl_pc_color(int idx, double rgb[3]);

#endif
