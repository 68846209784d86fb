/* steer: the store's side of the steering channel (the commands table) and of live progress (the
 * live table), both since schema 3. A command is written pending by any process, marked taken by
 * the trainer's process in the same transaction that reads it, and acknowledged applied or refused
 * once (the update only matches an open row), so a crash of either side never loses one nor
 * applies one twice. Refuses: empty or over-long words, unknown states. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store/internal.h"

static const char *const state_names[] = {"pending", "taken", "applied", "refused"};

const char *dl_steer_state_name(dl_steer_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "unknown";
}

static dl_steer_state state_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, state_names[i]) == 0)
            return (dl_steer_state)i;
    return DL_STEER_PENDING;
}

#define ROW_COLS "id, run_id, cmd, arg, origin, state, reason, step, created, done"

static void fill_row(sqlite3_stmt *q, void *out)
{
    dl_steer_row *r = out;
    const char *t;
    r->id = sqlite3_column_int64(q, 0);
    r->run_id = sqlite3_column_int64(q, 1);
    t = (const char *)sqlite3_column_text(q, 2);
    snprintf(r->cmd, sizeof r->cmd, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(q, 3);
    snprintf(r->arg, sizeof r->arg, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(q, 4);
    snprintf(r->origin, sizeof r->origin, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(q, 5);
    r->state = state_parse(t ? t : "");
    t = (const char *)sqlite3_column_text(q, 6);
    snprintf(r->reason, sizeof r->reason, "%s", t ? t : "");
    r->step = sqlite3_column_int64(q, 7);
    r->created = sqlite3_column_double(q, 8);
    r->done = sqlite3_column_double(q, 9);
}

static void drop_rows(void *rows, size_t n)
{
    (void)n;
    free(rows);
}

struct post_arg {
    int64_t run_id, id;
    const char *cmd, *arg, *origin;
};

static dl_status write_post(dl_store *st, void *arg, dl_err *err)
{
    struct post_arg *a = arg;
    dl_status s = dl_store__run_exists(st, a->run_id, err);
    if (s)
        return s;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "INSERT INTO commands(run_id, cmd, arg, origin, created) VALUES(?,?,?,?,?)", -1, &q,
        NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_text(q, 2, a->cmd, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, a->arg ? a->arg : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, a->origin, -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 5, dl_store__now());
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    if (rc != SQLITE_DONE)
        return dl_store__sqlerr(st, rc, "writing a steering command", err);
    a->id = sqlite3_last_insert_rowid(st->db);
    return DL_OK;
}

dl_status dl_store_steer_post(dl_store *st, int64_t run_id, const char *cmd, const char *arg,
                              const char *origin, int64_t *id, dl_err *err)
{
    dl_status s = dl_store__writable(st, "steering a run", err);
    if (s)
        return s;
    if (!cmd || !*cmd || strlen(cmd) >= sizeof((dl_steer_row *)0)->cmd)
        return dl_err_set(err, DL_EINVAL, "steering command: empty or too long");
    if (arg && strlen(arg) >= sizeof((dl_steer_row *)0)->arg)
        return dl_err_set(err, DL_EINVAL, "steering command %s: argument '%.40s...' too long", cmd,
                          arg);
    if (!origin || !*origin || strlen(origin) >= sizeof((dl_steer_row *)0)->origin)
        return dl_err_set(err, DL_EINVAL, "steering command %s: empty or too long origin", cmd);
    struct post_arg a = {run_id, 0, cmd, arg, origin};
    s = dl_store__transact(st, write_post, &a, err);
    if (s == DL_OK && id)
        *id = a.id;
    return s;
}

struct take_arg {
    int64_t run_id, after;
    dl_steer_row *rows;
    size_t n;
};

static dl_status write_take(dl_store *st, void *arg, dl_err *err)
{
    struct take_arg *a = arg;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT " ROW_COLS " FROM commands WHERE run_id=?1 AND id>?2 AND "
                                "state IN ('pending','taken') ORDER BY id",
                                -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading steering commands", err);
    sqlite3_bind_int64(q, 1, a->run_id);
    sqlite3_bind_int64(q, 2, a->after);
    void *rows = NULL;
    dl_status s = dl_store__read_rows(st, q, sizeof(dl_steer_row), fill_row, drop_rows, 1000,
                                      "reading steering commands", &rows, &a->n, err);
    if (s)
        return s;
    a->rows = rows;
    if (a->n == 0)
        return DL_OK;
    rc = sqlite3_prepare_v2(st->db,
                            "UPDATE commands SET state='taken' WHERE run_id=?1 AND id>?2 AND "
                            "id<=?3 AND state='pending'",
                            -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_int64(q, 2, a->after);
        sqlite3_bind_int64(q, 3, a->rows[a->n - 1].id);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    if (rc != SQLITE_DONE) {
        free(a->rows);
        a->rows = NULL;
        a->n = 0;
        return dl_store__sqlerr(st, rc, "taking steering commands", err);
    }
    for (size_t i = 0; i < a->n; i++)
        a->rows[i].state = DL_STEER_TAKEN;
    return DL_OK;
}

dl_status dl_store_steer_take(dl_store *st, int64_t run_id, int64_t after_id, dl_steer_row **rows,
                              size_t *n, dl_err *err)
{
    *rows = NULL;
    *n = 0;
    dl_status s = dl_store__writable(st, "taking steering commands", err);
    if (s)
        return s;
    struct take_arg a = {run_id, after_id, NULL, 0};
    s = dl_store__transact(st, write_take, &a, err);
    if (s == DL_OK) {
        *rows = a.rows;
        *n = a.n;
    }
    return s;
}

struct finish_arg {
    int64_t id, step;
    dl_steer_state state;
    const char *reason;
    bool changed;
    /* the event written with it (kind NULL: none) */
    int64_t run_id;
    const char *kind, *payload;
};

