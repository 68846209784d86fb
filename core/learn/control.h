/* control: the channel between the training thread and whoever watches it (the UI, the headless
 * printer, a test). Two directions:
 *   - commands (set/scale lr, freeze, unfreeze, pause, resume, stop, save, LR finder) go into a
 *     bounded queue; the trainer drains it only at batch boundaries and logs each applied command
 *     as an event;
 *   - progress goes out as a snapshot copied under a short mutex, plus two bounded rings (curve
 *     points and events) read by sequence number, and one byte on a wake-up fd that readers poll().
 * It refuses: an overfull queue (DL_ENOSPC, the command is dropped and the caller told), and it
 * never blocks a reader on the trainer (every critical section is a memcpy).
 * SIGINT/SIGTERM: dl_control_install_signals() makes both set a flag (and poke the wake fd of the
 * control last registered); the trainer checks dl_control_signal_pending() at each boundary. */
#ifndef DL_CONTROL_H
#define DL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/params.h"
#include "core/train/sched.h" /* dl_lr_spec */

typedef enum dl_cmd_kind {
    DL_CMD_SET_LR = 0, /* lr spread over groups (every group, slice(hi) or slice(lo, hi)) */
    DL_CMD_SCALE_LR,   /* multiply every group's lr by factor */
    DL_CMD_FREEZE,     /* freeze_to(arg) */
    DL_CMD_UNFREEZE,
    DL_CMD_PAUSE,
    DL_CMD_RESUME,
    DL_CMD_STOP_NOW, /* stop after the current batch */
    DL_CMD_STOP_AFTER_EPOCH,
    DL_CMD_SAVE,   /* write a checkpoint now */
    DL_CMD_LRFIND, /* run the LR finder from the current weights, then restore them */
    DL_CMD_COUNT
} dl_cmd_kind;

typedef struct dl_cmd {
    dl_cmd_kind kind;
    dl_lr_spec lr; /* SET_LR, in the --lr grammar (dl_lr_parse) */
    double factor; /* SCALE_LR */
    int arg; /* FREEZE: freeze_to(arg); 0 or -1 = fastai's freeze() (all groups but the head) */
    /* Where it came from: 0 and "" for a key of this process's dashboard; a command read from the
     * run store's steering channel (core/learn/remote.h) carries its row id and origin ("cli",
     * "attach pid 123"), and the trainer acknowledges that row when it applies or refuses it. */
    int64_t remote_id;
    char origin[48];
} dl_cmd;

const char *dl_cmd_name(dl_cmd_kind k); /* "set_lr", "scale_lr", ... */

typedef enum dl_phase {
    DL_PHASE_IDLE = 0,
    DL_PHASE_TRAIN,
    DL_PHASE_VALID,
    DL_PHASE_LRFIND,
    DL_PHASE_PAUSED,
    DL_PHASE_DONE,
    DL_PHASE_STOPPED,
    DL_PHASE_DIVERGED,
    DL_PHASE_FAILED,
    DL_PHASE_NEXT_FIT /* a fit ended and another follows (fine_tune's unfrozen phase): not done */
} dl_phase;

const char *dl_phase_name(dl_phase p);

#define DL_SNAP_METRICS 4
#define DL_SNAP_NAME 24

/* The published state. All fields are copies: a reader owns what it read. */
typedef struct dl_snapshot {
    uint64_t gen; /* bumped by every publish; readers skip work when unchanged */
    dl_phase phase;
    int epoch, n_epochs;  /* 0-based epoch of the current fit */
    int batch, n_batches; /* 0-based batch within the epoch; batches per epoch */
    uint64_t step;        /* training batches since the learner was created */
    int n_groups;
    double lr[DL_MAX_GROUPS];
    double mom;
    int frozen_to;   /* groups [0, frozen_to) frozen */
    bool frozen_fit; /* the fit is fine_tune's frozen phase: its epochs are "frozen N" */
    double last_loss, smooth_loss;
    double valid_loss; /* NAN until the first validation */
    int n_metrics;
    char metric_name[DL_SNAP_METRICS][DL_SNAP_NAME];
    double metric[DL_SNAP_METRICS];
    double images_per_s, eta_s;     /* training throughput and time left, pauses excluded */
    int valid_batch, valid_batches; /* phase VALID: batches of the validation pass done / in all */
    char message[160];              /* last notable thing (diverged at lr ..., early stop, ...) */
} dl_snapshot;

