/* check_learn: the learner on a tiny ResNet and a synthetic in-memory dataset (8x8 grey images
 * whose class is the bright quadrant), so every test runs in a second or two:
 *   - control commands are applied at the next batch boundary, in order, and logged as events;
 *   - pause blocks the trainer until resume; stop-after-epoch and stop-now end the fit;
 *   - freeze keeps frozen conv weights bit-identical while BN and head parameters move;
 *   - the LR finder restores weights, BN buffers and optimiser state bit-exactly;
 *   - a run stopped mid-epoch and resumed from its checkpoint reproduces the uninterrupted losses,
 *     also fine_tune stopped in its frozen or its unfrozen phase;
 *   - a NaN loss skips the step, restores the last good weights and marks the run diverged;
 *   - checkpoints land in the run store each epoch, the best one flagged;
 *   - every dashboard key (f u + - = p s l e) is applied at a batch boundary, shows in the event
 *     log (the control's events, which the dashboard's feed copies) with checkpoints written or
 *     failed (full disk), and is recorded in the store with step, time, lrs and frozen state;
 *   - skipped input files reach the event log (count and first names);
 *   - the model learns the synthetic task, and a multi-label variant beats the all-negative
 *     accuracy_multi baseline. */
#include <math.h>
#include <png.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/io/safetensors.h"
#include "core/learn/learner.h"
#include "core/rng.h"
#include "tests/testutil.h"

#define SZ 8
#define ARCH "resnet-custom:basic:1,1,1:4,8,8:small"

/* ---- synthetic data ---- */
typedef struct synth {
    int n, bs, k;
    bool multi, shuffle;
    uint64_t seed;
    float *x;   /* n x 1 x 8 x 8 */
    int32_t *y; /* n */
    float *oh;  /* n x k */
    uint32_t *order;
    int pos;
    int passes; /* start_epoch calls: how many passes were begun over this source */
    float *bx, *boh;
    int32_t *by;
} synth;

static void synth_init(synth *s, int n, int bs, bool multi, bool shuffle, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->n = n, s->bs = bs, s->k = multi ? 3 : 4, s->multi = multi, s->shuffle = shuffle,
    s->seed = seed;
    s->x = calloc((size_t)n * SZ * SZ, sizeof *s->x);
    s->y = calloc((size_t)n, sizeof *s->y);
    s->oh = calloc((size_t)n * s->k, sizeof *s->oh);
    s->order = calloc((size_t)n, sizeof *s->order);
    s->bx = calloc((size_t)bs * SZ * SZ, sizeof *s->bx);
    s->by = calloc((size_t)bs, sizeof *s->by);
    s->boh = calloc((size_t)bs * s->k, sizeof *s->boh);
    dl_rng r;
    dl_rng_seed(&r, seed, 99, 0);
    for (int i = 0; i < n; i++) {
        float *img = s->x + (size_t)i * SZ * SZ;
        for (int p = 0; p < SZ * SZ; p++)
            img[p] = 0.3f * dl_rng_normal(&r);
        int cls = (int)dl_rng_below(&r, 4);
        s->y[i] = cls;
        for (int q = 0; q < 4; q++) {
            bool on = multi ? (q < 3 && dl_rng_uniform(&r) < 0.3f) : q == cls;
            if (multi && q < 3)
                s->oh[(size_t)i * s->k + q] = on;
            if (!on)
                continue;
            int oy = (q / 2) * 4, ox = (q % 2) * 4;
            for (int yy = 0; yy < 4; yy++)
                for (int xx = 0; xx < 4; xx++)
                    img[(oy + yy) * SZ + ox + xx] += 1.0f;
        }
    }
}

static void synth_free(synth *s)
{
    free(s->x), free(s->y), free(s->oh), free(s->order), free(s->bx), free(s->by), free(s->boh);
}

static int64_t s_nb(void *ctx)
{
    synth *s = ctx;
    return s->shuffle ? s->n / s->bs : (s->n + s->bs - 1) / s->bs;
}

static dl_status s_start(void *ctx, int epoch, dl_err *err)
{
    synth *s = ctx;
    s->passes++;
    for (int i = 0; i < s->n; i++)
        s->order[i] = (uint32_t)i;
    if (s->shuffle) {
        dl_rng r;
        dl_rng_seed(&r, s->seed, (uint64_t)epoch, 7);
        dl_rng_shuffle_u32(&r, s->order, (uint32_t)s->n);
    }
    s->pos = 0;
    return DL_OK;
}

static dl_status s_next(void *ctx, dl_batch *b, dl_err *err)
{
    synth *s = ctx;
    memset(b, 0, sizeof *b);
    int left = s->n - s->pos;
    int n = left < s->bs ? left : s->bs;
    if (s->shuffle && n < s->bs)
        n = 0; /* drop_last */
    for (int i = 0; i < n; i++) {
        uint32_t it = s->order[s->pos + i];
        memcpy(s->bx + (size_t)i * SZ * SZ, s->x + (size_t)it * SZ * SZ, sizeof(float) * SZ * SZ);
        s->by[i] = s->y[it];
        memcpy(s->boh + (size_t)i * s->k, s->oh + (size_t)it * s->k, sizeof(float) * s->k);
    }
    s->pos += n;
    b->n = n, b->c = 1, b->h = SZ, b->w = SZ;
    b->images = s->bx;
    b->targets = s->multi ? NULL : s->by;
    b->onehot = s->multi ? s->boh : NULL;
    b->n_classes = s->k;
    return DL_OK;
}

static dl_batch_source src(synth *s)
{
    dl_batch_source b = {s, s_nb, s_start, s_next};
    return b;
}

/* ---- fixture: model + data + learner ---- */
typedef struct fx {
    synth tr, va;
    dl_model *m;
    dl_learner *l;
    dl_control *c;
} fx;

static void fx_init(fx *f, bool multi, bool with_control, dl_metric_kind metric, dl_head_kind head)
{
    dl_err err;
    synth_init(&f->tr, 256, 16, multi, true, 5);
    synth_init(&f->va, 64, 32, multi, false, 6);
    dl_model_cfg mc = {
        .arch = ARCH, .in_channels = 1, .n_out = multi ? 3 : 4, .head = head, .seed = 11};
    ck_assert_msg(dl_model_create(&f->m, &mc, &err) == DL_OK, "%s", err.msg);
    f->c = NULL;
    if (with_control)
        ck_assert_int_eq(dl_control_create(&f->c, &err), DL_OK);
    dl_learner_cfg lc;
    dl_learner_cfg_init(&lc);
    lc.n_metrics = 1;
    lc.metrics[0] = metric;
    ck_assert_msg(dl_learner_create(&f->l, &lc, f->m, src(&f->tr), src(&f->va), f->c, &err) ==
                      DL_OK,
                  "%s", err.msg);
}

static void fx_free(fx *f)
{
    dl_learner_free(f->l);
    dl_model_free(f->m);
    dl_control_free(f->c);
    synth_free(&f->tr);
    synth_free(&f->va);
}

/* ---- control commands at boundaries ---- */
typedef struct cmd_probe {
    dl_control *c;
    double lr_seen[64][DL_MAX_GROUPS];
    int frozen_seen[64];
} cmd_probe;

static dl_status probe_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    cmd_probe *p = user;
    uint64_t step = dl_learner_step(l);
    if (ev == DL_EV_BEFORE_BATCH && step < 64) {
        for (int g = 0; g < 3; g++)
            p->lr_seen[step][g] = dl_learner_optim(l)->h[g].lr;
        p->frozen_seen[step] = dl_learner_frozen_to(l);
    }
    if (ev == DL_EV_AFTER_BATCH &&
        step == 3) { /* posted after batch 3 trained: applies before batch 3 (0-based) */
        dl_cmd a = {.kind = DL_CMD_SET_LR, .lr = {DL_LR_SLICE_HI, 0, 1e-2}};
        dl_cmd b = {.kind = DL_CMD_FREEZE, .arg = -1};
        dl_cmd c = {.kind = DL_CMD_SCALE_LR, .factor = 0.5};
        dl_control_post(p->c, &a, NULL);
        dl_control_post(p->c, &b, NULL);
        dl_control_post(p->c, &c, NULL);
    }
    if (ev == DL_EV_AFTER_BATCH && step == 6) {
        dl_cmd u = {.kind = DL_CMD_UNFREEZE};
        dl_cmd s = {.kind = DL_CMD_STOP_AFTER_EPOCH};
        dl_control_post(p->c, &u, NULL);
        dl_control_post(p->c, &s, NULL);
    }
    return DL_OK;
}

