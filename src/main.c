/* main: dllab's entry point. Picks the BLAS kernel (re-executing once if OpenBLAS chose a weak
 * one), installs the log sink and dispatches to a command from src/commands.def. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas_select.h"
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
    fprintf(out,
            "usage: dllab [--help] [--version] COMMAND [ARGS...]\n"
            "\n"
            "dllab trains image classifiers the fastai way, in the terminal.\n"
            "Without a command it opens the home screen.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'dllab COMMAND --help' describes a command.\n");
}

/* OpenBLAS reads OPENBLAS_CORETYPE when it loads, so the only way to change the kernel of a
 * running process is to set it and execute ourselves again, before any work is done. */
static void select_blas_kernel(char **argv)
{
    const char *force = dl_blas_coretype_to_force();
    if (!force || getenv("DLLAB_BLAS_REEXEC"))
        return;
    setenv("OPENBLAS_CORETYPE", force, 1);
    setenv("DLLAB_BLAS_REEXEC", dl_blas_library_choice(), 1); /* remembers what OpenBLAS had chosen */
    execv("/proc/self/exe", argv);
    /* If re-execution fails we carry on with the weaker kernel; --version shows which one. */
    unsetenv("OPENBLAS_CORETYPE");
}

int main(int argc, char **argv)
{
    select_blas_kernel(argv);
    dl_log_set_sink(dl_log_stderr_sink, NULL);

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
