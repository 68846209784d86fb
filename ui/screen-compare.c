/* screen-compare: several runs overlaid (see ui/screen-compare.h). The screen owns a dl_compare
 * and draws from it only; colours go by shown slot (SERIES1..6) so the drawn runs never share one.
 * It refuses to show more than DL_CMP_SHOWN runs at once (Space on a seventh says so). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/plot.h"
#include "ui/screen-compare.h"
#include "ui/screens.h"

static const double betas[] = {0, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99};
#define N_BETAS ((int)(sizeof betas / sizeof betas[0]))

typedef struct cmp_view {
    dl_store *st;
    dl_compare *c;
    bool shown[DL_CMP_MAX_RUNS];
    int cursor; /* run under the cursor in the list */
    int focus;  /* 0: run list, 1: table (Up/Down scroll it) */
    int table_top;
    int all_params;
    int ylog;
    int beta_i;
    int right; /* 0: valid loss, 1 + m: metric m */
    dl_cmp_xaxis xa;
    double last_poll;
    /* derived from c, rebuilt when c or all_params change */
    dl_cmp_figure *fig;
    size_t nfig;
    dl_cmp_param *par;
    size_t npar;
    char msg[DL_ERR_MSG_MAX]; /* a table error (bad config JSON), shown instead of the parameters */
} cmp_view;

static void derive(cmp_view *v)
{
    dl_cmp_figures_free(v->fig, v->nfig);
    dl_cmp_params_free(v->par, v->npar, v->c->n);
    v->fig = NULL;
    v->par = NULL;
    v->nfig = v->npar = 0;
    v->msg[0] = 0;
    dl_err err = {0};
    if (dl_cmp_figures(v->c, &v->fig, &v->nfig, &err) != DL_OK)
        snprintf(v->msg, sizeof v->msg, "%s", err.msg);
    const char *cfg[DL_CMP_MAX_RUNS], *names[DL_CMP_MAX_RUNS];
    for (size_t i = 0; i < v->c->n; i++) {
        cfg[i] = v->c->runs[i].run.config_json;
        names[i] = v->c->runs[i].run.name;
    }
    if (dl_cmp_params(cfg, names, v->c->n, v->all_params, &v->par, &v->npar, &err) != DL_OK)
        snprintf(v->msg, sizeof v->msg, "%s", err.msg);
}

/* Shown runs in list order: idx[k] = run index; returns how many. */
static int shown_list(const cmp_view *v, int *idx)
{
    int k = 0;
    for (size_t i = 0; i < v->c->n && k < DL_CMP_SHOWN; i++)
        if (v->shown[i])
            idx[k++] = (int)i;
    return k;
}

static int slot_of(const cmp_view *v, int run)
{
    int idx[DL_CMP_SHOWN], n = shown_list(v, idx);
    for (int k = 0; k < n; k++)
        if (idx[k] == run)
            return k;
    return -1;
}

/* Converted series kept alive while the plot draws. */
typedef struct fbuf {
    float *x[DL_PLOT_MAX_SERIES], *y[DL_PLOT_MAX_SERIES];
    int n;
} fbuf;

static void add_series(dl_plot *p, fbuf *fb, const dl_cmp_run *r, dl_cmp_kind kind,
                       const char *metric, dl_cmp_xaxis xa, int role, int smooth, int style)
{
    double *x, *y;
    size_t n;
    if (fb->n >= DL_PLOT_MAX_SERIES ||
        dl_cmp_series(r, kind, metric, xa, &x, &y, &n, NULL) != DL_OK || n == 0)
        return;
    float *fx = malloc(n * sizeof *fx), *fy = malloc(n * sizeof *fy);
    if (fx && fy) {
        for (size_t i = 0; i < n; i++) {
            fx[i] = (float)x[i];
            fy[i] = (float)y[i];
        }
        fb->x[fb->n] = fx;
        fb->y[fb->n] = fy;
        fb->n++;
        dl_plot_add(p, (dl_plot_series){.name = NULL,
                                        .x = fx,
                                        .y = fy,
                                        .n = (int)n,
                                        .role = role,
                                        .style = style,
                                        .smooth = smooth});
    } else {
        free(fx);
        free(fy);
    }
    free(x);
    free(y);
}

