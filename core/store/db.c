/* db: opening and closing the run store. Checks a file before SQLite touches it (magic, size
 * against the header's page count), refuses foreign, corrupt and newer stores without writing to
 * them, sets WAL + synchronous=NORMAL + busy timeout, migrates older schemas forward in one
 * transaction, and marks runs of dead local processes as crashed. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/store/internal.h"

const char *dl_store_dir_default(const char *cli_dir)
{
    if (cli_dir && *cli_dir)
        return cli_dir;
    const char *env = getenv("DLLAB_RUNS");
    if (env && *env)
        return env;
    return DL_STORE_DEFAULT_DIR;
}

double dl_store__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int64_t dl_store__proc_start(int64_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may contain spaces and ')' so fields are counted after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    return p ? strtoll(p + 1, NULL, 10) : 0;
}

char *dl_store__col_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return strdup(t ? (const char *)t : "");
}

double dl_store__col_double(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

dl_status dl_store__sqlerr(dl_store *st, int rc, const char *what, dl_err *err)
{
    int base = rc & 0xff;
    dl_status code = DL_EIO;
    const char *hint = "";
    if (base == SQLITE_CORRUPT || base == SQLITE_NOTADB) {
        code = DL_EFORMAT;
        hint = " (the database is corrupt; it was not modified)";
    } else if (base == SQLITE_FULL ||
               (base == SQLITE_IOERR && st->db && sqlite3_system_errno(st->db) == ENOSPC)) {
        code = DL_ENOSPC;
        hint = " (disk full)";
    } else if (base == SQLITE_NOMEM) {
        code = DL_ENOMEM;
    } else if (base == SQLITE_BUSY || base == SQLITE_LOCKED) {
        hint = " (another process held the store locked too long)";
    } else if (base == SQLITE_READONLY || base == SQLITE_CANTOPEN || base == SQLITE_PERM) {
        hint = " (is the store folder writable?)";
    }
    const char *msg = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
    return dl_err_set(err, code, "run store %s: %s: %s%s", st->path, what, msg, hint);
}

dl_status dl_store__exec(dl_store *st, const char *sql, const char *what, dl_err *err)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DL_OK : dl_store__sqlerr(st, rc, what, err);
}

dl_status dl_store__begin(dl_store *st, dl_err *err)
{
    return dl_store__exec(st, "BEGIN IMMEDIATE", "starting a write", err);
}

dl_status dl_store__commit(dl_store *st, dl_err *err)
{
    dl_status s = dl_store__exec(st, "COMMIT", "committing", err);
    if (s != DL_OK)
        dl_store__rollback(st);
    return s;
}

void dl_store__rollback(dl_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

dl_status dl_store__writable(dl_store *st, const char *what, dl_err *err)
{
    if (st->flags & DL_STORE_READONLY)
        return dl_err_set(err, DL_EINVAL, "run store %s: %s: the store was opened read-only",
                          st->path, what);
    return DL_OK;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
}

/* The descriptor check_file reads a store's header through, one per database file, kept open for
 * the life of the process. Closing any descriptor of a file drops every POSIX lock this process
 * holds on it, including the locks of SQLite connections to it (SQLite's documented pitfall): a
 * second store opened in a training process (the steering poller, a UI reader) would otherwise
 * strip the trainer's locks, and another process could then delete the WAL under it. Mutable and
 * global because locks are per process; guarded by its mutex. */
typedef struct held_fd {
    dev_t dev;
    ino_t ino;
    int fd;
} held_fd;
static held_fd header_fds[32];
static int n_header_fds;
static pthread_mutex_t header_mu = PTHREAD_MUTEX_INITIALIZER;

static int header_fd(const char *path, const struct stat *sb)
{
    pthread_mutex_lock(&header_mu);
    int fd = -1, slot = -1;
    for (int i = 0; i < n_header_fds && slot < 0; i++)
        if (header_fds[i].dev == sb->st_dev && header_fds[i].ino == sb->st_ino)
            slot = i;
    struct stat held;
    if (slot >= 0 && fstat(header_fds[slot].fd, &held) == 0 && held.st_nlink > 0)
        fd = header_fds[slot].fd;
    else if (slot >= 0) /* that file was deleted and its inode number reused: nothing to keep */
        close(header_fds[slot].fd);
    if (fd < 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (slot < 0 && n_header_fds < (int)(sizeof header_fds / sizeof header_fds[0]))
            slot = n_header_fds++;
        /* beyond the table the descriptor is simply never closed */
        if (fd >= 0 && slot >= 0)
            header_fds[slot] = (held_fd){sb->st_dev, sb->st_ino, fd};
        else if (slot >= 0)
            header_fds[slot].fd = -1, header_fds[slot].ino = 0;
    }
    pthread_mutex_unlock(&header_mu);
    return fd;
}

