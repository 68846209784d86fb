/* store: the run store. Every run lives in one SQLite database (WAL, synchronous=NORMAL, busy
 * timeout) at DIR/runs.db, with one folder per run (DIR/<run-name>/) for its checkpoints.
 *
 * It records runs (unique human names such as "fmnist-resnet-xs-3"), per-batch rows, per-epoch rows
 * with their metrics, events, LR-finder curves with suggestions, interpretation results, skipped
 * input files and checkpoints. Batch rows are buffered in memory and committed in one short
 * transaction at least once a second (checked on each dl_store_log_batch), at every epoch end
 * (the epoch row and the batches before it commit together, so a reader never sees half an
 * epoch), on dl_store_flush and on dl_store_run_finish. Every other write commits at once.
 *
 * A process killed at any moment leaves a store that opens; on the next open a run whose process
 * (pid + start time, same host) is gone is marked crashed and keeps everything committed.
 * It refuses, without modifying them: files that are not SQLite, SQLite files that are not dllab
 * stores, truncated or corrupt databases, and stores written by a newer dllab (schema version).
 *
 * Threads: one dl_store is one connection, used by one thread at a time. The training thread is
 * the only writer in a process; a reader (the UI thread) opens its own dl_store. Several processes
 * may write into one store while others read it. */
#ifndef DL_STORE_H
#define DL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/tensor_map.h"

#define DL_STORE_SCHEMA_VERSION 3
#define DL_STORE_DB_NAME "runs.db"
#define DL_STORE_DEFAULT_DIR "dllab-runs"
#define DL_STORE_MAX_GROUPS 8  /* learning rates per batch row (parameter groups) */
#define DL_STORE_MAX_METRICS 8 /* metrics per epoch row */
#define DL_STORE_NAME_MAX 128  /* run names, metric names, event kinds fit in this */

typedef struct dl_store dl_store;

typedef enum dl_run_status {
    DL_RUN_RUNNING = 0,
    DL_RUN_FINISHED,
    DL_RUN_STOPPED,
    DL_RUN_DIVERGED,
    DL_RUN_CRASHED
} dl_run_status;

const char *dl_run_status_name(dl_run_status s); /* "running", "finished", ... */
/* Parses a status name; DL_EINVAL (naming the word and the choices) if unknown. */
dl_status dl_run_status_parse(const char *word, dl_run_status *out, dl_err *err);

/* ---- opening ---------------------------------------------------------------------------- */

enum {
    DL_STORE_READONLY = 1, /* never writes: no creation, no migration, no crash marking */
};

/* The store folder to use: cli_dir if non-NULL, else $DLLAB_RUNS if set and non-empty, else
 * "dllab-runs" (relative to the working directory). Returns a pointer to one of those strings. */
const char *dl_store_dir_default(const char *cli_dir);

/* Opens DIR/runs.db, creating DIR and the database unless DL_STORE_READONLY, migrating an older
 * schema forward, and marking runs of dead local processes as crashed. */
dl_status dl_store_open(const char *dir, int flags, dl_store **out, dl_err *err);
/* Flushes buffered rows (best effort) and closes. NULL is fine. */
void dl_store_close(dl_store *st);
const char *dl_store_path(const dl_store *st); /* ".../runs.db" */
const char *dl_store_dir(const dl_store *st);
/* Schema version found in the file when it was opened (before migration). */
int dl_store_schema_found(const dl_store *st);
/* Number of runs this open marked as crashed. */
int dl_store_crashed_on_open(const dl_store *st);

/* ---- writing a run (training thread) ---------------------------------------------------- */

typedef struct dl_run_spec {
    const char *name_prefix;  /* "fmnist-resnet-xs": the run is named prefix-N, N = next free */
    const char *dataset;      /* description, e.g. "fashion-mnist (idx)" */
    const char *arch;         /* "resnet-xs" */
    int64_t n_train, n_valid; /* item counts */
    const char *vocab_json;   /* JSON array of class names, or NULL */
    const char *config_json;  /* the full configuration as a JSON object, or NULL */
    const char *version;      /* dllab version; NULL = PACKAGE_VERSION */
    const char *blas_kernel;  /* OpenBLAS core name, or NULL */
    const char *host;         /* NULL = gethostname() */
    int64_t pid;              /* 0 = getpid() (its start time is recorded for crash detection) */
} dl_run_spec;