static void draw_plot(cmp_view *v, dl_grid *g, dl_rect r, int ascii, int which)
{
    const char *metric = which > 0 ? v->c->metric_names[which - 1] : NULL;
    char title[160];
    if (which < 0)
        snprintf(title, sizeof title, "train loss (EMA %.2f)", betas[v->beta_i]);
    else
        snprintf(title, sizeof title, "%s", metric ? metric : "valid loss");
    dl_plot p;
    dl_plot_init(&p, title);
    p.xlabel = v->xa == DL_CMP_X_TIME ? "seconds" : dl_cmp_xaxis_name(v->xa);
    p.ylog = v->ylog;
    p.ascii = ascii;
    p.legend = 0;
    p.beta = betas[v->beta_i];
    fbuf fb = {0};
    int idx[DL_CMP_SHOWN], ns = shown_list(v, idx);
    for (int k = 0; k < ns; k++) {
        const dl_cmp_run *run = &v->c->runs[idx[k]];
        int role = DL_ROLE_SERIES1 + k;
        if (which < 0)
            add_series(&p, &fb, run, DL_CMP_TRAIN_LOSS, NULL, v->xa, role, v->beta_i > 0,
                       DL_PLOT_LINE);
        else
            add_series(&p, &fb, run, metric ? DL_CMP_METRIC : DL_CMP_VALID_LOSS, metric, v->xa,
                       role, 0, DL_PLOT_LINE_POINTS);
    }
    dl_plot_draw(&p, g, r, NULL);
    for (int i = 0; i < fb.n; i++) {
        free(fb.x[i]);
        free(fb.y[i]);
    }
}

static void fmt_value(const dl_cmp_figure *f, double val, char *buf, int cap, int delta)
{
    if (!isfinite(val))
        snprintf(buf, (size_t)cap, "-");
    else if (f->is_time) {
        char d[32];
        dl_fmt_duration(fabs(val), d, sizeof d);
        snprintf(buf, (size_t)cap, "%s%s", delta ? (val < 0 ? "-" : "+") : "", d);
    } else if (strcmp(f->name, "epochs") == 0 || strcmp(f->name, "images/s") == 0)
        snprintf(buf, (size_t)cap, delta ? "%+.0f" : "%.0f", val);
    else
        snprintf(buf, (size_t)cap, delta ? "%+.4f" : "%.4f", val);
}

static void draw_list(cmp_view *v, dl_grid *g, dl_rect r, int ascii)
{
    dl_grid_box(g, r, ascii, v->focus == 0 ? "[runs]" : "runs");
    int x = r.x + 1, w = r.w - 2, h = r.h - 2;
    int first = v->cursor >= h ? v->cursor - h + 1 : 0;
    for (int row = 0; row < h && first + row < (int)v->c->n; row++) {
        int i = first + row, y = r.y + 1 + row, slot = slot_of(v, i);
        const dl_cmp_run *run = &v->c->runs[i];
        unsigned sel = i == v->cursor ? DL_ATTR_REVERSE : 0;
        dl_grid_fill(g, (dl_rect){x, y, w, 1}, ' ', DL_ROLE_DEFAULT, sel);
        char mark[8];
        snprintf(mark, sizeof mark, "%s", slot >= 0 ? (ascii ? "#" : "\xe2\x96\x88") : " ");
        int cx = x;
        cx +=
            dl_grid_text(g, cx, y, 1, slot >= 0 ? DL_ROLE_SERIES1 + slot : DL_ROLE_DIM, sel, mark);
        cx += dl_grid_textf(g, cx, y, 4, DL_ROLE_DEFAULT, sel, "%c%c ",
                            slot >= 0 ? '1' + slot : ' ', i == v->c->baseline ? '*' : ' ');
        char st[16];
        snprintf(st, sizeof st, " %.8s", dl_run_status_name(run->run.status));
        int namew = x + w - cx - (int)strlen(st);
        char cut[128];
        dl_grid_text(g, cx, y, namew, slot >= 0 ? DL_ROLE_DEFAULT : DL_ROLE_DIM, sel,
                     dl_ui_fit_name(run->run.name, namew, cut, sizeof cut));
        dl_grid_text(g, x + w - (int)strlen(st), y, (int)strlen(st),
                     run->run.status == DL_RUN_RUNNING    ? DL_ROLE_GOOD
                     : run->run.status == DL_RUN_FINISHED ? DL_ROLE_DIM
                                                          : DL_ROLE_WARN,
                     sel, st);
    }
}

