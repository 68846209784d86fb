/* cmd-steer: `dllab steer RUN WORD [ARG]` steers a run that another process is training, the
 * way a key of its dashboard would: the command goes into the run store's steering channel
 * (core/learn/remote.h), the trainer applies it at its next batch boundary, and this command
 * waits for the acknowledgement. Exit codes: 0 applied, 1 refused (the reason is printed),
 * 2 usage, 3 the run is not training (finished, stopped, crashed, or its process is gone),
 * 4 no answer within --timeout (the command stays queued and applies when the run reaches a
 * batch; a crashed run applies it after --resume). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/learn/remote.h"
#include "src/commands.h"
#include "src/runs-util.h"

enum { EXIT_NOT_RUNNING = 3, EXIT_NO_ANSWER = 4 };

static void usage(FILE *f)
{
    fprintf(f, "usage: dllab steer [--runs DIR] [--timeout S] [--no-wait] RUN COMMAND [ARG]\n\n"
               "Steers a run trained by another process (headless, detached, a sweep's point)\n"
               "as its dashboard's keys would. COMMAND:\n");
    for (size_t i = 0; i < dl_steer_word_count(); i++) {
        const dl_steer_word *w = dl_steer_word_at(i);
        fprintf(f, "  %-9s %-5s %s\n", w->word, w->takes_arg ? "ARG" : "", w->help);
    }
    fprintf(f, "\nIt waits for the trainer's answer (default 120 s). Exit status: 0 applied,\n"
               "1 refused (reason printed), 2 usage, 3 the run is not training, 4 no answer in\n"
               "time (the command stays queued). --no-wait returns 0 once it is queued.\n");
}

/* 0: the run is training and its process alive; else prints why and returns EXIT_NOT_RUNNING. */
static int check_running(dl_store *st, int64_t id, const char *query, int64_t *pid)
{
    dl_run r;
    memset(&r, 0, sizeof r);
    dl_err err = {0};
    if (dl_store_run_get(st, id, &r, &err) != DL_OK) {
        fprintf(stderr, "dllab steer: %s\n", err.msg);
        return DL_EXIT_FAIL;
    }
    int rc = 0;
    *pid = 0;
    if (r.status != DL_RUN_RUNNING) {
        fprintf(stderr, "dllab steer: run %s is not training (%s)\n", r.name,
                dl_run_status_name(r.status));
        rc = EXIT_NOT_RUNNING;
    } else if (dl_store_run_owner(st, id, pid, NULL) != DL_OK || *pid == 0) {
        fprintf(stderr,
                "dllab steer: run %s is marked running but its process %lld is gone "
                "(dllab train --resume %s continues it)\n",
                r.name, (long long)r.pid, query);
        rc = EXIT_NOT_RUNNING;
    }
    dl_run_clear(&r);
    return rc;
}

