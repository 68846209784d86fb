/* checkpoint: checkpoint files and their records. Files go to DIR/<run-name>/<file>.safetensors
 * through dl_safetensors_write (temp name, fsync, rename, folder fsync), so a failed write leaves
 * the previous file of that name intact; the failure is recorded as a "checkpoint-failed" event
 * and returned, and training may go on. Refuses file names with '/' or "..". Temporary files
 * that a killed writer left are removed when the store marks its run crashed. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io/safetensors.h"
#include "core/store/internal.h"

void dl_store_set_checkpoint_writer(dl_store *st, dl_store_writer_fn fn) { st->writer = fn; }

void dl_store_checkpoint_abspath(const dl_store *st, const char *recorded, char *out, size_t cap)
{
    if (recorded[0] == '/')
        snprintf(out, cap, "%s", recorded);
    else
        snprintf(out, cap, "%s/%s", st->dir, recorded);
}

void dl_store__clean_temps(dl_store *st, int64_t run_id)
{
    char *name = dl_store__run_name(st, run_id), folder[4096], path[4400];
    if (!name)
        return;
    snprintf(folder, sizeof folder, "%s/%s", st->dir, name);
    free(name);
    DIR *d = opendir(folder);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *tmp = strstr(e->d_name, ".safetensors.tmp.");
        if (!tmp)
            continue;
        char *end;
        long long pid = strtoll(tmp + strlen(".safetensors.tmp."), &end, 10);
        if (*end || pid <= 0 || dl_store__proc_alive(pid, 0))
            continue; /* not ours, or its writer may still be at work */
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        unlink(path);
    }
    closedir(d);
}

struct ckpt_arg {
    int64_t run_id;
    const char *path;
    int epoch;
    int64_t step;
    double monitor;
    bool best;
};

