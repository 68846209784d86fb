/* cmd-home: `dllab home [--runs DIR] [--ascii] [--no-color]` opens the home screen: the runs of
 * the store, the run view of each, delete / baseline / mark-and-compare, and "new run": its form
 * gives a run configuration, trained in this process on the dashboard; when the dashboard closes
 * the home screen comes back with the new run selected (or with what went wrong on its bottom
 * line). Without a terminal it says so and points at `dllab runs`. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/run/run_cfg.h"

#include "src/commands.h"
#include "src/runs-util.h"
#include "src/train-run.h"
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

/* Trains c from the home screen: what the training writes on stderr goes to a scratch file (the
 * terminal belongs to the screens) and its last line comes back in note when it failed. */
static int train_from_home(dl_run_cfg *c, const dl_ui_opts *opts, char *name, size_t cap,
                           char *note, size_t note_cap)
{
    FILE *log = tmpfile();
    int saved = dup(STDERR_FILENO);
    fflush(stderr);
    if (log && saved >= 0)
        dup2(fileno(log), STDERR_FILENO);
    name[0] = note[0] = '\0';
    int rc = dl_train_cfg(c, opts, name, cap);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (log && rc != DL_EXIT_OK) {
        char line[1024];
        rewind(log);
        while (fgets(line, sizeof line, log))
            if (line[0] != '\n')
                snprintf(note, note_cap, "%.*s", (int)strcspn(line, "\n"), line);
    }
    if (log)
        fclose(log);
    return rc;
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
    static dl_run_cfg request; /* large: off the stack */
    char select[DL_STORE_NAME_MAX] = "", note[1024] = "";
    for (;;) {
        dl_store *st;
        if (dl_cli_open("home", dir, 0, &st) != 0)
            return DL_EXIT_FAIL;
        int asked = 0;
        dl_err err = {0};
        dl_home_hooks hooks = {.user = st,
                               .compare = dl_compare_home_hook}; /* c: the compare screen */
        dl_status s = dl_ui_home(st, &hooks, &opts, select[0] ? select : NULL,
                                 note[0] ? note : NULL, &request, &asked, &err);
        snprintf(request.runs, sizeof request.runs, "%s", dl_store_dir(st));
        dl_store_close(st);
        if (s != DL_OK) {
            fprintf(stderr, "dllab home: %s\n", err.msg);
            return DL_EXIT_FAIL;
        }
        if (!asked)
            return DL_EXIT_OK;
        request.no_tui = false;
        if (train_from_home(&request, &opts, select, sizeof select, note, sizeof note) !=
                DL_EXIT_OK &&
            !note[0])
            snprintf(note, sizeof note, "the training did not finish");
    }
}
