/* train-setup: the command-line side of a run configuration, shared by train, lrfind, data,
 * show-batch, sweep and interpret: parsing argv with the option table (core/run/run_cfg.h) and
 * printing its errors ("dllab train: --epochs: '0' is not a positive integer", exit 2), each
 * command's usage text from the same table, and the session opened with its errors printed. */
#ifndef DL_TRAIN_SETUP_H
#define DL_TRAIN_SETUP_H

#include <stdbool.h>
#include <stdio.h>

#include "core/run/run_cfg.h"
#include "core/run/session.h"

/* Prints "usage: ..." (synopsis, already ending in a blank line) and cmd's options. */
void dl_cli_usage(FILE *o, const char *cmd, const char *synopsis);
/* Parses argv for cmd into c (defaults first) with at most max_pos positionals (pos may be NULL
 * when max_pos is 0). Returns -1 to go on, or an exit code: 0 after --help (usage printed), 2 on
 * a bad option or value (reported). Sets c->no_tui when stdout is not a terminal. */
int dl_cli_cfg_parse(dl_run_cfg *c, const char *cmd, const char *synopsis, int argc, char **argv,
                     const char **pos, int max_pos, int *n_pos);
/* Sets DATA (the positional argument); -1, or 2 after "dllab CMD: DATA is too long". */
int dl_cli_set_data(dl_run_cfg *c, const char *cmd, const char *data);
/* dl_session_open printing "dllab CMD: message"; returns an exit code. */
int dl_cli_session_open(dl_session *s, const dl_run_cfg *c, const char *cmd);
/* dl_session_new_run likewise (prefix NULL: the configuration's). */
int dl_cli_new_run(dl_session *s, const char *cmd, const char *prefix);

#endif
