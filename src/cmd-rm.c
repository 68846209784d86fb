/* cmd-rm: `dllab rm RUN...` deletes runs with all their rows, checkpoint files and folders. It
 * asks first (reading y/N from the terminal) unless --yes; without a terminal and without --yes
 * it refuses, so a script never deletes by accident. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/commands.h"
#include "src/runs-util.h"

#define USAGE "usage: dllab rm [--runs DIR] [--yes] RUN...\n"

static bool confirm(const dl_run *r, size_t n_ck)
{
    fprintf(stderr, "remove run %s (%s, %d epoch%s, %zu checkpoint%s)? [y/N] ", r->name, dl_run_status_name(r->status),
            r->n_epochs, r->n_epochs == 1 ? "" : "s", n_ck, n_ck == 1 ? "" : "s");
    char line[32];
    if (!fgets(line, sizeof line, stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

int cmd_rm(int argc, char **argv)
{
    const char *dir = NULL, *queries[256];
    int nq = 0;
    bool yes = false;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("rm", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(USAGE "\nDeletes runs, their rows and their checkpoint folders. Asks unless --yes.\n");
            return DL_EXIT_OK;
        } else if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0) {
            yes = true;
        } else if (argv[i][0] != '-' && nq < 256) {
            queries[nq++] = argv[i];
        } else {
            fprintf(stderr, "dllab rm: unexpected argument '%s'\n" USAGE, argv[i]);
            return DL_EXIT_USAGE;
        }
    }
    if (!nq) {
        fprintf(stderr, "dllab rm: which run?\n" USAGE);
        return DL_EXIT_USAGE;
    }
    if (!yes && !isatty(STDIN_FILENO)) {
        fprintf(stderr, "dllab rm: not asking without a terminal; add --yes to remove\n");
        return DL_EXIT_USAGE;
    }
    dl_store *st;
    int rc = dl_cli_open("rm", dir, 0, &st);
    if (rc)
        return rc;
    /* Resolve every name first, so a typo in the third name removes nothing. */
    int64_t ids[256];
    for (int i = 0; i < nq && !rc; i++)
        rc = dl_cli_find("rm", st, queries[i], &ids[i]);
    for (int i = 0; i < nq && !rc; i++) {
        dl_err err = {0};
        dl_run r;
        dl_checkpoint_row *ck;
        size_t n_ck = 0;
        if (dl_store_run_get(st, ids[i], &r, &err) != DL_OK ||
            dl_store_checkpoints(st, ids[i], &ck, &n_ck, &err) != DL_OK) {
            fprintf(stderr, "dllab rm: %s\n", err.msg);
            rc = DL_EXIT_FAIL;
            break;
        }
        dl_checkpoints_free(ck, n_ck);
        if (!yes && !confirm(&r, n_ck)) {
            fprintf(stderr, "kept %s\n", r.name);
        } else if (dl_store_run_remove(st, ids[i], &err) != DL_OK) {
            fprintf(stderr, "dllab rm: %s: %s\n", r.name, err.msg);
            rc = DL_EXIT_FAIL;
        } else {
            printf("removed %s\n", r.name);
        }
        dl_run_clear(&r);
    }
    dl_store_close(st);
    return rc;
}
