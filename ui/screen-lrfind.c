/* screen-lrfind: fastai's LR-finder plot in the terminal: smoothed loss against lr on a log-x
 * axis, the four suggestions (valley, steep, minimum, slide; computed by core/lrfind from the
 * curve the UI received) marked and listed, and a cursor moved with Left/Right that shows the lr
 * and smoothed loss under it. Enter uses the cursor's lr (a hook, or set_lr + resume on the
 * control), r re-runs the finder from the current weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lrfind/lrfind.h"
#include "ui/plot.h"
#include "ui/screens.h"

typedef struct lrfind_state {
    dl_control *ctl;
    dl_feed *feed;
    int num_it, cursor, ylog, cursor_moved;
    dl_lrfind_hooks hooks;
} lrfind_state;

static const char marker_glyph[DL_SUGGEST_COUNT] = {'v', 's', 'm', 'l'};

/* Points drawn: like fastai's plot_lr_find (skip_end=5), a finished sweep leaves out its last five
 * points, where the loss explodes and would squash the informative part of the curve. */
static int shown_points(const dl_feed *f)
{
    int n = f->lrfind.n;
    return f->lrfind_done && n > 15 ? n - 5 : n;
}

static int suggestions(const dl_feed *f, int num_it, dl_suggestion out[DL_SUGGEST_COUNT])
{
    int n = f->lrfind.n;
    memset(out, 0, sizeof(dl_suggestion) * DL_SUGGEST_COUNT);
    if (n < 2)
        return 0;
    double *lr = malloc(sizeof(double) * n), *loss = malloc(sizeof(double) * n);
    if (!lr || !loss) {
        free(lr);
        free(loss);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        lr[i] = f->lrfind.x[i];
        loss[i] = f->lrfind.y[i];
    }
    dl_lrfind_suggest_all(lr, loss, n, num_it > 0 ? num_it : 100, out);
    free(lr);
    free(loss);
    return 1;
}

void dl_draw_lrfind(const dl_feed *f, dl_grid *g, dl_rect r, int ascii, int ylog, int num_it,
                    int cursor, int with_list)
{
    dl_suggestion sug[DL_SUGGEST_COUNT];
    int have = suggestions(f, num_it, sug);
    int list_w = with_list ? 26 : 0;
    dl_rect pr = {r.x, r.y, r.w - list_w, r.h};
    dl_plot p;
    dl_plot_init(&p, f->lrfind_done || !f->ctl ? "LR finder" : "LR finder (running)");
    p.ascii = ascii;
    p.xlog = 1;
    p.ylog = ylog;
    p.xlabel = "lr";
    dl_plot_add(&p, (dl_plot_series){"smoothed loss", f->lrfind.x, f->lrfind.y, shown_points(f),
                                     DL_ROLE_TRAIN, 0, DL_PLOT_LINE, 0});
    for (int k = 0; have && k < DL_SUGGEST_COUNT; k++)
        if (sug[k].ok)
            dl_plot_add_marker(&p, sug[k].x, DL_ROLE_MARKER, marker_glyph[k]);
    if (cursor >= 0 && cursor < f->lrfind.n) {
        p.has_cursor = 1;
        p.cursor_x = f->lrfind.x[cursor];
    }
    dl_plot_draw(&p, g, pr, NULL);
    if (!with_list)
        return;
    int x = r.x + r.w - list_w + 2, y = r.y + 1;
    dl_grid_text(g, x, y++, list_w - 2, DL_ROLE_TITLE, DL_ATTR_BOLD, "suggestions");
    for (int k = 0; k < DL_SUGGEST_COUNT; k++) {
        char lr[24] = "-";
        if (have && sug[k].ok)
            dl_fmt_lr(sug[k].lr, lr, sizeof lr);
        dl_grid_textf(g, x, y++, list_w - 2, have && sug[k].ok ? DL_ROLE_MARKER : DL_ROLE_DIM, 0,
                      "%c %-8s %s", marker_glyph[k], dl_suggest_name((dl_suggest_kind)k), lr);
    }
    y++;
    if (cursor >= 0 && cursor < f->lrfind.n) {
        char lr[24];
        dl_fmt_lr(f->lrfind.x[cursor], lr, sizeof lr);
        dl_grid_text(g, x, y++, list_w - 2, DL_ROLE_TITLE, DL_ATTR_BOLD, "cursor");
        dl_grid_textf(g, x, y++, list_w - 2, DL_ROLE_CURSOR, 0, "lr   %s", lr);
        dl_grid_textf(g, x, y++, list_w - 2, DL_ROLE_CURSOR, 0, "loss %.4f", f->lrfind.y[cursor]);
    }
    dl_grid_textf(g, x, y + 1, list_w - 2, DL_ROLE_DIM, 0, "%d points", f->lrfind.n);
}

