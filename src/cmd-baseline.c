/* cmd-baseline: `dllab baseline RUN` makes RUN the store's baseline (the run others are compared
 * against; only one at a time); `--clear` removes the flag; no RUN prints the current baseline. */
#include <stdio.h>
#include <string.h>

#include "src/commands.h"
#include "src/runs-util.h"

#define USAGE "usage: dllab baseline [--runs DIR] [RUN] [--clear]\n"

int cmd_baseline(int argc, char **argv)
{
    const char *dir = NULL, *query = NULL;
    bool clear = false;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("baseline", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(USAGE
                   "\nMarks RUN as the baseline that comparisons start from (one per store).\n"
                   "--clear removes the mark; without RUN, prints the current baseline.\n");
            return DL_EXIT_OK;
        } else if (strcmp(argv[i], "--clear") == 0) {
            clear = true;
        } else if (argv[i][0] != '-' && !query) {
            query = argv[i];
        } else {
            fprintf(stderr, "dllab baseline: unexpected argument '%s'\n" USAGE, argv[i]);
            return DL_EXIT_USAGE;
        }
    }
    dl_store *st;
    int rc = dl_cli_open("baseline", dir, query || clear ? 0 : DL_STORE_READONLY, &st);
    if (rc)
        return rc;
    dl_err err = {0};
    dl_run *runs = NULL;
    size_t n = 0;
    if (dl_store_runs_list(st, NULL, &runs, &n, &err) != DL_OK) {
        fprintf(stderr, "dllab baseline: %s\n", err.msg);
        dl_store_close(st);
        return DL_EXIT_FAIL;
    }
    int64_t current = -1;
    for (size_t i = 0; i < n; i++)
        if (runs[i].baseline)
            current = runs[i].id;
    if (query) {
        int64_t id;
        if ((rc = dl_cli_find("baseline", st, query, &id)) == 0 &&
            dl_store_baseline_set(st, id, !clear, &err) != DL_OK) {
            fprintf(stderr, "dllab baseline: %s\n", err.msg);
            rc = DL_EXIT_FAIL;
        }
    } else if (clear) {
        if (current >= 0 && dl_store_baseline_set(st, current, false, &err) != DL_OK) {
            fprintf(stderr, "dllab baseline: %s\n", err.msg);
            rc = DL_EXIT_FAIL;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            if (runs[i].id == current)
                printf("%s\n", runs[i].name);
        if (current < 0)
            printf("no baseline (dllab baseline RUN sets one)\n");
    }
    dl_runs_free(runs, n);
    dl_store_close(st);
    return rc;
}