static int wait_answer(dl_store *st, int64_t run, int64_t cmd_id, const char *query, double timeout)
{
    double t0 = dl_clock_now(), last_alive = t0;
    bool told = false;
    for (;;) {
        dl_steer_row r;
        dl_err err = {0};
        if (dl_store_steer_get(st, cmd_id, &r, &err) != DL_OK) {
            fprintf(stderr, "dllab steer: %s\n", err.msg);
            return DL_EXIT_FAIL;
        }
        const char *what = r.arg[0] ? " " : "";
        if (r.state == DL_STEER_APPLIED) {
            printf("applied %s%s%s to run %s at step %lld\n", r.cmd, what, r.arg, query,
                   (long long)r.step);
            return DL_EXIT_OK;
        }
        if (r.state == DL_STEER_REFUSED) {
            printf("refused %s%s%s: %s\n", r.cmd, what, r.arg, r.reason);
            return DL_EXIT_FAIL;
        }
        double now = dl_clock_now();
        if (!told && r.state == DL_STEER_TAKEN && now - t0 > 1.0) {
            /* received, but the trainer is between batches (validating, in the finder...) */
            char *json = NULL;
            dl_snapshot sn;
            memset(&sn, 0, sizeof sn);
            if (dl_store_live_get(st, run, &json, NULL, NULL, NULL) == DL_OK &&
                dl_snapshot_from_json(json, &sn) == 0)
                fprintf(stderr,
                        "dllab steer: received by run %s (%s); it applies at its next "
                        "training batch\n",
                        query, dl_phase_name(sn.phase));
            free(json);
            told = true;
        }
        if (now - last_alive >= 1.0) {
            last_alive = now;
            int64_t pid = 0;
            if (dl_store_run_owner(st, run, &pid, NULL) == DL_OK && pid == 0) {
                /* the trainer ended or died before answering: say so in the row too */
                bool changed = false;
                dl_store_steer_finish(st, cmd_id, DL_STEER_REFUSED,
                                      "the training ended before applying it", -1, &changed, NULL);
                if (changed) {
                    fprintf(stderr, "dllab steer: run %s stopped training before applying %s\n",
                            query, r.cmd);
                    return EXIT_NOT_RUNNING;
                }
                continue; /* it answered meanwhile */
            }
        }
        if (now - t0 > timeout) {
            fprintf(stderr,
                    "dllab steer: no answer from run %s within %.0f s (%s): the command stays "
                    "queued and applies at its next training batch\n",
                    query, timeout,
                    r.state == DL_STEER_TAKEN ? "received, waiting for a batch boundary"
                                              : "not yet received");
            return EXIT_NO_ANSWER;
        }
        usleep(20000);
    }
}

int cmd_steer(int argc, char **argv)
{
    const char *dir = NULL, *pos[3] = {NULL, NULL, NULL};
    int n_pos = 0;
    double timeout = 120;
    bool wait = true;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("steer", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return DL_EXIT_OK;
        }
        if (strcmp(argv[i], "--no-wait") == 0) {
            wait = false;
        } else if (strcmp(argv[i], "--timeout") == 0) {
            char *end = NULL;
            timeout = i + 1 < argc ? strtod(argv[++i], &end) : NAN;
            if (!end || *end || !(timeout > 0)) {
                fprintf(stderr, "dllab steer: --timeout wants seconds (> 0)\n");
                return DL_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "dllab steer: unknown option %s (dllab steer --help)\n", argv[i]);
            return DL_EXIT_USAGE;
        } else if (n_pos < 3) {
            pos[n_pos++] = argv[i];
        } else {
            fprintf(stderr, "dllab steer: too many arguments ('%s')\n", argv[i]);
            return DL_EXIT_USAGE;
        }
    }
    if (n_pos < 2) {
        fprintf(stderr, "dllab steer: give a run and a command\n");
        usage(stderr);
        return DL_EXIT_USAGE;
    }
    dl_cmd cmd;
    dl_err err = {0};
    if (dl_steer_parse(pos[1], pos[2], &cmd, &err) != DL_OK) {
        fprintf(stderr, "dllab steer: %s\n", err.msg);
        return DL_EXIT_USAGE;
    }
    char word[32], arg[64];
    dl_steer_format(&cmd, word, sizeof word, arg, sizeof arg);
    dl_store *st = NULL;
    int64_t run, pid = 0, cmd_id = 0;
    int rc = dl_cli_open("steer", dir, 0, &st);
    if (!rc)
        rc = dl_cli_find("steer", st, pos[0], &run);
    if (!rc)
        rc = check_running(st, run, pos[0], &pid);
    if (!rc && dl_store_steer_post(st, run, word, arg, "cli", &cmd_id, &err) != DL_OK) {
        fprintf(stderr, "dllab steer: %s\n", err.msg);
        rc = DL_EXIT_FAIL;
    }
    if (!rc && !wait)
        printf("queued %s%s%s for run %s (pid %lld)\n", word, arg[0] ? " " : "", arg, pos[0],
               (long long)pid);
    else if (!rc)
        rc = wait_answer(st, run, cmd_id, pos[0], timeout);
    dl_store_close(st);
    return rc;
}