/* Creates a run with status running. name (cap >= DL_STORE_NAME_MAX) receives its unique name. */
dl_status dl_store_run_create(dl_store *st, const dl_run_spec *spec, int64_t *run_id, char *name,
                              size_t name_cap, dl_err *err);

typedef struct dl_batch_row {
    int64_t step; /* global batch index from 0 */
    int epoch;
    int n_lr;                       /* 1..DL_STORE_MAX_GROUPS */
    double lr[DL_STORE_MAX_GROUPS]; /* lr of every parameter group, body first */
    double mom;
    double loss;        /* raw train loss of the batch */
    double smooth_loss; /* fastai's debiased EMA */
    double t;           /* wall time, seconds since the Unix epoch */
} dl_batch_row;

/* Buffers one batch row; commits the buffer if the last commit is >= 1 s old. */
dl_status dl_store_log_batch(dl_store *st, int64_t run_id, const dl_batch_row *row, dl_err *err);

typedef struct dl_metric {
    char name[DL_STORE_NAME_MAX];
    double value;
} dl_metric;

typedef struct dl_epoch_row {
    int epoch;
    double train_loss, valid_loss; /* NaN when absent (e.g. no validation set) */
    double duration;               /* seconds */
    double t;                      /* wall time at the end of the epoch */
    int n_metrics;
    dl_metric metrics[DL_STORE_MAX_METRICS];
} dl_epoch_row;

/* Writes the epoch row and every buffered batch row in one transaction. */
dl_status dl_store_log_epoch(dl_store *st, int64_t run_id, const dl_epoch_row *row, dl_err *err);

/* Event kinds used by dllab (free text is allowed; these are the ones the UI knows). */
#define DL_EV_FREEZE "freeze"
#define DL_EV_UNFREEZE "unfreeze"
#define DL_EV_LR_CHANGE "lr-change"
#define DL_EV_PAUSE "pause"
#define DL_EV_RESUME "resume"
#define DL_EV_STOP "stop"
#define DL_EV_CHECKPOINT "checkpoint"
#define DL_EV_CHECKPOINT_FAILED "checkpoint-failed"
#define DL_EV_LRFIND_START "lr-find-start"
#define DL_EV_LRFIND_END "lr-find-end"
#define DL_EV_WARNING "warning"
#define DL_EV_KEY "key"
#define DL_EV_RANKS_AGREE                                                                          \
    "ranks-agree" /* an mpirun job ended with the same weights on every rank */

/* Records an event (buffered batches first, then the event, one commit). payload_json: a JSON
 * value or NULL. t <= 0 means now. */
dl_status dl_store_log_event(dl_store *st, int64_t run_id, const char *kind, int64_t step, double t,
                             const char *payload_json, dl_err *err);

typedef struct dl_lr_suggestion {
    char method[32]; /* "valley", "minimum", "steep", "slide" */
    double lr;
    double loss;
} dl_lr_suggestion;

/* Records one LR-finder sweep: n points (lr[i], loss[i]) and its suggestions. */
dl_status dl_store_lrfind_save(dl_store *st, int64_t run_id, int64_t step, const double *lr,
                               const double *loss, size_t n, const dl_lr_suggestion *sug,
                               size_t n_sug, int64_t *lrfind_id, dl_err *err);

/* Interpretation results as JSON blobs, by kind: "confusion", "per-class", "top-losses", ...
 * A later save of the same kind and epoch replaces the earlier one. */
dl_status dl_store_interp_save(dl_store *st, int64_t run_id, int epoch, const char *kind,
                               const char *json, dl_err *err);

/* An input file the data loader skipped, and why. */
dl_status dl_store_skipped_add(dl_store *st, int64_t run_id, const char *path, const char *reason,
                               dl_err *err);

/* Records a checkpoint file written by someone else (path relative to the store folder or
 * absolute). best=true clears the flag on the run's other checkpoints. Re-recording a path updates
 * its row. */
