/* cmd-compare: `dllab compare RUN RUN [RUN...]` puts runs side by side. On a terminal it opens the
 * compare screen (ui/screen-compare.c); with --no-tui, or when stdout is not a terminal, it prints
 * the table (one column per run: status, best and final valid loss and metrics with their epoch,
 * epochs, training time, images/s; a baseline among them turns the others' figures into deltas)
 * and the hyper-parameters that differ (--all-params: all of them); --json prints the same as one
 * JSON document. Refuses fewer than two runs and the same run twice. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/compare/compare.h"
#include "src/commands.h"
#include "src/runs-util.h"
#include "ui/grid.h"
#include "ui/screen-compare.h"

#define USAGE                                                                                      \
    "usage: dllab compare [--runs DIR] RUN RUN [RUN...] [--no-tui] [--json] [--all-params]\n"      \
    "                     [--baseline RUN] [--ascii] [--no-color]\n"

static void fmt_fig(const dl_cmp_figure *f, double v, char *buf, size_t cap)
{
    if (!isfinite(v))
        snprintf(buf, cap, "-");
    else if (f->is_time)
        dl_cli_fmt_duration(v, buf, cap);
    else if (strcmp(f->name, "epochs") == 0 || strcmp(f->name, "images/s") == 0)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.4f", v);
}

static void fmt_delta(const dl_cmp_figure *f, double d, char *buf, size_t cap)
{
    if (!isfinite(d)) {
        buf[0] = 0;
        return;
    }
    char v[32];
    if (f->is_time) {
        dl_cli_fmt_duration(fabs(d), v, sizeof v);
        snprintf(buf, cap, "%s%s", d < 0 ? "-" : "+", v);
    } else if (strcmp(f->name, "epochs") == 0 || strcmp(f->name, "images/s") == 0)
        snprintf(buf, cap, "%+.0f", d);
    else
        snprintf(buf, cap, "%+.4f", d);
}

/* One cell of the figure table: "0.3012 @2" and, against a baseline, " (-0.0210)". */
static void fig_cell(const dl_compare *c, const dl_cmp_figure *f, size_t i, char *buf, size_t cap)
{
    char v[48], d[48];
    fmt_fig(f, f->value[i], v, sizeof v);
    if (f->epoch[i] >= 0 && isfinite(f->value[i])) /* a missing value has no epoch: "-" */
        snprintf(v + strlen(v), sizeof v - strlen(v), " @%d", f->epoch[i]);
    d[0] = 0;
    if (c->baseline >= 0 && (size_t)c->baseline != i)
        fmt_delta(f, dl_cmp_delta(c, f, i), d, sizeof d);
    snprintf(buf, cap, d[0] ? "%s (%s)" : "%s", v, d);
}

/* "  text" padded to w display cells (the em dash is one cell but three bytes); the last column
 * is not padded, so lines carry no trailing blanks. */
static void cell(const char *text, int w, bool last)
{
    int pad = last ? 0 : w - dl_utf8_width(text);
    printf("  %s%*s", text, pad > 0 ? pad : 0, "");
}

