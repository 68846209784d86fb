/* screen-train: the live training dashboard. It reads the learner's progress through a dl_feed
 * (snapshot + curve points + events copied out of the dl_control) and turns keys into control
 * commands; the trainer applies them at the next batch boundary and logs each as an event, so
 * the header shows the *applied* state, never the requested one. It never touches the model.
 * Panels (ui/layout): header, progress bar, loss plot (train raw dim + smoothed, valid per
 * epoch; x by step/epoch, y linear/log, smoothing [ ]), lr/momentum strip with the current
 * position, fastai's epoch table, event log, key bar. Tab switches the big plot between loss, lr
 * and the last LR-finder curve. `=` opens a prompt for an lr in the --lr grammar. On divergence
 * it shows a banner offering a lower lr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lrfind/lrfind.h"
#include "ui/canvas.h"
#include "ui/layout.h"
#include "ui/plot.h"
#include "ui/series.h"
#include "ui/screens.h"

static const double betas[] = {0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995};
#define N_BETAS ((int)(sizeof betas / sizeof betas[0]))

enum { PANEL_LOSS = 0, PANEL_LR, PANEL_LRFIND, N_PANELS };

typedef struct train_state {
    dl_control *ctl;
    dl_feed *feed, own_feed;
    char run[96], data[128], arch[48];
    dl_train_hooks hooks;
    int x_epochs, ylog, beta_i, panel;
    int prompt; /* '=' prompt open */
    char input[48];
    int ninput;
} train_state;

/* The current fit has ended (the last one, or fine_tune's frozen phase). */
static int ended(const train_state *st)
{
    dl_phase ph = st->feed->snap.phase;
    return ph == DL_PHASE_DONE || ph == DL_PHASE_STOPPED || ph == DL_PHASE_FAILED;
}

static int post(train_state *st, dl_app *app, dl_cmd cmd)
{
    dl_err err;
    if (!st->ctl) {
        dl_app_message(app, "this run is not training here: nothing to steer");
        return DL_R_REDRAW;
    }
    if (dl_control_post(st->ctl, &cmd, &err) != DL_OK) {
        dl_app_message(app, err.msg);
        return DL_R_REDRAW;
    }
    char msg[256];
    dl_cmd_describe(&cmd, st->feed->snap.phase, msg, sizeof msg);
    dl_app_message(app, msg);
    return DL_R_REDRAW;
}

static int prompt_key(train_state *st, int key, dl_app *app)
{
    if (key == DL_KEY_ESC) {
        st->prompt = 0;
        return DL_R_REDRAW;
    }
    if (key == DL_KEY_BACKSPACE) {
        if (st->ninput > 0)
            st->input[--st->ninput] = '\0';
        return DL_R_REDRAW;
    }
    if (key == DL_KEY_ENTER || key == '\r') {
        dl_lr_spec lr;
        st->prompt = 0;
        if (dl_lr_parse(st->input, &lr, NULL) != DL_OK) { /* the --lr grammar */
            char msg[160];
            snprintf(msg, sizeof msg,
                     "'%s' is not an lr: 1e-3 (every group), ..1e-3 (slice), 1e-5..1e-3 (spread)",
                     st->input);
            dl_app_message(app, msg);
            return DL_R_REDRAW;
        }
        return post(st, app, (dl_cmd){.kind = DL_CMD_SET_LR, .lr = lr});
    }
    if (key >= 32 && key < 127 && st->ninput < (int)sizeof st->input - 1) {
        st->input[st->ninput++] = (char)key;
        st->input[st->ninput] = '\0';
    }
    return DL_R_REDRAW;
}

