/* plot-cairo: line charts and heat maps with cairo (see src/plot-cairo.h). Text uses cairo's
 * toy font API with "DejaVu Sans" (fontconfig falls back to any sans). Coordinates: a margin
 * box around the data area, data mapped linearly or by log10. */
#include "src/plot-cairo.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"

static const unsigned palette[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                     0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

void dl_pc_color(int idx, double rgb[3])
{
    unsigned c = palette[((idx % 10) + 10) % 10];
    rgb[0] = ((c >> 16) & 255) / 255.0;
    rgb[1] = ((c >> 8) & 255) / 255.0;
    rgb[2] = (c & 255) / 255.0;
}

/* Linear "nice" ticks: 1/2/5 x 10^k steps, about `want` of them. */
static int linear_ticks(double lo, double hi, int want, double *t, int cap)
{
    int n = 0;
    double raw = (hi - lo) / want, mag = pow(10, floor(log10(raw))), step = mag;
    double r = raw / mag;
    step = r < 1.5 ? mag : r < 3.5 ? 2 * mag : r < 7.5 ? 5 * mag : 10 * mag;
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && n < cap; v += step)
        t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    return n;
}

int dl_pc_ticks(double lo, double hi, bool log, int want, double *t, int cap)
{
    int n = 0;
    if (!(hi > lo) || want < 2)
        return 0;
    if (!log)
        return linear_ticks(lo, hi, want, t, cap);
    int a = (int)ceil(log10(lo) - 1e-9), b = (int)floor(log10(hi) + 1e-9);
    if (b - a >= 2) { /* three decades or more: decades, thinned to about `want` */
        int every = (b - a) / want + 1;
        for (int e = a; e <= b && n < cap; e++)
            if ((e - a) % every == 0)
                t[n++] = pow(10, e);
        return n;
    }
    /* A narrower range (a loss from 1.3 to 4.5): 1-2-5 steps, else plain linear ticks. */
    static const double m125[] = {1, 2, 5};
    for (int e = (int)floor(log10(lo)) - 1; e <= b + 1 && n < cap; e++)
        for (int k = 0; k < 3 && n < cap; k++) {
            double v = m125[k] * pow(10, e);
            if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
                t[n++] = v;
        }
    if (n >= 3)
        return n;
    return linear_ticks(lo, hi, want, t, cap);
}

void dl_pc_tick_label(double v, bool log, double step, char *buf, size_t cap)
{
    if (log) {
        int e = (int)floor(log10(v) + 1e-9);
        double m = v / pow(10, e);
        if (fabs(m - round(m)) > 1e-6) /* a linear tick on a log axis: 1.4, 0.35 */
            snprintf(buf, cap, "%.3g", v);
        else if (e >= -2 && e <= 3)
            snprintf(buf, cap, "%g", round(m) * pow(10, e));
        else if (lround(m) == 1)
            snprintf(buf, cap, "1e%d", e);
        else
            snprintf(buf, cap, "%lde%d", lround(m), e);
        return;
    }
    int dec = step > 0 && step < 1 ? (int)ceil(-log10(step) - 1e-9) : 0;
    if (fabs(v) >= 1e5 || (v != 0 && fabs(v) < 1e-4))
        snprintf(buf, cap, "%.2g", v);
    else
        snprintf(buf, cap, "%.*f", dec, v);
}

/* ---- surfaces ---- */

static dl_status check_size(const char *path, int w, int h, dl_err *err)
{
    if (w < 160 || h < 120 || w > 8000 || h > 8000)
        return dl_err_set(err, DL_EINVAL, "%s: size %dx%d is outside 160x120..8000x8000", path, w,
                          h);
    return DL_OK;
}

/* The encoded file collects in memory and is written by dl_file_write (core/file.h), which never
 * replaces a device or FIFO and replaces a regular file only once it is complete. */
typedef struct membuf {
    unsigned char *p;
    size_t n, cap;
} membuf;

static const cairo_user_data_key_t membuf_key; /* its address is the key; never written */