static int print_text(const dl_compare *c, const dl_cmp_figure *f, size_t nf, const dl_cmp_param *p,
                      size_t np, bool all)
{
    int kw = 18, cw = 12;
    /* the key column fits the longest key and figure name ("final accuracy_multi") */
    for (size_t k = 0; k < np; k++)
        if ((int)strlen(p[k].key) > kw)
            kw = (int)strlen(p[k].key);
    for (size_t k = 0; k < nf; k++)
        if ((int)strlen(f[k].name) > kw)
            kw = (int)strlen(f[k].name);
    for (size_t i = 0; i < c->n; i++) {
        int w = (int)strlen(c->runs[i].run.name) + 2;
        cw = w > cw ? w : cw;
        for (size_t k = 0; k < nf; k++) {
            char text[128];
            fig_cell(c, &f[k], i, text, sizeof text);
            cw = (int)strlen(text) > cw ? (int)strlen(text) : cw;
        }
        for (size_t k = 0; k < np; k++) {
            const char *v = p[k].value[i] ? p[k].value[i] : DL_CMP_MISSING;
            int w2 = dl_utf8_width(v);
            cw = w2 > cw && w2 <= 48 ? w2 : cw;
        }
    }
    printf("%-*s", kw, "run");
    for (size_t i = 0; i < c->n; i++) {
        char head[DL_STORE_NAME_MAX + 2];
        snprintf(head, sizeof head, "%s%s", (int)i == c->baseline ? "*" : "", c->runs[i].run.name);
        cell(head, cw, i + 1 == c->n);
    }
    printf("\n%-*s", kw, "status");
    for (size_t i = 0; i < c->n; i++)
        cell(dl_run_status_name(c->runs[i].run.status), cw, i + 1 == c->n);
    printf("\n");
    for (size_t k = 0; k < nf; k++) {
        printf("%-*s", kw, f[k].name);
        for (size_t i = 0; i < c->n; i++) {
            char text[128];
            fig_cell(c, &f[k], i, text, sizeof text);
            cell(text, cw, i + 1 == c->n);
        }
        printf("\n");
    }
    if (c->baseline >= 0)
        printf("(* baseline: %s; figures of the other runs show their difference in brackets)\n",
               c->runs[c->baseline].run.name);
    printf("\nhyper-parameters: %s\n", all  ? "all"
                                       : np ? "only those that differ (--all-params shows all)"
                                            : "none differ");
    for (size_t k = 0; k < np; k++) {
        printf("%s%-*s", all && p[k].differs ? "!" : "", all && p[k].differs ? kw - 1 : kw,
               p[k].key);
        for (size_t i = 0; i < c->n; i++) {
            cell(p[k].value[i] ? p[k].value[i] : DL_CMP_MISSING, cw, i + 1 == c->n);
        }
        printf("\n");
    }
    return ferror(stdout) ? DL_EXIT_FAIL : DL_EXIT_OK;
}

static int print_json(const dl_compare *c, const dl_cmp_figure *f, size_t nf, const dl_cmp_param *p,
                      size_t np)
{
    json_t *root = json_object(), *runs = json_array(), *figs = json_array(),
           *params = json_array();
    for (size_t i = 0; i < c->n; i++)
        json_array_append_new(runs, dl_cli_run_json(&c->runs[i].run));
    for (size_t k = 0; k < nf; k++) {
        json_t *o = json_object(), *vals = json_array(), *eps = json_array(), *ds = json_array();
        for (size_t i = 0; i < c->n; i++) {
            json_array_append_new(vals, dl_cli_json_num(f[k].value[i]));
            json_array_append_new(eps,
                                  f[k].epoch[i] >= 0 ? json_integer(f[k].epoch[i]) : json_null());
            json_array_append_new(ds, dl_cli_json_num(dl_cmp_delta(c, &f[k], i)));
        }
        json_object_set_new(o, "name", json_string(f[k].name));
        json_object_set_new(o, "lower_is_better", json_boolean(f[k].lower_better));
        json_object_set_new(o, "values", vals);
        json_object_set_new(o, "epochs", eps);
        json_object_set_new(o, "deltas", ds);
        json_array_append_new(figs, o);
    }
    for (size_t k = 0; k < np; k++) {
        json_t *o = json_object(), *vals = json_array();
        for (size_t i = 0; i < c->n; i++)
            json_array_append_new(vals, p[k].value[i] ? json_string(p[k].value[i]) : json_null());
        json_object_set_new(o, "key", json_string(p[k].key));
        json_object_set_new(o, "differs", json_boolean(p[k].differs));
        json_object_set_new(o, "values", vals);
        json_array_append_new(params, o);
    }
    json_object_set_new(root, "runs", runs);
    json_object_set_new(root, "baseline",
                        c->baseline >= 0 ? json_string(c->runs[c->baseline].run.name)
                                         : json_null());
    json_object_set_new(root, "figures", figs);
    json_object_set_new(root, "params", params);
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? DL_EXIT_OK
                                                                                 : DL_EXIT_FAIL;
    printf("\n");
    json_decref(root);
    return rc;
}

