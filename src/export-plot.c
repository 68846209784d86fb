/* export-plot: figures of stored runs as PNG/SVG (cairo) and their series as CSV. See
 * src/export-plot.h. One run for confusion (a multi-label run: per-class P/R/F1 bars and the
 * threshold sweep); up to DL_PC_MAX_LINES / 3 runs for the others. Lines follow one convention:
 * valid solid with a dot per epoch, smoothed train dashed. lr draws every parameter group with
 * the momentum below (fastai's plot_sched); lrfind leaves out the last 5 points (plot_lr_find).
 * Refuses a plot with nothing to draw (e.g. lrfind on a run without an LR-finder sweep), naming
 * the run. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/compare/compare.h"
#include "src/commands.h"
#include "src/export-plot.h"
#include "src/plot-cairo.h"
#include "src/runs-util.h"

#define USAGE                                                                                      \
    "usage: dllab export [--runs DIR] RUN [RUN...] --plot loss|lr|lrfind|confusion|compare\n"      \
    "                    (--png FILE | --svg FILE | --csv DIR)... [--size WxH] [--x "              \
    "step|epoch|time] [--ylog]\n"

static const char *const kinds[] = {"loss", "lr", "lrfind", "confusion", "compare"};
enum { K_LOSS, K_LR, K_LRFIND, K_CONFUSION, K_COMPARE, K_COUNT };

/* What the CSV and the legend need of a panel's lines: each line's run, series and label. */
typedef struct line_names {
    const char *run[DL_PC_MAX_LINES];
    char series[DL_PC_MAX_LINES][48];
    char labels[DL_PC_MAX_LINES][DL_STORE_NAME_MAX + 32];
} line_names;

/* A chart (and optionally a second panel below it, e.g. momentum under the lr) plus the owned
 * arrays. add_line appends to the panel below while on_below is set. */
typedef struct figure {
    dl_pc_chart chart;
    line_names names;
    dl_pc_chart below;
    line_names below_names;
    bool on_below;
    double *own[4 * DL_PC_MAX_LINES];
    int nown;
    char vlabels[DL_PC_MAX_VLINES][48];
} figure;

static void figure_free(figure *f)
{
    for (int i = 0; i < f->nown; i++)
        free(f->own[i]);
}

/* Appends a line owning x and y; label NULL keeps it out of the legend. */
static dl_pc_line *add_line(figure *f, const char *run, const char *series, double *x, double *y,
                            size_t n, const char *label)
{
    dl_pc_chart *ch = f->on_below ? &f->below : &f->chart;
    line_names *nm = f->on_below ? &f->below_names : &f->names;
    if (ch->nlines >= DL_PC_MAX_LINES || n == 0) {
        free(x);
        free(y);
        return NULL;
    }
    f->own[f->nown++] = x;
    f->own[f->nown++] = y;
    int i = ch->nlines++;
    dl_pc_line *l = &ch->lines[i];
    memset(l, 0, sizeof *l);
    l->x = x;
    l->y = y;
    l->n = n;
    nm->run[i] = run;
    snprintf(nm->series[i], sizeof nm->series[i], "%s", series);
    if (label) {
        snprintf(nm->labels[i], sizeof nm->labels[i], "%s", label);
        l->label = nm->labels[i];
    }
    return l;
}

static dl_pc_line *add_series(figure *f, const dl_cmp_run *r, dl_cmp_kind kind, dl_cmp_xaxis xa,
                              const char *series, const char *label)
{
    double *x, *y;
    size_t n;
    if (dl_cmp_series(r, kind, NULL, xa, &x, &y, &n, NULL) != DL_OK)
        return NULL;
    return add_line(f, r->run.name, series, x, y, n, label);
}

static const char *xlabel(dl_cmp_xaxis xa)
{
    return xa == DL_CMP_X_TIME    ? "seconds since the run started"
           : xa == DL_CMP_X_EPOCH ? "epoch"
                                  : "step";
}

/* Points of an LR-finder curve drawn: fastai's plot_lr_find(skip_end=5) leaves out the last five,
 * where the loss explodes and would flatten the useful part (the y range comes from the rest). */
static size_t lrfind_shown(size_t n) { return n > 5 ? n - 5 : n; }