static void draw_table(cmp_view *v, dl_grid *g, dl_rect r, int ascii)
{
    dl_grid_box(g, r, ascii,
                v->focus == 1 ? "[figures / hyper-parameters]" : "figures / hyper-parameters");
    int x = r.x + 1, w = r.w - 2, h = r.h - 2;
    int idx[DL_CMP_SHOWN], ns = shown_list(v, idx);
    if (w < 20 || h < 2)
        return;
    int kw = w / 3 < 22 ? w / 3 : 22;
    int cw = ns > 0 ? (w - kw) / ns : 0;
    /* header: the shown runs' slot numbers in their colours, * for the baseline */
    dl_grid_text(g, x, r.y + 1, kw, DL_ROLE_TITLE, DL_ATTR_BOLD,
                 v->c->baseline >= 0 ? "(* = baseline, deltas)" : "");
    for (int k = 0; k < ns; k++) {
        char cut[128];
        int star = idx[k] == v->c->baseline, namew = cw - 1 - (k + 1 >= 10 ? 3 : 2) - star;
        dl_grid_textf(g, x + kw + k * cw, r.y + 1, cw - 1, DL_ROLE_SERIES1 + k, DL_ATTR_BOLD,
                      "%d%s %s", k + 1, star ? "*" : "",
                      dl_ui_fit_name(v->c->runs[idx[k]].run.name, namew, cut, sizeof cut));
    }
    /* body lines: figures, a title line, then the parameters */
    int total = (int)v->nfig + 1 + (v->msg[0] ? 1 : v->npar > 0 ? (int)v->npar : 1);
    if (v->table_top > total - (h - 1))
        v->table_top = total - (h - 1) > 0 ? total - (h - 1) : 0;
    for (int line = v->table_top, y = r.y + 2; line < total && y < r.y + 1 + h; line++, y++) {
        if (line < (int)v->nfig) {
            const dl_cmp_figure *f = &v->fig[line];
            dl_grid_text(g, x, y, kw - 1, DL_ROLE_DEFAULT, 0, f->name);
            for (int k = 0; k < ns; k++) {
                int i = idx[k];
                char buf[64];
                double d = dl_cmp_delta(v->c, f, (size_t)i);
                int is_delta = v->c->baseline >= 0 && i != v->c->baseline;
                fmt_value(f, is_delta ? d : f->value[i], buf, sizeof buf, is_delta);
                int role = DL_ROLE_DEFAULT;
                if (is_delta && isfinite(d) && d != 0 && !f->is_time &&
                    strcmp(f->name, "epochs") != 0)
                    role = (d < 0) == f->lower_better ? DL_ROLE_GOOD : DL_ROLE_BAD;
                if (f->epoch[i] >= 0)
                    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " @%d", f->epoch[i]);
                dl_grid_text(g, x + kw + k * cw, y, cw - 1, role, 0, buf);
            }
        } else if (line == (int)v->nfig) {
            dl_grid_text(g, x, y, w, DL_ROLE_TITLE, DL_ATTR_BOLD,
                         v->all_params ? "hyper-parameters (all; d: only differences)"
                                       : "hyper-parameters that differ (d: all)");
        } else if (v->msg[0]) {
            dl_grid_text(g, x, y, w, DL_ROLE_BAD, 0, v->msg);
        } else if (v->npar == 0) {
            dl_grid_text(g, x, y, w, DL_ROLE_DIM, 0, "(none: the runs share every setting)");
        } else {
            const dl_cmp_param *p = &v->par[line - (int)v->nfig - 1];
            dl_grid_text(g, x, y, kw - 1, p->differs ? DL_ROLE_WARN : DL_ROLE_DEFAULT, 0, p->key);
            for (int k = 0; k < ns; k++) {
                const char *val = p->value[idx[k]];
                /* ASCII terminals cannot show the em dash */
                dl_grid_text(g, x + kw + k * cw, y, cw - 1, val ? DL_ROLE_DEFAULT : DL_ROLE_DIM, 0,
                             val     ? val
                             : ascii ? "-"
                                     : DL_CMP_MISSING);
            }
        }
    }
}