static dl_status write_record(dl_store *st, void *arg, dl_err *err)
{
    struct ckpt_arg *a = arg;
    sqlite3_stmt *q;
    int rc;
    if (a->best) {
        rc = sqlite3_prepare_v2(st->db, "UPDATE checkpoints SET best=0 WHERE run_id=? AND path<>?",
                                -1, &q, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(q, 1, a->run_id);
            sqlite3_bind_text(q, 2, a->path, -1, SQLITE_STATIC);
            rc = sqlite3_step(q);
            sqlite3_finalize(q);
        }
        if (rc != SQLITE_DONE)
            return dl_store__sqlerr(st, rc, "recording a checkpoint", err);
    }
    rc = sqlite3_prepare_v2(
        st->db,
        "INSERT INTO checkpoints(run_id, path, epoch, step, monitor, best, t) VALUES(?,?,?,?,?,?,?)"
        " ON CONFLICT(run_id, path) DO UPDATE SET epoch=excluded.epoch, step=excluded.step,"
        " monitor=excluded.monitor, best=excluded.best, t=excluded.t",
        -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_text(q, 2, a->path, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 3, a->epoch);
        sqlite3_bind_int64(q, 4, a->step);
        sqlite3_bind_double(q, 5, a->monitor);
        sqlite3_bind_int(q, 6, a->best);
        sqlite3_bind_double(q, 7, dl_store__now());
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return rc == SQLITE_DONE ? DL_OK : dl_store__sqlerr(st, rc, "recording a checkpoint", err);
}

dl_status dl_store_checkpoint_record(dl_store *st, int64_t run_id, const char *path, int epoch,
                                     int64_t step, double monitor, bool best, dl_err *err)
{
    dl_status s = dl_store__writable(st, "recording a checkpoint", err);
    if (s || (s = dl_store__run_exists(st, run_id, err)))
        return s;
    if (!path || !*path)
        return dl_err_set(err, DL_EINVAL, "run store: checkpoint without a path");
    struct ckpt_arg a = {run_id, path, epoch, step, monitor, best};
    return dl_store__transact(st, write_record, &a, err);
}

/* A JSON string body: quotes, backslashes and control characters escaped. */
static void json_escape(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (; *in && j + 7 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if (c == '"' || c == '\\') {
            out[j++] = '\\';
            out[j++] = (char)c;
        } else if (c < 0x20) {
            j += (size_t)snprintf(out + j, cap - j, "\\u%04x", c);
        } else {
            out[j++] = (char)c;
        }
    }
    out[j] = 0;
}

dl_status dl_store_checkpoint_save(dl_store *st, int64_t run_id, const char *file,
                                   const dl_tensor_map *m, int epoch, int64_t step, double monitor,
                                   bool best, char *path_out, size_t path_cap, dl_err *err)
{
    dl_status s = dl_store__writable(st, "saving a checkpoint", err);
    if (s)
        return s;
    if (!file || !*file || strchr(file, '/') || strstr(file, "..") || strlen(file) > 200)
        return dl_err_set(err, DL_EINVAL,
                          "run store: bad checkpoint name '%s' (a plain file name, no '/' or '..')",
                          file ? file : "");
    char *name = dl_store__run_name(st, run_id);
    if (!name)
        return dl_err_set(err, DL_ENOTFOUND, "run store %s: no run with id %lld", st->path,
                          (long long)run_id);
    char rel[512], abs[4096];
    snprintf(rel, sizeof rel, "%s/%s.safetensors", name, file);
    dl_store_checkpoint_abspath(st, rel, abs, sizeof abs);
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/%s", st->dir, name);
    free(name);
    if (path_out && path_cap)
        snprintf(path_out, path_cap, "%s", abs);

    struct stat sb;
    bool had_file = stat(abs, &sb) == 0; /* an earlier save of this very name */
    dl_err werr = {0};
    if (mkdir(folder, 0777) != 0 && errno != EEXIST)
        s = dl_err_set(&werr, errno == ENOSPC ? DL_ENOSPC : DL_EIO,
                       "cannot create checkpoint folder %s: %s", folder, strerror(errno));
    else
        s = (st->writer ? st->writer : dl_safetensors_write)(abs, m, &werr);
    if (s != DL_OK) {
        /* Record the failure for the UI; the previous file of that name is still whole. */
        char msg[DL_ERR_MSG_MAX * 2], pth[1200], payload[DL_ERR_MSG_MAX * 2 + 1400];
        json_escape(werr.msg, msg, sizeof msg);
        json_escape(rel, pth, sizeof pth);
        snprintf(payload, sizeof payload, "{\"path\":\"%s\",\"error\":\"%s\",\"code\":\"%s\"}", pth,
                 msg, dl_status_name(s));
        dl_store_log_event(st, run_id, DL_EV_CHECKPOINT_FAILED, step, 0, payload, NULL);
        char kept[700] = "the previous one is intact";
        dl_checkpoint_row last;
        if (!had_file) {
            if (dl_store_checkpoint_latest(st, run_id, &last, NULL) == DL_OK) {
                snprintf(kept, sizeof kept,
                         "the run's last checkpoint, %.500s (epoch %d), is intact", last.path,
                         last.epoch);
                dl_checkpoint_row_clear(&last);
            } else {
                snprintf(kept, sizeof kept, "the run has no checkpoint yet");
            }
        }
        dl_err_set(err, s, "checkpoint %s not written%s: %s (%s)", abs,
                   s == DL_ENOSPC ? ", the disk is full" : "", werr.msg, kept);
        return s;
    }
    if ((s = dl_store_checkpoint_record(st, run_id, rel, epoch, step, monitor, best, err)))
        return s;
    char pth[1200], payload[1600], mon[32] = "null"; /* JSON has no NaN */
    json_escape(rel, pth, sizeof pth);
    if (isfinite(monitor))
        snprintf(mon, sizeof mon, "%.9g", monitor);
    snprintf(payload, sizeof payload, "{\"path\":\"%s\",\"epoch\":%d,\"monitor\":%s,\"best\":%s}",
             pth, epoch, mon, best ? "true" : "false");
    return dl_store_log_event(st, run_id, DL_EV_CHECKPOINT, step, 0, payload, err);
}

static void ckpt_fill(sqlite3_stmt *q, void *row)
{
    dl_checkpoint_row *r = row;
    r->id = sqlite3_column_int64(q, 0);
    r->path = dl_store__col_text(q, 1);
    r->epoch = sqlite3_column_int(q, 2);
    r->step = sqlite3_column_int64(q, 3);
    r->monitor = dl_store__col_double(q, 4);
    r->best = sqlite3_column_int(q, 5) != 0;
    r->t = sqlite3_column_double(q, 6);
}

static void ckpt_drop(void *rows, size_t n) { dl_checkpoints_free(rows, n); }

static dl_status ckpt_query(dl_store *st, int64_t run_id, const char *where_order,
                            dl_checkpoint_row **rows, size_t *n, size_t limit, dl_err *err)
{
    *rows = NULL;
    *n = 0;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id, path, epoch, step, monitor, best, t FROM checkpoints WHERE run_id=? %s",
             where_order);
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading checkpoints", err);
    sqlite3_bind_int64(q, 1, run_id);
    return dl_store__read_rows(st, q, sizeof **rows, ckpt_fill, ckpt_drop, limit,
                               "reading checkpoints", (void **)rows, n, err);
}

dl_status dl_store_checkpoints(dl_store *st, int64_t run_id, dl_checkpoint_row **rows, size_t *n,
                               dl_err *err)
{
    return ckpt_query(st, run_id, "ORDER BY t, id", rows, n, SIZE_MAX, err);
}

static dl_status ckpt_one(dl_store *st, int64_t run_id, const char *where_order, const char *what,
                          dl_checkpoint_row *out, dl_err *err)
{
    memset(out, 0, sizeof *out);
    dl_checkpoint_row *rows;
    size_t n;
    dl_status s = ckpt_query(st, run_id, where_order, &rows, &n, 1, err);
    if (s)
        return s;
    if (!n)
        return dl_err_set(err, DL_ENOTFOUND, "run %lld has no %s checkpoint", (long long)run_id,
                          what);
    *out = rows[0];
    free(rows);
    return DL_OK;
}

dl_status dl_store_checkpoint_latest(dl_store *st, int64_t run_id, dl_checkpoint_row *out,
                                     dl_err *err)
{
    return ckpt_one(st, run_id, "ORDER BY t DESC, id DESC", "saved", out, err);
}

dl_status dl_store_checkpoint_best(dl_store *st, int64_t run_id, dl_checkpoint_row *out,
                                   dl_err *err)
{
    return ckpt_one(st, run_id, "AND best=1 ORDER BY t DESC, id DESC", "best", out, err);
}

void dl_checkpoint_row_clear(dl_checkpoint_row *r)
{
    if (r) {
        free(r->path);
        memset(r, 0, sizeof *r);
    }
}

void dl_checkpoints_free(dl_checkpoint_row *rows, size_t n)
{
    for (size_t i = 0; i < n && rows; i++)
        free(rows[i].path);
    free(rows);
}
