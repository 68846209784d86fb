/* read: the views the commands and the UI need: runs with their summary (epochs, best valid
 * loss and its metric), batch and epoch series, events, LR-finder sweeps, interpretation results,
 * skipped files. Every read is one statement, so it sees one committed state of the store. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store/internal.h"

/* Columns 0..: run fields, then the summary computed by subqueries. */
#define RUN_SELECT                                                                                 \
    "SELECT r.id, r.name, r.created, r.finished, r.status, r.dataset, r.arch, r.n_train, "         \
    "r.n_valid, r.vocab,"                                                                          \
    " r.config, r.version, r.blas_kernel, r.host, r.pid,"                                          \
    " coalesce((SELECT group_concat(tag, ',') FROM (SELECT tag FROM tags WHERE run_id=r.id ORDER " \
    "BY tag)),''),"                                                                                \
    " r.note, r.baseline,"                                                                         \
    " (SELECT count(*) FROM epochs WHERE run_id=r.id),"                                            \
    " (SELECT count(*) FROM batches WHERE run_id=r.id),"                                           \
    " b.epoch, b.valid_loss,"                                                                      \
    " (SELECT name FROM metrics WHERE run_id=r.id AND epoch=b.epoch ORDER BY idx LIMIT 1),"        \
    " (SELECT value FROM metrics WHERE run_id=r.id AND epoch=b.epoch ORDER BY idx LIMIT 1),"       \
    " max(r.created, coalesce((SELECT t FROM batches WHERE run_id=r.id ORDER BY step DESC LIMIT "  \
    "1),0),"                                                                                       \
    "  coalesce((SELECT max(t) FROM epochs WHERE run_id=r.id),0)), r.pid_start,"                   \
    " (SELECT count(*) FROM lrfinds WHERE run_id=r.id)"                                            \
    " + (SELECT count(*) FROM events WHERE run_id=r.id AND kind='lr-find-start')"                  \
    " FROM runs r LEFT JOIN (SELECT run_id, epoch, valid_loss, min(valid_loss) FROM epochs"        \
    "  WHERE valid_loss IS NOT NULL GROUP BY run_id) b ON b.run_id=r.id"

const char *dl_run_kind(const dl_run *r)
{
    /* Derived from what the store holds: a run that swept the lr and never trained a batch was
     * started by `dllab lrfind` (a training's own finder, the `l` key, comes with batches). */
    return r->n_lrfinds > 0 && r->n_batches == 0 && r->n_epochs == 0 ? "lrfind" : "train";
}

static void run_from_row(sqlite3_stmt *q, dl_run *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(q, 0);
    r->name = dl_store__col_text(q, 1);
    r->created = sqlite3_column_double(q, 2);
    r->finished = sqlite3_column_double(q, 3);
    dl_run_status st = DL_RUN_RUNNING;
    const char *sn = (const char *)sqlite3_column_text(q, 4);
    if (dl_run_status_parse(sn, &st, NULL) != DL_OK)
        st = DL_RUN_CRASHED;
    r->status = st;
    r->dataset = dl_store__col_text(q, 5);
    r->arch = dl_store__col_text(q, 6);
    r->n_train = sqlite3_column_int64(q, 7);
    r->n_valid = sqlite3_column_int64(q, 8);
    r->vocab_json = dl_store__col_text(q, 9);
    r->config_json = dl_store__col_text(q, 10);
    r->version = dl_store__col_text(q, 11);
    r->blas_kernel = dl_store__col_text(q, 12);
    r->host = dl_store__col_text(q, 13);
    r->pid = sqlite3_column_int64(q, 14);
    r->tags = dl_store__col_text(q, 15);
    r->note = dl_store__col_text(q, 16);
    r->baseline = sqlite3_column_int(q, 17) != 0;
    r->n_epochs = sqlite3_column_int(q, 18);
    r->n_batches = sqlite3_column_int64(q, 19);
    r->best_epoch = sqlite3_column_type(q, 20) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 20);
    r->best_valid_loss = dl_store__col_double(q, 21);
    r->metric_name = dl_store__col_text(q, 22);
    r->metric_value = dl_store__col_double(q, 23);
    r->last_t = sqlite3_column_double(q, 24);
    r->n_lrfinds = sqlite3_column_int(q, 26);
    /* A read-only connection cannot mark a killed run crashed (dl_store_open does when it may
     * write): it reports it so, so `dllab runs` on a full disk still tells the truth. */
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (r->status == DL_RUN_RUNNING && !strcmp(r->host, host) &&
        !dl_store__proc_alive(r->pid, sqlite3_column_int64(q, 25)))
        r->status = DL_RUN_CRASHED;
}