/* Run i's lr, one line per parameter group (body first), and its momentum in the panel below. */
static void add_lr_lines(figure *f, const dl_cmp_run *r, dl_cmp_xaxis xa, int i, bool one)
{
    int groups = dl_cmp_n_groups(r);
    for (int g = 0; g < groups; g++) {
        double *x, *y;
        size_t n;
        char series[48], lab[DL_STORE_NAME_MAX + 48];
        snprintf(series, sizeof series, "lr_group%d", g);
        const char *role = groups > 1 && g == groups - 1 ? " (head)" : "";
        if (one)
            snprintf(lab, sizeof lab, "group %d%s", g, role);
        else
            snprintf(lab, sizeof lab, "%s group %d%s", r->run.name, g, role);
        if (dl_cmp_lr_series(r, g, xa, &x, &y, &n, NULL) != DL_OK)
            continue;
        dl_pc_line *l = add_line(f, r->run.name, series, x, y, n, lab);
        if (l) {
            l->color = one ? g : i;
            l->dashed = !one && g < groups - 1; /* several runs: colour = run, dashes = body */
            /* groups at one lr lie on each other: earlier ones wider, so each shows */
            l->width = one ? 2 + 2.5 * (groups - 1 - g) : 0;
        }
    }
    f->on_below = true;
    f->below.title = "momentum";
    f->below.ylabel = "mom";
    f->below.xlabel = f->chart.xlabel;
    dl_pc_line *l = add_series(f, r, DL_CMP_MOM, xa, "mom", one ? NULL : r->run.name);
    if (l)
        l->color = one ? 0 : i;
    f->on_below = false;
}

/* A vertical line where the body was unfrozen (fine_tune's second phase, or the dashboard's u):
 * the event's step placed on the chosen x axis through the run's batch rows. */
static void add_unfreeze_lines(figure *f, dl_store *st, const dl_cmp_run *r, dl_cmp_xaxis xa)
{
    dl_event_row *ev = NULL;
    size_t ne = 0;
    double *sx = NULL, *sy = NULL, *ax = NULL, *ay = NULL;
    size_t ns = 0, na = 0;
    if (dl_store_events(st, r->run.id, -1, &ev, &ne, NULL) != DL_OK ||
        dl_cmp_series(r, DL_CMP_TRAIN_LOSS, NULL, DL_CMP_X_STEP, &sx, &sy, &ns, NULL) != DL_OK ||
        dl_cmp_series(r, DL_CMP_TRAIN_LOSS, NULL, xa, &ax, &ay, &na, NULL) != DL_OK || ns != na)
        ns = 0;
    for (size_t e = 0; e < ne && ns > 0; e++) {
        if (strcmp(ev[e].kind, "unfreeze") != 0 || f->chart.nvlines >= DL_PC_MAX_VLINES)
            continue;
        size_t i = 0;
        while (i + 1 < ns && sx[i] < (double)ev[e].step)
            i++;
        int k = f->chart.nvlines++;
        snprintf(f->vlabels[k], sizeof f->vlabels[k], "unfrozen");
        f->chart.vlines[k] = (dl_pc_vline){.x = ax[i], .label = f->vlabels[k], .color = 7};
    }
    dl_events_free(ev, ne);
    free(sx), free(sy), free(ax), free(ay);
}