static cairo_status_t membuf_append(void *closure, const unsigned char *data, unsigned int len)
{
    membuf *b = closure;
    if (b->n + len > b->cap) {
        size_t cap = (b->n + len) * 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            return CAIRO_STATUS_NO_MEMORY;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

static void membuf_free(void *v)
{
    membuf *b = v;
    if (b)
        free(b->p);
    free(b);
}

static cairo_surface_t *surface_new(dl_pc_format fmt, const char *path, int w, int h)
{
    (void)path;
    if (fmt != DL_PC_SVG)
        return cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    membuf *b = calloc(1, sizeof *b);
    cairo_surface_t *s = cairo_svg_surface_create_for_stream(b ? membuf_append : NULL, b, w, h);
    cairo_surface_set_user_data(s, &membuf_key, b, membuf_free);
    return s;
}

static dl_status surface_finish(cairo_surface_t *s, cairo_t *cr, dl_pc_format fmt, const char *path,
                                dl_err *err)
{
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    membuf png = {0}, *out = fmt == DL_PC_PNG ? &png : cairo_surface_get_user_data(s, &membuf_key);
    if (cs == CAIRO_STATUS_SUCCESS && fmt == DL_PC_PNG)
        cs = cairo_surface_write_to_png_stream(s, membuf_append, &png);
    cairo_surface_finish(s); /* an SVG's last bytes reach its buffer here */
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_status(s);
    dl_status st = DL_OK;
    if (cs != CAIRO_STATUS_SUCCESS || !out)
        st = dl_err_set(err, DL_EIO, "cannot write %s: %s", path,
                        out ? cairo_status_to_string(cs) : "out of memory");
    else
        st = dl_file_write(path, out->p, out->n, err);
    free(png.p);
    cairo_surface_destroy(s); /* frees an SVG's buffer */
    return st;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.x_bearing - e.width * ax, y - e.y_bearing - e.height * ay);
    cairo_show_text(cr, s);
}

static void font(cairo_t *cr, double size, bool bold)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* ---- line chart ---- */

typedef struct frame {
    double x0, y0, x1, y1; /* data area in px (y0 top) */
    double lo[2], hi[2];   /* data range x, y (log10 on log axes) */
    bool log[2];
} frame;

static double fx(const frame *f, double v)
{
    double t = f->log[0] ? log10(v) : v;
    return f->x0 + (t - f->lo[0]) / (f->hi[0] - f->lo[0]) * (f->x1 - f->x0);
}

static double fy(const frame *f, double v)
{
    double t = f->log[1] ? log10(v) : v;
    return f->y1 - (t - f->lo[1]) / (f->hi[1] - f->lo[1]) * (f->y1 - f->y0);
}

static bool usable(double v, bool log) { return isfinite(v) && (!log || v > 0); }

static dl_status data_range(const dl_pc_chart *c, frame *f, const char *path, dl_err *err)
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int l = 0; l < c->nlines; l++)
        for (size_t i = 0; i < c->lines[l].n; i++) {
            double v[2] = {c->lines[l].x[i], c->lines[l].y[i]};
            if (!usable(v[0], c->xlog) || !usable(v[1], c->ylog))
                continue;
            for (int a = 0; a < 2; a++) {
                double t = (a ? c->ylog : c->xlog) ? log10(v[a]) : v[a];
                lo[a] = t < lo[a] ? t : lo[a];
                hi[a] = t > hi[a] ? t : hi[a];
            }
        }
    if (!(lo[0] <= hi[0]))
        return dl_err_set(err, DL_EINVAL, "%s: nothing to plot (no finite%s points)", path,
                          c->xlog || c->ylog ? ", positive" : "");
    for (int a = 0; a < 2; a++) {
        if (hi[a] - lo[a] < 1e-12) { /* a flat series still gets a visible range */
            double pad = fabs(hi[a]) > 0 ? fabs(hi[a]) * 0.1 : 1;
            lo[a] -= pad;
            hi[a] += pad;
        } else if (a == 1) {
            double pad = (hi[a] - lo[a]) * 0.05;
            lo[a] -= pad;
            hi[a] += pad;
        }
        f->lo[a] = lo[a];
        f->hi[a] = hi[a];
    }
    if (c->ncats > 0) { /* one slot per category, centred on 0..ncats-1 */
        f->lo[0] = -0.5;
        f->hi[0] = c->ncats - 0.5;
    }
    if (c->fixed_y && c->yhi > c->ylo && (!c->ylog || c->ylo > 0)) {
        f->lo[1] = c->ylog ? log10(c->ylo) : c->ylo;
        f->hi[1] = c->ylog ? log10(c->yhi) : c->yhi;
    }
    f->log[0] = c->xlog;
    f->log[1] = c->ylog;
    return DL_OK;
}

