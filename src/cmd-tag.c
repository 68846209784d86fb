/* cmd-tag: `dllab tag RUN TAG...` adds tags to a run; `--rm TAG` (repeatable) removes one. */
#include <stdio.h>
#include <string.h>

#include "src/commands.h"
#include "src/runs-util.h"

#define USAGE "usage: dllab tag [--runs DIR] RUN TAG... [--rm TAG]...\n"

int cmd_tag(int argc, char **argv)
{
    const char *dir = NULL, *query = NULL;
    const char *add[64], *del[64];
    int n_add = 0, n_del = 0;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("tag", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(USAGE "\nAdds tags to a run (dllab runs --tag TAG filters by them); --rm TAG "
                         "removes one.\n");
            return DL_EXIT_OK;
        } else if (strcmp(argv[i], "--rm") == 0 && i + 1 < argc && n_del < 64) {
            del[n_del++] = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "dllab tag: unexpected argument '%s'\n" USAGE, argv[i]);
            return DL_EXIT_USAGE;
        } else if (!query) {
            query = argv[i];
        } else if (n_add < 64) {
            add[n_add++] = argv[i];
        }
    }
    if (!query || n_add + n_del == 0) {
        fprintf(stderr, "dllab tag: give a run and at least one tag\n" USAGE);
        return DL_EXIT_USAGE;
    }
    dl_store *st;
    int64_t id;
    int rc = dl_cli_open("tag", dir, 0, &st);
    if (rc)
        return rc;
    if ((rc = dl_cli_find("tag", st, query, &id)) == 0) {
        dl_err err = {0};
        for (int i = 0; i < n_add && !rc; i++)
            if (dl_store_tag_add(st, id, add[i], &err) != DL_OK)
                rc = DL_EXIT_FAIL;
        for (int i = 0; i < n_del && !rc; i++)
            if (dl_store_tag_remove(st, id, del[i], &err) != DL_OK)
                rc = DL_EXIT_FAIL;
        if (rc)
            fprintf(stderr, "dllab tag: %s\n", err.msg);
    }
    dl_store_close(st);
    return rc;
}