static int build_lines(figure *f, int kind, dl_store *st, const dl_compare *c, dl_cmp_xaxis xa,
                       bool ylog)
{
    dl_pc_chart *ch = &f->chart;
    ch->ylog = ylog;
    ch->xlabel = xlabel(xa);
    bool one = c->n == 1;
    char lab[DL_STORE_NAME_MAX + 32];
    for (size_t i = 0; i < c->n; i++) {
        const dl_cmp_run *r = &c->runs[i];
        const char *nm = r->run.name;
        dl_pc_line *l;
        switch (kind) {
        case K_LOSS:
            ch->title = one ? nm : "loss";
            ch->ylabel = "loss";
            if (one && (l = add_series(f, r, DL_CMP_TRAIN_LOSS, xa, "train_loss", NULL))) {
                l->color = 0;
                l->alpha = 0.25;
                l->width = 1;
            }
            /* every figure: valid solid with a dot per epoch, smoothed train dashed */
            snprintf(lab, sizeof lab, one ? "train (smoothed)" : "%s train", nm);
            if ((l = add_series(f, r, DL_CMP_TRAIN_SMOOTH, xa, "smooth_loss", lab))) {
                l->color = (int)i;
                l->dashed = true;
            }
            snprintf(lab, sizeof lab, one ? "valid" : "%s valid", nm);
            if ((l = add_series(f, r, DL_CMP_VALID_LOSS, xa, "valid_loss", lab))) {
                l->color = one ? 1 : (int)i;
                l->markers = true;
            }
            if (one)
                add_unfreeze_lines(f, st, r, xa);
            break;
        case K_LR: /* fastai's plot_sched: every group's lr, the momentum in a panel below */
            ch->title = "learning rate of each parameter group";
            ch->ylabel = "lr";
            add_lr_lines(f, r, xa, (int)i, one);
            break;
        case K_COMPARE:
            ch->title = "valid loss (solid) and smoothed train loss (dashed)";
            ch->ylabel = "loss";
            if ((l = add_series(f, r, DL_CMP_VALID_LOSS, xa, "valid_loss", nm))) {
                l->color = (int)i;
                l->markers = true;
            }
            if ((l = add_series(f, r, DL_CMP_TRAIN_SMOOTH, xa, "smooth_loss", NULL))) {
                l->color = (int)i;
                l->dashed = true;
                l->width = 1.2;
                l->alpha = 0.7;
            }
            break;
        case K_LRFIND: {
            ch->title = "learning-rate finder";
            ch->xlabel = "learning rate (log scale)";
            ch->ylabel = "loss";
            ch->xlog = true;
            dl_lrfind *lf = NULL;
            size_t nl = 0;
            dl_err err = {0};
            if (dl_store_lrfinds(st, r->run.id, &lf, &nl, &err) != DL_OK || nl == 0) {
                fprintf(stderr, "dllab export: run %s has no LR-finder sweep%s%s\n", nm,
                        err.msg[0] ? ": " : "", err.msg);
                dl_lrfinds_free(lf, nl);
                return DL_EXIT_FAIL;
            }
            const dl_lrfind *last = &lf[nl - 1];
            size_t shown = lrfind_shown(last->n);
            double *x = malloc(last->n * sizeof *x), *y = malloc(last->n * sizeof *y);
            if (x && y) {
                memcpy(x, last->lr, shown * sizeof *x);
                memcpy(y, last->loss, shown * sizeof *y);
                if ((l = add_line(f, nm, "lrfind", x, y, shown, nm)))
                    l->color = (int)i;
            } else {
                free(x);
                free(y);
            }
            for (size_t s = 0; one && s < last->n_sug && ch->nvlines < DL_PC_MAX_VLINES; s++) {
                char lr[24];
                snprintf(lr, sizeof lr, "%.2e", last->sug[s].lr);
                snprintf(f->vlabels[ch->nvlines], sizeof f->vlabels[0], "%.16s %s",
                         last->sug[s].method, lr);
                ch->vlines[ch->nvlines] = (dl_pc_vline){
                    .x = last->sug[s].lr, .label = f->vlabels[ch->nvlines], .color = 3 + (int)s};
                ch->nvlines++;
            }
            dl_lrfinds_free(lf, nl);
            break;
        }
        }
    }
    if (ch->nlines == 0) {
        fprintf(stderr, "dllab export: nothing to plot: %s has no %s rows yet\n",
                one ? c->runs[0].run.name : "no run",
                kind == K_LR || kind == K_LOSS ? "batch" : "epoch");
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}

static dl_status write_figure(const figure *fg, dl_pc_format fmt, const char *path, int w, int h,
                              dl_err *err)
{
    const dl_pc_chart *panels[2] = {&fg->chart, &fg->below};
    return dl_pc_charts_write(panels, fg->below.nlines > 0 ? 2 : 1, true, fmt, path, w, h, err);
}

static FILE *csv_open(const char *dir, const char *kind, char *path, size_t cap)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "dllab export: cannot create %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    char name[64];
    snprintf(name, sizeof name, "%s.csv", kind);
    return dl_cli_create("export", dir, name, path, cap);
}