static void draw_axes(cairo_t *cr, const frame *f, const dl_pc_chart *c, double fs)
{
    for (int a = 0; a < 2; a++) {
        double lo = f->log[a] ? pow(10, f->lo[a]) : f->lo[a],
               hi = f->log[a] ? pow(10, f->hi[a]) : f->hi[a];
        double t[64];
        int n = a == 0 && c->ncats > 0 ? 0 : dl_pc_ticks(lo, hi, f->log[a], a ? 6 : 8, t, 64);
        if (a == 0 && c->ncats > 0)
            for (int i = 0; i < c->ncats && i < 64; i++)
                t[n++] = i;
        double step = n > 1 ? t[1] - t[0] : 0;
        /* linear ticks on a narrow log axis (3, 3.5, 4) get linear labels, all with one format */
        bool log_labels = f->log[a];
        for (int i = 0; log_labels && i < n; i++) {
            double m = t[i] / pow(10, floor(log10(t[i]) + 1e-9));
            log_labels = fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6;
        }
        font(cr, fs, false);
        for (int i = 0; i < n; i++) {
            char lab[48];
            if (a == 0 && c->ncats > 0)
                snprintf(lab, sizeof lab, "%.16s", c->cats[i] ? c->cats[i] : "");
            else
                dl_pc_tick_label(t[i], log_labels, step, lab, sizeof lab);
            /* grid line, tick and label */
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
            cairo_set_line_width(cr, 1);
            if (a == 0) {
                double x = round(fx(f, t[i])) + 0.5;
                if (c->ncats == 0) {
                    cairo_move_to(cr, x, f->y0);
                    cairo_line_to(cr, x, f->y1);
                    cairo_stroke(cr);
                }
                cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
                cairo_move_to(cr, x, f->y1);
                cairo_line_to(cr, x, f->y1 + 5);
                cairo_stroke(cr);
                if (c->ncats > 0) { /* class names slanted so long ones do not collide */
                    cairo_save(cr);
                    cairo_translate(cr, x, f->y1 + 8);
                    cairo_rotate(cr, -M_PI / 4);
                    text_at(cr, 0, 0, lab, 1, 0.5);
                    cairo_restore(cr);
                } else {
                    text_at(cr, x, f->y1 + 8, lab, 0.5, 0);
                }
            } else {
                double y = round(fy(f, t[i])) + 0.5;
                cairo_move_to(cr, f->x0, y);
                cairo_line_to(cr, f->x1, y);
                cairo_stroke(cr);
                cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
                cairo_move_to(cr, f->x0 - 5, y);
                cairo_line_to(cr, f->x0, y);
                cairo_stroke(cr);
                text_at(cr, f->x0 - 8, y, lab, 1, 0.5);
            }
        }
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, f->x0 + 0.5, f->y0 + 0.5, f->x1 - f->x0, f->y1 - f->y0);
    cairo_stroke(cr);
    font(cr, fs * 1.1, false);
    if (c->xlabel && c->ncats == 0)
        text_at(cr, (f->x0 + f->x1) / 2, f->y1 + 12 + fs * 1.6, c->xlabel, 0.5, 0);
    if (c->ylabel) {
        cairo_save(cr);
        cairo_translate(cr, f->x0 - fs * 5.2, (f->y0 + f->y1) / 2);
        cairo_rotate(cr, -M_PI / 2);
        text_at(cr, 0, 0, c->ylabel, 0.5, 0.5);
        cairo_restore(cr);
    }
    if (c->title) {
        font(cr, fs * 1.35, true);
        text_at(cr, (f->x0 + f->x1) / 2, f->y0 - fs * 0.8, c->title, 0.5, 1);
    }
}

static void set_line_style(cairo_t *cr, const dl_pc_line *l)
{
    double rgb[3];
    dl_pc_color(l->color, rgb);
    cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], l->alpha > 0 ? l->alpha : 1);
    cairo_set_line_width(cr, l->width > 0 ? l->width : 2);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    double dash[2] = {6, 4};
    cairo_set_dash(cr, dash, l->dashed ? 2 : 0, 0);
}