void dl_run_clear(dl_run *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->dataset);
    free(r->arch);
    free(r->vocab_json);
    free(r->config_json);
    free(r->version);
    free(r->blas_kernel);
    free(r->host);
    free(r->tags);
    free(r->note);
    free(r->metric_name);
    memset(r, 0, sizeof *r);
}

void dl_runs_free(dl_run *runs, size_t n)
{
    for (size_t i = 0; i < n && runs; i++)
        dl_run_clear(&runs[i]);
    free(runs);
}

/* Grows *arr (of elem bytes) to hold one more element. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

dl_status dl_store__read_rows(dl_store *st, sqlite3_stmt *q, size_t elem,
                              void (*fill)(sqlite3_stmt *, void *), void (*drop)(void *, size_t),
                              size_t limit, const char *what, void **rows, size_t *n, dl_err *err)
{
    char *out = NULL;
    size_t cap = 0, cnt = 0;
    int rc = SQLITE_DONE;
    while (cnt < limit && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (grow((void **)&out, &cap, cnt, elem)) {
            rc = SQLITE_NOMEM;
            break;
        }
        void *r = out + cnt++ * elem;
        memset(r, 0, elem);
        fill(q, r);
    }
    sqlite3_finalize(q);
    /* SQLITE_ROW: stopped at the limit with rows left, which is not an error. */
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        drop(out, cnt);
        *rows = NULL;
        *n = 0;
        return dl_store__sqlerr(st, rc, what, err);
    }
    *rows = out;
    *n = cnt;
    return DL_OK;
}

/* Fillers and droppers in dl_store__read_rows' types. */
static void run_fill(sqlite3_stmt *q, void *r) { run_from_row(q, r); }
static void runs_drop(void *r, size_t n) { dl_runs_free(r, n); }
static void plain_drop(void *r, size_t n) { (void)n, free(r); }
static void events_drop(void *r, size_t n) { dl_events_free(r, n); }
static void lrfinds_drop(void *r, size_t n) { dl_lrfinds_free(r, n); }
static void skipped_drop(void *r, size_t n) { dl_skipped_free(r, n); }
static void interp_drop(void *r, size_t n) { dl_interp_free(r, n); }

dl_status dl_store_runs_list(dl_store *st, const dl_run_filter *f, dl_run **runs, size_t *n,
                             dl_err *err)
{
    *runs = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db,
        RUN_SELECT " WHERE (?1 IS NULL OR EXISTS(SELECT 1 FROM tags WHERE run_id=r.id AND tag=?1))"
                   " AND (?2 < 0 OR r.status=?3)"
                   " AND (?4 IS NULL OR substr(r.name, 1, length(?4))=?4) ORDER BY r.id",
        -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "listing runs", err);
    if (f && f->tag)
        sqlite3_bind_text(q, 1, f->tag, -1, SQLITE_STATIC);
    int status = f ? f->status : -1;
    sqlite3_bind_int(q, 2, status);
    sqlite3_bind_text(q, 3, status >= 0 ? dl_run_status_name((dl_run_status)status) : "", -1,
                      SQLITE_STATIC);
    if (f && f->name_like)
        sqlite3_bind_text(q, 4, f->name_like, -1, SQLITE_STATIC);
    dl_status ds = dl_store__read_rows(st, q, sizeof **runs, run_fill, runs_drop, SIZE_MAX,
                                       "listing runs", (void **)runs, n, err);
    if (ds != DL_OK || !f || !f->kind)
        return ds;
    /* the kind is derived from the summary columns, so it is filtered here */
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(dl_run_kind(&(*runs)[i]), f->kind) == 0)
            (*runs)[kept++] = (*runs)[i];
        else
            dl_run_clear(&(*runs)[i]);
    }
    *n = kept;
    return DL_OK;
}

