/* cmd-runs: `dllab runs` lists the runs of a store as a table (name, kind, started, data, arch,
 * epochs, best valid loss and its metric, status, tags; '*' marks the baseline) or as JSON
 * (--json), with filters --tag T, --status S and --kind train|lrfind (an LR-finder sweep from
 * `dllab lrfind` is a run of kind lrfind, not a 0-epoch training). */
#include <stdio.h>
#include <string.h>

#include "src/commands.h"
#include "src/runs-util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dllab runs [--runs DIR] [--json] [--tag TAG] [--status STATUS] [--kind KIND]\n"
            "\n"
            "Lists the runs in the store (DIR/runs.db; default $DLLAB_RUNS, then ./dllab-runs).\n"
            "  --json           one JSON array, one object per run\n"
            "  --tag TAG        only runs tagged TAG\n"
            "  --status STATUS  only running, finished, stopped, diverged or crashed runs\n"
            "  --kind KIND      only trainings (train) or LR-finder sweeps (lrfind)\n");
}

static int max_width(int w, const char *s)
{
    int n = (int)strlen(s);
    return n > w ? n : w;
}

/* Columns are as wide as their widest cell, so long run names and data descriptions
 * ("fashion-mnist (built-in fashion-mnist)") are shown whole and the columns stay aligned. */
static void print_table(const dl_run *runs, size_t n)
{
    char name[160], metric[64];
    int wn = 4, wd = 4, wa = 4, wm = 6;
    for (size_t i = 0; i < n; i++) {
        const dl_run *r = &runs[i];
        snprintf(name, sizeof name, "%s%s", r->name, r->baseline ? " *" : "");
        wn = max_width(wn, name);
        wd = max_width(wd, *r->dataset ? r->dataset : "-");
        wa = max_width(wa, *r->arch ? r->arch : "-");
        wm = max_width(wm, *r->metric_name ? r->metric_name : "-");
    }
    wm += 7; /* " 0.1234" */
    printf("%-*s %-6s %-16s %-*s %-*s %6s %10s %-*s %-9s %s\n", wn, "NAME", "KIND", "STARTED", wd,
           "DATA", wa, "ARCH", "EPOCHS", "BEST VALID", wm, "METRIC", "STATUS", "TAGS");
    for (size_t i = 0; i < n; i++) {
        const dl_run *r = &runs[i];
        char started[32], best[32], val[32];
        dl_cli_fmt_time(r->created, started, sizeof started);
        /* a diverged run's 1.5e9 keeps its column */
        dl_cli_fmt_fit(r->best_valid_loss, 4, 10, best, sizeof best);
        dl_cli_fmt_fit(r->metric_value, 4, 6, val, sizeof val);
        if (*r->metric_name)
            snprintf(metric, sizeof metric, "%s %s", r->metric_name, val);
        else
            snprintf(metric, sizeof metric, "-");
        snprintf(name, sizeof name, "%s%s", r->name, r->baseline ? " *" : "");
        const char *kind = dl_run_kind(r);
        char epochs[16] = "-"; /* a finder sweep trains no epoch: not a 0-epoch training */
        if (strcmp(kind, "lrfind") != 0)
            snprintf(epochs, sizeof epochs, "%d", r->n_epochs);
        printf("%-*s %-6s %-16s %-*s %-*s %6s %10s %-*s %-9s %s\n", wn, name, kind, started, wd,
               *r->dataset ? r->dataset : "-", wa, *r->arch ? r->arch : "-", epochs, best, wm,
               metric, dl_run_status_name(r->status), r->tags);
    }
}

int cmd_runs(int argc, char **argv)
{
    const char *dir = NULL;
    bool json = false;
    dl_run_filter f = {.status = -1};
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("runs", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return DL_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc) {
            f.tag = argv[++i];
        } else if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
            f.kind = argv[++i];
            if (strcmp(f.kind, "train") != 0 && strcmp(f.kind, "lrfind") != 0) {
                fprintf(stderr, "dllab runs: --kind '%s': expected train or lrfind\n", f.kind);
                return DL_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
            dl_run_status s;
            dl_err err = {0};
            if (dl_run_status_parse(argv[++i], &s, &err) != DL_OK) {
                fprintf(stderr, "dllab runs: %s\n", err.msg);
                return DL_EXIT_USAGE;
            }
            f.status = (int)s;
        } else {
            fprintf(stderr, "dllab runs: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return DL_EXIT_USAGE;
        }
    }
    dl_store *st;
    int rc = dl_cli_open("runs", dir, DL_STORE_READONLY, &st);
    if (rc)
        return rc;
    dl_run *runs;
    size_t n;
    dl_err err = {0};
    if (dl_store_runs_list(st, &f, &runs, &n, &err) != DL_OK) {
        fprintf(stderr, "dllab runs: %s\n", err.msg);
        dl_store_close(st);
        return DL_EXIT_FAIL;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, dl_cli_run_json(&runs[i]));
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        printf("\n");
        json_decref(arr);
    } else if (n == 0) {
        printf("no runs%s in %s\n", f.tag || f.status >= 0 || f.kind ? " match" : " yet",
               dl_store_path(st));
    } else {
        print_table(runs, n);
    }
    dl_runs_free(runs, n);
    dl_store_close(st);
    return DL_EXIT_OK;
}