static int train_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    train_state *st = s->self;
    if (st->prompt)
        return prompt_key(st, key, app);
    switch (a) {
    case DL_ACT_QUIT:
        if (st->hooks.quit) /* an attached screen asks: stop the training, or only detach? */
            return st->hooks.quit(st->hooks.user, key, app);
        /* The app asked already (or Ctrl-C, key -1): stop now; the trainer saves its state at
         * the boundary. A signal also raises the control's flag, as the trainer expects. */
        if (key < 0 && st->ctl)
            dl_control_signal_raise();
        if (st->ctl && st->feed->snap.phase != DL_PHASE_DONE &&
            st->feed->snap.phase != DL_PHASE_STOPPED)
            post(st, app, (dl_cmd){.kind = DL_CMD_STOP_NOW});
        return DL_R_QUIT;
    case DL_ACT_FREEZE:
        return post(st, app, (dl_cmd){.kind = DL_CMD_FREEZE, .arg = -1});
    case DL_ACT_UNFREEZE:
        return post(st, app, (dl_cmd){.kind = DL_CMD_UNFREEZE});
    case DL_ACT_LR_UP:
        return post(st, app, (dl_cmd){.kind = DL_CMD_SCALE_LR, .factor = 2});
    case DL_ACT_LR_DOWN:
        return post(st, app, (dl_cmd){.kind = DL_CMD_SCALE_LR, .factor = 0.5});
    case DL_ACT_PAUSE:
        return post(st, app,
                    (dl_cmd){.kind = st->feed->snap.phase == DL_PHASE_PAUSED ? DL_CMD_RESUME
                                                                             : DL_CMD_PAUSE});
    case DL_ACT_SAVE:
        return post(st, app, (dl_cmd){.kind = DL_CMD_SAVE});
    case DL_ACT_LRFIND: {
        if (!st->ctl || ended(st)) {
            /* A saved run: show its last sweep. */
            dl_screen ls;
            dl_err err;
            if (st->feed->lrfind.n == 0) {
                dl_app_message(app, "this run has no LR-finder curve");
                return DL_R_REDRAW;
            }
            if (dl_screen_lrfind(&ls, NULL, st->feed, 0, NULL, &err) == DL_OK &&
                dl_app_push(app, &ls) != 0)
                ls.close(&ls);
            return DL_R_REDRAW;
        }
        /* The finder's own screen shares this feed; the dashboard keeps its panel (Tab shows the
         * last curve there too). */
        int r = post(st, app, (dl_cmd){.kind = DL_CMD_LRFIND});
        dl_screen ls;
        dl_err err;
        if (dl_screen_lrfind(&ls, st->ctl, st->feed, 0, NULL, &err) == DL_OK &&
            dl_app_push(app, &ls) != 0)
            ls.close(&ls);
        return r;
    }
    case DL_ACT_STOP_EPOCH:
        return post(st, app, (dl_cmd){.kind = DL_CMD_STOP_AFTER_EPOCH});
    case DL_ACT_DETACH:
        if (st->hooks.detach && !ended(st))
            return st->hooks.detach(st->hooks.user, app);
        dl_app_message(app, ended(st) ? "the training has ended: nothing to detach from"
                                      : "this screen cannot detach (q quits)");
        return DL_R_REDRAW;
    case DL_ACT_LR_SET:
        st->prompt = 1;
        st->ninput = 0;
        st->input[0] = '\0';
        return DL_R_REDRAW;
    case DL_ACT_X_AXIS:
        st->x_epochs = !st->x_epochs;
        return DL_R_REDRAW;
    case DL_ACT_Y_LOG:
        st->ylog = !st->ylog;
        return DL_R_REDRAW;
    case DL_ACT_SMOOTH_LESS:
        if (st->beta_i > 0)
            st->beta_i--;
        return DL_R_REDRAW;
    case DL_ACT_SMOOTH_MORE:
        if (st->beta_i < N_BETAS - 1)
            st->beta_i++;
        return DL_R_REDRAW;
    case DL_ACT_NEXT_PANEL:
        st->panel = (st->panel + 1) % N_PANELS;
        return DL_R_REDRAW;
    case DL_ACT_CONFUSION:
    case DL_ACT_TOP_LOSSES: {
        char msg[160] = "";
        int (*fn)(void *, dl_app *, char *, int) =
            a == DL_ACT_CONFUSION ? st->hooks.confusion : st->hooks.top_losses;
        if (!fn || fn(st->hooks.user, app, msg, sizeof msg) != 0)
            dl_app_message(
                app,
                msg[0] ? msg : "not available until a validation has run (see dllab show RUN)");
        return DL_R_REDRAW;
    }
    default:
        return DL_R_UNHANDLED;
    }
}