static int write_lines_csv(const figure *fg, const char *dir, const char *kind)
{
    char path[4400];
    FILE *f = csv_open(dir, kind, path, sizeof path);
    if (!f)
        return DL_EXIT_FAIL;
    fprintf(f, "run,series,x,y\n");
    for (int p = 0; p < 2; p++) {
        const dl_pc_chart *ch = p ? &fg->below : &fg->chart;
        const line_names *nm = p ? &fg->below_names : &fg->names;
        for (int l = 0; l < ch->nlines; l++)
            for (size_t i = 0; i < ch->lines[l].n; i++) {
                dl_cli_csv_str(f, nm->run[l]);
                fprintf(f, ",%s,%.10g,%.10g\n", nm->series[l], ch->lines[l].x[i],
                        ch->lines[l].y[i]);
            }
    }
    return dl_cli_close("export", f, path);
}

/* The run's stored confusion matrix: k x k counts and class names (from the result or vocab). */
static int load_confusion(dl_store *st, const dl_cmp_run *r, double **m, int *k, char ***names)
{
    char *js = NULL;
    dl_err err = {0};
    if (dl_store_interp_get(st, r->run.id, "confusion", &js, NULL, &err) != DL_OK) {
        fprintf(stderr, "dllab export: run %s has no stored confusion matrix (%s)\n", r->run.name,
                err.msg);
        return DL_EXIT_FAIL;
    }
    json_t *root = json_loads(js, 0, NULL);
    free(js);
    json_t *mat = json_is_object(root) ? json_object_get(root, "matrix") : root;
    json_t *voc = json_is_object(root) ? json_object_get(root, "vocab") : NULL;
    size_t n = json_is_array(mat) ? json_array_size(mat) : 0;
    int ok = n > 0 && (*m = calloc(n * n, sizeof **m)) && (*names = calloc(n, sizeof **names));
    for (size_t i = 0; ok && i < n; i++) {
        json_t *row = json_array_get(mat, i);
        ok = json_is_array(row) && json_array_size(row) == n;
        for (size_t j = 0; ok && j < n; j++) {
            json_t *v = json_array_get(row, j);
            ok = json_is_number(v);
            (*m)[i * n + j] = ok ? json_number_value(v) : 0;
        }
        const char *nm = json_string_value(json_array_get(voc, i));
        (*names)[i] = strdup(nm ? nm : "");
    }
    json_decref(root);
    if (!ok) {
        fprintf(
            stderr,
            "dllab export: run %s: the stored confusion result is not a square matrix of counts\n",
            r->run.name);
        return DL_EXIT_FAIL;
    }
    *k = (int)n;
    return DL_EXIT_OK;
}

static int plot_confusion(dl_store *st, const dl_cmp_run *r, const char *png, const char *svg,
                          const char *csv, int w, int h)
{
    double *m = NULL;
    char **names = NULL;
    int k = 0;
    int rc = load_confusion(st, r, &m, &k, &names);
    dl_err err = {0};
    char title[DL_STORE_NAME_MAX + 32];
    snprintf(title, sizeof title, "confusion matrix: %s", r->run.name);
    const char *const *cn = (const char *const *)names;
    if (!rc && png && dl_pc_heatmap_write(title, m, k, cn, DL_PC_PNG, png, w, h, &err) != DL_OK)
        rc = DL_EXIT_FAIL;
    if (!rc && svg && dl_pc_heatmap_write(title, m, k, cn, DL_PC_SVG, svg, w, h, &err) != DL_OK)
        rc = DL_EXIT_FAIL;
    if (rc && err.msg[0])
        fprintf(stderr, "dllab export: %s\n", err.msg);
    if (!rc && csv) {
        char path[4400];
        FILE *f = csv_open(csv, "confusion", path, sizeof path);
        rc = f ? DL_EXIT_OK : DL_EXIT_FAIL;
        if (f) {
            fprintf(f, "actual\\predicted");
            for (int j = 0; j < k; j++) {
                fputc(',', f);
                dl_cli_csv_str(f, names[j]);
            }
            fputc('\n', f);
            for (int i = 0; i < k; i++) {
                dl_cli_csv_str(f, names[i]);
                for (int j = 0; j < k; j++)
                    fprintf(f, ",%.0f", m[i * k + j]);
                fputc('\n', f);
            }
            rc = dl_cli_close("export", f, path);
        }
    }
    for (int i = 0; names && i < k; i++)
        free(names[i]);
    free(names);
    free(m);
    return rc;
}

