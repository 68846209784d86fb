/* cmd-attach: `dllab attach RUN` opens the training dashboard on a run that another process
 * trains (headless, detached from its own dashboard, a sweep's point): plots, tables and events
 * come from the run store, every steering key goes through the store's steering channel, `d`
 * detaches (the training goes on) and q asks whether to stop the training or only detach.
 * A run that is not training, or whose process is gone, is refused (exit 3). */
#include <stdio.h>
#include <string.h>

#include "src/commands.h"
#include "src/runs-util.h"
#include "ui/ui.h"

#define USAGE "usage: dllab attach [--runs DIR] [--ascii] [--no-color] RUN\n"

int cmd_attach(int argc, char **argv)
{
    dl_ui_opts uo;
    dl_ui_opts_take(&uo, &argc, argv);
    const char *dir = NULL, *query = NULL;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("attach", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(USAGE "\nWatches and steers a run trained by another process. Keys as on the\n"
                         "training dashboard; d detaches (the training goes on), q asks whether\n"
                         "to stop the training or only detach. Exit 3: the run is not training.\n");
            return DL_EXIT_OK;
        }
        if (query || argv[i][0] == '-') {
            fprintf(stderr, "dllab attach: unexpected '%s'\n" USAGE, argv[i]);
            return DL_EXIT_USAGE;
        }
        query = argv[i];
    }
    if (!query) {
        fprintf(stderr, "dllab attach: which run?\n" USAGE);
        return DL_EXIT_USAGE;
    }
    dl_store *st = NULL;
    int64_t run;
    int rc = dl_cli_open("attach", dir, 0, &st);
    if (!rc)
        rc = dl_cli_find("attach", st, query, &run);
    if (rc) {
        dl_store_close(st);
        return rc;
    }
    dl_attach_outcome out = DL_ATTACH_DETACHED;
    dl_err err = {0};
    dl_status s = dl_ui_attach(st, run, &uo, &out, &err);
    if (s == DL_EINVAL) { /* not training, or its process is gone */
        fprintf(stderr, "dllab attach: %s\n", err.msg);
        rc = 3;
    } else if (s != DL_OK) {
        fprintf(stderr, "dllab attach: %s\n", err.msg);
        rc = DL_EXIT_FAIL;
    } else {
        dl_run r;
        memset(&r, 0, sizeof r);
        if (dl_store_run_get(st, run, &r, NULL) == DL_OK) {
            if (out == DL_ATTACH_DETACHED)
                printf("detached from run %s: it goes on training (pid %lld); dllab attach %s "
                       "brings it back\n",
                       r.name, (long long)r.pid, r.name);
            else if (out == DL_ATTACH_STOPPED)
                printf("asked run %s to stop now; it saves its state (dllab train --resume %s "
                       "continues it)\n",
                       r.name, r.name);
            else
                printf("run %s has ended: %s\n", r.name, dl_run_status_name(r.status));
            dl_run_clear(&r);
        }
    }
    dl_store_close(st);
    return rc;
}