static int train_tick(dl_screen *s, dl_app *app)
{
    train_state *st = s->self;
    (void)app;
    if (st->hooks.tick)
        return st->hooks.tick(st->hooks.user, st->feed, app);
    /* Pulling is idempotent (by sequence number), so a feed shared with the LR-finder screen may
     * be pulled by either. */
    return dl_feed_pull(st->feed) ? DL_R_REDRAW : DL_R_NONE;
}

static void draw_header(train_state *st, dl_grid *g, dl_rect r)
{
    const dl_snapshot *sn = &st->feed->snap;
    int x = r.x;
    x += dl_grid_text(g, x, r.y, r.w, DL_ROLE_TITLE, DL_ATTR_BOLD, st->run);
    x += 2;
    const char *ph = st->feed->status[0] ? st->feed->status : dl_phase_name(sn->phase);
    int role = sn->phase == DL_PHASE_DIVERGED || sn->phase == DL_PHASE_FAILED ? DL_ROLE_BAD
               : sn->phase == DL_PHASE_PAUSED                                 ? DL_ROLE_WARN
                                                                              : DL_ROLE_GOOD;
    int pw = dl_utf8_width(ph) + 2;
    /* the data text stops before the phase, so a long one never shows through it ("failedr") */
    int dw = r.x + r.w - pw - x;
    if (dw > 0)
        x += dl_grid_textf(g, x, r.y, dw, DL_ROLE_DEFAULT, 0, "data %s  arch %s", st->data,
                           st->arch);
    dl_grid_textf(g, r.x + r.w - pw, r.y, pw, role, DL_ATTR_BOLD | DL_ATTR_REVERSE, " %s", ph);
    /* Second row: groups, frozen state, lr per group, momentum. */
    char line[256], lr[24];
    int k = 0;
    if (sn->n_groups > 0) {
        if (sn->frozen_to > 0)
            k += snprintf(line + k, sizeof line - (size_t)k, "groups %d, frozen 0-%d  lr",
                          sn->n_groups, sn->frozen_to - 1);
        else
            k += snprintf(line + k, sizeof line - (size_t)k, "groups %d, unfrozen  lr",
                          sn->n_groups);
        for (int i = 0; i < sn->n_groups && i < DL_MAX_GROUPS && k < (int)sizeof line - 24; i++) {
            dl_fmt_lr(sn->lr[i], lr, sizeof lr);
            k += snprintf(line + k, sizeof line - (size_t)k, " %s", lr);
        }
        snprintf(line + k, sizeof line - (size_t)k, "  mom %.3g", sn->mom);
    } else {
        snprintf(line, sizeof line, "waiting for the trainer...");
    }
    dl_grid_text(g, r.x, r.y + 1, r.w, DL_ROLE_DEFAULT, 0, line);
}