static void cmp_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    cmp_view *v = s->self;
    int cols = g->cols, rows = g->rows;
    const char *right = v->right > 0 ? v->c->metric_names[v->right - 1] : "valid loss";
    int idx[DL_CMP_SHOWN];
    dl_grid_textf(g, 0, 0, cols, DL_ROLE_TITLE, DL_ATTR_BOLD,
                  "compare %zu runs (%d shown)  x: %s  y: %s  smoothing: %.2f  right: %s", v->c->n,
                  shown_list(v, idx), dl_cmp_xaxis_name(v->xa), v->ylog ? "log" : "linear",
                  betas[v->beta_i], right);
    int plot_h = (rows - 2) / 2 > 8 ? (rows - 2) / 2 : 8;
    int half = cols / 2;
    draw_plot(v, g, (dl_rect){0, 1, half, plot_h}, env->ascii, -1);
    draw_plot(v, g, (dl_rect){half, 1, cols - half, plot_h}, env->ascii, v->right);
    int list_w = cols >= 120 ? 40 : 30;
    dl_rect bottom = {0, 1 + plot_h, cols, rows - 2 - plot_h};
    draw_list(v, g, (dl_rect){0, bottom.y, list_w, bottom.h}, env->ascii);
    draw_table(v, g, (dl_rect){list_w, bottom.y, cols - list_w, bottom.h}, env->ascii);
    dl_draw_keybar(g, (dl_rect){0, rows - 1, cols, 1}, DL_SCR_COMPARE);
}

static int cmp_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    cmp_view *v = s->self;
    (void)key;
    int n = (int)v->c->n;
    switch (a) {
    case DL_ACT_UP:
        if (v->focus == 0 && v->cursor > 0)
            v->cursor--;
        else if (v->focus == 1 && v->table_top > 0)
            v->table_top--;
        return DL_R_REDRAW;
    case DL_ACT_DOWN:
        if (v->focus == 0 && v->cursor < n - 1)
            v->cursor++;
        else if (v->focus == 1)
            v->table_top++; /* clamped when drawn */
        return DL_R_REDRAW;
    case DL_ACT_NEXT_PANEL:
        v->focus = !v->focus;
        return DL_R_REDRAW;
    case DL_ACT_TOGGLE_RUN: {
        int idx[DL_CMP_SHOWN];
        if (!v->shown[v->cursor] && shown_list(v, idx) >= DL_CMP_SHOWN) {
            dl_app_message(app, "at most 6 runs are drawn at once: hide one first (Space)");
            return DL_R_REDRAW;
        }
        v->shown[v->cursor] = !v->shown[v->cursor];
        return DL_R_REDRAW;
    }
    case DL_ACT_BASELINE: {
        int was = v->c->baseline;
        v->c->baseline = was == v->cursor ? -1 : v->cursor;
        dl_err err = {0};
        const dl_cmp_run *r = &v->c->runs[v->cursor];
        if (dl_store_baseline_set(v->st, r->run.id, v->c->baseline >= 0, &err) != DL_OK) {
            char m[DL_ERR_MSG_MAX + 64];
            snprintf(m, sizeof m, "baseline shown here only (store not changed: %s)", err.msg);
            dl_app_message(app, m);
        }
        return DL_R_REDRAW;
    }
    case DL_ACT_DIFF_ALL:
        v->all_params = !v->all_params;
        derive(v);
        return DL_R_REDRAW;
    case DL_ACT_X_AXIS:
        v->xa = (dl_cmp_xaxis)((v->xa + 1) % 3);
        return DL_R_REDRAW;
    case DL_ACT_Y_LOG:
        v->ylog = !v->ylog;
        return DL_R_REDRAW;
    case DL_ACT_SMOOTH_LESS:
        if (v->beta_i > 0)
            v->beta_i--;
        return DL_R_REDRAW;
    case DL_ACT_SMOOTH_MORE:
        if (v->beta_i < N_BETAS - 1)
            v->beta_i++;
        return DL_R_REDRAW;
    case DL_ACT_METRIC:
        v->right = (v->right + 1) % (v->c->n_metrics + 1);
        return DL_R_REDRAW;
    default:
        return DL_R_UNHANDLED;
    }
}

