/* main: dllab's entry point. Picks the BLAS kernel (re-executing once if OpenBLAS chose a weak
 * one), installs the log sink and dispatches to a command from src/commands.def. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas_select.h"
#include "core/learn/dist.h"
#include "core/log.h"
#include "src/commands.h"

typedef struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
#define X(name, fn, summary) {name, fn, summary},
#include "src/commands.def"
#undef X
};

static void usage(FILE *out)
{
    fprintf(out, "usage: dllab [--help] [--version] COMMAND [ARGS...]\n"
                 "\n"
                 "dllab trains image classifiers the fastai way, in the terminal.\n"
                 "Without a command it opens the home screen.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'dllab COMMAND --help' describes a command.\n");
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
    dl_blas_reexec_if_weak(argv); /* OpenBLAS reads its kernel choice only when it loads */
    dl_log_set_sink(dl_log_stderr_sink, NULL);
    dl_err derr = {0};
    if (dl_dist_init(&argc, &argv, &derr) != DL_OK) { /* launched by mpirun, and MPI failed */
        fprintf(stderr, "dllab: %s\n", derr.msg);
        return DL_EXIT_FAIL;
    }
    int rc = dispatch(argc, argv);
    dl_dist_finalize();
    return rc;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        /* On a terminal, no command means the home screen (the usage says so); in a pipe, usage. */
        if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
            return cmd_home(argc, argv);
        usage(stdout);
        return DL_EXIT_OK;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return DL_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "dllab: unknown %s '%s'\n\n", name[0] == '-' ? "option" : "command", name);
    usage(stderr);
    return DL_EXIT_USAGE;
}
