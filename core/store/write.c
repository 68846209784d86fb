/* write: what the training thread records: runs, buffered batch rows, epoch rows with their
 * metrics, events, LR-finder sweeps, interpretation results, skipped files, the final status.
 * Batch rows wait in memory and are committed together (>= once a second, at every epoch end) so
 * the write lock is held for milliseconds and a reader never sees half an epoch. Refuses NaN
 * wall times, too many groups or metrics, and writes through a read-only handle. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/store/internal.h"

static const char *const status_names[] = {"running", "finished", "stopped", "diverged", "crashed"};

const char *dl_run_status_name(dl_run_status s)
{
    return (unsigned)s < sizeof status_names / sizeof status_names[0] ? status_names[s] : "unknown";
}

dl_status dl_run_status_parse(const char *word, dl_run_status *out, dl_err *err)
{
    for (int i = 0; i < (int)(sizeof status_names / sizeof status_names[0]); i++)
        if (word && strcmp(word, status_names[i]) == 0) {
            *out = (dl_run_status)i;
            return DL_OK;
        }
    return dl_err_set(err, DL_EINVAL,
                      "unknown run status '%s' (running, finished, stopped, diverged, crashed)",
                      word ? word : "");
}

dl_status dl_store__run_exists(dl_store *st, int64_t run_id, dl_err *err)
{
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db, "SELECT 1 FROM runs WHERE id=?", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "looking up a run", err);
    sqlite3_bind_int64(q, 1, run_id);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW)
        return DL_OK;
    if (rc == SQLITE_DONE)
        return dl_err_set(err, DL_ENOTFOUND, "run store %s: no run with id %lld", st->path,
                          (long long)run_id);
    return dl_store__sqlerr(st, rc, "looking up a run", err);
}

char *dl_store__run_name(dl_store *st, int64_t run_id)
{
    sqlite3_stmt *q;
    char *name = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT name FROM runs WHERE id=?", -1, &q, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(q, 1, run_id);
    if (sqlite3_step(q) == SQLITE_ROW)
        name = dl_store__col_text(q, 0);
    sqlite3_finalize(q);
    return name;
}

/* Run names become folder names and are typed on command lines: keep [A-Za-z0-9._-]. */
static void sanitize_prefix(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; in && in[i] && j + 24 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        char o = isalnum(c) || c == '.' || c == '_' || c == '-' ? (char)c : '-';
        if (o == '-' && (j == 0 || out[j - 1] == '-'))
            continue;
        out[j++] = o;
    }
    while (j && (out[j - 1] == '-' || out[j - 1] == '.'))
        j--;
    if (!j)
        j = (size_t)snprintf(out, cap, "run");
    out[j] = 0;
}

static void bind_text_or(sqlite3_stmt *s, int i, const char *v, const char *dflt)
{
    sqlite3_bind_text(s, i, v ? v : dflt, -1, SQLITE_TRANSIENT);
}

