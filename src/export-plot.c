/* export-plot: figures of stored runs as PNG/SVG (cairo) and their series as CSV. See
 * src/export-plot.h. One run for confusion; up to DL_PC_MAX_LINES / 3 runs for the others.
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

/* A chart plus what the CSV needs: the owned arrays and each line's run and series names. */
typedef struct figure {
    dl_pc_chart chart;
    double *own[2 * DL_PC_MAX_LINES];
    int nown;
    const char *run[DL_PC_MAX_LINES];
    char series[DL_PC_MAX_LINES][48];
    char labels[DL_PC_MAX_LINES][DL_STORE_NAME_MAX + 32];
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
    if (f->chart.nlines >= DL_PC_MAX_LINES || n == 0) {
        free(x);
        free(y);
        return NULL;
    }
    f->own[f->nown++] = x;
    f->own[f->nown++] = y;
    int i = f->chart.nlines++;
    dl_pc_line *l = &f->chart.lines[i];
    memset(l, 0, sizeof *l);
    l->x = x;
    l->y = y;
    l->n = n;
    f->run[i] = run;
    snprintf(f->series[i], sizeof f->series[i], "%s", series);
    if (label) {
        snprintf(f->labels[i], sizeof f->labels[i], "%s", label);
        l->label = f->labels[i];
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
            snprintf(lab, sizeof lab, one ? "train (smoothed)" : "%s train", nm);
            if ((l = add_series(f, r, DL_CMP_TRAIN_SMOOTH, xa, "smooth_loss", lab)))
                l->color = (int)i;
            snprintf(lab, sizeof lab, one ? "valid" : "%s valid", nm);
            if ((l = add_series(f, r, DL_CMP_VALID_LOSS, xa, "valid_loss", lab))) {
                l->color = one ? 1 : (int)i;
                l->markers = true;
                l->dashed = !one;
            }
            if (one)
                add_unfreeze_lines(f, st, r, xa);
            break;
        case K_LR:
            ch->title = "learning rate";
            ch->ylabel = "lr";
            if ((l = add_series(f, r, DL_CMP_LR, xa, "lr", nm)))
                l->color = (int)i;
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
            double *x = malloc(last->n * sizeof *x), *y = malloc(last->n * sizeof *y);
            if (x && y) {
                memcpy(x, last->lr, last->n * sizeof *x);
                memcpy(y, last->loss, last->n * sizeof *y);
                if ((l = add_line(f, nm, "lrfind", x, y, last->n, nm)))
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
    for (int l = 0; l < fg->chart.nlines; l++)
        for (size_t i = 0; i < fg->chart.lines[l].n; i++) {
            dl_cli_csv_str(f, fg->run[l]);
            fprintf(f, ",%s,%.10g,%.10g\n", fg->series[l], fg->chart.lines[l].x[i],
                    fg->chart.lines[l].y[i]);
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
        rc = plot_confusion(st, &c->runs[0], png, svg, csv, w, h);
    } else if (!rc) {
        figure *fg = calloc(1, sizeof *fg);
        rc = fg ? build_lines(fg, kind, st, c, xa, ylog) : DL_EXIT_FAIL;
        if (!rc && png && dl_pc_chart_write(&fg->chart, DL_PC_PNG, png, w, h, &err) != DL_OK)
            rc = DL_EXIT_FAIL;
        if (!rc && svg && dl_pc_chart_write(&fg->chart, DL_PC_SVG, svg, w, h, &err) != DL_OK)
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