dl_status dl_store_checkpoint_record(dl_store *st, int64_t run_id, const char *path, int epoch,
                                     int64_t step, double monitor, bool best, dl_err *err);

/* Writes m atomically to DIR/<run-name>/<file>.safetensors (temp name, fsync, rename, folder
 * fsync, through dl_safetensors_write) and records it. On failure (ENOSPC, EIO, ...) the previous
 * file of that name is left intact, a "checkpoint-failed" event with the error is recorded, and
 * the error is returned: training may continue. On success a "checkpoint" event is recorded too.
 * path_out (may be NULL) receives the file's path. */
dl_status dl_store_checkpoint_save(dl_store *st, int64_t run_id, const char *file,
                                   const dl_tensor_map *m, int epoch, int64_t step, double monitor,
                                   bool best, char *path_out, size_t path_cap, dl_err *err);

/* Tests replace the file writer to simulate a failing disk; NULL restores dl_safetensors_write. */
typedef dl_status (*dl_store_writer_fn)(const char *path, const dl_tensor_map *m, dl_err *err);
void dl_store_set_checkpoint_writer(dl_store *st, dl_store_writer_fn fn);

/* Commits buffered rows now (call on pause, before long pauses in logging). */
dl_status dl_store_flush(dl_store *st, dl_err *err);
/* Flushes and sets the final status (finished/stopped/diverged/crashed) and finish time. */
dl_status dl_store_run_finish(dl_store *st, int64_t run_id, dl_run_status status, dl_err *err);

/* ---- managing runs ------------------------------------------------------------------------ */

/* Finds a run by exact name, then numeric id, then unique name prefix. No match: DL_ENOTFOUND;
 * an ambiguous prefix: DL_EINVAL with a message listing the candidates. */
dl_status dl_store_run_find(dl_store *st, const char *query, int64_t *run_id, dl_err *err);
dl_status dl_store_tag_add(dl_store *st, int64_t run_id, const char *tag, dl_err *err);
dl_status dl_store_tag_remove(dl_store *st, int64_t run_id, const char *tag, dl_err *err);
dl_status dl_store_note_set(dl_store *st, int64_t run_id, const char *note, dl_err *err);
/* Makes run_id the store's baseline (clearing it on every other run); on=false clears it. */
dl_status dl_store_baseline_set(dl_store *st, int64_t run_id, bool on, dl_err *err);
/* Deletes the run, all its rows, its checkpoint files and its folder. Refused (DL_EINVAL, naming
 * the pid) while another live process of this host trains it (see dl_store_run_owner). */
dl_status dl_store_run_remove(dl_store *st, int64_t run_id, dl_err *err);
/* The pid of the live process of this host that trains run_id (status running, pid and start
 * time recorded with the run), other than the caller; 0 if none. */
dl_status dl_store_run_owner(dl_store *st, int64_t run_id, int64_t *pid, dl_err *err);
/* Takes over run_id for this process (a resume): status running, this host, pid and start time,
 * in one transaction. Refused (DL_EINVAL, *owner = its pid) while another live process owns it. */
dl_status dl_store_run_claim(dl_store *st, int64_t run_id, int64_t *owner, dl_err *err);

/* ---- steering: the command channel (any process writes, the run's trainer applies) -------- */
/* A steering command travels as a word and an argument ("lr" "1e-5..1e-3", "unfreeze" "") with
 * its origin ("cli", "attach pid 123"). Its state goes pending -> taken (the trainer's process read
 * it) -> applied or refused (with the reason and the step). Rows are never deleted before their
 * run; a trainer that dies leaves its pending and taken rows, which a --resume picks up, while
 * applied and refused ones are never applied again. */
typedef enum dl_steer_state {
    DL_STEER_PENDING = 0,
    DL_STEER_TAKEN,
    DL_STEER_APPLIED,
    DL_STEER_REFUSED
} dl_steer_state;

const char *dl_steer_state_name(dl_steer_state s); /* "pending", "taken", ... */

typedef struct dl_steer_row {
    int64_t id, run_id;
    char cmd[32], arg[64], origin[48];
    dl_steer_state state;
    char reason[160];
    int64_t step; /* where it was applied or refused; -1 before */
    double created, done;
} dl_steer_row;

