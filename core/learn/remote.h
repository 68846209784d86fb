/* remote: steering a training from other processes through the run store (docs/architecture.md
 * §4.2). Any process writes a command row (dl_store_steer_post); in the training process a small
 * poller thread with its own store connection notices it (PRAGMA data_version, at most every
 * DL_REMOTE_POLL_MS), marks it taken and posts it to the learner's dl_control queue, exactly where
 * the dashboard's keys go, so the trainer applies it at its next batch boundary like a key and
 * acknowledges the row (applied or refused with the reason) in the transaction that records its
 * event. The same thread writes the control's snapshot to the store's live table about twice a
 * second, which is what attached screens show. The trainer thread itself does no extra work per
 * batch. Whatever drains the dl_control queue (one trainer, or rank 0 of a data-parallel run)
 * therefore gets the store's commands too.
 *
 * Also here: the steering words shared by `dllab steer`, `dllab attach` and the poller ("lr
 * SPEC", "unfreeze", ...), one table row per word. */
#ifndef DL_REMOTE_H
#define DL_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/learn/control.h"

#define DL_REMOTE_POLL_MS 50  /* how often the poller looks for new commands */
#define DL_REMOTE_LIVE_MS 500 /* how often it writes the live snapshot (when it changed) */

typedef struct dl_steer_word {
    const char *word;
    dl_cmd_kind kind;
    int takes_arg; /* 1: needs one argument */
    const char *help;
} dl_steer_word;

size_t dl_steer_word_count(void);
const dl_steer_word *dl_steer_word_at(size_t i);
/* Reads a steering word and its argument ("lr" "1e-5..1e-3", "lr-scale" "0.5", "freeze" "" or
 * "-1") into a command; DL_EINVAL naming the word or the argument and the choices. */
dl_status dl_steer_parse(const char *word, const char *arg, dl_cmd *out, dl_err *err);
/* The word and argument that dl_steer_parse reads back into c. */
void dl_steer_format(const dl_cmd *c, char *word, size_t wcap, char *arg, size_t acap);

/* The snapshot as JSON and back (the live table's format). */
int dl_snapshot_to_json(const dl_snapshot *s, char *buf, size_t cap);
/* Returns 0, or -1 when json is not a snapshot (s untouched). */
int dl_snapshot_from_json(const char *json, dl_snapshot *s);

typedef struct dl_remote dl_remote;

/* Starts the poller for run_id of the store in store_dir, posting into ctl (not owned; must
 * outlive the poller). Commands left pending or taken by a previous process of the run (a crash
 * before --resume) are taken too. */
dl_status dl_remote_start(const char *store_dir, int64_t run_id, dl_control *ctl, dl_remote **out,
                          dl_err *err);
/* Stops and joins the poller, writes the last snapshot. NULL is fine. */
void dl_remote_stop(dl_remote *r);
/* Seconds of CPU the poller thread used so far (for the benchmark). */
double dl_remote_cpu_seconds(const dl_remote *r);

#endif
