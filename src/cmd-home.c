/* cmd-home: `dllab home [--runs DIR] [--ascii] [--no-color]` opens the home screen: the runs of
 * the store, the run view of each, delete / baseline / mark-and-compare, and "new run", which
 * leaves the screen and starts `dllab train DATA` in its place (DATA typed in, or Fashion-MNIST).
 * Without a terminal it says so and points at `dllab runs`. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/commands.h"
#include "src/runs-util.h"
#include "ui/screen-compare.h"
#include "ui/ui.h"

static void usage(FILE *o)
{
    fprintf(o, "usage: dllab home [--runs DIR] [--ascii] [--no-color]\n\n"
               "The home screen: saved runs (Enter opens one, Space marks, c compares, d deletes,\n"
               "b sets the baseline, n starts a new run, ? lists every key).\n\n"
               "  --runs DIR    the run store (default $DLLAB_RUNS, else ./dllab-runs)\n"
               "  --ascii       plain ASCII (automatic when the locale is not UTF-8)\n"
               "  --no-color    no colours (also NO_COLOR=1)\n");
}

int cmd_home(int argc, char **argv)
{
    dl_ui_opts opts;
    dl_ui_opts_take(&opts, &argc, argv);
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("home", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return DL_EXIT_OK;
        }
        fprintf(stderr, "dllab home: unknown argument '%s'\n", argv[i]);
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "dllab home: needs a terminal; 'dllab runs' lists the runs as text\n");
        return DL_EXIT_FAIL;
    }
    dl_store *st;
    if (dl_cli_open("home", dir, 0, &st) != 0)
        return DL_EXIT_FAIL;
    char *request = NULL;
    dl_err err = {0};
    dl_home_hooks hooks = {.user = st, .compare = dl_compare_home_hook}; /* c: the compare screen */
    dl_status s = dl_ui_home(st, &hooks, &opts, &request, &err);
    char store_dir[4096];
    snprintf(store_dir, sizeof store_dir, "%s", dl_store_dir(st));
    dl_store_close(st);
    if (s != DL_OK) {
        fprintf(stderr, "dllab home: %s\n", err.msg);
        return DL_EXIT_FAIL;
    }
    if (!request)
        return DL_EXIT_OK;
    /* A new run: become `dllab train DATA --runs DIR`. */
    char *args[6];
    int n = 0;
    args[n++] = "dllab";
    args[n++] = "train";
    args[n++] = request;
    args[n++] = "--runs";
    args[n++] = store_dir;
    args[n] = NULL;
    if (opts.no_color)
        setenv("NO_COLOR", "1", 1); /* train's own parser knows no --no-color */
    execv("/proc/self/exe", args);
    perror("dllab home: starting dllab train");
    free(request);
    return DL_EXIT_FAIL;
}