/* Queues a command for run_id (state pending); *id (may be NULL) receives its id. */
dl_status dl_store_steer_post(dl_store *st, int64_t run_id, const char *cmd, const char *arg,
                              const char *origin, int64_t *id, dl_err *err);
/* The trainer's side: in one write transaction, every command of run_id that is pending or taken
 * with id > after_id is marked taken and returned in id order (taken ones again: their previous
 * taker died). Free with free(). */
dl_status dl_store_steer_take(dl_store *st, int64_t run_id, int64_t after_id, dl_steer_row **rows,
                              size_t *n, dl_err *err);
/* Marks command id applied or refused (with reason, may be NULL) at step; only while it is still
 * pending or taken (so an acknowledgement is written once). *changed (may be NULL) tells. */
dl_status dl_store_steer_finish(dl_store *st, int64_t id, dl_steer_state state, const char *reason,
                                int64_t step, bool *changed, dl_err *err);
/* dl_store_log_event and dl_store_steer_finish in one transaction: the event that records a
 * command and its acknowledgement are written together or not at all. */
dl_status dl_store_log_event_steer(dl_store *st, int64_t run_id, const char *kind, int64_t step,
                                   const char *payload_json, int64_t cmd_id, dl_steer_state state,
                                   const char *reason, dl_err *err);
dl_status dl_store_steer_get(dl_store *st, int64_t id, dl_steer_row *out, dl_err *err);
/* Refuses every pending or taken command of run_id with reason (the training ended); returns how
 * many in *n (may be NULL). */
dl_status dl_store_steer_close(dl_store *st, int64_t run_id, const char *reason, int64_t step,
                               int *n, dl_err *err);
/* Every command of the run in id order (for show, tests). Free with free(). */
dl_status dl_store_steer_list(dl_store *st, int64_t run_id, dl_steer_row **rows, size_t *n,
                              dl_err *err);

/* The live run's latest progress snapshot as JSON, written by its training process (replaced each
 * time) and read by attached screens. */
dl_status dl_store_live_put(dl_store *st, int64_t run_id, const char *json, dl_err *err);
/* *json malloc'd; DL_ENOTFOUND when the run never published one. t: when it was written. */
dl_status dl_store_live_get(dl_store *st, int64_t run_id, char **json, double *t, int64_t *pid,
                            dl_err *err);
/* SQLite's PRAGMA data_version: changes when another connection commits. A cheap "anything
 * new?" check before a query. -1 on error. */
int64_t dl_store_data_version(dl_store *st);

/* ---- reading (any connection) ------------------------------------------------------------- */

typedef struct dl_run {
    int64_t id;
    char *name;
    double created, finished; /* Unix seconds; finished = 0 while running */
    dl_run_status status;
    char *dataset, *arch;
    int64_t n_train, n_valid;
    char *vocab_json, *config_json;
    char *version, *blas_kernel, *host;
    int64_t pid;
    char *tags; /* comma-separated, sorted; "" if none */
    char *note; /* "" if none */
    bool baseline;
    /* summary */
    int n_epochs;           /* epoch rows */
    int64_t n_batches;      /* batch rows */
    int best_epoch;         /* epoch of the lowest valid loss, -1 if none */
    double best_valid_loss; /* NaN if none */
    char *metric_name;      /* first metric of the best epoch, "" if none */
    double metric_value;    /* its value, NaN if none */
    double last_t;          /* wall time of the last batch/epoch/event row, or created */
    int n_lrfinds;          /* LR-finder sweeps recorded (curves, or started) */
} dl_run;

/* What made the run: "lrfind" (`dllab lrfind`: sweeps and not one trained batch) or "train". */
const char *dl_run_kind(const dl_run *r);

typedef struct dl_run_filter {
    const char *tag;       /* only runs with this tag, or NULL */
    int status;            /* a dl_run_status, or -1 for any */
    const char *name_like; /* name prefix, or NULL */
    const char *kind;      /* only runs of this dl_run_kind ("train", "lrfind"), or NULL */
} dl_run_filter;