/* The run's stored interpretation result of this kind, parsed; NULL when there is none. */
static json_t *stored_json(dl_store *st, const dl_cmp_run *r, const char *kind)
{
    char *js = NULL;
    if (dl_store_interp_get(st, r->run.id, kind, &js, NULL, NULL) != DL_OK)
        return NULL;
    json_t *j = json_loads(js, 0, NULL);
    free(js);
    return j;
}

/* A multi-label run's "confusion" figure: per-class precision/recall/F1 bars at the threshold it
 * was interpreted with, and micro-F1 and accuracy_multi against the threshold with the best
 * micro-F1 marked. CSV: per-class.csv and thresh-sweep.csv. */
static int plot_multilabel(dl_store *st, const dl_cmp_run *r, const char *png, const char *svg,
                           const char *csv, int w, int h)
{
    json_t *pc = stored_json(st, r, "per-class"), *sw = stored_json(st, r, "thresh-sweep");
    json_t *classes = json_object_get(pc, "classes"), *pts = json_object_get(sw, "points");
    size_t k = json_array_size(classes), ns = json_array_size(pts);
    figure *fg = calloc(1, sizeof *fg);
    const char **cats = calloc(k + 1, sizeof *cats);
    int rc = DL_EXIT_FAIL;
    if (k == 0) {
        fprintf(stderr, "dllab export: run %s: the stored per-class result has no classes\n",
                r->run.name);
        goto out;
    }
    if (!fg || !cats)
        goto out;
    static const char *const prf_key[3] = {"precision", "recall", "f1"};
    static const char *const prf_label[3] = {"precision", "recall", "F1"};
    double thresh = json_number_value(json_object_get(pc, "thresh"));
    char title[96];
    snprintf(title, sizeof title, "per class at threshold %.2f (micro-F1 %.4f)", thresh,
             json_number_value(json_object_get(pc, "micro_f1")));
    fg->chart.title = title;
    fg->chart.ylabel = "score";
    fg->chart.fixed_y = true;
    fg->chart.ylo = 0;
    fg->chart.yhi = 1.05;
    for (size_t i = 0; i < k; i++)
        cats[i] = json_string_value(json_object_get(json_array_get(classes, i), "class"));
    fg->chart.cats = cats;
    fg->chart.ncats = (int)k;
    for (int q = 0; q < 3; q++) {
        double *x = malloc(k * sizeof *x), *y = malloc(k * sizeof *y);
        for (size_t i = 0; x && y && i < k; i++) {
            x[i] = (double)i;
            y[i] = json_number_value(json_object_get(json_array_get(classes, i), prf_key[q]));
        }
        dl_pc_line *l = x && y ? add_line(fg, r->run.name, prf_key[q], x, y, k, prf_label[q])
                               : (free(x), free(y), NULL);
        if (l) {
            l->bars = true;
            l->bar_width = 0.26;
            l->bar_offset = (q - 1) * 0.27;
            l->color = q;
        }
    }
    /* the sweep, in a second panel */
    int best = 0;
    fg->on_below = true;
    fg->below.title = "threshold sweep";
    fg->below.xlabel = "threshold";
    fg->below.ylabel = "score";
    if (ns > 0) {
        double *t = malloc(ns * sizeof *t), *f1 = malloc(ns * sizeof *f1),
               *t2 = malloc(ns * sizeof *t2), *acc = malloc(ns * sizeof *acc);
        for (size_t i = 0; t && f1 && t2 && acc && i < ns; i++) {
            json_t *p = json_array_get(pts, i);
            t[i] = t2[i] = json_number_value(json_object_get(p, "thresh"));
            f1[i] = json_number_value(json_object_get(p, "micro_f1"));
            acc[i] = json_number_value(json_object_get(p, "accuracy_multi"));
            if (f1[i] > f1[best]) /* the first maximum, as interpret reports it */
                best = (int)i;
        }
        char bl[64] = "";
        if (t && f1)
            snprintf(bl, sizeof bl, "best micro-F1 %.4f at %.2f", f1[best], t[best]);
        snprintf(fg->vlabels[0], sizeof fg->vlabels[0], "%s", bl);
        if (t && f1 && t2 && acc)
            fg->below.vlines[fg->below.nvlines++] =
                (dl_pc_vline){.x = t[best], .label = fg->vlabels[0], .color = 3};
        dl_pc_line *l = add_line(fg, r->run.name, "micro_f1", t, f1, t && f1 ? ns : 0, "micro-F1");
        if (l) {
            l->color = 0;
            l->markers = true;
        }
        if ((l = add_line(fg, r->run.name, "accuracy_multi", t2, acc, t2 && acc ? ns : 0,
                          "accuracy_multi")))
            l->color = 1;
    }
    fg->on_below = false;
    const dl_pc_chart *panels[2] = {&fg->chart, &fg->below};
    int np = fg->below.nlines > 0 ? 2 : 1;
    bool stacked = k > 8; /* many classes need the full width for their bars */
    dl_err err = {0};
    rc = DL_EXIT_OK;
    if (png && dl_pc_charts_write(panels, np, stacked, DL_PC_PNG, png, w, h, &err) != DL_OK)
        rc = DL_EXIT_FAIL;
    if (!rc && svg && dl_pc_charts_write(panels, np, stacked, DL_PC_SVG, svg, w, h, &err) != DL_OK)
        rc = DL_EXIT_FAIL;
    if (rc && err.msg[0])
        fprintf(stderr, "dllab export: %s\n", err.msg);
    if (!rc && csv) {
        char path[4400];
        FILE *f = csv_open(csv, "per-class", path, sizeof path);
        rc = f ? DL_EXIT_OK : DL_EXIT_FAIL;
        if (f) {
            fprintf(f, "class,threshold,precision,recall,f1\n");
            for (size_t i = 0; i < k; i++) {
                dl_cli_csv_str(f, cats[i] ? cats[i] : "");
                fprintf(f, ",%.4g,%.10g,%.10g,%.10g\n", thresh, fg->chart.lines[0].y[i],
                        fg->chart.lines[1].y[i], fg->chart.lines[2].y[i]);
            }
            rc = dl_cli_close("export", f, path);
        }
        if (!rc && fg->below.nlines == 2 &&
            (f = csv_open(csv, "thresh-sweep", path, sizeof path))) {
            fprintf(f, "threshold,micro_f1,accuracy_multi\n");
            for (size_t i = 0; i < fg->below.lines[0].n; i++)
                fprintf(f, "%.4g,%.10g,%.10g\n", fg->below.lines[0].x[i], fg->below.lines[0].y[i],
                        fg->below.lines[1].y[i]);
            rc = dl_cli_close("export", f, path);
        }
    }
out:
    if (fg)
        figure_free(fg);
    free(fg);
    free(cats);
    json_decref(pc);
    json_decref(sw);
    return rc;
}

