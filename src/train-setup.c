/* train-setup: the command-line side of a run configuration; see train-setup.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/commands.h"
#include "src/train-setup.h"

void dl_cli_usage(FILE *o, const char *cmd, const char *synopsis)
{
    char *text = dl_run_cfg_usage(cmd);
    fprintf(o, "%s%s", synopsis, text ? text : "");
    free(text);
}

int dl_cli_cfg_parse(dl_run_cfg *c, const char *cmd, const char *synopsis, int argc, char **argv,
                     const char **pos, int max_pos, int *n_pos)
{
    dl_run_cfg_init(c);
    bool help;
    dl_err err = {0};
    int none;
    if (dl_run_cfg_parse(c, cmd, argc, argv, pos, max_pos, n_pos ? n_pos : &none, &help, &err) !=
        DL_OK) {
        bool unknown = strncmp(err.msg, "unknown option", 14) == 0;
        fprintf(stderr, "dllab %s: %s%s%s%s\n", cmd, err.msg, unknown ? " (dllab " : "",
                unknown ? cmd : "", unknown ? " --help lists the options)" : "");
        return DL_EXIT_USAGE;
    }
    if (help) {
        dl_cli_usage(stdout, cmd, synopsis);
        return DL_EXIT_OK;
    }
    if (!isatty(STDOUT_FILENO))
        c->no_tui = true;
    return -1;
}

int dl_cli_set_data(dl_run_cfg *c, const char *cmd, const char *data)
{
    if (strlen(data) >= sizeof c->data) {
        fprintf(stderr, "dllab %s: DATA '%.40s...' is longer than %zu characters\n", cmd, data,
                sizeof c->data - 1);
        return DL_EXIT_USAGE;
    }
    snprintf(c->data, sizeof c->data, "%s", data);
    return -1;
}

int dl_cli_session_open(dl_session *s, const dl_run_cfg *c, const char *cmd)
{
    dl_err err = {0};
    if (dl_session_open(s, c, &err) != DL_OK) {
        fprintf(stderr, "dllab %s: %s\n", cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}

int dl_cli_new_run(dl_session *s, const char *cmd, const char *prefix)
{
    dl_err err = {0};
    if (dl_session_new_run(s, prefix, &err) != DL_OK) {
        fprintf(stderr, "dllab %s: %s\n", cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}