static void draw_progress(train_state *st, dl_grid *g, dl_rect r, int ascii)
{
    const dl_snapshot *sn = &st->feed->snap;
    char left[64], right[96];
    /* fine_tune's frozen phase says so: "frozen epoch 1/1", then "epoch 1/N" */
    snprintf(left, sizeof left, "%sepoch %d/%d ", sn->frozen_fit ? "frozen " : "",
             sn->n_epochs ? sn->epoch + 1 : 0, sn->n_epochs);
    double frac = dl_progress_right(sn, right, sizeof right);
    int lw = dl_grid_text(g, r.x, r.y, r.w, DL_ROLE_DEFAULT, 0, left);
    int rw = dl_utf8_width(right);
    int bw = r.w - lw - rw;
    if (bw > 4) {
        int fill = (int)(frac * bw + 0.5);
        for (int i = 0; i < bw; i++)
            dl_grid_put(g, r.x + lw + i, r.y,
                        i < fill ? (ascii ? '#' : 0x2588) : (ascii ? '-' : 0x2591),
                        i < fill ? DL_ROLE_TRAIN : DL_ROLE_DIM, 0);
    }
    dl_grid_text(g, r.x + r.w - rw, r.y, rw, DL_ROLE_DEFAULT, 0, right);
}

/* A series as drawn: its raw samples while they are few, else its summary (series.h), so a frame
 * costs the same at 1 000 and 1 000 000 batches. per_point: samples each drawn point stands for
 * (the EMA's factor is raised to it). The summary's points live in buf (6 * DL_SUMMARY_BINS). */
typedef struct drawn {
    const float *x, *y, *z;
    int n;
    double per_point;
} drawn;

static drawn view(const dl_feed_series *s, float *buf)
{
    if (!buf || s->n <= 2 * DL_SUMMARY_BINS || !s->sum.bins)
        return (drawn){s->x, s->y, s->z, s->n, 1};
    float *x = buf, *y = buf + 2 * DL_SUMMARY_BINS, *z = buf + 4 * DL_SUMMARY_BINS;
    int n = dl_summary_points(&s->sum, x, y, z);
    return (drawn){x, y, z, n, s->sum.per_bin / 2.0};
}

/* Events the user (or the plateau tracker) steered with: ticks on the loss plot's x axis. */
static bool steering(const char *text)
{
    static const char *const kinds[] = {"lr-change", "freeze", "unfreeze", "pause",
                                        "resume",    "stop",   "save",     "lr-find-start"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        size_t n = strlen(kinds[i]);
        if (!strncmp(text, kinds[i], n) && (text[n] == ' ' || !text[n]))
            return true;
    }
    return false;
}

/* Ticks under the canvas, on the x axis, at each steering event's step. */
static void draw_event_ticks(const train_state *st, const dl_plot *p, const dl_plot_frame *fr,
                             dl_grid *g, int ascii)
{
    if (!fr->ok)
        return;
    double pw = fr->canvas.w * 2 - 1;
    int axis_y = fr->canvas.y + fr->canvas.h;
    for (int i = 0; i < dl_feed_events_kept(st->feed); i++) {
        const dl_event *e = dl_feed_event(st->feed, i);
        if (!steering(e->text))
            continue;
        double x = (double)e->step / (p->x_epochs ? p->steps_per_epoch : 1);
        double px = dl_axis_map(&fr->xaxis, x, 0, pw);
        if (!isfinite(px) || px < -0.5 || px > pw + 0.5)
            continue;
        dl_grid_put(g, fr->canvas.x + (int)lround(px) / 2, axis_y, ascii ? '^' : 0x25B2,
                    !strncmp(e->text, "unfreeze", 8) ? DL_ROLE_MARKER : DL_ROLE_WARN, DL_ATTR_BOLD);
    }
}