/* Runs matching filter (NULL = all), oldest first. Free with dl_runs_free. */
dl_status dl_store_runs_list(dl_store *st, const dl_run_filter *filter, dl_run **runs, size_t *n,
                             dl_err *err);
dl_status dl_store_run_get(dl_store *st, int64_t run_id, dl_run *out, dl_err *err);
void dl_run_clear(dl_run *r);
void dl_runs_free(dl_run *runs, size_t n);

/* Batch rows with step > after_step (pass -1 for all), in step order; the UI polls with the last
 * step it has. Free with free(). */
dl_status dl_store_batches(dl_store *st, int64_t run_id, int64_t after_step, dl_batch_row **rows,
                           size_t *n, dl_err *err);
/* Epoch rows in epoch order. Free with free(). */
dl_status dl_store_epochs(dl_store *st, int64_t run_id, dl_epoch_row **rows, size_t *n,
                          dl_err *err);

typedef struct dl_event_row {
    int64_t id;
    char kind[DL_STORE_NAME_MAX];
    int64_t step;
    double t;
    char *payload; /* JSON text, "" if none */
} dl_event_row;
/* Events with id > after_id (-1 for all), in order. Free with dl_events_free. */
dl_status dl_store_events(dl_store *st, int64_t run_id, int64_t after_id, dl_event_row **rows,
                          size_t *n, dl_err *err);
void dl_events_free(dl_event_row *rows, size_t n);

typedef struct dl_lrfind {
    int64_t id;
    int64_t step;
    double t;
    size_t n;
    double *lr, *loss;
    size_t n_sug;
    dl_lr_suggestion sug[8];
} dl_lrfind;
/* Every LR-finder sweep of the run, oldest first. Free with dl_lrfinds_free. */
dl_status dl_store_lrfinds(dl_store *st, int64_t run_id, dl_lrfind **out, size_t *n, dl_err *err);
void dl_lrfinds_free(dl_lrfind *l, size_t n);

/* The latest interpretation result of a kind (largest epoch, then latest); DL_ENOTFOUND if none.
 * *json is malloc'd. epoch may be NULL. */
dl_status dl_store_interp_get(dl_store *st, int64_t run_id, const char *kind, char **json,
                              int *epoch, dl_err *err);

typedef struct dl_interp_row {
    int epoch;
    char kind[DL_STORE_NAME_MAX];
    double t;
    char *json;
} dl_interp_row;
/* Every interpretation result of the run, by epoch then time (later rows supersede earlier ones
 * of the same kind). Free with dl_interp_free. */
dl_status dl_store_interp_list(dl_store *st, int64_t run_id, dl_interp_row **rows, size_t *n,
                               dl_err *err);
void dl_interp_free(dl_interp_row *rows, size_t n);

typedef struct dl_skipped_row {
    char *path, *reason;
} dl_skipped_row;
dl_status dl_store_skipped(dl_store *st, int64_t run_id, dl_skipped_row **rows, size_t *n,
                           dl_err *err);
void dl_skipped_free(dl_skipped_row *rows, size_t n);

typedef struct dl_checkpoint_row {
    int64_t id;
    char *path; /* as recorded; dl_store_checkpoint_abspath resolves it */
    int epoch;
    int64_t step;
    double monitor;
    bool best;
    double t;
} dl_checkpoint_row;
dl_status dl_store_checkpoints(dl_store *st, int64_t run_id, dl_checkpoint_row **rows, size_t *n,
                               dl_err *err);
/* The most recent checkpoint / the one flagged best; DL_ENOTFOUND if none. Clear with
 * dl_checkpoint_row_clear. */
dl_status dl_store_checkpoint_latest(dl_store *st, int64_t run_id, dl_checkpoint_row *out,
                                     dl_err *err);
dl_status dl_store_checkpoint_best(dl_store *st, int64_t run_id, dl_checkpoint_row *out,
                                   dl_err *err);
void dl_checkpoint_row_clear(dl_checkpoint_row *r);
void dl_checkpoints_free(dl_checkpoint_row *rows, size_t n);
/* Absolute-or-store-relative path of a recorded checkpoint, resolved against the store folder. */
void dl_store_checkpoint_abspath(const dl_store *st, const char *recorded, char *out, size_t cap);

#endif