static void draw_line(cairo_t *cr, const frame *f, const dl_pc_line *l, bool xlog, bool ylog)
{
    set_line_style(cr, l);
    if (l->bars) { /* a bar from 0 (or the axis bottom) to y, bar_width wide, shifted by offset */
        double base = f->log[1] ? f->y1 : fmin(fy(f, 0), f->y1);
        for (size_t i = 0; i < l->n; i++) {
            if (!usable(l->x[i], xlog) || !usable(l->y[i], ylog))
                continue;
            double xa = fx(f, l->x[i] + l->bar_offset - l->bar_width / 2),
                   xb = fx(f, l->x[i] + l->bar_offset + l->bar_width / 2), y = fy(f, l->y[i]);
            cairo_rectangle(cr, xa, fmin(y, base), xb - xa, fabs(base - y));
        }
        cairo_fill(cr);
        return;
    }
    if (!l->no_line) {
        bool pen = false;
        for (size_t i = 0; i < l->n; i++) {
            if (!usable(l->x[i], xlog) || !usable(l->y[i], ylog)) {
                pen = false; /* a gap, not a line across missing values */
                continue;
            }
            if (pen)
                cairo_line_to(cr, fx(f, l->x[i]), fy(f, l->y[i]));
            else
                cairo_move_to(cr, fx(f, l->x[i]), fy(f, l->y[i]));
            pen = true;
        }
        cairo_stroke(cr);
    }
    if (l->markers)
        for (size_t i = 0; i < l->n; i++)
            if (usable(l->x[i], xlog) && usable(l->y[i], ylog)) {
                cairo_new_sub_path(cr);
                cairo_arc(cr, fx(f, l->x[i]), fy(f, l->y[i]), 3.5, 0, 2 * M_PI);
                cairo_fill(cr);
            }
    cairo_set_dash(cr, NULL, 0, 0);
}

typedef struct box {
    double x, y, w, h;
} box;

static bool overlaps(box a, box b)
{
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/* Where each vertical line's label goes: beside its line, one row per line so labels never
 * overlap each other, and on the line's left when it would run out of the data area. */
static int vline_labels(cairo_t *cr, const frame *f, const dl_pc_chart *c, double fs, box *out)
{
    int n = 0;
    font(cr, fs * 0.9, false);
    for (int v = 0; v < c->nvlines; v++) {
        const dl_pc_vline *vl = &c->vlines[v];
        if (!vl->label || !usable(vl->x, c->xlog))
            continue;
        cairo_text_extents_t e;
        cairo_text_extents(cr, vl->label, &e);
        double x = fx(f, vl->x), w = e.x_advance, h = fs * 1.1;
        box b = {x + 4, f->y0 + 4 + v * fs * 1.3, w, h};
        if (b.x + w > f->x1 - 2)
            b.x = x - 4 - w;
        out[n++] = b;
    }
    return n;
}

/* The legend goes in the corner of the data area that covers no vertical-line label and the
 * fewest data points (matplotlib's "best"); top right on ties. */
static void draw_legend(cairo_t *cr, const frame *f, const dl_pc_chart *c, double fs,
                        const box *avoid, int navoid)
{
    int n = 0;
    double wmax = 0;
    font(cr, fs, false);
    for (int l = 0; l < c->nlines; l++)
        if (c->lines[l].label) {
            cairo_text_extents_t e;
            cairo_text_extents(cr, c->lines[l].label, &e);
            wmax = e.x_advance > wmax ? e.x_advance : wmax;
            n++;
        }
    if (n == 0)
        return;
    double row = fs * 1.5, bw = wmax + 44, bh = n * row + 8;
    box corners[4] = {{f->x1 - bw - 8, f->y0 + 8, bw, bh},
                      {f->x0 + 8, f->y0 + 8, bw, bh},
                      {f->x1 - bw - 8, f->y1 - bh - 8, bw, bh},
                      {f->x0 + 8, f->y1 - bh - 8, bw, bh}};
    double best_score = INFINITY;
    box pick = corners[0];
    for (int k = 0; k < 4; k++) {
        double score = 0;
        for (int a = 0; a < navoid; a++)
            score += overlaps(corners[k], avoid[a]) ? 1e9 : 0;
        for (int l = 0; l < c->nlines; l++)
            for (size_t i = 0; i < c->lines[l].n; i++) {
                double x = c->lines[l].x[i], y = c->lines[l].y[i];
                if (!usable(x, c->xlog) || !usable(y, c->ylog))
                    continue;
                box p = {fx(f, x) - 2, fy(f, y) - 2, 4, 4};
                score += overlaps(corners[k], p);
            }
        if (score < best_score) {
            best_score = score;
            pick = corners[k];
        }
    }
    double x = pick.x, y = pick.y;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, x, y, bw, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    int k = 0;
    for (int l = 0; l < c->nlines; l++) {
        const dl_pc_line *ln = &c->lines[l];
        if (!ln->label)
            continue;
        double cy = y + 4 + row * (k + 0.5);
        set_line_style(cr, ln);
        if (ln->bars) {
            cairo_rectangle(cr, x + 12, cy - fs * 0.4, 16, fs * 0.8);
            cairo_fill(cr);
        } else if (!ln->no_line) {
            cairo_move_to(cr, x + 8, cy);
            cairo_line_to(cr, x + 32, cy);
            cairo_stroke(cr);
        }
        if (ln->markers) {
            cairo_arc(cr, x + 20, cy, 3.5, 0, 2 * M_PI);
            cairo_fill(cr);
        }
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, x + 38, cy, ln->label, 0, 0.5);
        k++;
    }
}