static void draw_loss(train_state *st, dl_grid *g, dl_rect r, int ascii)
{
    const dl_feed *f = st->feed;
    char title[64];
    snprintf(title, sizeof title, "loss (smoothing %.3g)", betas[st->beta_i]);
    dl_plot p;
    dl_plot_init(&p, title);
    p.ascii = ascii;
    p.ylog = st->ylog;
    p.x_epochs = st->x_epochs;
    p.steps_per_epoch = f->snap.n_batches > 0 ? f->snap.n_batches : 1;
    float *buf = malloc(sizeof(float) * 6 * DL_SUMMARY_BINS);
    drawn t = view(&f->train, buf);
    p.beta = pow(betas[st->beta_i], t.per_point);
    dl_plot_add(&p, (dl_plot_series){"raw", t.x, t.y, t.n, DL_ROLE_TRAIN_RAW, DL_ATTR_DIM,
                                     DL_PLOT_LINE, 0});
    if (st->beta_i > 0)
        dl_plot_add(&p,
                    (dl_plot_series){"train", t.x, t.y, t.n, DL_ROLE_TRAIN, 0, DL_PLOT_LINE, 1});
    dl_plot_add(&p, (dl_plot_series){"valid", f->valid.x, f->valid.y, f->valid.n, DL_ROLE_VALID, 0,
                                     DL_PLOT_LINE_POINTS, 0});
    /* where the body was unfrozen (fine_tune's second phase, or the 'u' key): a vertical line */
    for (int i = 0; i < dl_feed_events_kept(f); i++) {
        const dl_event *e = dl_feed_event(f, i);
        if (!strncmp(e->text, "unfreeze", 8))
            dl_plot_add_marker(&p, (double)e->step, DL_ROLE_MARKER, 'u');
    }
    dl_plot_frame fr;
    dl_plot_draw(&p, g, r, &fr);
    draw_event_ticks(st, &p, &fr, g, ascii);
    free(buf);
}

static void draw_lr_plot(train_state *st, dl_grid *g, dl_rect r, int ascii)
{
    const dl_feed *f = st->feed;
    dl_plot p;
    dl_plot_init(&p, "learning rate (last group)");
    p.ascii = ascii;
    p.x_epochs = st->x_epochs;
    p.steps_per_epoch = f->snap.n_batches > 0 ? f->snap.n_batches : 1;
    float *buf = malloc(sizeof(float) * 6 * DL_SUMMARY_BINS);
    drawn t = view(&f->train, buf);
    dl_plot_add(&p, (dl_plot_series){"lr", t.x, t.z, t.n, DL_ROLE_TRAIN, 0, DL_PLOT_LINE, 0});
    dl_plot_draw(&p, g, r, NULL);
    free(buf);
}

/* One series of the schedule strip, scaled to its own range (a constant one sits mid-height),
 * decimated first: a frame must not cost one line per batch of a long run. Returns the x of its
 * last dot (NAN when nothing was drawn). */
static double strip_line(dl_canvas *cv, const float *x, const float *y, int n, double x_lo,
                         double x_hi, int w, double W, double H, int role)
{
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        lo = fminf(lo, y[i]);
        hi = fmaxf(hi, y[i]);
    }
    bool flat = !(hi > lo);
    int buckets = w * 2;
    float *dx = malloc(sizeof(float) * (2 * buckets + 2)),
          *dy = malloc(sizeof(float) * (2 * buckets + 2));
    int m = dx && dy ? dl_series_decimate(x, y, n, buckets, dx, dy) : 0;
    double px0 = NAN, py0 = NAN;
    for (int i = 0; i < m; i++) {
        double px = (dx[i] - x_lo) / (x_hi - x_lo) * W,
               py = flat ? H / 2 : H - (dy[i] - lo) / (hi - lo) * H;
        if (isfinite(px0))
            dl_canvas_line(cv, px0, py0, px, py, role, 0);
        px0 = px;
        py0 = py;
    }
    free(dx);
    free(dy);
    return px0;
}