typedef enum dl_point_kind {
    DL_POINT_TRAIN = 0,
    DL_POINT_VALID = 1,
    DL_POINT_LRFIND = 2
} dl_point_kind;

typedef struct dl_curve_point {
    uint64_t seq; /* assigned by the control, from 0 */
    dl_point_kind kind;
    uint64_t step;
    int epoch;
    double lr;   /* last group's */
    double loss; /* smoothed train loss, valid loss, or LR-finder smoothed loss */
    double raw;  /* unsmoothed batch loss (train) */
    double mom;  /* last group's momentum (Adam's beta1, SGD's momentum) when the point was made */
    bool frozen_fit; /* made in fine_tune's frozen phase (dl_snapshot.frozen_fit) */
} dl_curve_point;

typedef struct dl_event {
    uint64_t seq; /* assigned by the control, from 0 */
    uint64_t step;
    double t; /* seconds since the control was created */
    int n_groups;
    double lr[DL_MAX_GROUPS];
    int frozen_to;
    char text[128]; /* "lr-change set 1e-05..0.001", "diverged at lr 3.2", ... */
} dl_event;

typedef struct dl_control dl_control;

#define DL_CONTROL_QUEUE 64
#define DL_CONTROL_POINTS 4096
#define DL_CONTROL_EVENTS 256

dl_status dl_control_create(dl_control **out, dl_err *err);
void dl_control_free(dl_control *c);

/* ---- commands (any thread posts, the trainer takes) ---- */
/* Queues cmd; DL_ENOSPC when DL_CONTROL_QUEUE commands are already waiting. */
dl_status dl_control_post(dl_control *c, const dl_cmd *cmd, dl_err *err);
/* Moves up to cap queued commands (oldest first) into out; returns how many. */
size_t dl_control_take(dl_control *c, dl_cmd *out, size_t cap);
/* Blocks until a command is queued, a signal is pending, or timeout_ms passes (trainer, paused).
 * Returns true when a command is waiting. */
bool dl_control_wait(dl_control *c, int timeout_ms);

/* ---- progress (the trainer publishes, anyone reads) ---- */
/* Copies s in (gen is set by the control) and wakes readers. */
void dl_control_publish(dl_control *c, const dl_snapshot *s);
void dl_control_read(dl_control *c, dl_snapshot *out);
/* Appends a curve point (seq assigned); the oldest fall off after DL_CONTROL_POINTS. */
void dl_control_push_point(dl_control *c, const dl_curve_point *p);
/* Appends an event (seq and t assigned) and wakes readers. */
void dl_control_push_event(dl_control *c, const dl_event *e);
/* Copies points with seq >= *since (at most cap, oldest first) and sets *since past the last one
 * copied. *dropped (may be NULL) receives how many wanted points had already fallen off. */
size_t dl_control_read_points(dl_control *c, uint64_t *since, dl_curve_point *out, size_t cap,
                              uint64_t *dropped);
size_t dl_control_read_events(dl_control *c, uint64_t *since, dl_event *out, size_t cap,
                              uint64_t *dropped);
/* Seconds since creation (monotonic clock). */
double dl_control_elapsed(const dl_control *c);

/* ---- wake-up ---- */
/* A non-blocking fd readable when something was published; readers poll() it, then drain it. */
int dl_control_wake_fd(const dl_control *c);
void dl_control_drain_wake(dl_control *c);

/* ---- signals ---- */
/* SIGINT and SIGTERM set a process-wide flag (and write to c's wake fd, if c is non-NULL). */
dl_status dl_control_install_signals(dl_control *c, dl_err *err);
bool dl_control_signal_pending(void);
void dl_control_signal_clear(void);
/* Raises the flag as a signal would (for tests and the UI's quit key). */
void dl_control_signal_raise(void);

#endif