/* The chart's data area inside the panel (px, py, pw, ph). */
static void place(frame *f, const dl_pc_chart *c, double px, double py, double pw, double ph,
                  double fs)
{
    double bottom = fs * 4.2;
    if (c->ncats > 0) { /* slanted class names need about 0.5 em per character */
        size_t longest = 0;
        for (int i = 0; i < c->ncats; i++)
            longest = c->cats[i] && strlen(c->cats[i]) > longest ? strlen(c->cats[i]) : longest;
        bottom = fs * (1.5 + 0.5 * (double)(longest < 16 ? longest : 16));
    }
    f->x0 = px + fs * 7;
    f->x1 = px + pw - fs * 1.5;
    f->y0 = py + (c->title ? fs * 3 : fs);
    f->y1 = py + ph - bottom;
}

static void draw_chart(cairo_t *cr, const frame *f, const dl_pc_chart *c, double fs)
{
    draw_axes(cr, f, c, fs);
    cairo_save(cr);
    /* a marker on the border (the last epoch's validation dot) is drawn whole */
    cairo_rectangle(cr, f->x0 - 5, f->y0 - 5, f->x1 - f->x0 + 10, f->y1 - f->y0 + 10);
    cairo_clip(cr);
    box labels[DL_PC_MAX_VLINES];
    int nlabels = vline_labels(cr, f, c, fs, labels);
    for (int v = 0, k = 0; v < c->nvlines; v++) {
        const dl_pc_vline *vl = &c->vlines[v];
        if (!usable(vl->x, c->xlog))
            continue;
        double rgb[3], x = fx(f, vl->x), dash[2] = {3, 3};
        dl_pc_color(vl->color, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 1.2);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, x, f->y0);
        cairo_line_to(cr, x, f->y1);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        if (vl->label) {
            font(cr, fs * 0.9, false);
            text_at(cr, labels[k].x, labels[k].y, vl->label, 0, 0);
            k++;
        }
    }
    for (int l = 0; l < c->nlines; l++)
        draw_line(cr, f, &c->lines[l], c->xlog, c->ylog);
    cairo_restore(cr);
    draw_legend(cr, f, c, fs, labels, nlabels);
}

static double font_size(int w, int h)
{
    double fs = fmin(w, h) / 42.0;
    return fs < 9 ? 9 : fs > 18 ? 18 : fs;
}

dl_status dl_pc_charts_write(const dl_pc_chart *const *cs, int n, bool stacked, dl_pc_format fmt,
                             const char *path, int w, int h, dl_err *err)
{
    dl_status s = check_size(path, w, h, err);
    if (s != DL_OK)
        return s;
    if (n < 1 || n > 4)
        return dl_err_set(err, DL_EINVAL, "%s: %d panels (1 to 4 fit a figure)", path, n);
    frame f[4] = {{0}};
    double fs = font_size(w, h) * (n > 1 ? 0.85 : 1); /* one type size across the panels */
    for (int i = 0; i < n; i++) {
        if ((s = data_range(cs[i], &f[i], path, err)) != DL_OK)
            return s;
        double pw = stacked ? w : (double)w / n, ph = stacked ? (double)h / n : h;
        place(&f[i], cs[i], stacked ? 0 : i * pw, stacked ? i * ph : 0, pw, ph, fs);
    }
    cairo_surface_t *surf = surface_new(fmt, path, w, h);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    for (int i = 0; i < n; i++)
        draw_chart(cr, &f[i], cs[i], fs);
    return surface_finish(surf, cr, fmt, path, err);
}

dl_status dl_pc_chart_write(const dl_pc_chart *c, dl_pc_format fmt, const char *path, int w, int h,
                            dl_err *err)
{
    return dl_pc_charts_write(&c, 1, false, fmt, path, w, h, err);
}

/* ---- heat map ---- */