/* Looks at the file before SQLite does: SQLite would happily turn a garbage file or a truncated
 * one into errors only later, and a write could then damage what is left of it. */
static dl_status check_file(const char *path, bool *exists, dl_err *err)
{
    struct stat sb;
    *exists = false;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return DL_OK;
        return dl_err_set(err, DL_EIO, "run store %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode))
        return dl_err_set(err, DL_EFORMAT, "run store %s: not a regular file", path);
    *exists = true;
    if (sb.st_size == 0)
        return DL_OK; /* SQLite treats an empty file as an empty database */
    int fd = header_fd(path, &sb);
    if (fd < 0)
        return dl_err_set(err, DL_EIO, "run store %s: cannot read: %s", path, strerror(errno));
    unsigned char h[100];
    ssize_t got = pread(fd, h, sizeof h, 0);
    if (got <= 0 || memcmp(h, "SQLite format 3", got < 16 ? (size_t)got : 16) != 0)
        return dl_err_set(
            err, DL_EFORMAT,
            "%s is not a dllab run store (not a SQLite database); it was left untouched", path);
    if (got < 100)
        return dl_err_set(err, DL_EFORMAT,
                          "run store %s is truncated (%lld bytes, shorter than a SQLite header); "
                          "it was left untouched",
                          path, (long long)sb.st_size);
    uint32_t page = (uint32_t)h[16] << 8 | h[17];
    if (page == 1)
        page = 65536;
    uint32_t pages = be32(h + 28);
    bool count_valid = be32(h + 24) == be32(h + 92) && pages > 0;
    /* A live WAL may hold pages the main file does not have yet; only judge a file without one. */
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat wb;
    bool has_wal = stat(wal, &wb) == 0 && wb.st_size > 0;
    if (count_valid && !has_wal && (int64_t)pages * page > (int64_t)sb.st_size)
        return dl_err_set(err, DL_EFORMAT,
                          "run store %s is truncated: its header says %u pages of %u bytes, the "
                          "file has %lld bytes; "
                          "it was left untouched (restore it from a backup)",
                          path, pages, page, (long long)sb.st_size);
    return DL_OK;
}

static dl_status pragma_int(dl_store *st, const char *sql, int64_t *out, dl_err *err)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "reading the header", err);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dl_store__sqlerr(st, rc, "reading the header", err);
    return DL_OK;
}

