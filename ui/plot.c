/* plot: the line-plot widget (see plot.h). */
#include "ui/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ui/canvas.h"
#include "ui/series.h"

void dl_plot_init(dl_plot *p, const char *title)
{
    memset(p, 0, sizeof *p);
    p->title = title;
    p->beta = 0.98;
    p->legend = 1;
    p->steps_per_epoch = 1;
}

int dl_plot_add(dl_plot *p, dl_plot_series s)
{
    if (p->nseries >= DL_PLOT_MAX_SERIES)
        return -1;
    p->series[p->nseries] = s;
    return p->nseries++;
}

int dl_plot_add_marker(dl_plot *p, double x, int role, char glyph)
{
    if (p->nmarkers >= DL_PLOT_MAX_MARKERS)
        return -1;
    p->markers[p->nmarkers] = (dl_plot_marker){x, role, glyph};
    return p->nmarkers++;
}

/* One series prepared for drawing: x scaled, smoothed, decimated. */
typedef struct prepared {
    float *x, *y;
    int n;
} prepared;

static int prepare(const dl_plot *p, const dl_plot_series *s, int buckets, prepared *out)
{
    out->n = 0;
    out->x = out->y = NULL;
    if (s->n <= 0)
        return 0;
    float *x = malloc(sizeof(float) * s->n), *y = malloc(sizeof(float) * s->n);
    /* a line keeps <= 2 * buckets + 2 points; points are all kept (more than that on long runs) */
    const size_t cap =
        (size_t)(s->style == DL_PLOT_LINE || s->n < 2 * buckets + 2 ? 2 * buckets + 2 : s->n);
    out->x = malloc(sizeof(float) * cap);
    out->y = malloc(sizeof(float) * cap);
    if (!x || !y || !out->x || !out->y) {
        free(x);
        free(y);
        free(out->x);
        free(out->y);
        out->x = out->y = NULL;
        return -1;
    }
    double div = p->x_epochs && p->steps_per_epoch > 0 ? p->steps_per_epoch : 1;
    for (int i = 0; i < s->n; i++)
        x[i] = (float)(s->x[i] / div);
    if (s->smooth)
        dl_series_ema(s->y, s->n, p->beta, y);
    else
        memcpy(y, s->y, sizeof(float) * s->n);
    if (p->ylog)
        for (int i = 0; i < s->n; i++)
            if (!(y[i] > 0))
                y[i] = NAN;
    out->n = s->style == DL_PLOT_LINE ? dl_series_decimate(x, y, s->n, buckets, out->x, out->y)
                                      : dl_series_decimate(x, y, s->n, s->n, out->x, out->y);
    free(x);
    free(y);
    return 0;
}

static void legend_entry(dl_grid *g, int *x, int y, int xmax, int role, unsigned attr,
                         const char *glyph, const char *name)
{
    int need = dl_utf8_width(glyph) + 1 + dl_utf8_width(name) + 2;
    if (*x + need > xmax)
        return;
    *x += dl_grid_text(g, *x, y, -1, role, attr, glyph);
    *x += 1;
    *x += dl_grid_text(g, *x, y, -1, DL_ROLE_DEFAULT, 0, name);
    *x += 2;
}