static int parse_size(const char *s, int *w, int *h)
{
    char x;
    return sscanf(s, "%d%c%d", w, &x, h) == 3 && (x == 'x' || x == 'X') ? 0 : -1;
}

int dl_export_plot_cmd(int argc, char **argv)
{
    const char *dir = NULL, *png = NULL, *svg = NULL, *csv = NULL, *kind_s = NULL, *xa_s = NULL;
    bool ylog = false;
    int w = 800, h = 500;
    const char **q = calloc((size_t)argc, sizeof *q);
    size_t nq = 0;
    int rc = DL_EXIT_USAGE;
    if (!q)
        return DL_EXIT_FAIL;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("export", argc, argv, &i, &dir);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--plot") == 0 && v)
            kind_s = argv[++i];
        else if (strcmp(a, "--png") == 0 && v)
            png = argv[++i];
        else if (strcmp(a, "--svg") == 0 && v)
            svg = argv[++i];
        else if (strcmp(a, "--csv") == 0 && v)
            csv = argv[++i];
        else if (strcmp(a, "--x") == 0 && v)
            xa_s = argv[++i];
        else if (strcmp(a, "--ylog") == 0)
            ylog = true;
        else if (strcmp(a, "--size") == 0 && v) {
            if (parse_size(argv[++i], &w, &h)) {
                fprintf(stderr, "dllab export: --size wants WxH (e.g. 1200x800), not '%s'\n",
                        argv[i]);
                goto out;
            }
        } else if (a[0] != '-')
            q[nq++] = a;
        else {
            fprintf(stderr, "dllab export: unexpected argument '%s' with --plot\n" USAGE, a);
            goto out;
        }
    }
    int kind = K_COUNT;
    for (int k = 0; kind_s && k < K_COUNT; k++)
        if (strcmp(kind_s, kinds[k]) == 0)
            kind = k;
    if (kind == K_COUNT) {
        fprintf(stderr,
                "dllab export: --plot wants loss, lr, lrfind, confusion or compare%s%s%s\n" USAGE,
                kind_s ? ", not '" : "", kind_s ? kind_s : "", kind_s ? "'" : "");
        goto out;
    }
    if (!png && !svg && !csv) {
        fprintf(stderr, "dllab export: --plot needs --png FILE, --svg FILE or --csv DIR\n" USAGE);
        goto out;
    }
    if (nq == 0 || (kind == K_CONFUSION && nq != 1) || nq > DL_PC_MAX_LINES / 3) {
        fprintf(stderr, "dllab export: --plot %s takes %s\n" USAGE, kinds[kind],
                kind == K_CONFUSION ? "one RUN" : "1 to 21 runs");
        goto out;
    }
    dl_cmp_xaxis xa = kind == K_COMPARE ? DL_CMP_X_EPOCH : DL_CMP_X_STEP;
    dl_err err = {0};
    if (xa_s && dl_cmp_xaxis_parse(xa_s, &xa, &err) != DL_OK) {
        fprintf(stderr, "dllab export: %s\n", err.msg);
        goto out;
    }
    if (w < 160 || h < 120 || w > 8000 || h > 8000) {
        fprintf(stderr, "dllab export: --size %dx%d is outside 160x120..8000x8000\n", w, h);
        goto out;
    }
    dl_store *st;
    if ((rc = dl_cli_open("export", dir, DL_STORE_READONLY, &st)))
        goto out;
    int64_t ids[DL_PC_MAX_LINES];
    for (size_t i = 0; i < nq && !rc; i++)
        rc = dl_cli_find("export", st, q[i], &ids[i]);
    dl_compare *c = NULL;
    if (!rc && dl_compare_load(st, ids, nq, &c, &err) != DL_OK) {
        fprintf(stderr, "dllab export: %s\n", err.msg);
        rc = DL_EXIT_FAIL;
    }
    if (!rc && kind == K_CONFUSION) {
        /* a multi-label run has per-class figures and a threshold sweep, not a matrix */
        json_t *cm = stored_json(st, &c->runs[0], "confusion"),
               *pc = cm ? NULL : stored_json(st, &c->runs[0], "per-class");
        rc = pc ? plot_multilabel(st, &c->runs[0], png, svg, csv, w, h)
                : plot_confusion(st, &c->runs[0], png, svg, csv, w, h);
        json_decref(cm);
        json_decref(pc);
    } else if (!rc) {
        figure *fg = calloc(1, sizeof *fg);
        rc = fg ? build_lines(fg, kind, st, c, xa, ylog) : DL_EXIT_FAIL;
        if (!rc && png && write_figure(fg, DL_PC_PNG, png, w, h, &err) != DL_OK)
            rc = DL_EXIT_FAIL;
        if (!rc && svg && write_figure(fg, DL_PC_SVG, svg, w, h, &err) != DL_OK)
            rc = DL_EXIT_FAIL;
        if (rc && err.msg[0])
            fprintf(stderr, "dllab export: %s\n", err.msg);
        if (!rc && csv)
            rc = write_lines_csv(fg, csv, kinds[kind]);
        if (fg)
            figure_free(fg);
        free(fg);
    }
    dl_compare_free(c);
    dl_store_close(st);
out:
    free(q);
    return rc;
}
