/* manage: finding runs by what people type (exact name, id, unique prefix), tags, notes, the
 * baseline flag, and removing a run with its checkpoint folder. Removal deletes only files dllab
 * writes there (*.safetensors and their temporaries); anything else keeps the folder and is
 * reported. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store/internal.h"

static dl_status lookup(dl_store *st, const char *sql, const char *arg, int64_t num, int64_t *ids,
                        int max_ids, char names[][DL_STORE_NAME_MAX], int *count, dl_err *err)
{
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return dl_store__sqlerr(st, rc, "looking up a run", err);
    if (arg)
        sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(q, 1, num);
    *count = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*count < max_ids) {
            ids[*count] = sqlite3_column_int64(q, 0);
            const unsigned char *n = sqlite3_column_text(q, 1);
            snprintf(names[*count], DL_STORE_NAME_MAX, "%s", n ? (const char *)n : "");
        }
        (*count)++;
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? DL_OK : dl_store__sqlerr(st, rc, "looking up a run", err);
}

dl_status dl_store_run_find(dl_store *st, const char *query, int64_t *run_id, dl_err *err)
{
    enum { MAXC = 12 };
    int64_t ids[MAXC];
    char names[MAXC][DL_STORE_NAME_MAX];
    int count = 0;
    if (!query || !*query)
        return dl_err_set(err, DL_EINVAL,
                          "no run given (a name, an id, or a unique prefix of a name)");
    dl_status s = lookup(st, "SELECT id, name FROM runs WHERE name=?", query, 0, ids, MAXC, names,
                         &count, err);
    if (s)
        return s;
    if (count == 0) {
        char *end;
        long long num = strtoll(query, &end, 10);
        if (*end == 0 && (s = lookup(st, "SELECT id, name FROM runs WHERE id=?", NULL, num, ids,
                                     MAXC, names, &count, err)))
            return s;
    }
    if (count == 0 &&
        (s = lookup(st,
                    "SELECT id, name FROM runs WHERE substr(name, 1, length(?1))=?1 ORDER BY id",
                    query, 0, ids, MAXC, names, &count, err)))
        return s;
    if (count == 1) {
        *run_id = ids[0];
        return DL_OK;
    }
    if (count == 0)
        return dl_err_set(err, DL_ENOTFOUND, "no run named '%s' in %s ('dllab runs' lists them)",
                          query, st->path);
    char list[DL_ERR_MSG_MAX / 2];
    size_t k = 0;
    for (int i = 0; i < count && i < MAXC && k + 4 < sizeof list; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", names[i]);
    return dl_err_set(err, DL_EINVAL, "run '%s' is ambiguous: it matches %d runs: %s%s", query,
                      count, list, count > MAXC ? ", ..." : "");
}

struct simple_arg {
    const char *sql;
    int64_t id;
    const char *text;
    int num;
    const char *what;
};

static dl_status run_simple(dl_store *st, void *arg, dl_err *err)
{
    struct simple_arg *a = arg;
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db, a->sql, -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, a->id);
        if (a->text)
            sqlite3_bind_text(q, 2, a->text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int(q, 2, a->num);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return rc == SQLITE_DONE ? DL_OK : dl_store__sqlerr(st, rc, a->what, err);
}

static dl_status simple(dl_store *st, int64_t run_id, const char *sql, const char *text, int num,
                        const char *what, dl_err *err)
{
    dl_status s = dl_store__writable(st, what, err);
    if (s || (s = dl_store__run_exists(st, run_id, err)))
        return s;
    struct simple_arg a = {sql, run_id, text, num, what};
    return dl_store__transact(st, run_simple, &a, err);
}

dl_status dl_store_tag_add(dl_store *st, int64_t run_id, const char *tag, dl_err *err)
{
    if (!tag || !*tag || strchr(tag, ',') || strlen(tag) >= DL_STORE_NAME_MAX)
        return dl_err_set(err, DL_EINVAL, "bad tag '%s' (1..%d characters, no commas)",
                          tag ? tag : "", DL_STORE_NAME_MAX - 1);
    return simple(st, run_id, "INSERT OR IGNORE INTO tags(run_id, tag) VALUES(?1, ?2)", tag, 0,
                  "adding a tag", err);
}

dl_status dl_store_tag_remove(dl_store *st, int64_t run_id, const char *tag, dl_err *err)
{
    return simple(st, run_id, "DELETE FROM tags WHERE run_id=?1 AND tag=?2", tag ? tag : "", 0,
                  "removing a tag", err);
}

dl_status dl_store_note_set(dl_store *st, int64_t run_id, const char *note, dl_err *err)
{
    return simple(st, run_id, "UPDATE runs SET note=?2 WHERE id=?1", note ? note : "", 0,
                  "setting a note", err);
}

dl_status dl_store_baseline_set(dl_store *st, int64_t run_id, bool on, dl_err *err)
{
    /* One statement, so the store never has two baselines even for a moment. */
    return simple(
        st, run_id,
        "UPDATE runs SET baseline=CASE WHEN id=?1 THEN ?2 ELSE 0 END WHERE baseline<>0 OR id=?1",
        NULL, on ? 1 : 0, "setting the baseline", err);
}