int dl_plot_draw(const dl_plot *p, dl_grid *g, dl_rect r, dl_plot_frame *frame)
{
    dl_plot_frame fr = {0};
    dl_grid_fill(g, r, ' ', DL_ROLE_DEFAULT, 0);
    if (r.w < 20 || r.h < 6) {
        dl_grid_text(g, r.x, r.y, r.w, DL_ROLE_WARN, 0, "plot too small");
        if (frame)
            *frame = fr;
        return 0;
    }
    /* Title row (title and legend), a row for the markers' glyphs when there are any (so they
     * never hide under the legend), then canvas rows, then the axis line and the tick labels. */
    int glyph_rows = 0;
    for (int m = 0; m < p->nmarkers; m++)
        glyph_rows = glyph_rows || p->markers[m].glyph;
    int title_y = r.y, glyph_y = r.y + 1, canvas_rows = r.h - 3 - glyph_rows,
        axis_y = r.y + 1 + glyph_rows + canvas_rows, label_y = axis_y + 1;
    int tx = r.x + dl_grid_text(g, r.x, title_y, r.w, DL_ROLE_TITLE, DL_ATTR_BOLD,
                                p->title ? p->title : "");

    /* Fit the axes to what will be drawn (smoothed values for smoothed series). */
    int buckets_guess = r.w * 2;
    prepared prep[DL_PLOT_MAX_SERIES] = {{0}};
    int status = 0;
    for (int i = 0; i < p->nseries; i++)
        if (prepare(p, &p->series[i], buckets_guess, &prep[i]) != 0)
            status = -1;
    int have = 0;
    dl_axis xa = {0}, ya = {0};
    for (int i = 0; i < p->nseries; i++) {
        if (prep[i].n == 0)
            continue;
        dl_axis tx_axis, ty_axis;
        if (dl_axis_fit(&tx_axis, prep[i].x, prep[i].n, p->xlog, 0) != 0 ||
            dl_axis_fit(&ty_axis, prep[i].y, prep[i].n, p->ylog, 0) != 0)
            continue;
        if (!have) {
            xa = tx_axis;
            ya = ty_axis;
            have = 1;
        } else {
            xa.lo = fmin(xa.lo, tx_axis.lo);
            xa.hi = fmax(xa.hi, tx_axis.hi);
            ya.lo = fmin(ya.lo, ty_axis.lo);
            ya.hi = fmax(ya.hi, ty_axis.hi);
        }
    }
    if (!have || status != 0) {
        dl_grid_text(g, r.x, title_y + 1, r.w, DL_ROLE_DIM, 0,
                     status ? "out of memory" : "no data yet");
        goto done;
    }
    if (p->fixed_y && dl_axis_set(&ya, p->ylo, p->yhi, p->ylog) != 0)
        dl_axis_set(&ya, ya.lo, ya.hi, p->ylog);
    dl_axis_set(&xa, xa.lo, xa.hi, p->xlog);
    if (!p->fixed_y) {
        float ends[2] = {(float)ya.lo, (float)ya.hi};
        dl_axis_fit(&ya, ends, 2, p->ylog, 1);
    }

    /* Y tick labels decide the left margin. */
    double yt[DL_AXIS_MAX_TICKS];
    int nyt = dl_axis_ticks(&ya, canvas_rows / 2 + 1 < 6 ? canvas_rows / 2 + 1 : 6, yt);
    double ystep = nyt > 1 ? yt[1] - yt[0] : ya.hi - ya.lo;
    char lab[32];
    int margin = 1;
    for (int i = 0; i < nyt; i++) {
        dl_axis_label(&ya, yt[i], ystep, lab, sizeof lab);
        int w = (int)strlen(lab);
        if (w > margin)
            margin = w;
    }
    int cx = r.x + margin + 1, cw = r.w - margin - 1, cy = title_y + 1 + glyph_rows;
    dl_canvas *cv = dl_canvas_new(cw, canvas_rows);
    if (!cv) {
        status = -1;
        goto done;
    }
    double pw = cw * 2 - 1, ph = canvas_rows * 4 - 1;
    for (int i = 0; i < nyt; i++) {
        double py = dl_axis_map(&ya, yt[i], ph, 0);
        int row = cy + (int)lround(py) / 4;
        dl_axis_label(&ya, yt[i], ystep, lab, sizeof lab);
        dl_grid_text(g, r.x + margin - (int)strlen(lab), row, margin, DL_ROLE_AXIS, 0, lab);
    }
    for (int y = cy; y < axis_y; y++)
        dl_grid_put(g, cx - 1, y, p->ascii ? '|' : 0x2502, DL_ROLE_AXIS, 0);
    dl_grid_put(g, cx - 1, axis_y, p->ascii ? '+' : 0x2514, DL_ROLE_AXIS, 0);
    for (int x = cx; x < cx + cw; x++)
        dl_grid_put(g, x, axis_y, p->ascii ? '-' : 0x2500, DL_ROLE_AXIS, 0);

    /* X ticks: about one label per 10 columns. */
    double xt[DL_AXIS_MAX_TICKS];
    int nxt = dl_axis_ticks(&xa, cw / 10 > 1 ? cw / 10 : 2, xt);
    double xstep = nxt > 1 ? xt[1] - xt[0] : xa.hi - xa.lo;
    int last_end = r.x - 1;
    for (int i = 0; i < nxt; i++) {
        double px = dl_axis_map(&xa, xt[i], 0, pw);
        int col = cx + (int)lround(px) / 2;
        dl_grid_put(g, col, axis_y, p->ascii ? '+' : 0x252C, DL_ROLE_AXIS, 0);
        dl_axis_label(&xa, xt[i], xstep, lab, sizeof lab);
        int w = (int)strlen(lab), start = col - w / 2;
        if (start + w > r.x + r.w)
            start = r.x + r.w - w;
        if (start <= last_end)
            continue;
        dl_grid_text(g, start, label_y, w, DL_ROLE_AXIS, 0, lab);
        last_end = start + w;
    }
    const char *xlabel = p->x_epochs ? "epoch" : p->xlabel ? p->xlabel : "step";
    int xl = dl_utf8_width(xlabel);
    if (r.x + r.w - xl > last_end + 1)
        dl_grid_text(g, r.x + r.w - xl, label_y, xl, DL_ROLE_DIM, 0, xlabel);

    /* Series in order (later ones on top), then markers, then the cursor. */
    for (int i = 0; i < p->nseries; i++) {
        const dl_plot_series *s = &p->series[i];
        double px0 = NAN, py0 = NAN;
        for (int k = 0; k < prep[i].n; k++) {
            double px = dl_axis_map(&xa, prep[i].x[k], 0, pw),
                   py = dl_axis_map(&ya, prep[i].y[k], ph, 0);
            if (s->style != DL_PLOT_POINTS && isfinite(px0))
                dl_canvas_line(cv, px0, py0, px, py, s->role, s->attr);
            if (s->style != DL_PLOT_LINE && isfinite(px) && isfinite(py)) {
                /* A 2x2 dot blob so a point stands out from a line. */
                dl_canvas_line(cv, px - 0.5, py - 0.5, px + 0.5, py - 0.5, s->role, s->attr);
                dl_canvas_line(cv, px - 0.5, py + 0.5, px + 0.5, py + 0.5, s->role, s->attr);
            }
            if (isfinite(px) && isfinite(py)) {
                px0 = px;
                py0 = py;
            }
        }
    }
    char glyph_taken[512] = {0}; /* columns of the glyph row already labelled */
    for (int m = 0; m <= p->nmarkers; m++) {
        int is_cursor = m == p->nmarkers;
        if (is_cursor && !p->has_cursor)
            break;
        double x = is_cursor ? p->cursor_x : p->markers[m].x;
        if (p->x_epochs && p->steps_per_epoch > 0 && !p->xlog)
            x /= p->steps_per_epoch;
        double px = dl_axis_map(&xa, x, 0, pw);
        if (!isfinite(px) || px < -0.5 || px > pw + 0.5)
            continue;
        int role = is_cursor ? DL_ROLE_CURSOR : p->markers[m].role;
        /* Dotted: every other dot, so the curve under it stays readable. */
        for (int py = 0; py <= (int)ph; py += 2)
            dl_canvas_dot(cv, (int)lround(px), py, role, DL_ATTR_BOLD);
        if (!is_cursor && p->markers[m].glyph) {
            /* Two markers in one column: the later glyph takes the nearest free column. */
            int col = (int)lround(px) / 2;
            for (int d = 0; d < cw; d++) {
                int c = col + (d % 2 ? (d + 1) / 2 : -(d / 2));
                if (c >= 0 && c < cw && c < (int)sizeof glyph_taken && !glyph_taken[c]) {
                    col = c;
                    break;
                }
            }
            if (col >= 0 && col < (int)sizeof glyph_taken)
                glyph_taken[col] = 1;
            dl_grid_put(g, cx + col, glyph_y, (uint32_t)p->markers[m].glyph, role, DL_ATTR_BOLD);
        }
    }
    dl_canvas_render(cv, g, cx, cy, p->ascii);
    dl_canvas_free(cv);

    if (p->legend) {
        int lw = 0;
        for (int i = 0; i < p->nseries; i++)
            if (p->series[i].name)
                lw += 2 + dl_utf8_width(p->series[i].name) + 2;
        int lx = r.x + r.w - lw;
        if (lx < tx + 2)
            lx = tx + 2;
        for (int i = 0; i < p->nseries; i++) {
            const dl_plot_series *s = &p->series[i];
            if (!s->name)
                continue;
            const char *glyph = s->style == DL_PLOT_LINE ? (p->ascii ? "-" : "\u2500")
                                                         : (p->ascii ? "o" : "\u25CF");
            legend_entry(g, &lx, title_y, r.x + r.w + 2, s->role, s->attr, glyph, s->name);
        }
    }
    fr.xaxis = xa;
    fr.yaxis = ya;
    fr.canvas = (dl_rect){cx, cy, cw, canvas_rows};
    fr.ok = 1;
done:
    for (int i = 0; i < p->nseries; i++) {
        free(prep[i].x);
        free(prep[i].y);
    }
    if (frame)
        *frame = fr;
    return status;
}
