/* screen-confusion: the confusion matrix as a heat map. Each cell's background shade grows with
 * its share of the row (so rare classes are as readable as common ones), the count (or the
 * row-normalised value, `n`) printed in it; the diagonal is green, mistakes red. Rows are
 * labelled by class name, columns by class number with a legend under the matrix; Up/Down and
 * Left/Right scroll when the classes exceed the screen (37 pet breeds). The most-confused pairs are
 * listed beside it. Monochrome/ASCII: the diagonal in [brackets], zeros as dots, no shading.
 * Multi-label runs (per-class P/R/F1 with a threshold) are not drawn here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/screens.h"

typedef struct conf_state {
    int k;
    int64_t *cm;
    char **names;
    int normalise, scroll, hscroll;
} conf_state;

typedef struct pair {
    int a, p;
    int64_t n;
} pair;

static int cmp_pair(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    if (a->n != b->n)
        return a->n < b->n ? 1 : -1;
    if (a->a != b->a)
        return a->a - b->a;
    return a->p - b->p;
}

/* Red/green ramps for the heat map: t in [0,1] -> background colour. */
static uint32_t heat(double t, int diag)
{
    int lo = 24, hi = diag ? 150 : 190;
    int v = lo + (int)(t * (hi - lo));
    return diag ? (uint32_t)(lo << 16 | v << 8 | lo) : (uint32_t)(v << 16 | lo << 8 | lo);
}

static void conf_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    conf_state *st = s->self;
    int k = st->k;
    dl_grid_textf(g, 0, 0, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD,
                  "confusion matrix (%s)  rows: actual, columns: predicted",
                  st->normalise ? "row-normalised" : "counts");
    int name_w = 4;
    for (int i = 0; i < k; i++) {
        int w = dl_utf8_width(st->names[i]);
        if (w > name_w)
            name_w = w;
    }
    if (name_w > 16)
        name_w = 16;
    int cell_w = env->depth == DL_COLOR_MONO || env->ascii ? 7 : st->normalise ? 5 : 6;
    int list_w = 34, avail = g->cols - list_w - name_w - 2;
    int vis_cols = avail / cell_w < k ? avail / cell_w : k,
        vis_rows = g->rows - 6 < k ? g->rows - 6 : k; /* 2 info lines + key bar */
    if (st->scroll > k - vis_rows)
        st->scroll = k - vis_rows > 0 ? k - vis_rows : 0;
    if (st->hscroll > k - vis_cols)
        st->hscroll = k - vis_cols > 0 ? k - vis_cols : 0;
    int x0 = name_w + 1, y0 = 2;
    /* Column headers: class index (names would not fit a 5-cell column). */
    for (int c = 0; c < vis_cols; c++)
        dl_grid_textf(g, x0 + c * cell_w, 1, cell_w, DL_ROLE_AXIS, 0, "%*d", cell_w - 1,
                      st->hscroll + c);
    for (int r = 0; r < vis_rows; r++) {
        int i = r + st->scroll;
        int64_t row_sum = 0;
        for (int j = 0; j < k; j++)
            row_sum += st->cm[(size_t)i * k + j];
        dl_grid_textf(g, 0, y0 + r, name_w, DL_ROLE_DEFAULT, 0, "%*.*s", name_w, name_w,
                      st->names[i]);
        for (int col = 0; col < vis_cols; col++) {
            int j = st->hscroll + col;
            int64_t c = st->cm[(size_t)i * k + j];
            double t = row_sum > 0 ? (double)c / row_sum : 0;
            char txt[16];
            if (st->normalise)
                snprintf(txt, sizeof txt, "%.2f", t);
            else
                snprintf(txt, sizeof txt, "%lld", (long long)c);
            int x = x0 + col * cell_w;
            if (env->depth == DL_COLOR_MONO || env->ascii) {
                /* No colour: the diagonal in brackets, zeros as dots. */
                char cellt[24];
                if (i == j)
                    snprintf(cellt, sizeof cellt, "[%s]", txt);
                else
                    snprintf(cellt, sizeof cellt, "%s ", c ? txt : ".");
                dl_grid_textf(g, x, y0 + r, cell_w, i == j ? DL_ROLE_GOOD : DL_ROLE_DEFAULT,
                              i == j ? DL_ATTR_BOLD : 0, "%*s", cell_w, cellt);
            } else {
                for (int q = 0; q < cell_w; q++) {
                    dl_cell *cell = dl_grid_at(g, x + q, y0 + r);
                    if (cell)
                        *cell = (dl_cell){.ch = ' ',
                                          .attr = DL_ATTR_RGB_BG | DL_ATTR_RGB_FG,
                                          .fg = 0xffffff,
                                          .bg = c ? heat(t, i == j) : 0x181818};
                }
                int tw = (int)strlen(txt);
                for (int q = 0; q < tw && q < cell_w - 1; q++) {
                    dl_cell *cell = dl_grid_at(g, x + cell_w - 1 - tw + q, y0 + r);
                    if (cell)
                        cell->ch = (uint32_t)(c || i == j ? txt[q] : ' ');
                }
            }
        }
    }
    /* Columns are numbered: say which class each number is. */
    int ly0 = y0 + vis_rows + (vis_rows < k) + (vis_cols < k), lxx = 0;
    for (int j = 0; j < k && ly0 < g->rows - 1; j++) {
        char item[48];
        snprintf(item, sizeof item, "%d %.16s  ", j, st->names[j]);
        int w = dl_utf8_width(item);
        if (lxx + w > g->cols - list_w) {
            ly0++;
            lxx = 0;
            if (ly0 >= g->rows - 1)
                break;
        }
        lxx += dl_grid_text(g, lxx, ly0, w, DL_ROLE_DIM, 0, item);
    }
    if (vis_rows < k)
        dl_grid_textf(g, 0, y0 + vis_rows, g->cols - list_w, DL_ROLE_DIM, 0,
                      "rows %d-%d of %d (Up/Down scroll)", st->scroll + 1, st->scroll + vis_rows,
                      k);
    if (vis_cols < k)
        dl_grid_textf(g, 0, y0 + vis_rows + 1, g->cols - list_w, DL_ROLE_DIM, 0,
                      "columns %d-%d of %d (Left/Right scroll)", st->hscroll,
                      st->hscroll + vis_cols - 1, k);
    /* Most confused: off-diagonal cells, largest first. */
    int lx = g->cols - list_w + 1, ly = 1;
    dl_grid_text(g, lx, ly++, list_w - 1, DL_ROLE_TITLE, DL_ATTR_BOLD,
                 "most confused (actual > pred)");
    int np = 0;
    pair *pairs = malloc(sizeof *pairs * (size_t)k * k);
    if (pairs) {
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (i != j && st->cm[(size_t)i * k + j] > 0)
                    pairs[np++] = (pair){i, j, st->cm[(size_t)i * k + j]};
        qsort(pairs, (size_t)np, sizeof *pairs, cmp_pair);
        for (int q = 0; q < np && ly < g->rows - 1; q++)
            dl_grid_textf(g, lx, ly++, list_w - 1, DL_ROLE_DEFAULT, 0, "%4lld %.12s > %.12s",
                          (long long)pairs[q].n, st->names[pairs[q].a], st->names[pairs[q].p]);
        free(pairs);
    }
    if (np == 0)
        dl_grid_text(g, lx, ly, list_w - 1, DL_ROLE_DIM, 0, "none");
    dl_draw_keybar(g, (dl_rect){0, g->rows - 1, g->cols, 1}, DL_SCR_CONFUSION);
}