START_TEST(commands_apply_at_the_next_boundary_and_are_logged)
{
    fx f;
    fx_init(&f, false, true, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    cmd_probe p = {.c = f.c};
    dl_err err;
    ck_assert_int_eq(dl_learner_add_callback(f.l, probe_cb, &p, &err), DL_OK);
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_CONST, 3, 0);
    o.lr.kind = DL_LR_CONST;
    o.lr.hi = 1e-3;
    ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
    /* before: constant 1e-3 everywhere */
    for (int s = 0; s < 3; s++)
        for (int g = 0; g < 3; g++)
            ck_assert_double_eq_tol(p.lr_seen[s][g], 1e-3, 1e-15);
    /* from step 3: slice(1e-2) then halved -> 5e-4, 5e-4, 5e-3; frozen to 2 */
    for (int s = 3; s < 6; s++) {
        ck_assert_double_eq_tol(p.lr_seen[s][0], 5e-4, 1e-12);
        ck_assert_double_eq_tol(p.lr_seen[s][2], 5e-3, 1e-12);
        ck_assert_int_eq(p.frozen_seen[s], 2);
    }
    ck_assert_int_eq(p.frozen_seen[6], 0);
    /* stop after epoch: one epoch of 16 batches, then the fit ended */
    ck_assert_uint_eq(dl_learner_step(f.l), 16);
    ck_assert(dl_learner_stopped(f.l));

    dl_event ev[32];
    uint64_t since = 0;
    size_t n = dl_control_read_events(f.c, &since, ev, 32, NULL);
    const char *want[] = {"lr-change set", "freeze 2", "lr-change scale 0.5", "unfreeze 0",
                          "stop after epoch"};
    const uint64_t want_step[] = {3, 3, 3, 6, 6};
    size_t w = 0;
    for (size_t i = 0; i < n && w < 5; i++)
        if (strncmp(ev[i].text, want[w], strlen(want[w])) == 0) {
            ck_assert_uint_eq(ev[i].step, want_step[w]);
            if (w == 1)
                ck_assert_int_eq(ev[i].frozen_to, 2);
            if (w == 2)
                ck_assert_double_eq_tol(ev[i].lr[2], 5e-3,
                                        1e-12); /* the resulting lrs are logged */
            w++;
        }
    ck_assert_msg(w == 5, "only %zu of 5 events found in order", w);
    dl_snapshot snap;
    dl_control_read(f.c, &snap);
    ck_assert_int_eq(snap.phase, DL_PHASE_STOPPED);
    ck_assert(!isnan(snap.valid_loss));
    fx_free(&f);
}
END_TEST

static void *resumer(void *arg)
{
    dl_control *c = arg;
    dl_snapshot s;
    for (int i = 0; i < 2000; i++) { /* wait (<= 10 s) until the trainer reports it is paused */
        dl_control_read(c, &s);
        if (s.phase == DL_PHASE_PAUSED)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    dl_cmd r = {.kind = DL_CMD_RESUME};
    dl_control_post(c, &r, NULL);
    return (void *)(uintptr_t)(s.phase == DL_PHASE_PAUSED);
}

static dl_status pause_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    if (ev == DL_EV_AFTER_BATCH && dl_learner_step(l) == 2) {
        dl_cmd p = {.kind = DL_CMD_PAUSE};
        dl_control_post(user, &p, NULL);
    }
    if (ev == DL_EV_AFTER_BATCH && dl_learner_step(l) == 5) {
        dl_cmd s = {.kind = DL_CMD_STOP_NOW};
        dl_control_post(user, &s, NULL);
    }
    return DL_OK;
}

START_TEST(pause_blocks_until_resume_and_stop_now_ends_the_fit)
{
    fx f;
    fx_init(&f, false, true, DL_METRIC_ERROR_RATE, DL_HEAD_TORCHVISION);
    dl_err err;
    dl_learner_add_callback(f.l, pause_cb, f.c, &err);
    pthread_t th;
    pthread_create(&th, NULL, resumer, f.c);
    dl_job job = {.kind = DL_JOB_FIT};
    dl_fit_opts_init(&job.fit, DL_FIT_ONE_CYCLE, 2, 1e-3);
    ck_assert_int_eq(dl_learner_start(f.l, &job, &err), DL_OK);
    void *saw_pause;
    pthread_join(th, &saw_pause);
    ck_assert_msg(saw_pause != NULL, "the trainer never published the paused phase");
    ck_assert_int_eq(dl_learner_join(f.l, &err), DL_OK);
    ck_assert_uint_eq(dl_learner_step(f.l), 5); /* stopped right after batch 5 */
    ck_assert(dl_learner_stopped(f.l));
    dl_event ev[32];
    uint64_t since = 0;
    size_t n = dl_control_read_events(f.c, &since, ev, 32, NULL);
    int order = 0;
    for (size_t i = 0; i < n; i++) {
        if (order == 0 && strcmp(ev[i].text, "pause") == 0 && ev[i].step == 2)
            order = 1;
        else if (order == 1 && strcmp(ev[i].text, "resume") == 0 && ev[i].step == 2)
            order = 2;
        else if (order == 2 && strcmp(ev[i].text, "stop now") == 0 && ev[i].step == 5)
            order = 3;
    }
    ck_assert_int_eq(order, 3);
    fx_free(&f);
}
END_TEST

/* While paused, img/s and the ETA stand still: the paused seconds leave the fit's clock. */
typedef struct pause_clock {
    dl_control *c;
    dl_snapshot a, b;
    bool ok;
} pause_clock;

static void *watch_pause(void *arg)
{
    pause_clock *pc = arg;
    struct timespec ts = {0, 5000000};
    for (int i = 0; i < 2000 && pc->a.phase != DL_PHASE_PAUSED; i++) {
        dl_control_read(pc->c, &pc->a);
        nanosleep(&ts, NULL);
    }
    /* the paused trainer republishes every 250 ms: wait for a later snapshot */
    for (int i = 0; i < 2000; i++) {
        dl_control_read(pc->c, &pc->b);
        if (pc->b.gen > pc->a.gen + 1)
            break;
        nanosleep(&ts, NULL);
    }
    pc->ok = pc->a.phase == DL_PHASE_PAUSED && pc->b.phase == DL_PHASE_PAUSED;
    dl_cmd r = {.kind = DL_CMD_RESUME};
    dl_control_post(pc->c, &r, NULL);
    return NULL;
}

START_TEST(paused_training_stops_the_clock_of_img_s_and_eta)
{
    fx f;
    fx_init(&f, false, true, DL_METRIC_ERROR_RATE, DL_HEAD_TORCHVISION);
    dl_err err;
    dl_learner_add_callback(f.l, pause_cb, f.c, &err);
    pause_clock pc = {.c = f.c};
    pthread_t th;
    pthread_create(&th, NULL, watch_pause, &pc);
    dl_job job = {.kind = DL_JOB_FIT};
    dl_fit_opts_init(&job.fit, DL_FIT_ONE_CYCLE, 2, 1e-3);
    ck_assert_int_eq(dl_learner_start(f.l, &job, &err), DL_OK);
    pthread_join(th, NULL);
    ck_assert_int_eq(dl_learner_join(f.l, &err), DL_OK);
    ck_assert_msg(pc.ok, "never saw two paused snapshots");
    ck_assert_uint_gt(pc.b.gen, pc.a.gen);
    ck_assert(pc.a.images_per_s > 0 && isfinite(pc.a.eta_s));
    ck_assert_double_eq_tol(pc.b.images_per_s, pc.a.images_per_s, 1e-6 * pc.a.images_per_s);
    ck_assert_double_eq_tol(pc.b.eta_s, pc.a.eta_s, 1e-6 * (1 + pc.a.eta_s));
    fx_free(&f);
}
END_TEST

/* A validation pass publishes its progress (batch k of n) and a finite ETA, batch by batch: the
 * valid source reads what the trainer published before each of its batches. */
typedef struct valid_watch {
    synth *s;
    dl_control *c;
    int max_batch, batches, with_eta, seen;
    int blanked; /* second-epoch passes whose snapshot lost the first epoch's row */
} valid_watch;

