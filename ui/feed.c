/* feed: the UI-side copy of a training's progress (see feed.h). */
#include "ui/feed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void dl_feed_init(dl_feed *f, dl_control *ctl)
{
    memset(f, 0, sizeof *f);
    f->ctl = ctl;
    f->snap.valid_loss = NAN;
}

static void series_free(dl_feed_series *s)
{
    free(s->x);
    free(s->y);
    free(s->z);
    dl_summary_free(&s->sum);
    memset(s, 0, sizeof *s);
}

void dl_feed_free(dl_feed *f)
{
    series_free(&f->train);
    series_free(&f->mom);
    series_free(&f->valid);
    series_free(&f->lrfind);
    free(f->epochs);
    f->epochs = NULL;
}

int dl_feed_series_push(dl_feed_series *s, double x, double y, double z)
{
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 1024;
        float *nx = realloc(s->x, sizeof(float) * cap);
        if (nx)
            s->x = nx;
        float *ny = realloc(s->y, sizeof(float) * cap);
        if (ny)
            s->y = ny;
        float *nz = realloc(s->z, sizeof(float) * cap);
        if (nz)
            s->z = nz;
        if (!nx || !ny || !nz)
            return -1;
        s->cap = cap;
    }
    if (dl_summary_push(&s->sum, (float)x, (float)y, (float)z) != 0)
        return -1;
    s->x[s->n] = (float)x;
    s->y[s->n] = (float)y;
    s->z[s->n] = (float)z;
    s->n++;
    return 0;
}

void dl_feed_add_point(dl_feed *f, const dl_curve_point *p)
{
    int r = 0;
    switch (p->kind) {
    case DL_POINT_TRAIN:
        r = dl_feed_series_push(&f->train, (double)p->step, p->raw, p->lr);
        if (r == 0)
            r = dl_feed_series_push(&f->mom, (double)p->step, p->mom, 0);
        f->last_smooth = p->loss;
        break;
    case DL_POINT_VALID: {
        r = dl_feed_series_push(&f->valid, (double)p->step, p->loss, p->lr);
        if (f->n_epochs == f->cap_epochs) {
            int cap = f->cap_epochs ? f->cap_epochs * 2 : 16;
            dl_feed_epoch *e = realloc(f->epochs, sizeof *e * cap);
            if (!e) {
                f->oom = 1;
                return;
            }
            f->epochs = e;
            f->cap_epochs = cap;
        }
        dl_feed_epoch *e = &f->epochs[f->n_epochs++];
        memset(e, 0, sizeof *e);
        e->epoch = p->epoch;
        e->frozen_fit = p->frozen_fit;
        e->valid_loss = p->loss;
        /* The smoothed train loss at the end of the epoch is what fastai's table shows. */
        e->train_loss = f->train.n ? f->last_smooth : NAN;
        e->t = f->t_offset + (f->ctl ? dl_control_elapsed(f->ctl) : 0);
        break;
    }
    case DL_POINT_LRFIND:
        if (p->step == 0) {
            f->lrfind.n = 0;
            dl_summary_free(&f->lrfind.sum);
            f->lrfind_done = 0;
        }
        r = dl_feed_series_push(&f->lrfind, p->lr, p->loss, p->raw);
        break;
    }
    if (r != 0)
        f->oom = 1;
}

void dl_feed_add_event(dl_feed *f, const dl_event *e)
{
    f->events[f->n_events % DL_FEED_EVENTS] = *e;
    f->n_events++;
}

int dl_feed_events_kept(const dl_feed *f)
{
    return f->n_events < DL_FEED_EVENTS ? f->n_events : DL_FEED_EVENTS;
}

const dl_event *dl_feed_event(const dl_feed *f, int i)
{
    int kept = dl_feed_events_kept(f);
    if (i < 0 || i >= kept)
        return NULL;
    int first = f->n_events - kept;
    return &f->events[(first + i) % DL_FEED_EVENTS];
}

int dl_feed_pull(dl_feed *f)
{
    if (f->source)
        return f->source(f, f->source_user);
    if (!f->ctl)
        return 0;
    int changed = 0;
    /* The wake fd stays readable until drained: drain first, so a publish that lands while we
     * read is not lost (it makes the fd readable again). */
    dl_control_drain_wake(f->ctl);
    dl_snapshot s;
    dl_control_read(f->ctl, &s);
    if (s.gen != f->snap.gen) {
        if (f->snap.phase == DL_PHASE_LRFIND && s.phase != DL_PHASE_LRFIND)
            f->lrfind_done = 1;
        f->snap = s;
        changed = 1;
    }
    dl_curve_point pts[256];
    size_t n;
    uint64_t dropped = 0;
    while ((n = dl_control_read_points(f->ctl, &f->point_seq, pts, 256, &dropped)) > 0) {
        f->dropped += dropped;
        for (size_t i = 0; i < n; i++)
            dl_feed_add_point(f, &pts[i]);
        changed = 1;
    }
    /* The latest epoch row takes the metrics of the latest validation (published with or just
     * after its valid point). */
    if (changed && f->n_epochs > 0 && f->snap.n_metrics > 0) {
        dl_feed_epoch *e = &f->epochs[f->n_epochs - 1];
        e->n_metrics = f->snap.n_metrics;
        memcpy(e->metric, f->snap.metric, sizeof e->metric);
    }
    dl_event ev[32];
    while ((n = dl_control_read_events(f->ctl, &f->event_seq, ev, 32, &dropped)) > 0) {
        for (size_t i = 0; i < n; i++)
            dl_feed_add_event(f, &ev[i]);
        changed = 1;
    }
    return changed;
}
