/* feed: the UI's own model of a training, filled from the learner's dl_control. Each
 * dl_feed_pull copies the latest snapshot and only the new curve points and events (by sequence
 * number) into growing arrays the UI owns, so drawing never holds the control's mutex. Points
 * that fell off the control's ring before the UI read them are counted in `dropped`.
 * Train points -> (step, raw loss, lr) and (step, momentum); valid points -> (step, loss) plus an
 * epoch-table row; LR-finder points -> (lr, smoothed loss), reset when a new sweep starts (its step
 * goes back to 0). Events keep the last DL_FEED_EVENTS lines. Refuses nothing; out of memory stops
 * growing the series (the flag oom is set) rather than failing the UI. */
#ifndef DL_UI_FEED_H
#define DL_UI_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "core/learn/control.h"
#include "ui/series.h"

#define DL_FEED_EVENTS 128

typedef struct dl_feed_series {
    float *x, *y, *z; /* z: a third value per point (lr for train points) */
    int n, cap;
    dl_series_summary sum; /* the same points downsampled, for drawing long histories */
} dl_feed_series;

typedef struct dl_feed_epoch {
    int epoch;       /* within its fit, as fastai's tables number it */
    bool frozen_fit; /* fine_tune's frozen phase: shown as "frozen N" */
    double train_loss, valid_loss;
    int n_metrics;
    double metric[DL_SNAP_METRICS];
    double t; /* seconds since the control started, when the row was made */
} dl_feed_epoch;

typedef struct dl_feed dl_feed;
struct dl_feed {
    dl_control *ctl; /* not owned; NULL for a feed filled by hand (tests, saved runs) */
    dl_snapshot snap;
    uint64_t point_seq, event_seq, dropped;
    dl_feed_series train; /* x step, y raw loss, z lr */
    dl_feed_series mom;   /* x step, y momentum of the train points (0 where the source had none) */
    dl_feed_series valid; /* x step, y valid loss */
    dl_feed_series lrfind; /* x lr, y smoothed loss, z raw loss */
    dl_feed_epoch *epochs;
    int n_epochs, cap_epochs;
    dl_event events[DL_FEED_EVENTS];
    int n_events;       /* total seen; the last min(n, DL_FEED_EVENTS) are kept */
    int lrfind_done;    /* the sweep's points stopped (phase left LRFIND) */
    double last_smooth; /* smoothed train loss of the latest train point */
    int oom;
    char status[16]; /* a saved run's stored status ("crashed"), shown instead of the phase */
    /* Seconds added to the epoch rows' times: a resumed run's history came first. */
    double t_offset;
    /* Another source than ctl (ui/feed-store.h: the run store of a training elsewhere): when set,
     * dl_feed_pull calls it instead of reading ctl; it returns 1 when anything changed. */
    int (*source)(dl_feed *f, void *user);
    void *source_user;
};

void dl_feed_init(dl_feed *f, dl_control *ctl);
void dl_feed_free(dl_feed *f);
/* Pulls from the control; returns 1 when anything changed. */
int dl_feed_pull(dl_feed *f);
/* Feeds one point / event as if it came from the control (used by pull, tests and saved runs). */
void dl_feed_add_point(dl_feed *f, const dl_curve_point *p);
void dl_feed_add_event(dl_feed *f, const dl_event *e);
/* The i-th kept event, 0 = oldest kept; NULL outside. */
const dl_event *dl_feed_event(const dl_feed *f, int i);
int dl_feed_events_kept(const dl_feed *f);
int dl_feed_series_push(dl_feed_series *s, double x, double y, double z);

#endif