/* Prints the table (or JSON) of the loaded runs. */
static int print_compare(const dl_compare *c, bool json, bool all)
{
    dl_err err = {0};
    dl_cmp_figure *f = NULL;
    size_t nf = 0, np = 0;
    dl_cmp_param *p = NULL;
    const char **cfg = calloc(c->n, sizeof *cfg), **names = calloc(c->n, sizeof *names);
    int rc = DL_EXIT_FAIL;
    if (!cfg || !names) {
        fprintf(stderr, "dllab compare: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < c->n; i++) {
        cfg[i] = c->runs[i].run.config_json;
        names[i] = c->runs[i].run.name;
    }
    if (dl_cmp_figures(c, &f, &nf, &err) != DL_OK ||
        dl_cmp_params(cfg, names, c->n, json || all, &p, &np, &err) != DL_OK) {
        fprintf(stderr, "dllab compare: %s\n", err.msg);
        goto done;
    }
    rc = json ? print_json(c, f, nf, p, np) : print_text(c, f, nf, p, np, all);
done:
    dl_cmp_figures_free(f, nf);
    dl_cmp_params_free(p, np, c->n);
    free(cfg);
    free(names);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    const char *dir = NULL, *baseline = NULL;
    bool no_tui = false, json = false, all = false;
    dl_ui_opts ui = {0};
    const char **queries = calloc((size_t)argc, sizeof *queries);
    size_t nq = 0;
    if (!queries)
        return DL_EXIT_FAIL;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("compare", argc, argv, &i, &dir);
        if (r < 0) {
            free(queries);
            return DL_EXIT_USAGE;
        }
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(
                USAGE
                "\nPuts runs side by side: curves (on a terminal), the figure table with the "
                "epoch\n"
                "each best/final value happened, and the hyper-parameters that differ.\n"
                "The store's baseline (dllab baseline RUN), or --baseline RUN, turns the\n"
                "other runs' figures into differences. --json lists every hyper-parameter with a\n"
                "\"differs\" flag.\n");
            free(queries);
            return DL_EXIT_OK;
        } else if (strcmp(argv[i], "--no-tui") == 0) {
            no_tui = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--all-params") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--ascii") == 0) {
            ui.ascii = 1;
        } else if (strcmp(argv[i], "--no-color") == 0) {
            ui.no_color = 1;
        } else if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc) {
            baseline = argv[++i];
        } else if (argv[i][0] != '-') {
            queries[nq++] = argv[i];
        } else {
            fprintf(stderr, "dllab compare: unexpected argument '%s'\n" USAGE, argv[i]);
            free(queries);
            return DL_EXIT_USAGE;
        }
    }
    if (nq < 2 || nq > DL_CMP_MAX_RUNS) {
        fprintf(stderr, "dllab compare: give 2 to %d runs (got %zu)\n" USAGE, DL_CMP_MAX_RUNS, nq);
        free(queries);
        return DL_EXIT_USAGE;
    }
    /* the screen's `b` writes the baseline, so only the printed forms open read-only */
    bool text = no_tui || json || !isatty(STDOUT_FILENO);
    dl_store *st;
    int rc = dl_cli_open("compare", dir, text ? DL_STORE_READONLY : 0, &st);
    if (rc) {
        free(queries);
        return rc;
    }
    int64_t ids[DL_CMP_MAX_RUNS], base_id = -1;
    for (size_t i = 0; i < nq && !rc; i++)
        rc = dl_cli_find("compare", st, queries[i], &ids[i]);
    if (!rc && baseline)
        rc = dl_cli_find("compare", st, baseline, &base_id);
    free(queries);
    dl_compare *c = NULL;
    dl_err err = {0};
    if (!rc && dl_compare_load(st, ids, nq, &c, &err) != DL_OK) {
        fprintf(stderr, "dllab compare: %s\n", err.msg);
        rc = DL_EXIT_FAIL;
    }
    if (!rc && baseline) {
        c->baseline = -1;
        for (size_t i = 0; i < nq; i++)
            if (ids[i] == base_id)
                c->baseline = (int)i;
        if (c->baseline < 0) {
            fprintf(stderr, "dllab compare: the baseline %s is not one of the compared runs\n",
                    baseline);
            rc = DL_EXIT_USAGE;
        }
    }
    if (!rc) {
        if (text) {
            rc = print_compare(c, json, all);
        } else {
            rc = dl_compare_tui(st, c, &ui, all, &err) == DL_OK ? DL_EXIT_OK : DL_EXIT_FAIL;
            c = NULL; /* the screen owned it */
            if (rc)
                fprintf(stderr, "dllab compare: %s\n", err.msg);
        }
    }
    dl_compare_free(c);
    dl_store_close(st);
    return rc;
}