dl_status dl_store_run_get(dl_store *st, int64_t run_id, dl_run *out, dl_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db, RUN_SELECT " WHERE r.id=?", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading a run", err);
    sqlite3_bind_int64(q, 1, run_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        run_from_row(q, out);
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW)
        return DL_OK;
    if (rc == SQLITE_DONE)
        return dl_err_set(err, DL_ENOTFOUND, "run store %s: no run with id %lld", st->path,
                          (long long)run_id);
    return dl_store__sqlerr(st, rc, "reading a run", err);
}

static int parse_lrs(const char *s, double *lr)
{
    int n = 0;
    if (!s || *s != '[')
        return 0;
    s++;
    while (*s && *s != ']' && n < DL_STORE_MAX_GROUPS) {
        char *end;
        double v = strtod(s, &end);
        if (end == s)
            break;
        lr[n++] = v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    return n;
}

static void batch_fill(sqlite3_stmt *q, void *row)
{
    dl_batch_row *r = row;
    r->step = sqlite3_column_int64(q, 0);
    r->epoch = sqlite3_column_int(q, 1);
    r->n_lr = parse_lrs((const char *)sqlite3_column_text(q, 2), r->lr);
    r->mom = dl_store__col_double(q, 3);
    r->loss = dl_store__col_double(q, 4);
    r->smooth_loss = dl_store__col_double(q, 5);
    r->t = sqlite3_column_double(q, 6);
}

dl_status dl_store_batches(dl_store *st, int64_t run_id, int64_t after_step, dl_batch_row **rows,
                           size_t *n, dl_err *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT step, epoch, lrs, mom, loss, smooth_loss, t FROM batches"
                                " WHERE run_id=? AND step>? ORDER BY step",
                                -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading batch rows", err);
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int64(q, 2, after_step);
    return dl_store__read_rows(st, q, sizeof **rows, batch_fill, plain_drop, SIZE_MAX,
                               "reading batch rows", (void **)rows, n, err);
}

dl_status dl_store_epochs(dl_store *st, int64_t run_id, dl_epoch_row **rows, size_t *n, dl_err *err)
{
    *rows = NULL;
    *n = 0;
    /* One statement (a LEFT JOIN) so epochs and their metrics come from the same snapshot. */
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db,
        "SELECT e.epoch, e.train_loss, e.valid_loss, e.duration, e.t, m.idx, m.name, m.value"
        " FROM epochs e LEFT JOIN metrics m ON m.run_id=e.run_id AND m.epoch=e.epoch"
        " WHERE e.run_id=? ORDER BY e.epoch, m.idx",
        -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading epoch rows", err);
    sqlite3_bind_int64(q, 1, run_id);
    dl_epoch_row *out = NULL;
    size_t cap = 0, cnt = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int epoch = sqlite3_column_int(q, 0);
        if (!cnt || out[cnt - 1].epoch != epoch) {
            if (grow((void **)&out, &cap, cnt, sizeof *out)) {
                sqlite3_finalize(q);
                free(out);
                return dl_err_set(err, DL_ENOMEM, "out of memory reading epoch rows");
            }
            dl_epoch_row *r = &out[cnt++];
            memset(r, 0, sizeof *r);
            r->epoch = epoch;
            r->train_loss = dl_store__col_double(q, 1);
            r->valid_loss = dl_store__col_double(q, 2);
            r->duration = dl_store__col_double(q, 3);
            r->t = sqlite3_column_double(q, 4);
        }
        dl_epoch_row *r = &out[cnt - 1];
        if (sqlite3_column_type(q, 5) != SQLITE_NULL && r->n_metrics < DL_STORE_MAX_METRICS) {
            dl_metric *m = &r->metrics[r->n_metrics++];
            const unsigned char *name = sqlite3_column_text(q, 6);
            snprintf(m->name, sizeof m->name, "%s", name ? (const char *)name : "");
            m->value = dl_store__col_double(q, 7);
        }
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        free(out);
        return dl_store__sqlerr(st, rc, "reading epoch rows", err);
    }
    *rows = out;
    *n = cnt;
    return DL_OK;
}