dl_status dl_store_run_create(dl_store *st, const dl_run_spec *spec, int64_t *run_id, char *name,
                              size_t name_cap, dl_err *err)
{
    dl_status s = dl_store__writable(st, "creating a run", err);
    if (s)
        return s;
    char prefix[DL_STORE_NAME_MAX];
    sanitize_prefix(spec->name_prefix, prefix, sizeof prefix);
    char host[256] = "";
    if (!spec->host)
        gethostname(host, sizeof host - 1);
    int64_t pid = spec->pid ? spec->pid : (int64_t)getpid();
    if ((s = dl_store__flush_pending_if_any(st, err)))
        return s;
    if ((s = dl_store__begin(st, err)))
        return s;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(
        st->db,
        "INSERT INTO name_counters(prefix, last) VALUES(?1, 1) ON CONFLICT(prefix) DO UPDATE "
        "SET last=last+1 RETURNING last",
        -1, &q, NULL);
    int64_t seq = 0;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, prefix, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        seq = sqlite3_column_int64(q, 0);
        if (rc == SQLITE_ROW)
            rc = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        goto sqlfail;
    char full[DL_STORE_NAME_MAX + 24];
    snprintf(full, sizeof full, "%s-%lld", prefix, (long long)seq);
    rc = sqlite3_prepare_v2(
        st->db,
        "INSERT INTO runs(name, prefix, seq, created, status, dataset, arch, n_train, n_valid, "
        "vocab, config, version, blas_kernel, host, pid, pid_start) "
        "VALUES(?,?,?,?,'running',?,?,?,?,?,?,?,?,?,?,?)",
        -1, &q, NULL);
    if (rc != SQLITE_OK)
        goto sqlfail;
    sqlite3_bind_text(q, 1, full, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, seq);
    sqlite3_bind_double(q, 4, dl_store__now());
    bind_text_or(q, 5, spec->dataset, "");
    bind_text_or(q, 6, spec->arch, "");
    sqlite3_bind_int64(q, 7, spec->n_train);
    sqlite3_bind_int64(q, 8, spec->n_valid);
    bind_text_or(q, 9, spec->vocab_json, "[]");
    bind_text_or(q, 10, spec->config_json, "{}");
    bind_text_or(q, 11, spec->version, PACKAGE_VERSION);
    bind_text_or(q, 12, spec->blas_kernel, "");
    bind_text_or(q, 13, spec->host, host);
    sqlite3_bind_int64(q, 14, pid);
    sqlite3_bind_int64(q, 15, dl_store__proc_start(pid));
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        goto sqlfail;
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if ((s = dl_store__commit(st, err)))
        return s;
    *run_id = id;
    if (name && name_cap)
        snprintf(name, name_cap, "%s", full);
    return DL_OK;
sqlfail:
    s = dl_store__sqlerr(st, rc, "creating a run", err);
    dl_store__rollback(st);
    return s;
}

dl_status dl_store__write_pending(dl_store *st, dl_err *err)
{
    if (!st->n_pend)
        return DL_OK;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db,
        "INSERT OR REPLACE INTO batches(run_id, step, epoch, lrs, mom, loss, smooth_loss, t) "
        "VALUES(?,?,?,?,?,?,?,?)",
        -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "writing batch rows", err);
    for (size_t i = 0; i < st->n_pend; i++) {
        const dl_batch_row *r = &st->pend[i].row;
        char lrs[DL_STORE_MAX_GROUPS * 26 + 4];
        size_t k = 0;
        lrs[k++] = '[';
        for (int g = 0; g < r->n_lr; g++)
            k += (size_t)snprintf(lrs + k, sizeof lrs - k, "%s%.9g", g ? "," : "", r->lr[g]);
        snprintf(lrs + k, sizeof lrs - k, "]");
        sqlite3_bind_int64(q, 1, st->pend[i].run_id);
        sqlite3_bind_int64(q, 2, r->step);
        sqlite3_bind_int(q, 3, r->epoch);
        sqlite3_bind_text(q, 4, lrs, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(q, 5, r->mom);
        sqlite3_bind_double(q, 6, r->loss);
        sqlite3_bind_double(q, 7, r->smooth_loss);
        sqlite3_bind_double(q, 8, r->t);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(q);
            return dl_store__sqlerr(st, rc, "writing batch rows", err);
        }
    }
    sqlite3_finalize(q);
    return DL_OK;
}

/* Runs one write transaction: pending batches, then fn(arg) (may be NULL), then commit. The
 * buffer is emptied only once the commit succeeded, so a busy store loses nothing. */
dl_status dl_store__transact(dl_store *st, dl_status (*fn)(dl_store *, void *, dl_err *), void *arg,
                             dl_err *err)
{
    dl_status s = dl_store__begin(st, err);
    if (s)
        return s;
    if ((s = dl_store__write_pending(st, err)) || (fn && (s = fn(st, arg, err)))) {
        dl_store__rollback(st);
        return s;
    }
    if ((s = dl_store__commit(st, err)))
        return s;
    st->n_pend = 0;
    st->last_commit = dl_clock_now();
    return DL_OK;
}