static int cmp_tick(dl_screen *s, dl_app *app)
{
    cmp_view *v = s->self;
    double t = dl_ui_now();
    if (t - v->last_poll < 1.0)
        return DL_R_NONE;
    v->last_poll = t;
    int changed = 0;
    dl_err err = {0};
    if (dl_compare_refresh(v->c, v->st, &changed, &err) != DL_OK) {
        dl_app_message(app, err.msg);
        return DL_R_REDRAW;
    }
    if (changed)
        derive(v);
    return changed ? DL_R_REDRAW : DL_R_NONE;
}

static void cmp_close(dl_screen *s)
{
    cmp_view *v = s->self;
    if (!v)
        return;
    dl_cmp_figures_free(v->fig, v->nfig);
    dl_cmp_params_free(v->par, v->npar, v->c->n);
    dl_compare_free(v->c);
    free(v);
    s->self = NULL;
}

dl_status dl_screen_compare(dl_screen *out, dl_store *st, dl_compare *c, bool all_params,
                            dl_err *err)
{
    cmp_view *v = calloc(1, sizeof *v);
    if (!v) {
        dl_compare_free(c);
        return dl_err_set(err, DL_ENOMEM, "no memory for the compare screen");
    }
    v->st = st;
    v->c = c;
    v->all_params = all_params;
    v->beta_i = 5; /* 0.98, fastai's */
    for (size_t i = 0; i < c->n && i < DL_CMP_SHOWN; i++)
        v->shown[i] = true;
    v->last_poll = dl_ui_now();
    derive(v);
    memset(out, 0, sizeof *out);
    out->name = "compare";
    out->id = DL_SCR_COMPARE;
    out->self = v;
    out->draw = cmp_draw;
    out->key = cmp_key;
    out->tick = cmp_tick;
    out->close = cmp_close;
    return DL_OK;
}

int dl_compare_home_hook(void *user, dl_app *app, const int64_t *ids, int n)
{
    dl_store *st = user;
    dl_compare *c;
    dl_err err = {0};
    dl_screen s;
    if (dl_compare_load(st, ids, (size_t)n, &c, &err) != DL_OK ||
        dl_screen_compare(&s, st, c, false, &err) != DL_OK) {
        dl_app_message(app, err.msg);
        return DL_R_REDRAW;
    }
    if (dl_app_push(app, &s) != 0) {
        s.close(&s);
        dl_app_message(app, "too many screens open");
    }
    return DL_R_REDRAW;
}

dl_status dl_compare_tui(dl_store *st, dl_compare *c, const dl_ui_opts *opts, bool all_params,
                         dl_err *err)
{
    dl_screen s;
    dl_status rc = dl_screen_compare(&s, st, c, all_params, err);
    if (rc != DL_OK)
        return rc;
    dl_app *app = dl_app_new(opts);
    if (!app) {
        s.close(&s);
        return dl_err_set(err, DL_ENOMEM, "no memory for the UI");
    }
    dl_app_push(app, &s);
    rc = dl_app_run(app, NULL, err);
    dl_app_free(app);
    return rc;
}