static dl_status write_finish(dl_store *st, void *arg, dl_err *err)
{
    struct finish_arg *a = arg;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db,
                                "UPDATE commands SET state=?2, reason=?3, step=?4, done=?5 WHERE "
                                "id=?1 AND state IN ('pending','taken')",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->id);
        sqlite3_bind_text(q, 2, dl_steer_state_name(a->state), -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, a->reason ? a->reason : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, a->step);
        sqlite3_bind_double(q, 5, dl_store__now());
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    if (rc != SQLITE_DONE)
        return dl_store__sqlerr(st, rc, "acknowledging a steering command", err);
    a->changed = sqlite3_changes(st->db) > 0;
    if (!a->kind)
        return DL_OK;
    rc = sqlite3_prepare_v2(st->db,
                            "INSERT INTO events(run_id, kind, step, t, payload) VALUES(?,?,?,?,?)",
                            -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_text(q, 2, a->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, a->step);
        sqlite3_bind_double(q, 4, dl_store__now());
        sqlite3_bind_text(q, 5, a->payload ? a->payload : "", -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return rc == SQLITE_DONE ? DL_OK : dl_store__sqlerr(st, rc, "writing an event", err);
}

static dl_status check_state(dl_steer_state state, dl_err *err)
{
    if (state != DL_STEER_APPLIED && state != DL_STEER_REFUSED)
        return dl_err_set(err, DL_EINVAL, "a steering command ends applied or refused, not %s",
                          dl_steer_state_name(state));
    return DL_OK;
}

dl_status dl_store_steer_finish(dl_store *st, int64_t id, dl_steer_state state, const char *reason,
                                int64_t step, bool *changed, dl_err *err)
{
    dl_status s = dl_store__writable(st, "acknowledging a steering command", err);
    if (s == DL_OK)
        s = check_state(state, err);
    if (s)
        return s;
    struct finish_arg a = {.id = id, .step = step, .state = state, .reason = reason};
    s = dl_store__transact(st, write_finish, &a, err);
    if (changed)
        *changed = s == DL_OK && a.changed;
    return s;
}

dl_status dl_store_log_event_steer(dl_store *st, int64_t run_id, const char *kind, int64_t step,
                                   const char *payload_json, int64_t cmd_id, dl_steer_state state,
                                   const char *reason, dl_err *err)
{
    dl_status s = dl_store__writable(st, "logging an event", err);
    if (s == DL_OK)
        s = check_state(state, err);
    if (s)
        return s;
    if (!kind || !*kind || strlen(kind) >= DL_STORE_NAME_MAX)
        return dl_err_set(err, DL_EINVAL, "run store: event kind must be 1..%d characters",
                          DL_STORE_NAME_MAX - 1);
    struct finish_arg a = {.id = cmd_id,
                           .step = step,
                           .state = state,
                           .reason = reason,
                           .run_id = run_id,
                           .kind = kind,
                           .payload = payload_json};
    return dl_store__transact(st, write_finish, &a, err);
}

static dl_status read_some(dl_store *st, const char *sql, int64_t key, dl_steer_row **rows,
                           size_t *n, dl_err *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading steering commands", err);
    sqlite3_bind_int64(q, 1, key);
    void *out = NULL;
    dl_status s = dl_store__read_rows(st, q, sizeof(dl_steer_row), fill_row, drop_rows, 1000000,
                                      "reading steering commands", &out, n, err);
    *rows = out;
    return s;
}

dl_status dl_store_steer_get(dl_store *st, int64_t id, dl_steer_row *out, dl_err *err)
{
    dl_steer_row *rows;
    size_t n;
    dl_status s =
        read_some(st, "SELECT " ROW_COLS " FROM commands WHERE id=?1", id, &rows, &n, err);
    if (s)
        return s;
    if (n == 0) {
        free(rows);
        return dl_err_set(err, DL_ENOTFOUND, "run store %s: no steering command %lld", st->path,
                          (long long)id);
    }
    *out = rows[0];
    free(rows);
    return DL_OK;
}

dl_status dl_store_steer_list(dl_store *st, int64_t run_id, dl_steer_row **rows, size_t *n,
                              dl_err *err)
{
    return read_some(st, "SELECT " ROW_COLS " FROM commands WHERE run_id=?1 ORDER BY id", run_id,
                     rows, n, err);
}

struct close_arg {
    int64_t run_id, step;
    const char *reason;
    int n;
};

static dl_status write_close(dl_store *st, void *arg, dl_err *err)
{
    struct close_arg *a = arg;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db,
                                "UPDATE commands SET state='refused', reason=?2, step=?3, done=?4 "
                                "WHERE run_id=?1 AND state IN ('pending','taken')",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_text(q, 2, a->reason ? a->reason : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, a->step);
        sqlite3_bind_double(q, 4, dl_store__now());
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    if (rc != SQLITE_DONE)
        return dl_store__sqlerr(st, rc, "refusing steering commands", err);
    a->n = sqlite3_changes(st->db);
    return DL_OK;
}

dl_status dl_store_steer_close(dl_store *st, int64_t run_id, const char *reason, int64_t step,
                               int *n, dl_err *err)
{
    dl_status s = dl_store__writable(st, "refusing steering commands", err);
    if (s)
        return s;
    struct close_arg a = {run_id, step, reason, 0};
    s = dl_store__transact(st, write_close, &a, err);
    if (n)
        *n = a.n;
    return s;
}

struct live_arg {
    int64_t run_id;
    const char *json;
};

static dl_status write_live(dl_store *st, void *arg, dl_err *err)
{
    struct live_arg *a = arg;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "INSERT OR REPLACE INTO live(run_id, pid, t, json) VALUES(?,?,?,?)", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_int64(q, 2, (int64_t)getpid());
        sqlite3_bind_double(q, 3, dl_store__now());
        sqlite3_bind_text(q, 4, a->json, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return rc == SQLITE_DONE ? DL_OK : dl_store__sqlerr(st, rc, "writing live progress", err);
}

dl_status dl_store_live_put(dl_store *st, int64_t run_id, const char *json, dl_err *err)
{
    dl_status s = dl_store__writable(st, "writing live progress", err);
    if (s)
        return s;
    struct live_arg a = {run_id, json};
    return dl_store__transact(st, write_live, &a, err);
}

dl_status dl_store_live_get(dl_store *st, int64_t run_id, char **json, double *t, int64_t *pid,
                            dl_err *err)
{
    *json = NULL;
    sqlite3_stmt *q;
    int rc =
        sqlite3_prepare_v2(st->db, "SELECT json, t, pid FROM live WHERE run_id=?1", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading live progress", err);
    sqlite3_bind_int64(q, 1, run_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *json = dl_store__col_text(q, 0);
        if (t)
            *t = sqlite3_column_double(q, 1);
        if (pid)
            *pid = sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return dl_err_set(err, DL_ENOTFOUND, "run %lld has no live progress", (long long)run_id);
    if (rc != SQLITE_ROW)
        return dl_store__sqlerr(st, rc, "reading live progress", err);
    return *json ? DL_OK : dl_err_set(err, DL_ENOMEM, "out of memory");
}

int64_t dl_store_data_version(dl_store *st)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &q, NULL) != SQLITE_OK)
        return -1;
    int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    return v;
}