dl_status dl_store__flush_pending_if_any(dl_store *st, dl_err *err)
{
    return st->n_pend ? dl_store__transact(st, NULL, NULL, err) : DL_OK;
}

dl_status dl_store_flush(dl_store *st, dl_err *err)
{
    if (st->flags & DL_STORE_READONLY)
        return DL_OK;
    return dl_store__flush_pending_if_any(st, err);
}

dl_status dl_store_log_batch(dl_store *st, int64_t run_id, const dl_batch_row *row, dl_err *err)
{
    dl_status s = dl_store__writable(st, "logging a batch", err);
    if (s)
        return s;
    if (row->n_lr < 1 || row->n_lr > DL_STORE_MAX_GROUPS)
        return dl_err_set(err, DL_EINVAL,
                          "run store: batch row at step %lld has %d learning rates (1..%d)",
                          (long long)row->step, row->n_lr, DL_STORE_MAX_GROUPS);
    if (!isfinite(row->t))
        return dl_err_set(err, DL_EINVAL, "run store: batch row at step %lld has no wall time",
                          (long long)row->step);
    if (st->n_pend == st->cap_pend) {
        size_t cap = st->cap_pend ? st->cap_pend * 2 : 256;
        dl_pending_batch *p = realloc(st->pend, cap * sizeof *p);
        if (!p)
            return dl_err_set(err, DL_ENOMEM, "out of memory buffering batch rows");
        st->pend = p;
        st->cap_pend = cap;
    }
    st->pend[st->n_pend].run_id = run_id;
    st->pend[st->n_pend].row = *row;
    st->n_pend++;
    if (dl_clock_now() - st->last_commit >= 1.0)
        return dl_store__transact(st, NULL, NULL, err);
    return DL_OK;
}

struct epoch_arg {
    int64_t run_id;
    const dl_epoch_row *row;
};

