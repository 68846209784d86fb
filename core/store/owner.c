/* owner: which process trains a run. A run is "owned" while its status is running and the process
 * recorded with it (pid + start time, on this host) is alive; removing or resuming an owned run
 * would have two writers on one run, so both are refused while the owner lives. Runs recorded on
 * another host are never considered owned (their processes cannot be checked from here; the
 * store's crash detection treats them the same way). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store/internal.h"

bool dl_store__proc_alive(int64_t pid, int64_t start)
{
    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM))
        return false;
    /* The pid may have been reused by another process since: the start time tells them apart. */
    return start == 0 || dl_store__proc_start(pid) == start;
}

/* The live owner of run_id other than this process (0 if none), read in the current snapshot. */
static dl_status read_owner(dl_store *st, int64_t run_id, int64_t *pid, dl_err *err)
{
    *pid = 0;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    sqlite3_stmt *q;
    const char *sql = "SELECT pid, pid_start, status='running' AND host=?2 FROM runs WHERE id=?1";
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading a run's process", err);
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_text(q, 2, host, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        int64_t p = sqlite3_column_int64(q, 0), start = sqlite3_column_int64(q, 1);
        if (sqlite3_column_int(q, 2) && p != (int64_t)getpid() && dl_store__proc_alive(p, start))
            *pid = p;
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return dl_err_set(err, DL_ENOTFOUND, "run store %s: no run with id %lld", st->path,
                          (long long)run_id);
    return rc == SQLITE_ROW ? DL_OK : dl_store__sqlerr(st, rc, "reading a run's process", err);
}

dl_status dl_store_run_owner(dl_store *st, int64_t run_id, int64_t *pid, dl_err *err)
{
    return read_owner(st, run_id, pid, err);
}

struct claim_arg {
    int64_t run_id, owner;
};

static dl_status claim(dl_store *st, void *arg, dl_err *err)
{
    struct claim_arg *a = arg;
    int64_t run_id = a->run_id;
    dl_status s = read_owner(st, run_id, &a->owner, err);
    if (s)
        return s;
    if (a->owner) {
        int64_t owner = a->owner;
        char *name = dl_store__run_name(st, run_id);
        s = dl_err_set(err, DL_EINVAL,
                       "run %s is being trained by process %lld, which is still "
                       "running",
                       name ? name : "?", (long long)owner);
        free(name);
        return s;
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    int64_t self = (int64_t)getpid();
    sqlite3_stmt *q;
    const char *sql = "UPDATE runs SET status='running', finished=0, host=?2, pid=?3, pid_start=?4 "
                      "WHERE id=?1";
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, run_id);
        sqlite3_bind_text(q, 2, host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, self);
        sqlite3_bind_int64(q, 4, dl_store__proc_start(self));
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return rc == SQLITE_DONE ? DL_OK : dl_store__sqlerr(st, rc, "taking over a run", err);
}

dl_status dl_store_run_claim(dl_store *st, int64_t run_id, int64_t *owner, dl_err *err)
{
    struct claim_arg a = {run_id, 0};
    dl_status s = dl_store__writable(st, "taking over a run", err);
    /* One write transaction: of two processes claiming at once, the second sees the first. */
    if (s == DL_OK)
        s = dl_store__transact(st, claim, &a, err);
    if (owner)
        *owner = a.owner;
    return s;
}
