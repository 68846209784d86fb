/* runs-util: helpers shared by the run-store commands (see runs-util.h). */
#include "src/runs-util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"
#include "core/numfmt.h"
#include "src/commands.h"

int dl_cli_runs_opt(const char *cmd, int argc, char **argv, int *i, const char **dir)
{
    const char *a = argv[*i];
    if (strncmp(a, "--runs=", 7) == 0) {
        *dir = a + 7;
        return 1;
    }
    if (strcmp(a, "--runs") != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "dllab %s: --runs needs a folder\n", cmd);
        return -1;
    }
    *dir = argv[++*i];
    return 1;
}

int dl_cli_int_arg(const char *cmd, const char *opt, const char *v, long lo, long hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) {
        fprintf(stderr, "dllab %s: bad value '%s' for %s\n", cmd, v, opt);
        return DL_EXIT_USAGE;
    }
    *out = (int)x;
    return 0;
}

int dl_cli_prob_arg(const char *cmd, const char *opt, const char *v, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (*end || !(x >= 0 && x <= 1)) { /* !(..) also refuses NaN */
        fprintf(stderr, "dllab %s: bad value '%s' for %s\n", cmd, v, opt);
        return DL_EXIT_USAGE;
    }
    *out = x;
    return 0;
}

int dl_cli_open(const char *cmd, const char *dir, int flags, dl_store **st)
{
    dl_err err = {0};
    const char *d = dl_store_dir_default(dir);
    /* Readers open an existing store for writing when they may: that upgrades an old schema and
     * marks runs of killed processes as crashed, so `dllab runs` shows the truth. */
    char db[4096];
    snprintf(db, sizeof db, "%s/%s", d, DL_STORE_DB_NAME);
    bool upgraded = false;
    if ((flags & DL_STORE_READONLY) && access(db, F_OK) == 0 && access(d, W_OK) == 0 &&
        access(db, W_OK) == 0)
        flags &= ~DL_STORE_READONLY, upgraded = true;
    dl_status s = dl_store_open(d, flags, st, &err);
    if (s != DL_OK && upgraded) /* e.g. a full disk: the crash marking cannot commit, reading can */
        s = dl_store_open(d, flags | DL_STORE_READONLY, st, &err);
    if (s != DL_OK) {
        fprintf(stderr, "dllab %s: %s\n", cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}

int dl_cli_find(const char *cmd, dl_store *st, const char *query, int64_t *id)
{
    dl_err err = {0};
    if (dl_store_run_find(st, query, id, &err) != DL_OK) {
        fprintf(stderr, "dllab %s: %s\n", cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    return DL_EXIT_OK;
}

void dl_cli_fmt_time(double t, char *buf, size_t cap)
{
    if (t <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    time_t s = (time_t)t;
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M", &tm);
}

void dl_cli_fmt_duration(double seconds, char *buf, size_t cap)
{
    if (!isfinite(seconds) || seconds < 0) {
        snprintf(buf, cap, "-");
        return;
    }
    long s = lround(seconds);
    if (s >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60)
        snprintf(buf, cap, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(buf, cap, "%lds", s);
}

void dl_cli_fmt_num(double v, const char *fmt, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, fmt, v);
}

void dl_cli_fmt_fit(double v, int decimals, int width, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        dl_fmt_fit(v, decimals, width, buf, cap);
}

void dl_cli_csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

FILE *dl_cli_create(const char *cmd, const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    dl_err err = {0};
    FILE *f = dl_file_create(path, &err);
    if (!f)
        fprintf(stderr, "dllab %s: %s\n", cmd, err.msg);
    return f;
}

int dl_cli_close(const char *cmd, FILE *f, const char *path)
{
    dl_err err = {0};
    if (dl_file_commit(f, path, &err) != DL_OK) {
        fprintf(stderr, "dllab %s: %s\n", cmd, err.msg);
        return DL_EXIT_FAIL;
    }
    return 0;
}

json_t *dl_cli_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *parsed_or_string(const char *text)
{
    json_t *j = json_loads(text ? text : "null", JSON_DECODE_ANY, NULL);
    return j ? j : json_string(text ? text : "");
}

json_t *dl_cli_run_json(const dl_run *r)
{
    json_t *tags = json_array();
    if (r->tags && *r->tags) {
        char *copy = strdup(r->tags), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(tags, json_string(t));
        free(copy);
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "kind", json_string(dl_run_kind(r)));
    json_object_set_new(o, "status", json_string(dl_run_status_name(r->status)));
    json_object_set_new(o, "created", json_real(r->created));
    json_object_set_new(o, "finished", r->finished > 0 ? json_real(r->finished) : json_null());
    json_object_set_new(o, "dataset", json_string(r->dataset));
    json_object_set_new(o, "arch", json_string(r->arch));
    json_object_set_new(o, "n_train", json_integer(r->n_train));
    json_object_set_new(o, "n_valid", json_integer(r->n_valid));
    json_object_set_new(o, "vocab", parsed_or_string(r->vocab_json));
    json_object_set_new(o, "config", parsed_or_string(r->config_json));
    json_object_set_new(o, "version", json_string(r->version));
    json_object_set_new(o, "blas_kernel", json_string(r->blas_kernel));
    json_object_set_new(o, "host", json_string(r->host));
    json_object_set_new(o, "pid", json_integer(r->pid));
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "note", json_string(r->note));
    json_object_set_new(o, "baseline", json_boolean(r->baseline));
    json_object_set_new(o, "epochs", json_integer(r->n_epochs));
    json_object_set_new(o, "batches", json_integer(r->n_batches));
    json_object_set_new(o, "best_epoch",
                        r->best_epoch >= 0 ? json_integer(r->best_epoch) : json_null());
    json_object_set_new(o, "best_valid_loss", dl_cli_json_num(r->best_valid_loss));
    json_object_set_new(o, "metric", *r->metric_name ? json_string(r->metric_name) : json_null());
    json_object_set_new(o, "metric_value", dl_cli_json_num(r->metric_value));
    return o;
}
