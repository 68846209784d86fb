/* store internals shared by the store's source files (not a public header: nothing outside
 * core/store/ and its tests includes it). */
#ifndef DL_STORE_INTERNAL_H
#define DL_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/store/store.h"

#define DL_STORE_APP_ID 0x446c4c62 /* "DlLb" in PRAGMA application_id marks a dllab store */
#define DL_STORE_BUSY_MS 15000

typedef struct dl_pending_batch {
    int64_t run_id;
    dl_batch_row row;
} dl_pending_batch;

struct dl_store {
    sqlite3 *db;
    char *dir, *path;
    int flags;
    int schema_found;
    int crashed_on_open;
    dl_pending_batch *pend;
    size_t n_pend, cap_pend;
    double last_commit; /* monotonic seconds */
    dl_store_writer_fn writer;
};

/* Forward migrations: entry i (0-based) takes the schema from version i to i+1. Never edit an
 * entry once released; add a new one and bump DL_STORE_SCHEMA_VERSION. */
extern const char *const dl_store_migrations[DL_STORE_SCHEMA_VERSION];

/* Error from the connection: fills err with "store PATH: what: sqlite message" and a status
 * mapped from the SQLite code (CORRUPT/NOTADB -> DL_EFORMAT, FULL -> DL_ENOSPC, ...). */
dl_status dl_store__sqlerr(dl_store *st, int rc, const char *what, dl_err *err);
/* Runs SQL with no results. */
dl_status dl_store__exec(dl_store *st, const char *sql, const char *what, dl_err *err);
dl_status dl_store__begin(dl_store *st,
                          dl_err *err); /* BEGIN IMMEDIATE (waits on the busy timeout) */
dl_status dl_store__commit(dl_store *st, dl_err *err);
void dl_store__rollback(dl_store *st);
/* Writes the pending batch rows inside an open transaction (does not commit). */
dl_status dl_store__write_pending(dl_store *st, dl_err *err);
/* Commits pending batch rows if there are any. */
dl_status dl_store__flush_pending_if_any(dl_store *st, dl_err *err);
/* One write transaction: pending batch rows, then fn(st, arg, err) if fn, then commit; the buffer
 * is emptied only once the commit succeeded. */
dl_status dl_store__transact(dl_store *st, dl_status (*fn)(dl_store *, void *, dl_err *), void *arg,
                             dl_err *err);
double dl_store__now(void); /* wall clock, Unix seconds */
/* Start time of a process in clock ticks since boot (/proc/PID/stat field 22), 0 if unknown. */
int64_t dl_store__proc_start(int64_t pid);
/* Whether process pid is alive and (start != 0) is the one that started at that time. */
bool dl_store__proc_alive(int64_t pid, int64_t start);
/* Removes the checkpoint temporaries (NAME.safetensors.tmp.PID) of dead writers in the run's
 * folder (a kill during a checkpoint leaves one, as large as a checkpoint). */
void dl_store__clean_temps(dl_store *st, int64_t run_id);
/* Strdup of a column (NULL column -> ""). */
char *dl_store__col_text(sqlite3_stmt *s, int col);
/* Column as double, NULL -> NaN. */
double dl_store__col_double(sqlite3_stmt *s, int col);
/* Steps the prepared statement q through at most limit rows, appending one zeroed element of elem
 * bytes per row that fill(q, element) fills in, then finalises q; the array in *rows, its length
 * in *n. On failure drop(array, count) frees what was read, *rows is NULL and the status is
 * dl_store__sqlerr's for `what` (running out of memory is SQLITE_NOMEM's). */
dl_status dl_store__read_rows(dl_store *st, sqlite3_stmt *q, size_t elem,
                              void (*fill)(sqlite3_stmt *, void *), void (*drop)(void *, size_t),
                              size_t limit, const char *what, void **rows, size_t *n, dl_err *err);
/* Fails with DL_EINVAL when opened read-only. */
dl_status dl_store__writable(dl_store *st, const char *what, dl_err *err);
/* Checks run_id exists; DL_ENOTFOUND naming the id otherwise. */
dl_status dl_store__run_exists(dl_store *st, int64_t run_id, dl_err *err);
/* Name of a run (malloc'd) or NULL. */
char *dl_store__run_name(dl_store *st, int64_t run_id);

#endif