static int64_t vw_nb(void *ctx) { return s_nb(((valid_watch *)ctx)->s); }
static dl_status vw_start(void *ctx, int epoch, dl_err *err)
{
    return s_start(((valid_watch *)ctx)->s, epoch, err);
}
static dl_status vw_next(void *ctx, dl_batch *b, dl_err *err)
{
    valid_watch *w = ctx;
    dl_snapshot sn;
    dl_control_read(w->c, &sn);
    if (sn.phase == DL_PHASE_VALID) {
        w->seen++;
        w->max_batch = sn.valid_batch > w->max_batch ? sn.valid_batch : w->max_batch;
        w->batches = sn.valid_batches;
        w->with_eta += isfinite(sn.eta_s);
        if (sn.epoch >= 1 && (!isfinite(sn.metric[0]) || !isfinite(sn.valid_loss)))
            w->blanked++;
    }
    return s_next(w->s, b, err);
}

START_TEST(validation_publishes_its_progress_and_eta)
{
    fx f;
    fx_init(&f, false, true, DL_METRIC_ERROR_RATE, DL_HEAD_TORCHVISION);
    dl_learner_free(f.l);
    valid_watch w = {.s = &f.va, .c = f.c};
    dl_batch_source vs = {&w, vw_nb, vw_start, vw_next};
    dl_learner_cfg lc;
    dl_learner_cfg_init(&lc);
    lc.n_metrics = 1;
    lc.metrics[0] = DL_METRIC_ERROR_RATE;
    dl_err err;
    ck_assert_int_eq(dl_learner_create(&f.l, &lc, f.m, src(&f.tr), vs, f.c, &err), DL_OK);
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 2, 1e-3);
    ck_assert_int_eq(dl_learner_fit(f.l, &o, &err), DL_OK);
    /* 64 items in batches of 32: 2 batches a pass, the second read sees the first done */
    ck_assert_int_eq(w.batches, 2);
    ck_assert_int_eq(w.max_batch, 2); /* the pass's end is read by the empty batch */
    ck_assert_int_gt(w.seen, 0);
    ck_assert_int_eq(w.with_eta, w.seen);
    /* a pass in progress keeps the last epoch's loss and metrics in the snapshot (the dashboard's
     * epoch table takes its row's metrics from it) */
    ck_assert_int_eq(w.blanked, 0);
    fx_free(&f);
}
END_TEST

/* ---- freeze ---- */
START_TEST(freeze_keeps_frozen_convs_bit_identical_while_bn_and_head_move)
{
    fx f;
    fx_init(&f, false, false, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    dl_params *ps = dl_model_params(f.m);
    dl_learner_freeze(f.l);
    ck_assert_int_eq(dl_learner_frozen_to(f.l), 2);
    float *before = malloc(ps->total * sizeof *before);
    float *bbuf = malloc(ps->buf_total * sizeof *bbuf);
    memcpy(before, ps->data, ps->total * sizeof *before);
    memcpy(bbuf, ps->buf, ps->buf_total * sizeof *bbuf);
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 1, 1e-2);
    dl_err err;
    ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
    int convs = 0, bns = 0, heads = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const dl_entry *e = &ps->e[i];
        if (e->kind != DL_ENTRY_PARAM) {
            if (e->kind == DL_ENTRY_BUF_F32 && strstr(e->name, "running_mean"))
                ck_assert_msg(memcmp(bbuf + e->offset, dl_params_buf(ps, i), e->numel * 4) != 0,
                              "%s did not update",
                              e->name); /* BN statistics update in train mode */
            continue;
        }
        bool same =
            memcmp(before + e->offset, dl_params_data(ps, i), e->numel * sizeof(float)) == 0;
        if (e->group < 2 && !(e->flags & DL_PARAM_NORM)) {
            ck_assert_msg(same, "frozen %s changed", e->name);
            convs++;
        } else if (e->group < 2) {
            ck_assert_msg(!same, "BN parameter %s of a frozen group did not train", e->name);
            bns++;
        } else {
            ck_assert_msg(!same, "head parameter %s did not train", e->name);
            heads++;
        }
    }
    ck_assert_int_gt(convs, 3);
    ck_assert_int_gt(bns, 3);
    ck_assert_int_gt(heads, 0);
    free(before);
    free(bbuf);
    fx_free(&f);
}
END_TEST

/* ---- LR finder ---- */
static void *dup(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    memcpy(q, p, n);
    return q;
}