static int conf_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    conf_state *st = s->self;
    (void)key;
    (void)app;
    switch (a) {
    case DL_ACT_NORMALISE:
        st->normalise = !st->normalise;
        return DL_R_REDRAW;
    case DL_ACT_UP:
        if (st->scroll > 0)
            st->scroll--;
        return DL_R_REDRAW;
    case DL_ACT_DOWN:
        st->scroll++;
        return DL_R_REDRAW; /* clamped when drawn */
    case DL_ACT_THRESH_DOWN:
        if (st->hscroll > 0)
            st->hscroll--;
        return DL_R_REDRAW;
    case DL_ACT_THRESH_UP:
        st->hscroll++;
        return DL_R_REDRAW;
    default:
        return DL_R_UNHANDLED;
    }
}

static void conf_close(dl_screen *s)
{
    conf_state *st = s->self;
    for (int i = 0; i < st->k; i++)
        free(st->names[i]);
    free(st->names);
    free(st->cm);
    free(st);
}

dl_status dl_screen_confusion(dl_screen *out, const int64_t *cm, int k, const char *const *names,
                              dl_err *err)
{
    if (!cm || k < 1)
        return dl_err_set(err, DL_EINVAL,
                          "confusion matrix: need k >= 1 classes and counts (got k=%d)", k);
    conf_state *st = calloc(1, sizeof *st);
    if (!st)
        return dl_err_set(err, DL_ENOMEM, "no memory for the confusion screen");
    st->k = k;
    st->cm = malloc(sizeof(int64_t) * (size_t)k * k);
    st->names = calloc((size_t)k, sizeof(char *));
    if (!st->cm || !st->names) {
        free(st->cm);
        free(st->names);
        free(st);
        return dl_err_set(err, DL_ENOMEM, "no memory for a %dx%d confusion matrix", k, k);
    }
    memcpy(st->cm, cm, sizeof(int64_t) * (size_t)k * k);
    for (int i = 0; i < k; i++) {
        char buf[32];
        if (names && names[i])
            st->names[i] = strdup(names[i]);
        else {
            snprintf(buf, sizeof buf, "%d", i);
            st->names[i] = strdup(buf);
        }
    }
    *out = (dl_screen){.name = "confusion",
                       .id = DL_SCR_CONFUSION,
                       .self = st,
                       .draw = conf_draw,
                       .key = conf_key,
                       .close = conf_close};
    return DL_OK;
}