static void lrfind_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    lrfind_state *st = s->self;
    dl_grid_text(g, 0, 0, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD, "dllab - learning-rate finder");
    if (st->feed->snap.message[0])
        dl_grid_text(g, 30, 0, g->cols - 30, DL_ROLE_DIM, 0, st->feed->snap.message);
    dl_draw_lrfind(st->feed, g, (dl_rect){0, 1, g->cols, g->rows - 2}, env->ascii, st->ylog,
                   st->num_it, st->cursor, 1);
    dl_draw_keybar(g, (dl_rect){0, g->rows - 1, g->cols, 1}, DL_SCR_LRFIND);
}

static int lrfind_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    lrfind_state *st = s->self;
    int n = shown_points(st->feed);
    (void)key;
    switch (a) {
    case DL_ACT_CURSOR_LEFT:
        if (st->cursor > 0)
            st->cursor--;
        st->cursor_moved = 1;
        return DL_R_REDRAW;
    case DL_ACT_CURSOR_RIGHT:
        if (st->cursor < n - 1)
            st->cursor++;
        st->cursor_moved = 1;
        return DL_R_REDRAW;
    case DL_ACT_Y_LOG:
        st->ylog = !st->ylog;
        return DL_R_REDRAW;
    case DL_ACT_USE_LR: {
        if (st->cursor < 0 || st->cursor >= n) {
            dl_app_message(app, "no curve yet");
            return DL_R_REDRAW;
        }
        double lr = st->feed->lrfind.x[st->cursor];
        if (st->hooks.use_lr)
            return st->hooks.use_lr(st->hooks.user, lr, app);
        if (!st->ctl)
            return DL_R_POP;
        dl_err err;
        /* the finder swept every group at one rate: the cursor's rate is for every group */
        dl_cmd set = {.kind = DL_CMD_SET_LR, .lr = {DL_LR_CONST, 0, lr}},
               resume = {.kind = DL_CMD_RESUME};
        if (dl_control_post(st->ctl, &set, &err) != DL_OK ||
            dl_control_post(st->ctl, &resume, &err) != DL_OK) {
            dl_app_message(app, err.msg);
            return DL_R_REDRAW;
        }
        return DL_R_POP;
    }
    case DL_ACT_RERUN: {
        if (!st->ctl) {
            dl_app_message(app, "this curve belongs to a finished run");
            return DL_R_REDRAW;
        }
        /* a learner whose job has ended reads no more commands: r would silently do nothing */
        dl_phase ph = st->feed->snap.phase;
        if (ph == DL_PHASE_DONE || ph == DL_PHASE_STOPPED || ph == DL_PHASE_FAILED) {
            dl_app_message(app,
                           "the learner has finished: run dllab lrfind again to redo the sweep");
            return DL_R_REDRAW;
        }
        dl_err err;
        dl_cmd c = {.kind = DL_CMD_LRFIND};
        if (dl_control_post(st->ctl, &c, &err) != DL_OK)
            dl_app_message(app, err.msg);
        st->cursor_moved = 0;
        return DL_R_REDRAW;
    }
    default:
        return DL_R_UNHANDLED;
    }
}

static int lrfind_tick(dl_screen *s, dl_app *app)
{
    lrfind_state *st = s->self;
    (void)app;
    int changed = dl_feed_pull(st->feed);
    /* Until the user moves it, the cursor sits on the valley suggestion (or the last point). */
    if (!st->cursor_moved && st->feed->lrfind.n > 0) {
        dl_suggestion sug[DL_SUGGEST_COUNT];
        int c = shown_points(st->feed) - 1;
        if (suggestions(st->feed, st->num_it, sug) && sug[DL_SUGGEST_VALLEY].ok)
            c = sug[DL_SUGGEST_VALLEY].idx;
        if (c != st->cursor) {
            st->cursor = c;
            changed = 1;
        }
    }
    return changed ? DL_R_REDRAW : DL_R_NONE;
}

static void lrfind_close(dl_screen *s) { free(s->self); }

dl_status dl_screen_lrfind(dl_screen *out, dl_control *ctl, dl_feed *feed, int num_it,
                           const dl_lrfind_hooks *hooks, dl_err *err)
{
    if (!feed)
        return dl_err_set(err, DL_EINVAL, "the LR-finder screen needs a feed");
    lrfind_state *st = calloc(1, sizeof *st);
    if (!st)
        return dl_err_set(err, DL_ENOMEM, "no memory for the LR-finder screen");
    st->ctl = ctl;
    st->feed = feed;
    st->num_it = num_it > 0 ? num_it : 100;
    st->cursor = -1;
    if (hooks)
        st->hooks = *hooks;
    *out = (dl_screen){.name = "lrfind",
                       .id = DL_SCR_LRFIND,
                       .self = st,
                       .draw = lrfind_draw,
                       .key = lrfind_key,
                       .tick = lrfind_tick,
                       .close = lrfind_close};
    lrfind_tick(out, NULL);
    return DL_OK;
}