static dl_status migrate(dl_store *st, dl_err *err)
{
    dl_status s = dl_store__begin(st, err);
    if (s)
        return s;
    int64_t ver = 0, app = 0;
    /* Read again inside the write lock: another process may have migrated meanwhile. */
    if ((s = pragma_int(st, "PRAGMA user_version", &ver, err)) ||
        (s = pragma_int(st, "PRAGMA application_id", &app, err)))
        goto fail;
    if (ver > DL_STORE_SCHEMA_VERSION) {
        s = dl_err_set(err, DL_EUNSUPPORTED,
                       "run store %s has schema %lld, newer than this dllab (%d)", st->path,
                       (long long)ver, DL_STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (ver == 0 && app == 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d", DL_STORE_APP_ID);
        if ((s = dl_store__exec(st, sql, "marking a new store", err)))
            goto fail;
    }
    for (int64_t v = ver; v < DL_STORE_SCHEMA_VERSION; v++) {
        char what[64], sql[64];
        snprintf(what, sizeof what, "migrating schema %lld to %lld", (long long)v,
                 (long long)v + 1);
        if ((s = dl_store__exec(st, dl_store_migrations[v], what, err)))
            goto fail;
        snprintf(sql, sizeof sql, "PRAGMA user_version=%lld", (long long)v + 1);
        if ((s = dl_store__exec(st, sql, what, err)))
            goto fail;
    }
    return dl_store__commit(st, err);
fail:
    dl_store__rollback(st);
    return s;
}

/* A run still "running" whose process on this host is gone (or whose pid now belongs to another
 * process, told apart by its start time) was killed: mark it crashed at its last activity. */
static dl_status mark_crashed(dl_store *st, dl_err *err)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(
        st->db, "SELECT id, pid, pid_start FROM runs WHERE status='running' AND host=?", -1, &q,
        NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "looking for crashed runs", err);
    sqlite3_bind_text(q, 1, host, -1, SQLITE_STATIC);
    int64_t dead[64];
    int n_dead = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && n_dead < 64) {
        int64_t id = sqlite3_column_int64(q, 0), pid = sqlite3_column_int64(q, 1),
                start = sqlite3_column_int64(q, 2);
        if (!dl_store__proc_alive(pid, start))
            dead[n_dead++] = id;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return dl_store__sqlerr(st, rc, "looking for crashed runs", err);
    if (!n_dead)
        return DL_OK;
    dl_status s = dl_store__begin(st, err);
    if (s)
        return s;
    sqlite3_stmt *u, *e;
    rc = sqlite3_prepare_v2(
        st->db,
        "UPDATE runs SET status='crashed', finished=max(created,"
        " coalesce((SELECT t FROM batches WHERE run_id=?1 ORDER BY step DESC LIMIT 1),0),"
        " coalesce((SELECT max(t) FROM epochs WHERE run_id=?1),0),"
        " coalesce((SELECT max(t) FROM events WHERE run_id=?1),0))"
        " WHERE id=?1 AND status='running'",
        -1, &u, NULL);
    if (rc != SQLITE_OK) {
        dl_store__rollback(st);
        return dl_store__sqlerr(st, rc, "marking crashed runs", err);
    }
    rc = sqlite3_prepare_v2(
        st->db,
        "INSERT INTO events(run_id, kind, step, t, payload) SELECT ?1, 'crashed',"
        " coalesce((SELECT max(step) FROM batches WHERE run_id=?1), -1), ?2,"
        " '{\"pid\":' || (SELECT pid FROM runs WHERE id=?1) || '}'",
        -1, &e, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(u);
        dl_store__rollback(st);
        return dl_store__sqlerr(st, rc, "marking crashed runs", err);
    }
    for (int i = 0; i < n_dead; i++) {
        sqlite3_bind_int64(u, 1, dead[i]);
        if ((rc = sqlite3_step(u)) != SQLITE_DONE)
            break;
        sqlite3_reset(u);
        if (sqlite3_changes(st->db) == 0)
            continue; /* another process marked it first */
        st->crashed_on_open++;
        sqlite3_bind_int64(e, 1, dead[i]);
        sqlite3_bind_double(e, 2, dl_store__now());
        if ((rc = sqlite3_step(e)) != SQLITE_DONE)
            break;
        sqlite3_reset(e);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(u);
    sqlite3_finalize(e);
    if (rc != SQLITE_DONE && n_dead) {
        s = dl_store__sqlerr(st, rc, "marking crashed runs", err);
        dl_store__rollback(st);
        return s;
    }
    if ((s = dl_store__commit(st, err)))
        return s;
    for (int i = 0; i < n_dead; i++)
        dl_store__clean_temps(st, dead[i]);
    return DL_OK;
}

static dl_status open_db(dl_store *st, bool exists, dl_err *err)
{
    int ro = st->flags & DL_STORE_READONLY;
    int rc =
        sqlite3_open_v2(st->path, &st->db,
                        (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                            SQLITE_OPEN_NOMUTEX,
                        NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, exists ? "opening" : "creating", err);
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, DL_STORE_BUSY_MS);
    return DL_OK;
}

/* A reader in a folder it cannot write (an archived store) cannot create the WAL index; SQLite's
 * immutable mode reads the file as it is. */
static dl_status reopen_immutable(dl_store *st, dl_err *err)
{
    sqlite3_close(st->db);
    st->db = NULL;
    char *uri = sqlite3_mprintf("file:%s?immutable=1", st->path);
    int rc = sqlite3_open_v2(uri, &st->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    sqlite3_free(uri);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "opening read-only", err);
    return DL_OK;
}

/* Whether PATH-wal is missing or empty: then the database file alone is the whole store, and a
 * reader on a full disk (where SQLite cannot size the -shm index) may read it as immutable. */
static bool wal_empty(const char *path)
{
    char wal[4200];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &sb) != 0 || sb.st_size == 0;
}

/* Switching a new database to WAL needs an exclusive lock, and SQLite does not call the busy
 * handler for it: two processes creating one store at once would see "database is locked". */
static dl_status set_wal(dl_store *st, dl_err *err)
{
    int rc = SQLITE_OK;
    for (int waited = 0; waited <= DL_STORE_BUSY_MS; waited += 10) {
        sqlite3_stmt *q;
        rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &q, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(q);
            const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(q, 0) : NULL;
            bool wal = mode && strcmp((const char *)mode, "wal") == 0;
            sqlite3_finalize(q);
            if (wal)
                return DL_OK;
            if (rc ==
                SQLITE_ROW) /* the mode could not be changed (e.g. an in-memory file system) */
                return dl_err_set(err, DL_EIO,
                                  "run store %s: cannot switch to WAL mode (journal mode %s)",
                                  st->path, mode ? "other" : "unknown");
        }
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        usleep(10000);
    }
    return dl_store__sqlerr(st, rc, "switching to WAL", err);
}