static void event_fill(sqlite3_stmt *q, void *row)
{
    dl_event_row *r = row;
    r->id = sqlite3_column_int64(q, 0);
    const unsigned char *k = sqlite3_column_text(q, 1);
    snprintf(r->kind, sizeof r->kind, "%s", k ? (const char *)k : "");
    r->step = sqlite3_column_int64(q, 2);
    r->t = sqlite3_column_double(q, 3);
    r->payload = dl_store__col_text(q, 4);
}

dl_status dl_store_events(dl_store *st, int64_t run_id, int64_t after_id, dl_event_row **rows,
                          size_t *n, dl_err *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "SELECT id, kind, step, t, payload FROM events WHERE run_id=? AND id>? ORDER BY id",
        -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading events", err);
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int64(q, 2, after_id);
    return dl_store__read_rows(st, q, sizeof **rows, event_fill, events_drop, SIZE_MAX,
                               "reading events", (void **)rows, n, err);
}

void dl_events_free(dl_event_row *rows, size_t n)
{
    for (size_t i = 0; i < n && rows; i++)
        free(rows[i].payload);
    free(rows);
}

void dl_lrfinds_free(dl_lrfind *l, size_t n)
{
    for (size_t i = 0; i < n && l; i++) {
        free(l[i].lr);
        free(l[i].loss);
    }
    free(l);
}

static dl_status lrfind_fill(dl_store *st, dl_lrfind *l, dl_err *err)
{
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "SELECT lr, loss FROM lrfind_points WHERE lrfind_id=? ORDER BY i", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading an LR-finder sweep", err);
    sqlite3_bind_int64(q, 1, l->id);
    size_t cap = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (l->n == cap) {
            cap = cap ? cap * 2 : 128;
            double *a = realloc(l->lr, cap * sizeof *a),
                   *b = a ? realloc(l->loss, cap * sizeof *b) : NULL;
            if (a)
                l->lr = a;
            if (b)
                l->loss = b;
            if (!a || !b) {
                sqlite3_finalize(q);
                return dl_err_set(err, DL_ENOMEM, "out of memory reading an LR-finder sweep");
            }
        }
        l->lr[l->n] = sqlite3_column_double(q, 0);
        l->loss[l->n] = dl_store__col_double(q, 1);
        l->n++;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return dl_store__sqlerr(st, rc, "reading an LR-finder sweep", err);
    rc = sqlite3_prepare_v2(
        st->db, "SELECT method, lr, loss FROM lrfind_suggestions WHERE lrfind_id=? ORDER BY i", -1,
        &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading LR suggestions", err);
    sqlite3_bind_int64(q, 1, l->id);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && l->n_sug < 8) {
        dl_lr_suggestion *s = &l->sug[l->n_sug++];
        const unsigned char *m = sqlite3_column_text(q, 0);
        snprintf(s->method, sizeof s->method, "%s", m ? (const char *)m : "");
        s->lr = dl_store__col_double(q, 1);
        s->loss = dl_store__col_double(q, 2);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return dl_store__sqlerr(st, rc, "reading LR suggestions", err);
    return DL_OK;
}

static void lrfind_head(sqlite3_stmt *q, void *row)
{
    dl_lrfind *l = row;
    l->id = sqlite3_column_int64(q, 0);
    l->step = sqlite3_column_int64(q, 1);
    l->t = sqlite3_column_double(q, 2);
}

dl_status dl_store_lrfinds(dl_store *st, int64_t run_id, dl_lrfind **out, size_t *n, dl_err *err)
{
    *out = NULL;
    *n = 0;
    /* Points and suggestions are read in a second and third statement: hold one read snapshot. */
    dl_status s = dl_store__exec(st, "BEGIN", "reading LR-finder sweeps", err);
    if (s)
        return s;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "SELECT id, step, t FROM lrfinds WHERE run_id=? ORDER BY id", -1, &q, NULL);
    if (rc != SQLITE_OK) {
        dl_store__rollback(st);
        return dl_store__sqlerr(st, rc, "reading LR-finder sweeps", err);
    }
    sqlite3_bind_int64(q, 1, run_id);
    s = dl_store__read_rows(st, q, sizeof **out, lrfind_head, lrfinds_drop, SIZE_MAX,
                            "reading LR-finder sweeps", (void **)out, n, err);
    for (size_t i = 0; !s && i < *n; i++)
        s = lrfind_fill(st, &(*out)[i], err);
    dl_store__rollback(st);
    if (s) {
        dl_lrfinds_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return s;
}

dl_status dl_store_interp_get(dl_store *st, int64_t run_id, const char *kind, char **json,
                              int *epoch, dl_err *err)
{
    *json = NULL;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db,
        "SELECT json, epoch FROM interp WHERE run_id=? AND kind=? ORDER BY epoch DESC, t DESC"
        " LIMIT 1",
        -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading an interpretation result", err);
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *json = dl_store__col_text(q, 0);
        if (epoch)
            *epoch = sqlite3_column_int(q, 1);
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW)
        return *json ? DL_OK : dl_err_set(err, DL_ENOMEM, "out of memory");
    if (rc == SQLITE_DONE)
        return dl_err_set(err, DL_ENOTFOUND, "run %lld has no '%s' interpretation result",
                          (long long)run_id, kind);
    return dl_store__sqlerr(st, rc, "reading an interpretation result", err);
}