static bool ours(const char *name)
{
    size_t n = strlen(name);
    static const char ext[] = ".safetensors";
    if (n > sizeof ext - 1 && strcmp(name + n - (sizeof ext - 1), ext) == 0)
        return true;
    return strstr(name, ".safetensors.tmp.") != NULL;
}

static void note_fail(char *buf, size_t cap, const char *path, int e)
{
    snprintf(buf, cap, "%s: %s%s", path, strerror(e),
             e == ENOTEMPTY ? " (it holds files dllab did not write)" : "");
}

dl_status dl_store_run_remove(dl_store *st, int64_t run_id, dl_err *err)
{
    dl_status s = dl_store__writable(st, "removing a run", err);
    if (s)
        return s;
    char *name = dl_store__run_name(st, run_id);
    if (!name)
        return dl_err_set(err, DL_ENOTFOUND, "run store %s: no run with id %lld", st->path,
                          (long long)run_id);
    int64_t owner = 0;
    if ((s = dl_store_run_owner(st, run_id, &owner, err)) || owner) {
        if (owner) /* its writes would fail on the missing run, and its checkpoints be lost */
            s = dl_err_set(err, DL_EINVAL,
                           "run %s is being trained by process %lld, which is still running; "
                           "stop it first",
                           name, (long long)owner);
        free(name);
        return s;
    }
    dl_checkpoint_row *ck = NULL;
    size_t n_ck = 0;
    if ((s = dl_store_checkpoints(st, run_id, &ck, &n_ck, err))) {
        free(name);
        return s;
    }
    s = simple(st, run_id, "DELETE FROM runs WHERE id=?1 AND ?2=0", NULL, 0, "removing a run", err);
    if (s) {
        free(name);
        dl_checkpoints_free(ck, n_ck);
        return s;
    }
    /* The records are gone; now the files. Recorded checkpoints may live elsewhere (absolute). */
    char path[4096];
    int failed = 0;
    char first_fail[4400] = "";
    for (size_t i = 0; i < n_ck; i++) {
        dl_store_checkpoint_abspath(st, ck[i].path, path, sizeof path);
        if (unlink(path) != 0 && errno != ENOENT && !failed++)
            note_fail(first_fail, sizeof first_fail, path, errno);
    }
    dl_checkpoints_free(ck, n_ck);
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/%s", st->dir, name);
    free(name);
    DIR *d = opendir(folder);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!ours(e->d_name))
                continue;
            if (snprintf(path, sizeof path, "%s/%s", folder, e->d_name) >= (int)sizeof path)
                continue;
            if (unlink(path) != 0 && errno != ENOENT && !failed++)
                note_fail(first_fail, sizeof first_fail, path, errno);
        }
        closedir(d);
        if (rmdir(folder) != 0 && !failed++)
            note_fail(first_fail, sizeof first_fail, folder, errno);
    }
    if (failed)
        return dl_err_set(
            err, DL_EIO,
            "run removed from the store, but %d file(s) could not be removed, first %s", failed,
            first_fail);
    return DL_OK;
}