static dl_status identify(dl_store *st, bool *fresh, dl_err *err)
{
    int64_t app = 0, ver = 0, tables = 0;
    /* One read snapshot: another process may be creating the store right now. */
    dl_status s = dl_store__exec(st, "BEGIN", "reading the header", err);
    if (s)
        return s;
    if ((s = pragma_int(st, "PRAGMA application_id", &app, err)) ||
        (s = pragma_int(st, "PRAGMA user_version", &ver, err)) ||
        (s = pragma_int(st, "SELECT count(*) FROM sqlite_master", &tables, err))) {
        dl_store__rollback(st);
        return s;
    }
    dl_store__rollback(st);
    st->schema_found = (int)ver;
    *fresh = app == 0 && ver == 0 && tables == 0;
    if (*fresh)
        return DL_OK;
    if (app != DL_STORE_APP_ID)
        return dl_err_set(
            err, DL_EFORMAT,
            "%s is a SQLite database but not a dllab run store (application_id %#llx); it was left "
            "untouched",
            st->path, (long long)app);
    if (ver > DL_STORE_SCHEMA_VERSION)
        return dl_err_set(
            err, DL_EUNSUPPORTED,
            "run store %s was written by a newer dllab (schema %lld; this dllab knows up to %d); "
            "upgrade dllab to open it. The store was left untouched",
            st->path, (long long)ver, DL_STORE_SCHEMA_VERSION);
    if (ver < 1)
        return dl_err_set(err, DL_EFORMAT,
                          "run store %s has no schema version; it was left untouched", st->path);
    return DL_OK;
}

dl_status dl_store_open(const char *dir, int flags, dl_store **out, dl_err *err)
{
    *out = NULL;
    if (!dir || !*dir)
        return dl_err_set(err, DL_EINVAL, "run store: empty folder name");
    dl_store *st = calloc(1, sizeof *st);
    if (!st)
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    st->flags = flags;
    st->dir = strdup(dir);
    size_t len = strlen(dir) + sizeof "/" DL_STORE_DB_NAME;
    st->path = malloc(len);
    if (!st->dir || !st->path) {
        dl_store_close(st);
        return dl_err_set(err, DL_ENOMEM, "out of memory");
    }
    snprintf(st->path, len, "%s/%s", dir, DL_STORE_DB_NAME);
    st->last_commit = dl_clock_now();

    bool ro = flags & DL_STORE_READONLY, exists = false, fresh = false;
    dl_status s = check_file(st->path, &exists, err);
    if (s)
        goto fail;
    if (!exists && ro) {
        s = dl_err_set(err, DL_ENOTFOUND,
                       "no run store at %s (training creates one; --runs DIR or DLLAB_RUNS "
                       "select another)",
                       st->path);
        goto fail;
    }
    if (!ro && (s = dl_mkdir_p(dir, err)))
        goto fail;
    if ((s = open_db(st, exists, err)))
        goto fail;
    s = identify(st, &fresh, err);
    if (s && ro && (access(dir, W_OK) != 0 || (s == DL_ENOSPC && wal_empty(st->path))) &&
        (s = reopen_immutable(st, err)) == DL_OK)
        s = identify(st, &fresh, err);
    if (s)
        goto fail;
    if (ro) {
        if (fresh) {
            s = dl_err_set(err, DL_ENOTFOUND, "run store %s is empty", st->path);
            goto fail;
        }
        if (st->schema_found < DL_STORE_SCHEMA_VERSION) {
            s = dl_err_set(err, DL_EUNSUPPORTED,
                           "run store %s has the older schema %d; open it once with write access "
                           "to upgrade it",
                           st->path, st->schema_found);
            goto fail;
        }
    } else {
        /* Only now, with the file known to be ours (or new), may anything be written to it. */
        if ((s = set_wal(st, err)))
            goto fail;
        if (st->schema_found < DL_STORE_SCHEMA_VERSION && (s = migrate(st, err)))
            goto fail;
    }
    if ((s = dl_store__exec(st, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
                            "setting pragmas", err)))
        goto fail;
    if (!ro) {
        int before;
        do { /* 64 runs per pass */
            before = st->crashed_on_open;
            if ((s = mark_crashed(st, err)))
                goto fail;
        } while (st->crashed_on_open - before == 64);
    }
    *out = st;
    return DL_OK;
fail:
    dl_store_close(st);
    return s;
}

void dl_store_close(dl_store *st)
{
    if (!st)
        return;
    if (st->db && st->n_pend)
        dl_store_flush(st, NULL);
    if (st->db)
        sqlite3_close_v2(st->db);
    free(st->pend);
    free(st->dir);
    free(st->path);
    free(st);
}

const char *dl_store_path(const dl_store *st) { return st->path; }
const char *dl_store_dir(const dl_store *st) { return st->dir; }
int dl_store_schema_found(const dl_store *st) { return st->schema_found; }
int dl_store_crashed_on_open(const dl_store *st) { return st->crashed_on_open; }