static dl_status write_epoch(dl_store *st, void *arg, dl_err *err)
{
    struct epoch_arg *a = arg;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(
        st->db,
        "INSERT OR REPLACE INTO epochs(run_id, epoch, train_loss, valid_loss, duration, t) "
        "VALUES(?,?,?,?,?,?)",
        -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_int(q, 2, a->row->epoch);
        sqlite3_bind_double(q, 3, a->row->train_loss); /* NaN binds as NULL */
        sqlite3_bind_double(q, 4, a->row->valid_loss);
        sqlite3_bind_double(q, 5, a->row->duration);
        sqlite3_bind_double(q, 6, a->row->t > 0 ? a->row->t : dl_store__now());
        rc = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return dl_store__sqlerr(st, rc, "writing an epoch row", err);
    q = NULL;
    rc = sqlite3_prepare_v2(
        st->db, "INSERT OR REPLACE INTO metrics(run_id, epoch, idx, name, value) VALUES(?,?,?,?,?)",
        -1, &q, NULL);
    for (int i = 0; rc == SQLITE_OK && i < a->row->n_metrics; i++) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_int(q, 2, a->row->epoch);
        sqlite3_bind_int(q, 3, i);
        sqlite3_bind_text(q, 4, a->row->metrics[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 5, a->row->metrics[i].value);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_OK ? DL_OK : dl_store__sqlerr(st, rc, "writing epoch metrics", err);
}

dl_status dl_store_log_epoch(dl_store *st, int64_t run_id, const dl_epoch_row *row, dl_err *err)
{
    dl_status s = dl_store__writable(st, "logging an epoch", err);
    if (s)
        return s;
    if (row->n_metrics < 0 || row->n_metrics > DL_STORE_MAX_METRICS)
        return dl_err_set(err, DL_EINVAL, "run store: epoch %d has %d metrics (0..%d)", row->epoch,
                          row->n_metrics, DL_STORE_MAX_METRICS);
    struct epoch_arg a = {run_id, row};
    return dl_store__transact(st, write_epoch, &a, err);
}

struct event_arg {
    int64_t run_id;
    const char *kind;
    int64_t step;
    double t;
    const char *payload;
};

static dl_status write_event(dl_store *st, void *arg, dl_err *err)
{
    struct event_arg *a = arg;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "INSERT INTO events(run_id, kind, step, t, payload) VALUES(?,?,?,?,?)", -1, &q,
        NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_text(q, 2, a->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, a->step);
        sqlite3_bind_double(q, 4, a->t > 0 ? a->t : dl_store__now());
        sqlite3_bind_text(q, 5, a->payload ? a->payload : "", -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return rc == SQLITE_DONE ? DL_OK : dl_store__sqlerr(st, rc, "writing an event", err);
}

dl_status dl_store_log_event(dl_store *st, int64_t run_id, const char *kind, int64_t step, double t,
                             const char *payload_json, dl_err *err)
{
    dl_status s = dl_store__writable(st, "logging an event", err);
    if (s)
        return s;
    if (!kind || !*kind || strlen(kind) >= DL_STORE_NAME_MAX)
        return dl_err_set(err, DL_EINVAL, "run store: event kind must be 1..%d characters",
                          DL_STORE_NAME_MAX - 1);
    struct event_arg a = {run_id, kind, step, t, payload_json};
    return dl_store__transact(st, write_event, &a, err);
}

struct lrfind_arg {
    int64_t run_id, step;
    const double *lr, *loss;
    size_t n;
    const dl_lr_suggestion *sug;
    size_t n_sug;
    int64_t id;
};

static dl_status write_lrfind(dl_store *st, void *arg, dl_err *err)
{
    struct lrfind_arg *a = arg;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, "INSERT INTO lrfinds(run_id, step, t) VALUES(?,?,?)", -1,
                                &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_int64(q, 2, a->step);
        sqlite3_bind_double(q, 3, dl_store__now());
        rc = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return dl_store__sqlerr(st, rc, "writing an LR-finder sweep", err);
    a->id = sqlite3_last_insert_rowid(st->db);
    rc = sqlite3_prepare_v2(
        st->db, "INSERT INTO lrfind_points(lrfind_id, i, lr, loss) VALUES(?,?,?,?)", -1, &q, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < a->n; i++) {
        sqlite3_bind_int64(q, 1, a->id);
        sqlite3_bind_int64(q, 2, (int64_t)i);
        sqlite3_bind_double(q, 3, a->lr[i]);
        sqlite3_bind_double(q, 4, a->loss[i]);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "writing LR-finder points", err);
    rc = sqlite3_prepare_v2(
        st->db, "INSERT INTO lrfind_suggestions(lrfind_id, i, method, lr, loss) VALUES(?,?,?,?,?)",
        -1, &q, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < a->n_sug; i++) {
        sqlite3_bind_int64(q, 1, a->id);
        sqlite3_bind_int64(q, 2, (int64_t)i);
        sqlite3_bind_text(q, 3, a->sug[i].method, -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 4, a->sug[i].lr);
        sqlite3_bind_double(q, 5, a->sug[i].loss);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_OK ? DL_OK : dl_store__sqlerr(st, rc, "writing LR-finder suggestions", err);
}

dl_status dl_store_lrfind_save(dl_store *st, int64_t run_id, int64_t step, const double *lr,
                               const double *loss, size_t n, const dl_lr_suggestion *sug,
                               size_t n_sug, int64_t *lrfind_id, dl_err *err)
{
    dl_status s = dl_store__writable(st, "saving an LR-finder sweep", err);
    if (s)
        return s;
    if (n_sug > 8)
        return dl_err_set(err, DL_EINVAL, "run store: %zu LR suggestions (at most 8)", n_sug);
    for (size_t i = 0; i < n; i++)
        if (!(lr[i] > 0) || !isfinite(lr[i]))
            return dl_err_set(err, DL_EINVAL,
                              "run store: LR-finder point %zu has learning rate %g (must be > 0)",
                              i, lr[i]);
    struct lrfind_arg a = {run_id, step, lr, loss, n, sug, n_sug, 0};
    if ((s = dl_store__transact(st, write_lrfind, &a, err)))
        return s;
    if (lrfind_id)
        *lrfind_id = a.id;
    return DL_OK;
}

struct interp_arg {
    int64_t run_id;
    int epoch;
    const char *kind, *json;
};

static dl_status write_interp(dl_store *st, void *arg, dl_err *err)
{
    struct interp_arg *a = arg;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "INSERT OR REPLACE INTO interp(run_id, epoch, kind, t, json) VALUES(?,?,?,?,?)", -1,
        &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_int(q, 2, a->epoch);
        sqlite3_bind_text(q, 3, a->kind, -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 4, dl_store__now());
        sqlite3_bind_text(q, 5, a->json, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return rc == SQLITE_DONE ? DL_OK
                             : dl_store__sqlerr(st, rc, "writing an interpretation result", err);
}

dl_status dl_store_interp_save(dl_store *st, int64_t run_id, int epoch, const char *kind,
                               const char *json, dl_err *err)
{
    dl_status s = dl_store__writable(st, "saving an interpretation result", err);
    if (s)
        return s;
    if (!kind || !*kind || !json)
        return dl_err_set(err, DL_EINVAL,
                          "run store: an interpretation result needs a kind and JSON");
    struct interp_arg a = {run_id, epoch, kind, json};
    return dl_store__transact(st, write_interp, &a, err);
}

struct skipped_arg {
    int64_t run_id;
    const char *path, *reason;
};

static dl_status write_skipped(dl_store *st, void *arg, dl_err *err)
{
    struct skipped_arg *a = arg;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db, "INSERT INTO skipped(run_id, path, reason) VALUES(?,?,?)",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->run_id);
        sqlite3_bind_text(q, 2, a->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, a->reason ? a->reason : "", -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return rc == SQLITE_DONE ? DL_OK : dl_store__sqlerr(st, rc, "recording a skipped file", err);
}

dl_status dl_store_skipped_add(dl_store *st, int64_t run_id, const char *path, const char *reason,
                               dl_err *err)
{
    dl_status s = dl_store__writable(st, "recording a skipped file", err);
    if (s)
        return s;
    if (!path)
        return dl_err_set(err, DL_EINVAL, "run store: skipped file without a path");
    struct skipped_arg a = {run_id, path, reason};
    return dl_store__transact(st, write_skipped, &a, err);
}

struct finish_arg {
    int64_t run_id;
    dl_run_status status;
};

static dl_status write_finish(dl_store *st, void *arg, dl_err *err)
{
    struct finish_arg *a = arg;
    sqlite3_stmt *q;
    int rc =
        sqlite3_prepare_v2(st->db, "UPDATE runs SET status=?, finished=? WHERE id=?", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, dl_run_status_name(a->status), -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 2, dl_store__now());
        sqlite3_bind_int64(q, 3, a->run_id);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    if (rc != SQLITE_DONE)
        return dl_store__sqlerr(st, rc, "finishing a run", err);
    if (sqlite3_changes(st->db) == 0)
        return dl_err_set(err, DL_ENOTFOUND, "run store %s: no run with id %lld", st->path,
                          (long long)a->run_id);
    return DL_OK;
}

dl_status dl_store_run_finish(dl_store *st, int64_t run_id, dl_run_status status, dl_err *err)
{
    dl_status s = dl_store__writable(st, "finishing a run", err);
    if (s)
        return s;
    if (status == DL_RUN_RUNNING || (unsigned)status > DL_RUN_CRASHED)
        return dl_err_set(err, DL_EINVAL, "run store: a run cannot finish with status %s",
                          dl_run_status_name(status));
    struct finish_arg a = {run_id, status};
    return dl_store__transact(st, write_finish, &a, err);
}