static void draw_sched(train_state *st, dl_grid *g, dl_rect r, int ascii)
{
    /* A strip: the lr (and the momentum, when the points carry it) over the steps seen so far,
     * each on its own scale, the current step marked. */
    const dl_feed *f = st->feed;
    dl_grid_text(g, r.x, r.y, 3, DL_ROLE_TRAIN, 0, "lr");
    char lr[24];
    if (f->train.n > 0) {
        dl_fmt_lr(f->train.z[f->train.n - 1], lr, sizeof lr);
        dl_grid_text(g, r.x, r.y + 1, 8, DL_ROLE_DEFAULT, 0, lr);
    }
    float *buf = malloc(sizeof(float) * 12 * DL_SUMMARY_BINS);
    drawn t = view(&f->train, buf), m = view(&f->mom, buf ? buf + 6 * DL_SUMMARY_BINS : NULL);
    bool has_mom = false;
    for (int i = 0; i < m.n && !has_mom; i++)
        has_mom = m.y[i] > 0;
    dl_grid_textf(g, r.x, r.y + 2, 8, has_mom ? DL_ROLE_VALID : DL_ROLE_DIM, 0, "mom %.2g",
                  f->snap.mom);
    int x0 = r.x + 9, w = r.w - 9;
    dl_canvas *cv = w < 4 || f->train.n < 2 ? NULL : dl_canvas_new(w, r.h);
    if (!cv) {
        free(buf);
        return;
    }
    double W = w * 2 - 1, H = r.h * 4 - 1;
    /* The planned length is unknown to the UI; scale x to the fit's total steps when known. */
    double total = (double)f->snap.n_epochs * f->snap.n_batches;
    double x_lo = f->train.x[0],
           x_hi = total > f->train.x[f->train.n - 1] ? x_lo + total : f->train.x[f->train.n - 1];
    if (!(x_hi > x_lo))
        x_hi = x_lo + 1;
    /* momentum first, so the lr wins the cells they share */
    if (has_mom && m.n >= 2)
        strip_line(cv, m.x, m.y, m.n, x_lo, x_hi, w, W, H, DL_ROLE_VALID);
    double px = strip_line(cv, t.x, t.z, t.n, x_lo, x_hi, w, W, H, DL_ROLE_TRAIN);
    for (int y = 0; y <= (int)H && isfinite(px); y += 2)
        dl_canvas_dot(cv, (int)lround(px), y, DL_ROLE_CURSOR, DL_ATTR_BOLD);
    dl_canvas_render(cv, g, x0, r.y, ascii);
    dl_canvas_free(cv);
    free(buf);
}

static void draw_events(train_state *st, dl_grid *g, dl_rect r, int ascii)
{
    const dl_feed *f = st->feed;
    dl_grid_box(g, r, ascii, "events");
    int h = r.h - 2, kept = dl_feed_events_kept(f);
    int first = kept > h ? kept - h : 0;
    for (int i = first; i < kept; i++) {
        const dl_event *e = dl_feed_event(f, i);
        int role = strstr(e->text, "diverge") || strstr(e->text, "error") || strstr(e->text, "fail")
                       ? DL_ROLE_BAD
                   : strstr(e->text, "warn") || strstr(e->text, "skip") ? DL_ROLE_WARN
                                                                        : DL_ROLE_DEFAULT;
        int x = r.x + 1;
        x += dl_grid_textf(g, x, r.y + 1 + i - first, 8, DL_ROLE_DIM, 0, "%7llu ",
                           (unsigned long long)e->step);
        dl_grid_text(g, x, r.y + 1 + i - first, r.x + r.w - 1 - x, role, 0, e->text);
    }
    if (f->dropped)
        dl_grid_textf(g, r.x + 2, r.y + r.h - 1, r.w - 4, DL_ROLE_WARN, 0, " %llu points missed ",
                      (unsigned long long)f->dropped);
}

