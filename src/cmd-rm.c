/* cmd-rm: `dllab rm RUN...` deletes runs with all their rows, checkpoint files and folders. It
 * asks first (reading y/N from the terminal) unless --yes; without a terminal and without --yes
 * it refuses, so a script never deletes by accident. A run that a live process still trains is
 * refused (naming the pid) unless --force, which stops that process first. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/commands.h"
#include "src/runs-util.h"

#define USAGE "usage: dllab rm [--runs DIR] [--yes] [--force] RUN...\n"

/* Waits up to ms milliseconds for the run to have no live owner; true when it has none. */
static bool owner_gone(dl_store *st, int64_t id, int ms)
{
    for (int waited = 0;; waited += 100) {
        int64_t pid = 0;
        if (dl_store_run_owner(st, id, &pid, NULL) != DL_OK || !pid)
            return true;
        if (waited >= ms)
            return false;
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
}

/* --force: SIGTERM lets the trainer stop at its next batch (checkpoint, run marked stopped);
 * a process that does not stop within 30 s is killed. */
static int stop_owner(dl_store *st, int64_t id, const char *name, int64_t pid)
{
    fprintf(stderr, "dllab rm: stopping process %lld, which trains %s\n", (long long)pid, name);
    if (kill((pid_t)pid, SIGTERM) == 0 && owner_gone(st, id, 30000))
        return 0;
    if (kill((pid_t)pid, SIGKILL) == 0 && owner_gone(st, id, 5000))
        return 0;
    fprintf(stderr, "dllab rm: %s: process %lld could not be stopped; the run is kept\n", name,
            (long long)pid);
    return DL_EXIT_FAIL;
}

static bool confirm(const dl_run *r, size_t n_ck)
{
    fprintf(stderr, "remove run %s (%s, %d epoch%s, %zu checkpoint%s)? [y/N] ", r->name,
            dl_run_status_name(r->status), r->n_epochs, r->n_epochs == 1 ? "" : "s", n_ck,
            n_ck == 1 ? "" : "s");
    char line[32];
    if (!fgets(line, sizeof line, stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

int cmd_rm(int argc, char **argv)
{
    const char *dir = NULL, *queries[256];
    int nq = 0;
    bool yes = false, force = false;
    for (int i = 1; i < argc; i++) {
        int r = dl_cli_runs_opt("rm", argc, argv, &i, &dir);
        if (r < 0)
            return DL_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(USAGE
                   "\nDeletes runs, their rows and their checkpoint folders. Asks unless --yes.\n"
                   "A run still being trained is refused; --force stops its process first.\n");
            return DL_EXIT_OK;
        } else if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0) {
            yes = true;
        } else if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
            force = true;
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
        int64_t owner = 0;
        dl_store_run_owner(st, ids[i], &owner, NULL);
        if (owner && !force) {
            fprintf(stderr,
                    "dllab rm: run %s is being trained by process %lld, which is still running: "
                    "stop it "
                    "first (Ctrl-C in its terminal, or kill %lld), or add --force to stop it and "
                    "remove the "
                    "run\n",
                    r.name, (long long)owner, (long long)owner);
            dl_run_clear(&r);
            rc = DL_EXIT_FAIL;
            break;
        }
        if (!yes && !confirm(&r, n_ck)) {
            fprintf(stderr, "kept %s\n", r.name);
        } else if (owner && (rc = stop_owner(st, ids[i], r.name, owner)) != 0) {
            /* kept, said why */
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
