/* runs-util: what the run-store commands (runs, show, export, tag, note, baseline, rm) share:
 * the --runs DIR option, checked option values, opening the store and finding a run with a printed
 * error, formatting times and numbers, CSV fields, files written with their errors reported, and a
 * run as a JSON object. */
#ifndef DL_RUNS_UTIL_H
#define DL_RUNS_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "core/store/store.h"

/* If argv[*i] is --runs DIR or --runs=DIR, stores DIR, advances *i past it and returns 1; returns
 * -1 (after printing a usage error for cmd) when DIR is missing, 0 when argv[*i] is not --runs. */
int dl_cli_runs_opt(const char *cmd, int argc, char **argv, int *i, const char **dir);
/* Parses v (the value of option opt) as a base-10 integer in [lo, hi] into *out and returns 0; else
 * prints "dllab CMD: bad value 'V' for OPT" and returns DL_EXIT_USAGE. */
int dl_cli_int_arg(const char *cmd, const char *opt, const char *v, long lo, long hi, int *out);
/* The same for a probability (a number in [0, 1]), e.g. a multi-label threshold. */
int dl_cli_prob_arg(const char *cmd, const char *opt, const char *v, double *out);
/* Opens the store (dir NULL: DLLAB_RUNS, then ./dllab-runs); prints "dllab CMD: message". */
int dl_cli_open(const char *cmd, const char *dir, int flags, dl_store **st);
/* Finds RUN by name / id / unique prefix; prints the error (candidates when ambiguous). */
int dl_cli_find(const char *cmd, dl_store *st, const char *query, int64_t *id);
/* "2026-11-28 21:30" in local time; "-" for 0. */
void dl_cli_fmt_time(double t, char *buf, size_t cap);
/* "1h02m", "3m05s", "12s". */
void dl_cli_fmt_duration(double seconds, char *buf, size_t cap);
/* A number, or "-" when NaN. */
void dl_cli_fmt_num(double v, const char *fmt, char *buf, size_t cap);
/* v in at most width characters (core/numfmt.h: "%.{decimals}f", else "%g"), "-" when NaN. */
void dl_cli_fmt_fit(double v, int decimals, int width, char *buf, size_t cap);
/* A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
void dl_cli_csv_str(FILE *f, const char *s);
/* Opens DIR/NAME for writing (core/file.h's dl_file_create: a temporary renamed over it by
 * dl_cli_close, or in place for a device or FIFO), the path in path[cap]; prints "dllab CMD:
 * PATH: reason" and returns NULL when it cannot. */
FILE *dl_cli_create(const char *cmd, const char *dir, const char *name, char *path, size_t cap);
/* Commits a file from dl_cli_create: 0, or DL_EXIT_FAIL after "dllab CMD: PATH: reason" (a full
 * disk shows at the last flush; the previous file then stays). */
int dl_cli_close(const char *cmd, FILE *f, const char *path);
/* A JSON number, or null when not finite. */
json_t *dl_cli_json_num(double v);
/* The run's fields and summary (config and vocab parsed back into JSON). */
json_t *dl_cli_run_json(const dl_run *r);

#endif