START_TEST(lr_find_restores_weights_buffers_and_optimiser_bit_exactly)
{
    fx f;
    fx_init(&f, false, false, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    dl_err err;
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 1, 1e-2); /* so the optimiser state is not all zero */
    ck_assert_int_eq(dl_learner_fit(f.l, &o, &err), DL_OK);
    dl_params *ps = dl_model_params(f.m);
    dl_optim *op = dl_learner_optim(f.l);
    float *d = dup(ps->data, ps->total * 4), *s0 = dup(ps->state0, ps->total * 4),
          *s1 = dup(ps->state1, ps->total * 4);
    float *b = dup(ps->buf, ps->buf_total * 4);
    int64_t *ib = dup(ps->ibuf, ps->ibuf_total * 8), *steps = dup(op->step, ps->n * 8);
    dl_hyper h[DL_MAX_GROUPS];
    memcpy(h, op->h, sizeof h);
    uint64_t step = dl_learner_step(f.l);
    double sm = dl_learner_smooth_loss(f.l);

    static dl_lrfind_curve c;
    dl_lrfind_cfg cfg = dl_lrfind_defaults();
    cfg.num_it = 40;
    ck_assert_msg(dl_learner_lr_find(f.l, &cfg, &c, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_gt(c.n, 5);
    ck_assert_double_eq_tol(c.lr[0], 1e-7, 1e-20);
    ck_assert_double_eq_tol(c.lr[1] / c.lr[0], pow(1e8, 1.0 / 40), 1e-9);
    ck_assert_ptr_nonnull(c.stop_reason);

    ck_assert(memcmp(d, ps->data, ps->total * 4) == 0);
    ck_assert(memcmp(b, ps->buf, ps->buf_total * 4) == 0);
    ck_assert(memcmp(ib, ps->ibuf, ps->ibuf_total * 8) == 0);
    ck_assert(memcmp(s0, ps->state0, ps->total * 4) == 0);
    ck_assert(memcmp(s1, ps->state1, ps->total * 4) == 0);
    ck_assert(memcmp(steps, op->step, ps->n * 8) == 0);
    ck_assert(memcmp(h, op->h, sizeof h) == 0);
    ck_assert_uint_eq(dl_learner_step(f.l), step);
    ck_assert(memcmp(&sm, &(double){dl_learner_smooth_loss(f.l)}, sizeof sm) == 0);
    free(d), free(s0), free(s1), free(b), free(ib), free(steps);
    fx_free(&f);
}
END_TEST

/* ---- resume ---- */
typedef struct loss_log {
    double loss[256];
    int n;
    int stop_at; /* post STOP_NOW after this step (0: never) */
    dl_control *c;
} loss_log;

static dl_status log_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    loss_log *g = user;
    if (ev == DL_EV_AFTER_BATCH) {
        if (g->n < 256)
            g->loss[g->n++] = dl_learner_loss(l);
        if (g->stop_at && (int)dl_learner_step(l) == g->stop_at)
            return DL_ESTOPPED;
    }
    return DL_OK;
}

START_TEST(resume_from_a_mid_epoch_stop_reproduces_the_uninterrupted_losses)
{
    dl_err err;
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 3, 5e-3);

    fx a;
    fx_init(&a, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    loss_log la = {0};
    dl_learner_add_callback(a.l, log_cb, &la, &err);
    ck_assert_int_eq(dl_learner_fit(a.l, &o, &err), DL_OK);
    ck_assert_int_eq(la.n, 48);

    fx b;
    fx_init(&b, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    loss_log lb = {.stop_at = 21}; /* batch 5 of epoch 1 */
    dl_learner_add_callback(b.l, log_cb, &lb, &err);
    ck_assert_int_eq(dl_learner_fit(b.l, &o, &err), DL_OK);
    ck_assert(dl_learner_stopped(b.l));
    ck_assert_int_eq(lb.n, 21);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    ck_assert_msg(dl_learner_state_to_map(b.l, &m, &err) == DL_OK, "%s", err.msg);

    /* Round trip through a file, as a checkpoint would go. */
    char *dir = tu_mkdtemp(), path[1100];
    snprintf(path, sizeof path, "%s/ck.safetensors", dir);
    ck_assert_msg(dl_safetensors_write(path, &m, &err) == DL_OK, "%s", err.msg);
    dl_tensor_map_free(&m);
    dl_tensor_map_init(&m);
    ck_assert_msg(dl_safetensors_read(path, &m, &err) == DL_OK, "%s", err.msg);

    fx c;
    fx_init(&c, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    ck_assert_msg(dl_learner_state_from_map(c.l, &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(dl_learner_resume_epoch(c.l), 1);
    loss_log lc = {0};
    dl_learner_add_callback(c.l, log_cb, &lc, &err);
    dl_fit_opts oc = o;
    oc.start_epoch = dl_learner_resume_epoch(c.l);
    ck_assert_msg(dl_learner_fit(c.l, &oc, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(lc.n, 48 - 21);
    for (int i = 0; i < 21; i++)
        ck_assert_msg(la.loss[i] == lb.loss[i], "step %d: %.9g vs %.9g", i, la.loss[i], lb.loss[i]);
    for (int i = 0; i < lc.n; i++)
        ck_assert_msg(la.loss[21 + i] == lc.loss[i], "step %d: %.9g uninterrupted vs %.9g resumed",
                      21 + i, la.loss[21 + i], lc.loss[i]);
    ck_assert_double_eq(dl_learner_epoch_row(a.l)->valid_loss,
                        dl_learner_epoch_row(c.l)->valid_loss);
    ck_assert_double_eq(dl_learner_epoch_row(a.l)->train_loss,
                        dl_learner_epoch_row(c.l)->train_loss);

    /* a map that is not a training checkpoint is refused, naming the key */
    dl_tensor_map bad;
    dl_tensor_map_init(&bad);
    ck_assert_int_eq(dl_learner_state_from_map(c.l, &bad, &err), DL_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "learner.counters"));
    dl_tensor_map_free(&bad);
    dl_tensor_map_free(&m);
    tu_rmtree(dir);
    free(dir);
    fx_free(&a), fx_free(&b), fx_free(&c);
}
END_TEST

/* ---- divergence ---- */
typedef struct nan_probe {
    int at;
    bool fired; /* inject once: the skipped batch leaves the step counter where it was */
    float *good;
    size_t n;
    double lr_at;
} nan_probe;

static dl_status nan_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    nan_probe *p = user;
    dl_params *ps = dl_model_params(dl_learner_model(l));
    if (ev == DL_EV_AFTER_BATCH && dl_learner_step(l) == 5)
        memcpy(p->good, ps->data,
               p->n * sizeof(float)); /* the learner's last good copy (every 5) */
    if (ev == DL_EV_AFTER_LOSS && (int)dl_learner_step(l) == p->at && !p->fired) {
        p->fired = true;
        p->lr_at = dl_learner_optim(l)->h[2].lr;
        dl_learner_set_loss(l, NAN);
    }
    return DL_OK;
}

START_TEST(nan_loss_restores_last_good_weights_and_marks_diverged)
{
    fx f;
    fx_init(&f, false, false, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    dl_params *ps = dl_model_params(f.m);
    nan_probe p = {.at = 7, .n = ps->total};
    p.good = malloc(ps->total * sizeof(float));
    dl_err err;
    dl_learner_add_callback(f.l, nan_cb, &p, &err);
    ((dl_learner_cfg *)dl_learner_config(f.l))->snapshot_every = 5;
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 2, 1e-3);
    ck_assert_int_eq(dl_learner_fit(f.l, &o, &err), DL_EDIVERGED);
    ck_assert_ptr_nonnull(strstr(err.msg, "diverged at lr"));
    ck_assert(dl_learner_diverged(f.l));
    ck_assert_double_eq(dl_learner_diverged_lr(f.l), p.lr_at);
    ck_assert_uint_eq(dl_learner_step(f.l), 7); /* the NaN batch was not counted or stepped */
    ck_assert(memcmp(p.good, ps->data, ps->total * sizeof(float)) == 0);
    for (size_t i = 0; i < ps->total; i++)
        ck_assert(isfinite(ps->data[i]));
    free(p.good);
    fx_free(&f);
}
END_TEST

/* A finite loss that explodes from step 7 on (1e3, 2e3, ...): caught before any NaN. */
static dl_status explode_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    nan_probe *p = user;
    dl_params *ps = dl_model_params(dl_learner_model(l));
    if (ev == DL_EV_AFTER_BATCH && dl_learner_step(l) == 5)
        memcpy(p->good, ps->data, p->n * sizeof(float));
    if (ev == DL_EV_AFTER_LOSS && (int)dl_learner_step(l) >= p->at)
        dl_learner_set_loss(l, 1e3 * (double)(dl_learner_step(l) - 6));
    return DL_OK;
}

START_TEST(an_exploding_finite_loss_is_divergence_before_nan)
{
    fx f;
    fx_init(&f, false, false, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    dl_params *ps = dl_model_params(f.m);
    nan_probe p = {.at = 7, .n = ps->total};
    p.good = malloc(ps->total * sizeof(float));
    dl_err err;
    dl_learner_add_callback(f.l, explode_cb, &p, &err);
    ((dl_learner_cfg *)dl_learner_config(f.l))->snapshot_every = 5;
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 2, 1e-3);
    ck_assert_int_eq(dl_learner_fit(f.l, &o, &err), DL_EDIVERGED);
    ck_assert_ptr_nonnull(strstr(err.msg, "diverged at lr"));
    ck_assert(dl_learner_diverged(f.l));
    /* above 4x its best from step 7: the 5th such batch is step 11, then the fit ends */
    ck_assert_uint_eq(dl_learner_step(f.l), 12);
    /* the copy of step 10 was not taken (the loss was climbing): step 5's weights are back */
    ck_assert(memcmp(p.good, ps->data, ps->total * sizeof(float)) == 0);
    ck_assert_ptr_nonnull(strstr(dl_learner_message(f.l), "diverged"));
    free(p.good);
    fx_free(&f);
}
END_TEST

static void *lower_and_resume(void *arg)
{
    dl_control *c = arg;
    dl_snapshot s = {0};
    for (int i = 0; i < 2000 && s.phase != DL_PHASE_PAUSED; i++) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        dl_control_read(c, &s);
    }
    dl_cmd lower = {.kind = DL_CMD_SCALE_LR, .factor = 0.1}, r = {.kind = DL_CMD_RESUME};
    dl_control_post(c, &lower, NULL);
    dl_control_post(c, &r, NULL);
    return NULL;
}

START_TEST(with_a_ui_divergence_pauses_and_training_continues_after_resume)
{
    fx f;
    fx_init(&f, false, true, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    dl_params *ps = dl_model_params(f.m);
    nan_probe p = {.at = 7, .n = ps->total};
    p.good = malloc(ps->total * sizeof(float));
    dl_err err;
    dl_learner_add_callback(f.l, nan_cb, &p, &err);
    ((dl_learner_cfg *)dl_learner_config(f.l))->pause_on_diverge = true;
    pthread_t th;
    pthread_create(&th, NULL, lower_and_resume, f.c);
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 1, 1e-3);
    ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
    pthread_join(th, NULL);
    ck_assert(dl_learner_diverged(f.l));
    ck_assert_uint_eq(dl_learner_step(f.l), 15); /* 16 batches, one skipped */
    fx_free(&f);
    free(p.good);
}
END_TEST

/* ---- store checkpoints ---- */
START_TEST(checkpoints_each_epoch_in_the_store_with_the_best_flagged)
{
    fx f;
    fx_init(&f, false, false, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    char *dir = tu_mkdtemp();
    dl_store *st;
    dl_err err;
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    dl_run_spec spec = {.name_prefix = "t", .dataset = "synthetic", .arch = ARCH};
    int64_t run;
    char name[DL_STORE_NAME_MAX];
    ck_assert_int_eq(dl_store_run_create(st, &spec, &run, name, sizeof name, &err), DL_OK);
    dl_learner_attach_store(f.l, st, run);
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 2, 5e-3);
    ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
    dl_checkpoint_row *rows;
    size_t n;
    ck_assert_int_eq(dl_store_checkpoints(st, run, &rows, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 2);
    int best = 0;
    for (size_t i = 0; i < n; i++)
        best += rows[i].best;
    ck_assert_int_eq(best, 1);
    dl_epoch_row *er;
    size_t ne;
    ck_assert_int_eq(dl_store_epochs(st, run, &er, &ne, &err), DL_OK);
    ck_assert_uint_eq(ne, 2);
    ck_assert_str_eq(er[1].metrics[0].name, "accuracy");
    free(er);
    dl_checkpoint_row latest;
    ck_assert_int_eq(dl_store_checkpoint_latest(st, run, &latest, &err), DL_OK);
    char path[2048];
    dl_store_checkpoint_abspath(st, latest.path, path, sizeof path);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    ck_assert_msg(dl_safetensors_read(path, &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(dl_tensor_map_get(&m, "fc.weight"));
    ck_assert_ptr_nonnull(dl_tensor_map_get(&m, "learner.counters"));
    ck_assert_msg(dl_learner_state_from_map(f.l, &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(dl_learner_resume_epoch(f.l), 2);
    dl_tensor_map_free(&m);
    dl_checkpoint_row_clear(&latest);
    dl_checkpoints_free(rows, n);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
    fx_free(&f);
}
END_TEST

/* ---- learning ---- */
START_TEST(learns_the_synthetic_task_single_and_multi_label)
{
    fx f;
    fx_init(&f, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    dl_err err;
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 10, 3e-2);
    ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
    const dl_epoch_result *r = dl_learner_epoch_row(f.l);
    ck_assert_msg(r->metrics[0] > 0.8, "accuracy %g (chance 0.25)", r->metrics[0]);
    fx_free(&f);

    fx g;
    fx_init(&g, true, false, DL_METRIC_ACCURACY_MULTI, DL_HEAD_FASTAI);
    ck_assert_msg(dl_learner_fit(g.l, &o, &err) == DL_OK, "%s", err.msg);
    r = dl_learner_epoch_row(g.l);
    /* all-negative baseline on the validation targets */
    double pos = 0;
    for (int i = 0; i < g.va.n * 3; i++)
        pos += g.va.oh[i];
    double baseline = 1.0 - pos / (g.va.n * 3);
    ck_assert_msg(r->metrics[0] > baseline + 0.1, "accuracy_multi %g vs all-negative %g",
                  r->metrics[0], baseline);
    fx_free(&g);
}
END_TEST

/* ---- LR finder as a command in the middle of a fit ---- */
static dl_status lrfind_cmd_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    loss_log *g = user;
    if (ev == DL_EV_AFTER_BATCH) {
        if (g->n < 256)
            g->loss[g->n++] = dl_learner_loss(l);
        if (g->c && dl_learner_step(l) == 20) {
            dl_cmd c = {.kind = DL_CMD_LRFIND};
            dl_control_post(g->c, &c, NULL);
        }
    }
    return DL_OK;
}

START_TEST(lrfind_command_mid_fit_leaves_the_training_unchanged)
{
    dl_err err;
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 2, 5e-3);
    fx a, b;
    fx_init(&a, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    fx_init(&b, false, true, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    loss_log la = {0}, lb = {.c = b.c};
    dl_learner_add_callback(a.l, lrfind_cmd_cb, &la, &err);
    dl_learner_add_callback(b.l, lrfind_cmd_cb, &lb, &err);
    ck_assert_int_eq(dl_learner_fit(a.l, &o, &err), DL_OK);
    ck_assert_msg(dl_learner_fit(b.l, &o, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(la.n, 32);
    ck_assert_int_eq(lb.n, 32);
    for (int i = 0; i < 32; i++) /* the sweep ran at step 20 and was undone bit-exactly */
        ck_assert_msg(la.loss[i] == lb.loss[i], "step %d: %.9g vs %.9g", i, la.loss[i], lb.loss[i]);
    ck_assert_double_eq(dl_learner_epoch_row(a.l)->valid_loss,
                        dl_learner_epoch_row(b.l)->valid_loss);
    dl_event ev[64];
    uint64_t since = 0;
    size_t n = dl_control_read_events(b.c, &since, ev, 64, NULL);
    int start = 0, end = 0;
    for (size_t i = 0; i < n; i++) {
        start += strncmp(ev[i].text, "lr-find-start", 13) == 0 && ev[i].step == 20;
        end += strncmp(ev[i].text, "lr-find-end", 11) == 0 && ev[i].step == 20;
    }
    ck_assert_int_eq(start, 1);
    ck_assert_int_eq(end, 1);
    dl_curve_point pts[512];
    uint64_t ps = 0;
    size_t np = dl_control_read_points(b.c, &ps, pts, 512, NULL);
    int sweep = 0;
    for (size_t i = 0; i < np; i++)
        sweep += pts[i].kind == DL_POINT_LRFIND;
    ck_assert_int_gt(sweep, 5);
    fx_free(&a), fx_free(&b);
}
END_TEST

/* ---- fine_tune ---- */
typedef struct ft_probe {
    double lr0[2][3];
    int frozen[2];
    int fits;
    uint64_t first_step[2];
} ft_probe;

static dl_status ft_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    ft_probe *p = user;
    if (ev == DL_EV_BEFORE_FIT)
        p->first_step[p->fits < 2 ? p->fits : 1] = dl_learner_step(l), p->fits++;
    if (ev == DL_EV_BEFORE_BATCH && p->fits <= 2 &&
        dl_learner_step(l) == p->first_step[p->fits - 1]) {
        for (int g = 0; g < 3; g++)
            p->lr0[p->fits - 1][g] = dl_learner_optim(l)->h[g].lr;
        p->frozen[p->fits - 1] = dl_learner_frozen_to(l);
    }
    return DL_OK;
}

START_TEST(fine_tune_runs_fastais_two_phases)
{
    fx f;
    fx_init(&f, false, false, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    ft_probe p = {0};
    dl_err err;
    dl_learner_add_callback(f.l, ft_cb, &p, &err);
    ck_assert_msg(dl_learner_fine_tune(f.l, 1, 2e-3, 1, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(p.fits, 2);
    /* phase 1: frozen, slice(2e-3) / div 25 */
    ck_assert_int_eq(p.frozen[0], 2);
    ck_assert_double_eq_tol(p.lr0[0][0], 2e-4 / 25, 1e-12);
    ck_assert_double_eq_tol(p.lr0[0][2], 2e-3 / 25, 1e-12);
    /* phase 2: unfrozen, even_mults(1e-5, 1e-3) / div 5 */
    ck_assert_int_eq(p.frozen[1], 0);
    ck_assert_double_eq_tol(p.lr0[1][0], 1e-5 / 5, 1e-12);
    ck_assert_double_eq_tol(p.lr0[1][1], 1e-4 / 5, 1e-12);
    ck_assert_double_eq_tol(p.lr0[1][2], 1e-3 / 5, 1e-12);
    ck_assert_uint_eq(dl_learner_step(f.l), 32);
    fx_free(&f);
}
END_TEST

/* What the dashboard reads between and during fine_tune's phases. */
typedef struct phase_probe {
    dl_control *c;
    int fits;
    dl_phase between;          /* published when the second fit begins */
    bool frozen_tag[2];        /* the snapshot's frozen_fit during each fit */
    int valid_points_frozen;   /* valid points tagged frozen_fit */
    int valid_points_unfrozen; /* and not */
} phase_probe;

static dl_status phase_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    phase_probe *p = user;
    (void)l;
    dl_snapshot sn;
    if (ev == DL_EV_BEFORE_FIT && p->fits++ == 1) {
        dl_control_read(p->c, &sn);
        p->between = sn.phase;
    }
    if (ev == DL_EV_AFTER_BATCH && p->fits <= 2) {
        dl_control_read(p->c, &sn);
        p->frozen_tag[p->fits - 1] = sn.frozen_fit;
    }
    return DL_OK;
}

START_TEST(fine_tune_phases_are_tagged_and_not_done_between)
{
    fx f;
    fx_init(&f, false, true, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    phase_probe p = {.c = f.c};
    dl_err err;
    dl_learner_add_callback(f.l, phase_cb, &p, &err);
    ck_assert_msg(dl_learner_fine_tune(f.l, 2, 2e-3, 1, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(p.fits, 2);
    ck_assert_str_eq(dl_phase_name(p.between), "next fit"); /* not "done" */
    ck_assert(p.frozen_tag[0] && !p.frozen_tag[1]);
    dl_curve_point pts[DL_CONTROL_POINTS];
    uint64_t since = 0;
    size_t n = dl_control_read_points(f.c, &since, pts, DL_CONTROL_POINTS, NULL);
    int fz = 0, unf = 0;
    for (size_t i = 0; i < n; i++)
        if (pts[i].kind == DL_POINT_VALID)
            pts[i].frozen_fit ? fz++ : unf++;
    ck_assert_int_eq(fz, 1);  /* frozen 0 */
    ck_assert_int_eq(unf, 2); /* 0 1 */
    dl_snapshot sn;
    dl_control_read(f.c, &sn);
    ck_assert_str_eq(dl_phase_name(sn.phase), "done"); /* after the last fit */
    ck_assert(!sn.frozen_fit);
    fx_free(&f);
}
END_TEST

START_TEST(fine_tune_numbers_store_epochs_over_both_phases)
{
    fx f;
    fx_init(&f, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    char *dir = tu_mkdtemp();
    dl_store *st;
    dl_err err;
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    dl_run_spec spec = {.name_prefix = "ft", .dataset = "synthetic", .arch = ARCH};
    int64_t run;
    char name[DL_STORE_NAME_MAX];
    ck_assert_int_eq(dl_store_run_create(st, &spec, &run, name, sizeof name, &err), DL_OK);
    dl_learner_attach_store(f.l, st, run);
    ck_assert_msg(dl_learner_fine_tune(f.l, 2, 2e-3, 1, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(dl_learner_epoch_row(f.l)->epoch,
                     1); /* the table's numbering restarts per fit */
    dl_epoch_row *er;
    size_t ne;
    ck_assert_int_eq(dl_store_epochs(st, run, &er, &ne, &err), DL_OK);
    ck_assert_uint_eq(ne, 3);
    for (size_t i = 0; i < ne; i++)
        ck_assert_int_eq(er[i].epoch, (int)i);
    free(er);
    dl_checkpoint_row *rows;
    size_t n;
    ck_assert_int_eq(dl_store_checkpoints(st, run, &rows, &n, &err), DL_OK);
    ck_assert_uint_eq(n, 3); /* epoch-0 of phase 1 is not overwritten by phase 2 */
    dl_checkpoints_free(rows, n);
    dl_event_row *ev;
    size_t nev;
    ck_assert_int_eq(dl_store_events(st, run, -1, &ev, &nev, &err), DL_OK);
    int freeze = 0, unfreeze = 0;
    for (size_t i = 0; i < nev; i++) {
        freeze += strcmp(ev[i].kind, "freeze") == 0;
        unfreeze +=
            strcmp(ev[i].kind, "unfreeze") == 0 && strstr(ev[i].payload, "\"frozen_to\":0") != NULL;
        /* each records the rates of the phase it starts (peak per group), not the last phase's:
         * frozen slice(2e-3), then base_lr/2 as slice(1e-5, 1e-3) */
        if (!strcmp(ev[i].kind, "freeze"))
            ck_assert_msg(strstr(ev[i].payload, "\"lr\":[0.0002,0.0002,0.002]"), "%s",
                          ev[i].payload);
        if (!strcmp(ev[i].kind, "unfreeze"))
            ck_assert_msg(strstr(ev[i].payload, "\"lr\":[1e-05,0.0001,0.001]"), "%s",
                          ev[i].payload);
    }
    ck_assert_int_eq(freeze, 1);
    ck_assert_int_eq(unfreeze, 1);
    dl_events_free(ev, nev);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
    fx_free(&f);
}
END_TEST

/* fine_tune(2, freeze_epochs 1) is 16 frozen + 32 unfrozen batches. Stopped at `stop_at` (mid
 * frozen phase, exactly at its end, mid unfrozen phase) and resumed from the checkpoint map, it
 * must give the uninterrupted run's losses bit for bit, and end with the same epoch row. */
static void fine_tune_resume_case(const loss_log *la, const dl_epoch_result *ra, int stop_at)
{
    dl_err err;
    fx b;
    fx_init(&b, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    loss_log lb = {.stop_at = stop_at};
    dl_learner_add_callback(b.l, log_cb, &lb, &err);
    ck_assert_msg(dl_learner_fine_tune(b.l, 2, 4e-3, 1, &err) == DL_OK, "%s", err.msg);
    ck_assert(dl_learner_stopped(b.l));
    ck_assert_int_eq(lb.n, stop_at);
    dl_tensor_map m;
    dl_tensor_map_init(&m);
    ck_assert_msg(dl_learner_state_to_map(b.l, &m, &err) == DL_OK, "%s", err.msg);

    fx c;
    fx_init(&c, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    ck_assert_msg(dl_learner_state_from_map(c.l, &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(dl_learner_frozen_to(c.l),
                     stop_at <= 16 ? 2 : 0); /* the phase's frozen state */
    loss_log lc = {0};
    dl_learner_add_callback(c.l, log_cb, &lc, &err);
    ck_assert_msg(dl_learner_fine_tune(c.l, 2, 4e-3, 1, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(lc.n, 48 - stop_at);
    for (int i = 0; i < lc.n; i++)
        ck_assert_msg(la->loss[stop_at + i] == lc.loss[i],
                      "stop at %d, step %d: %.9g uninterrupted vs %.9g resumed", stop_at,
                      stop_at + i, la->loss[stop_at + i], lc.loss[i]);
    ck_assert_int_eq(dl_learner_frozen_to(c.l), 0);
    ck_assert_double_eq(ra->valid_loss, dl_learner_epoch_row(c.l)->valid_loss);
    ck_assert_double_eq(ra->train_loss, dl_learner_epoch_row(c.l)->train_loss);
    ck_assert_uint_eq(dl_learner_step(c.l), 48);

    /* the same checkpoint is no point of another plan: refused, saying why */
    fx d;
    fx_init(&d, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    ck_assert_msg(dl_learner_state_from_map(d.l, &m, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(dl_learner_fine_tune(d.l, 5, 4e-3, 3, &err), DL_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not a point of fine_tune(5, freeze_epochs 3)"));
    dl_tensor_map_free(&m);
    fx_free(&b), fx_free(&c), fx_free(&d);
}

START_TEST(fine_tune_resumes_in_either_phase_reproducing_the_losses)
{
    dl_err err;
    fx a;
    fx_init(&a, false, false, DL_METRIC_ACCURACY, DL_HEAD_FASTAI);
    loss_log la = {0};
    dl_learner_add_callback(a.l, log_cb, &la, &err);
    ck_assert_msg(dl_learner_fine_tune(a.l, 2, 4e-3, 1, &err) == DL_OK, "%s", err.msg);
    ck_assert_int_eq(la.n, 48);
    fine_tune_resume_case(&la, dl_learner_epoch_row(a.l), 9); /* frozen phase, mid-epoch */
    fine_tune_resume_case(&la, dl_learner_epoch_row(a.l),
                          16); /* last frozen batch, before validation */
    fine_tune_resume_case(&la, dl_learner_epoch_row(a.l), 37); /* unfrozen phase, epoch 1 batch 5 */
    fx_free(&a);
}
END_TEST

/* ---- every key of the dashboard: applied at a boundary, in the event log and in the store ---- */
static dl_status full_disk(const char *path, const dl_tensor_map *m, dl_err *err)
{
    (void)m;
    return dl_err_set(err, DL_ENOSPC, "%s: No space left on device", path);
}

typedef struct key_probe {
    dl_control *c;
    dl_store *st;
} key_probe;

/* After batch k trains (step k), the keys f u + - = p p s l s(disk full) e, one step each. */
static dl_status key_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    key_probe *p = user;
    if (ev != DL_EV_AFTER_BATCH)
        return DL_OK;
    dl_cmd c = {.kind = DL_CMD_COUNT};
    dl_store_set_checkpoint_writer(p->st, NULL);
    switch (dl_learner_step(l)) {
    case 2:
        c = (dl_cmd){.kind = DL_CMD_FREEZE, .arg = -1};
        break;
    case 3:
        c = (dl_cmd){.kind = DL_CMD_UNFREEZE};
        break;
    case 4:
        c = (dl_cmd){.kind = DL_CMD_SCALE_LR, .factor = 2};
        break;
    case 5:
        c = (dl_cmd){.kind = DL_CMD_SCALE_LR, .factor = 0.5};
        break;
    case 6:
        c = (dl_cmd){.kind = DL_CMD_SET_LR, .lr = {DL_LR_RANGE, 1e-5, 1e-3}};
        break;
    case 7:
        c = (dl_cmd){.kind = DL_CMD_PAUSE};
        dl_control_post(p->c, &c, NULL);
        c = (dl_cmd){.kind = DL_CMD_RESUME};
        break;
    case 8:
        c = (dl_cmd){.kind = DL_CMD_SAVE};
        break;
    case 9:
        c = (dl_cmd){.kind = DL_CMD_LRFIND};
        break;
    case 10:
        c = (dl_cmd){.kind = DL_CMD_SAVE};
        break;
    case 11:
        c = (dl_cmd){.kind = DL_CMD_STOP_AFTER_EPOCH};
        break;
    default:
        break;
    }
    if (dl_learner_step(l) == 10)
        dl_store_set_checkpoint_writer(p->st,
                                       full_disk); /* the save at step 10 meets a full disk */
    if (c.kind != DL_CMD_COUNT)
        dl_control_post(p->c, &c, NULL);
    return DL_OK;
}

START_TEST(every_key_is_applied_at_a_boundary_and_logged_in_the_event_log_and_store)
{
    fx f;
    fx_init(&f, false, true, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    char *dir = tu_mkdtemp();
    dl_store *st;
    dl_err err;
    ck_assert_msg(dl_store_open(dir, 0, &st, &err) == DL_OK, "%s", err.msg);
    dl_run_spec spec = {.name_prefix = "keys", .dataset = "synthetic", .arch = ARCH};
    int64_t run;
    char name[DL_STORE_NAME_MAX];
    ck_assert_int_eq(dl_store_run_create(st, &spec, &run, name, sizeof name, &err), DL_OK);
    dl_learner_attach_store(f.l, st, run);
    key_probe p = {.c = f.c, .st = st};
    dl_learner_add_callback(f.l, key_cb, &p, &err);
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_CONST, 3, 1e-3);
    ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
    ck_assert(dl_learner_stopped(f.l));
    ck_assert_uint_eq(dl_learner_step(f.l), 16); /* e: the fit ended with its epoch */

    /* The control's events (what the dashboard's feed copies), in order, each at its boundary. */
    static const struct {
        const char *text;
        uint64_t step;
    } want[] = {{"freeze 2", 2},
                {"unfreeze 0", 3},
                {"lr-change scale 2", 4},
                {"lr-change scale 0.5", 5},
                {"lr-change set 1e-05..0.001", 6},
                {"pause", 7},
                {"resume", 7},
                {"checkpoint step-8", 8},
                {"lr-find-start", 9},
                {"lr-find-end", 9},
                {"checkpoint-failed step-10: ", 10},
                {"stop after epoch", 11},
                {"checkpoint epoch-0", 16}};
    const size_t nw = sizeof want / sizeof want[0];
    dl_event ev[DL_CONTROL_EVENTS];
    uint64_t since = 0;
    size_t n = dl_control_read_events(f.c, &since, ev, DL_CONTROL_EVENTS, NULL), w = 0;
    for (size_t i = 0; i < n && w < nw; i++)
        if (strncmp(ev[i].text, want[w].text, strlen(want[w].text)) == 0) {
            ck_assert_msg(ev[i].step == want[w].step, "'%s' at step %llu, wanted %llu", ev[i].text,
                          (unsigned long long)ev[i].step, (unsigned long long)want[w].step);
            ck_assert_int_eq(ev[i].n_groups, 3);
            w++;
        }
    ck_assert_msg(w == nw, "event log: only %zu of %zu found in order (missing '%s')", w, nw,
                  want[w].text);
    for (size_t i = 0; i < n; i++)
        if (strncmp(ev[i].text, "checkpoint-failed", 17) == 0)
            ck_assert_msg(strstr(ev[i].text, "No space left") != NULL, "%s", ev[i].text);
        else if (strncmp(ev[i].text, "lr-change set", 13) ==
                 0) /* the resulting lrs: even_mults(1e-5, 1e-3) */
            ck_assert(fabs(ev[i].lr[0] - 1e-5) < 1e-12 && fabs(ev[i].lr[1] - 1e-4) < 1e-11 &&
                      fabs(ev[i].lr[2] - 1e-3) < 1e-10);

    /* The store: one event per key with its step, a time, the lr per group and the frozen state. */
    dl_event_row *er;
    size_t ne;
    ck_assert_int_eq(dl_store_events(st, run, -1, &er, &ne, &err), DL_OK);
    static const struct {
        const char *kind;
        int64_t step;
        const char *frozen;
    } key[] = {{"freeze", 2, "\"frozen_to\":2"},      {"unfreeze", 3, "\"frozen_to\":0"},
               {"lr-change", 4, "\"lr\":["},          {"lr-change", 5, "\"lr\":["},
               {"lr-change", 6, "\"lr\":[1e-05,"},    {"pause", 7, "\"frozen_to\":0"},
               {"resume", 7, "\"frozen_to\":0"},      {"save", 8, "step-8"},
               {"lr-find-start", 9, "\"lr\":["},      {"save", 10, "failed"},
               {"checkpoint-failed", 10, "No space"}, {"stop", 11, "after epoch"}};
    for (size_t k = 0; k < sizeof key / sizeof key[0]; k++) {
        bool found = false;
        for (size_t i = 0; i < ne && !found; i++)
            found = strcmp(er[i].kind, key[k].kind) == 0 && er[i].step == key[k].step &&
                    er[i].t > 0 && strstr(er[i].payload, key[k].frozen) != NULL &&
                    (strcmp(er[i].kind, "checkpoint-failed") == 0 ||
                     strstr(er[i].payload, "\"lr\":[") != NULL);
        ck_assert_msg(found, "no store event %s at step %lld with %s", key[k].kind,
                      (long long)key[k].step, key[k].frozen);
    }
    dl_events_free(er, ne);
    dl_store_close(st);
    tu_rmtree(dir);
    free(dir);
    fx_free(&f);
}
END_TEST

/* A 16x16 grey PNG. */
static void write_png(const char *path, int seed)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    png_init_io(p, fp);
    png_set_IHDR(p, info, 16, 16, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    unsigned char row[16];
    for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 16; x++)
            row[x] = (unsigned char)((x * 13 + y * 7 + seed * 31) % 256);
        png_write_row(p, row);
    }
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    fclose(fp);
}

/* The data pipeline's skipped files reach the event log: the count and the first three names. */
START_TEST(skipped_files_reach_the_event_log)
{
    char *d = tu_mkdtemp(), path[1300];
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/c%d", d, c);
        ck_assert_int_eq(mkdir(path, 0777), 0);
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/c%d/img%d.png", d, c, i);
            write_png(path, c * 3 + i);
            snprintf(path, sizeof path, "%s/c%d/notes%d%d.mat", d, c, c, i);
            FILE *fp = fopen(path, "w");
            ck_assert_ptr_nonnull(fp);
            fputs("not an image", fp);
            fclose(fp);
        }
    }
    dl_data_config cfg;
    dl_data_config_init(&cfg);
    cfg.source = d;
    cfg.size = 8;
    cfg.valid_pct = 0.34;
    dl_dataset *ds = NULL;
    dl_err err;
    ck_assert_msg(dl_data_open(&cfg, &ds, &err) == DL_OK, "%s", err.msg);
    ck_assert_uint_eq(dl_data_n_skipped(ds), 6);
    fx f;
    fx_init(&f, false, true, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    dl_learner_note_skipped(f.l, ds);
    dl_event ev[8];
    uint64_t since = 0;
    size_t n = dl_control_read_events(f.c, &since, ev, 8, NULL);
    ck_assert_uint_eq(n, 1);
    ck_assert_msg(strncmp(ev[0].text, "warning skipped 6 input files: notes", 36) == 0, "%s",
                  ev[0].text);
    ck_assert_msg(strstr(ev[0].text, ".mat, ...") != NULL, "%s",
                  ev[0].text); /* three names, then ... */
    int names = 0;
    for (const char *q = ev[0].text; (q = strstr(q, ".mat")) != NULL; q++)
        names++;
    ck_assert_int_eq(names, 3);
    dl_data_close(ds);
    fx_free(&f);
    tu_rmtree(d);
    free(d);
}
END_TEST

/* ---- trackers ---- */
typedef struct track_probe {
    double valid[16];
    int n;
    float *w_at[16];
    size_t nw;
} track_probe;

static dl_status track_cb(dl_learner *l, dl_event_kind ev, void *user, dl_err *err)
{
    track_probe *p = user;
    if (ev == DL_EV_AFTER_VALIDATE && p->n < 16) {
        /* make the monitored value follow a script: improve, improve, worse, worse, ... */
        static const double script[] = {1.0, 0.5, 0.6, 0.7, 0.4, 0.9, 0.9, 0.9};
        dl_learner_set_valid_loss(l, script[p->n % 8]);
    }
    if (ev == DL_EV_AFTER_EPOCH && p->n < 16) {
        dl_params *ps = dl_model_params(dl_learner_model(l));
        p->valid[p->n] = dl_learner_epoch_row(l)->valid_loss;
        p->w_at[p->n] = malloc(ps->total * sizeof(float));
        memcpy(p->w_at[p->n], ps->data, ps->total * sizeof(float));
        p->nw = ps->total;
        p->n++;
    }
    return DL_OK;
}

/* Predictions of the whole validation set, checked against the targets' kind. */
typedef struct preds {
    float *logits, *tf;
    int32_t *ti;
    int n, k;
} preds;

static preds get_preds(dl_learner *l)
{
    preds p;
    dl_err err;
    ck_assert_msg(dl_learner_get_preds(l, &p.logits, &p.ti, &p.tf, &p.n, &p.k, &err) == DL_OK, "%s",
                  err.msg);
    return p;
}

static void preds_eq(const preds *a, const preds *b)
{
    ck_assert_int_eq(a->n, b->n);
    ck_assert_int_eq(a->k, b->k);
    ck_assert(memcmp(a->logits, b->logits, sizeof(float) * (size_t)a->n * a->k) == 0);
    ck_assert((a->ti == NULL) == (b->ti == NULL) && (a->tf == NULL) == (b->tf == NULL));
    if (a->ti)
        ck_assert(memcmp(a->ti, b->ti, sizeof(int32_t) * (size_t)a->n) == 0);
    if (a->tf)
        ck_assert(memcmp(a->tf, b->tf, sizeof(float) * (size_t)a->n * a->k) == 0);
}

static void preds_free(preds *p) { free(p->logits), free(p->ti), free(p->tf); }

START_TEST(early_stopping_plateau_and_load_best)
{
    fx f;
    fx_init(&f, false, true, DL_METRIC_ACCURACY, DL_HEAD_TORCHVISION);
    dl_learner_cfg *cfg = (dl_learner_cfg *)dl_learner_config(f.l);
    cfg->patience = 2;
    cfg->plateau_factor = 10;
    cfg->plateau_patience = 1;
    cfg->load_best = true;
    track_probe p = {0};
    dl_err err;
    dl_learner_add_callback(f.l, track_cb, &p, &err);
    dl_fit_opts o;
    dl_fit_opts_init(&o, DL_FIT_CONST, 8, 1e-3);
    o.lr.kind = DL_LR_CONST;
    ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
    /* valid 1.0, 0.5 (best), 0.6, 0.7 -> two epochs without improvement: stop after epoch 3 */
    ck_assert_int_eq(p.n, 4);
    /* plateau divided the lr by 10 after epoch 2 and again after epoch 3 */
    ck_assert_double_eq_tol(dl_learner_optim(f.l)->h[0].lr, 1e-5, 1e-15);
    /* load_best: the weights are those at the end of epoch 1 */
    dl_params *ps = dl_model_params(f.m);
    ck_assert(memcmp(p.w_at[1], ps->data, p.nw * sizeof(float)) == 0);
    ck_assert(memcmp(p.w_at[3], ps->data, p.nw * sizeof(float)) != 0);
    /* the interpretation takes the best epoch's validation: no pass, the numbers of a fresh one */
    int passes = f.va.passes;
    preds best = get_preds(f.l);
    ck_assert_int_eq(f.va.passes, passes);
    double vl, vm[DL_SNAP_METRICS];
    ck_assert_msg(dl_learner_validate(f.l, &vl, vm, &err) == DL_OK, "%s", err.msg);
    preds fresh = get_preds(f.l);
    ck_assert_int_eq(f.va.passes, passes + 1);
    preds_eq(&best, &fresh);
    preds_free(&best), preds_free(&fresh);
    dl_snapshot s;
    dl_control_read(f.c, &s);
    ck_assert_msg(strstr(s.message, "No improvement since epoch 1: early stopping") != NULL, "%s",
                  s.message);
    for (int i = 0; i < p.n; i++)
        free(p.w_at[i]);
    fx_free(&f);
}
END_TEST

/* The interpretation after a fit takes the last validation's predictions: no second pass over the
 * validation set, and the same numbers a fresh pass gives; changed weights force a new pass. */
START_TEST(get_preds_after_a_fit_reuses_the_last_validation_pass)
{
    for (int multi = 0; multi < 2; multi++) {
        fx f;
        fx_init(&f, multi, false, multi ? DL_METRIC_ACCURACY_MULTI : DL_METRIC_ACCURACY,
                DL_HEAD_TORCHVISION);
        dl_err err;
        dl_fit_opts o;
        dl_fit_opts_init(&o, DL_FIT_ONE_CYCLE, 2, 1e-2);
        ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
        ck_assert_int_eq(f.va.passes, 2);
        preds a = get_preds(f.l);
        ck_assert_int_eq(f.va.passes, 2); /* no pass of its own */
        ck_assert_int_eq(a.n, f.va.n);
        ck_assert(multi ? a.tf != NULL && a.ti == NULL : a.ti != NULL && a.tf == NULL);
        double loss, m[DL_SNAP_METRICS];
        ck_assert_msg(dl_learner_validate(f.l, &loss, m, &err) == DL_OK, "%s", err.msg);
        ck_assert_int_eq(f.va.passes, 3);
        preds b = get_preds(f.l);
        ck_assert_int_eq(f.va.passes, 3);
        preds_eq(&a, &b);
        /* a checkpoint load replaces the weights: the cache no longer answers */
        dl_tensor_map map;
        dl_tensor_map_init(&map);
        ck_assert_msg(dl_learner_state_to_map(f.l, &map, &err) == DL_OK, "%s", err.msg);
        ck_assert_msg(dl_learner_state_from_map(f.l, &map, &err) == DL_OK, "%s", err.msg);
        dl_tensor_map_free(&map);
        preds c = get_preds(f.l);
        ck_assert_int_eq(f.va.passes, 4);
        preds_eq(&a, &c); /* the same weights came back */
        /* a further epoch trains: the next answer is the new epoch's validation, not the old one */
        dl_fit_opts_init(&o, DL_FIT_CONST, 1, 1e-2);
        o.lr.kind = DL_LR_CONST;
        ck_assert_msg(dl_learner_fit(f.l, &o, &err) == DL_OK, "%s", err.msg);
        ck_assert_int_eq(f.va.passes, 5);
        preds d = get_preds(f.l);
        ck_assert_int_eq(f.va.passes, 5);
        ck_assert(memcmp(a.logits, d.logits, sizeof(float) * (size_t)a.n * a.k) != 0);
        ck_assert_msg(dl_learner_validate(f.l, &loss, m, &err) == DL_OK, "%s", err.msg);
        preds e = get_preds(f.l);
        preds_eq(&d, &e);
        preds_free(&a), preds_free(&b), preds_free(&c), preds_free(&d), preds_free(&e);
        fx_free(&f);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("learn");
    TCase *tc = tcase_create("learner");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, commands_apply_at_the_next_boundary_and_are_logged);
    tcase_add_test(tc, pause_blocks_until_resume_and_stop_now_ends_the_fit);
    tcase_add_test(tc, paused_training_stops_the_clock_of_img_s_and_eta);
    tcase_add_test(tc, validation_publishes_its_progress_and_eta);
    tcase_add_test(tc, freeze_keeps_frozen_convs_bit_identical_while_bn_and_head_move);
    tcase_add_test(tc, lr_find_restores_weights_buffers_and_optimiser_bit_exactly);
    tcase_add_test(tc, resume_from_a_mid_epoch_stop_reproduces_the_uninterrupted_losses);
    tcase_add_test(tc, nan_loss_restores_last_good_weights_and_marks_diverged);
    tcase_add_test(tc, an_exploding_finite_loss_is_divergence_before_nan);
    tcase_add_test(tc, with_a_ui_divergence_pauses_and_training_continues_after_resume);
    tcase_add_test(tc, checkpoints_each_epoch_in_the_store_with_the_best_flagged);
    tcase_add_test(tc, lrfind_command_mid_fit_leaves_the_training_unchanged);
    tcase_add_test(tc, fine_tune_runs_fastais_two_phases);
    tcase_add_test(tc, fine_tune_numbers_store_epochs_over_both_phases);
    tcase_add_test(tc, fine_tune_phases_are_tagged_and_not_done_between);
    tcase_add_test(tc, fine_tune_resumes_in_either_phase_reproducing_the_losses);
    tcase_add_test(tc, every_key_is_applied_at_a_boundary_and_logged_in_the_event_log_and_store);
    tcase_add_test(tc, skipped_files_reach_the_event_log);
    tcase_add_test(tc, early_stopping_plateau_and_load_best);
    tcase_add_test(tc, get_preds_after_a_fit_reuses_the_last_validation_pass);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("learning");
    tcase_set_timeout(tl, 120);
    tcase_add_test(tl, learns_the_synthetic_task_single_and_multi_label);
    suite_add_tcase(s, tl);
    return tu_run(s);
}