static void skipped_fill(sqlite3_stmt *q, void *row)
{
    dl_skipped_row *r = row;
    r->path = dl_store__col_text(q, 0);
    r->reason = dl_store__col_text(q, 1);
}

dl_status dl_store_skipped(dl_store *st, int64_t run_id, dl_skipped_row **rows, size_t *n,
                           dl_err *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "SELECT path, reason FROM skipped WHERE run_id=? ORDER BY id", -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading skipped files", err);
    sqlite3_bind_int64(q, 1, run_id);
    return dl_store__read_rows(st, q, sizeof **rows, skipped_fill, skipped_drop, SIZE_MAX,
                               "reading skipped files", (void **)rows, n, err);
}

void dl_skipped_free(dl_skipped_row *rows, size_t n)
{
    for (size_t i = 0; i < n && rows; i++) {
        free(rows[i].path);
        free(rows[i].reason);
    }
    free(rows);
}

static void interp_fill(sqlite3_stmt *q, void *row)
{
    dl_interp_row *r = row;
    r->epoch = sqlite3_column_int(q, 0);
    const unsigned char *k = sqlite3_column_text(q, 1);
    snprintf(r->kind, sizeof r->kind, "%s", k ? (const char *)k : "");
    r->t = sqlite3_column_double(q, 2);
    r->json = dl_store__col_text(q, 3);
}

dl_status dl_store_interp_list(dl_store *st, int64_t run_id, dl_interp_row **rows, size_t *n,
                               dl_err *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "SELECT epoch, kind, t, json FROM interp WHERE run_id=? ORDER BY epoch, t", -1, &q,
        NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading interpretation results", err);
    sqlite3_bind_int64(q, 1, run_id);
    return dl_store__read_rows(st, q, sizeof **rows, interp_fill, interp_drop, SIZE_MAX,
                               "reading interpretation results", (void **)rows, n, err);
}

void dl_interp_free(dl_interp_row *rows, size_t n)
{
    for (size_t i = 0; i < n && rows; i++)
        free(rows[i].json);
    free(rows);
}