static void train_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    train_state *st = s->self;
    dl_train_layout l;
    if (dl_layout_train(g->cols, g->rows, &l) != 0)
        return;
    draw_header(st, g, l.header);
    draw_progress(st, g, l.progress, env->ascii);
    if (st->panel == PANEL_LR)
        draw_lr_plot(st, g, l.plot, env->ascii);
    else if (st->panel == PANEL_LRFIND)
        dl_draw_lrfind(st->feed, g, l.plot, env->ascii, st->ylog, 0, -1, 0);
    else
        draw_loss(st, g, l.plot, env->ascii);
    draw_sched(st, g, l.sched, env->ascii);
    const dl_snapshot *sn = &st->feed->snap;
    dl_draw_epoch_table(g, l.table, st->feed->epochs, st->feed->n_epochs, sn->metric_name,
                        sn->n_metrics, env->ascii);
    draw_events(st, g, l.events, env->ascii);
    /* A UI-attached learner pauses on divergence (phase paused, message "diverged ..."); a
     * headless one ends the fit (phase diverged). Either way: offer a lower lr. */
    if (sn->phase == DL_PHASE_DIVERGED ||
        (sn->phase == DL_PHASE_PAUSED && strncmp(sn->message, "diverged", 8) == 0)) {
        char lr[24], msg[400], offer[160];
        dl_fmt_lr(sn->lr[sn->n_groups > 0 ? sn->n_groups - 1 : 0] / 10, lr, sizeof lr);
        /* two rows, so the offer is never cut off a narrow plot */
        snprintf(msg, sizeof msg, " %s ",
                 sn->message[0] ? sn->message : "diverged: the loss is NaN/inf");
        snprintf(offer, sizeof offer,
                 " '=' to set a lower lr (try %s), '-' halves it, 'p' resumes ", lr);
        dl_grid_text(g, l.plot.x + 1, l.plot.y + 1, l.plot.w - 2, DL_ROLE_BAD,
                     DL_ATTR_BOLD | DL_ATTR_REVERSE, msg);
        dl_grid_text(g, l.plot.x + 1, l.plot.y + 2, l.plot.w - 2, DL_ROLE_BAD,
                     DL_ATTR_BOLD | DL_ATTR_REVERSE, offer);
    }
    if (st->prompt) {
        dl_grid_fill(g, l.keys, ' ', DL_ROLE_DEFAULT, 0);
        dl_grid_textf(g, 0, l.keys.y, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD,
                      "lr (1e-3 every group, ..1e-3 slice, 1e-5..1e-3; Enter applies, Esc "
                      "cancels): %s_",
                      st->input);
    } else {
        dl_draw_keybar(g, l.keys, s->id);
    }
}

static void train_close(dl_screen *s)
{
    train_state *st = s->self;
    dl_feed_free(&st->own_feed);
    if (st->hooks.close)
        st->hooks.close(st->hooks.user);
    free(st);
}

dl_status dl_screen_train(dl_screen *out, dl_control *ctl, dl_feed *feed, const dl_run_info *info,
                          const dl_train_hooks *hooks, dl_err *err)
{
    if (!ctl && !feed)
        return dl_err_set(err, DL_EINVAL,
                          "the training screen needs a control channel or a filled feed");
    train_state *st = calloc(1, sizeof *st);
    if (!st)
        return dl_err_set(err, DL_ENOMEM, "no memory for the training screen");
    st->ctl = ctl;
    dl_feed_init(&st->own_feed, ctl);
    st->feed = feed ? feed : &st->own_feed;
    snprintf(st->run, sizeof st->run, "%s", info && info->run_name ? info->run_name : "run");
    snprintf(st->data, sizeof st->data, "%s", info && info->data ? info->data : "?");
    snprintf(st->arch, sizeof st->arch, "%s", info && info->arch ? info->arch : "?");
    if (hooks)
        st->hooks = *hooks;
    st->beta_i = 5; /* 0.98, fastai's */
    if (st->hooks.history)
        st->hooks.history(st->hooks.user, st->feed);
    *out = (dl_screen){.name = "train",
                       .id = DL_SCR_TRAIN,
                       .self = st,
                       .draw = train_draw,
                       .key = train_key,
                       .tick = train_tick,
                       .close = train_close,
                       .quit_prompt = st->hooks.quit_prompt};
    return DL_OK;
}