/* viridis-like ramp from 5 anchors, t in [0,1] */
static void ramp(double t, double rgb[3])
{
    static const double a[5][3] = {{0.267, 0.005, 0.329},
                                   {0.230, 0.322, 0.546},
                                   {0.128, 0.567, 0.551},
                                   {0.369, 0.789, 0.383},
                                   {0.993, 0.906, 0.144}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double p = t * 4;
    int i = p >= 4 ? 3 : (int)p;
    double u = p - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = a[i][k] + (a[i + 1][k] - a[i][k]) * u;
}

dl_status dl_pc_heatmap_write(const char *title, const double *m, int k, const char *const *names,
                              dl_pc_format fmt, const char *path, int w, int h, dl_err *err)
{
    dl_status s = check_size(path, w, h, err);
    if (s != DL_OK)
        return s;
    if (k < 1)
        return dl_err_set(err, DL_EINVAL, "%s: empty matrix", path);
    double max = 0;
    for (int i = 0; i < k * k; i++)
        max = isfinite(m[i]) && m[i] > max ? m[i] : max;
    double fs = fmin(w, h) / 42.0;
    fs = fs < 8 ? 8 : fs > 16 ? 16 : fs;
    double left = fs * 9, top = title ? fs * 3 : fs, bar_w = fs * 1.4, right = fs * 6 + bar_w;
    double bottom = fs * 8;
    double side = fmin(w - left - right, h - top - bottom), cell = side / k;
    if (w - left - right > side) /* centre the matrix with its colour bar */
        left += (w - left - right - side) / 2;
    if (cell < 2)
        return dl_err_set(err, DL_EINVAL, "%s: %d classes do not fit in %dx%d", path, k, w, h);
    cairo_surface_t *surf = surface_new(fmt, path, w, h);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    double cfs = fmin(fs, cell * 0.35);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            double v = m[i * k + j], rgb[3];
            ramp(max > 0 ? v / max : 0, rgb);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, left + j * cell, top + i * cell, cell, cell);
            cairo_fill(cr);
            if (cfs >= 6) {
                char buf[32];
                snprintf(buf, sizeof buf, "%.0f", v);
                double lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
                cairo_set_source_rgb(cr, lum > 0.5 ? 0 : 1, lum > 0.5 ? 0 : 1, lum > 0.5 ? 0 : 1);
                font(cr, cfs, false);
                text_at(cr, left + (j + 0.5) * cell, top + (i + 0.5) * cell, buf, 0.5, 0.5);
            }
        }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    double nfs = fmin(fs, cell * 0.8);
    font(cr, nfs, false);
    for (int i = 0; i < k; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.20s", names && names[i] ? names[i] : "");
        if (!buf[0])
            snprintf(buf, sizeof buf, "%d", i);
        text_at(cr, left - 6, top + (i + 0.5) * cell, buf, 1, 0.5);
        cairo_save(cr);
        cairo_translate(cr, left + (i + 0.5) * cell, top + side + 6);
        cairo_rotate(cr, -M_PI / 4);
        text_at(cr, 0, 0, buf, 1, 0.5);
        cairo_restore(cr);
    }
    font(cr, fs * 1.1, false);
    text_at(cr, left + side / 2, h - fs * 1.2, "predicted", 0.5, 1);
    cairo_save(cr);
    cairo_translate(cr, left - fs * 7.5, top + side / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, "actual", 0.5, 0.5);
    cairo_restore(cr);
    if (title) {
        font(cr, fs * 1.35, true);
        text_at(cr, left + side / 2, top - fs * 0.8, title, 0.5, 1);
    }
    /* colour bar with 0..max ticks */
    double bx = left + side + fs * 1.5;
    for (int i = 0; i < 100; i++) {
        double rgb[3];
        ramp(i / 99.0, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, bx, top + side * (1 - (i + 1) / 100.0), bar_w, side / 100.0 + 0.5);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, bx, top, bar_w, side);
    cairo_stroke(cr);
    double t[16];
    int nt = dl_pc_ticks(0, max > 0 ? max : 1, false, 5, t, 16);
    font(cr, fs * 0.9, false);
    for (int i = 0; i < nt; i++) {
        double y = top + side * (1 - t[i] / (max > 0 ? max : 1));
        char buf[32];
        dl_pc_tick_label(t[i], false, nt > 1 ? t[1] - t[0] : 1, buf, sizeof buf);
        cairo_move_to(cr, bx + bar_w, y);
        cairo_line_to(cr, bx + bar_w + 4, y);
        cairo_stroke(cr);
        text_at(cr, bx + bar_w + 6, y, buf, 0, 0.5);
    }
    return surface_finish(surf, cr, fmt, path, err);
}
