/* screen-lrfind: fastai's LR-finder plot in the terminal: smoothed loss against lr on a log-x
 * axis, the four suggestions (valley, steep, minimum, slide; computed by core/lrfind from the
 * curve the UI received) marked at the lr each lists and explained in a line each under the plot,
 * and a cursor moved with Left/Right (or v/s/m/l to jump to a suggestion; it starts at valley)
 * that shows the lr and smoothed loss under it. Enter uses the cursor's lr (a hook, or set_lr +
 * resume on the control), r re-runs the finder from the current weights. */
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
    int jumped; /* the suggestion a key put the cursor on (it reads that exact lr), or -1 */
    dl_lrfind_hooks hooks;
} lrfind_state;

/* One row per suggestion: its glyph (also its key on this screen, see ui/actions.def) and the
 * one-line explanation shown under the plot. */
static const struct {
    char glyph;
    dl_action jump;
    const char *why;
} suggestion_rows[DL_SUGGEST_COUNT] = {
    [DL_SUGGEST_VALLEY] = {'v', DL_ACT_SUGGEST_VALLEY,
                           "middle of the longest steep descent (fastai's default)"},
    [DL_SUGGEST_STEEP] = {'s', DL_ACT_SUGGEST_STEEP,
                          "steepest slope: where the loss falls fastest"},
    [DL_SUGGEST_MINIMUM] = {'m', DL_ACT_SUGGEST_MINIMUM, "a tenth of the lr with the lowest loss"},
    [DL_SUGGEST_SLIDE] = {'l', DL_ACT_SUGGEST_SLIDE,
                          "where the slope settles, coming down from the divergence"},
};

/* Rows under the plot: one per suggestion and a line saying where the cursor starts. */
enum { EXPLAIN_ROWS = DL_SUGGEST_COUNT + 1 };

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

/* The shown point nearest to lr (log distance): where a suggestion's key puts the cursor. */
static int nearest_point(const dl_feed *f, double lr)
{
    int n = shown_points(f), best = -1;
    for (int i = 0; i < n; i++)
        if (f->lrfind.x[i] > 0 &&
            (best < 0 || fabs(log(f->lrfind.x[i] / lr)) < fabs(log(f->lrfind.x[best] / lr))))
            best = i;
    return best;
}

static void draw_explanations(const dl_feed *f, const dl_suggestion *sug, int have, dl_grid *g,
                              dl_rect r, int cursor, int jumped)
{
    for (int k = 0; k < DL_SUGGEST_COUNT; k++) {
        int ok = have && sug[k].ok;
        char lr[24] = "-";
        if (ok)
            dl_fmt_lr(sug[k].lr, lr, sizeof lr);
        int here = ok && (jumped >= 0 ? jumped == k
                                      : cursor >= 0 && nearest_point(f, sug[k].lr) == cursor);
        dl_grid_textf(g, r.x, r.y + k, r.w, ok ? DL_ROLE_MARKER : DL_ROLE_DIM,
                      here ? DL_ATTR_BOLD : 0, "%s%c %-8s %-7s %s", here ? "> " : "  ",
                      suggestion_rows[k].glyph, dl_suggest_name((dl_suggest_kind)k), lr,
                      ok ? suggestion_rows[k].why : sug[k].reason);
    }
    dl_grid_text(g, r.x, r.y + DL_SUGGEST_COUNT, r.w, DL_ROLE_DIM, 0,
                 "  the cursor starts at valley; keys v s m l jump to a suggestion, ? says more");
}

/* jumped >= 0: the cursor is on that suggestion and reads its exact lr and loss. */
static void draw_lrfind(const dl_feed *f, dl_grid *g, dl_rect r, int ascii, int ylog, int num_it,
                        int cursor, int jumped, int with_list)
{
    dl_suggestion sug[DL_SUGGEST_COUNT];
    int have = suggestions(f, num_it, sug);
    if (jumped >= 0 && !(have && sug[jumped].ok))
        jumped = -1;
    double cur_lr = cursor >= 0 && cursor < f->lrfind.n ? f->lrfind.x[cursor] : NAN,
           cur_loss = cursor >= 0 && cursor < f->lrfind.n ? f->lrfind.y[cursor] : NAN;
    if (jumped >= 0) {
        cur_lr = sug[jumped].lr;
        cur_loss = sug[jumped].y;
    }
    int list_w = with_list ? 20 : 0, below = with_list ? EXPLAIN_ROWS : 0;
    dl_rect pr = {r.x, r.y, r.w - list_w, r.h - below};
    dl_plot p;
    dl_plot_init(&p, f->lrfind_done || !f->ctl ? "LR finder" : "LR finder (running)");
    p.ascii = ascii;
    p.xlog = 1;
    p.ylog = ylog;
    p.xlabel = "lr";
    dl_plot_add(&p, (dl_plot_series){"smoothed loss", f->lrfind.x, f->lrfind.y, shown_points(f),
                                     DL_ROLE_TRAIN, 0, DL_PLOT_LINE, 0});
    /* Every marker at the lr it lists (core puts x == lr), so the cursor reads the same value. */
    for (int k = 0; have && k < DL_SUGGEST_COUNT; k++)
        if (sug[k].ok)
            dl_plot_add_marker(&p, sug[k].lr, DL_ROLE_MARKER, suggestion_rows[k].glyph);
    if (isfinite(cur_lr)) {
        p.has_cursor = 1;
        p.cursor_x = cur_lr;
    }
    dl_plot_draw(&p, g, pr, NULL);
    if (!with_list)
        return;
    draw_explanations(f, sug, have, g, (dl_rect){r.x, r.y + r.h - below, r.w, below}, cursor,
                      jumped);
    int x = r.x + r.w - list_w + 2, y = r.y + 1;
    if (isfinite(cur_lr)) {
        char lr[24];
        dl_fmt_lr(cur_lr, lr, sizeof lr);
        dl_grid_textf(g, x, y++, list_w - 2, DL_ROLE_TITLE, DL_ATTR_BOLD, "cursor%s%s",
                      jumped >= 0 ? ": " : "",
                      jumped >= 0 ? dl_suggest_name((dl_suggest_kind)jumped) : "");
        dl_grid_textf(g, x, y++, list_w - 2, DL_ROLE_CURSOR, 0, "lr   %s", lr);
        dl_grid_textf(g, x, y++, list_w - 2, DL_ROLE_CURSOR, 0, "loss %.4f", cur_loss);
        dl_grid_text(g, x, y++, list_w - 2, DL_ROLE_DIM, 0, "Enter trains at it");
    }
    dl_grid_textf(g, x, y + 1, list_w - 2, DL_ROLE_DIM, 0, "%d points", f->lrfind.n);
}

void dl_draw_lrfind(const dl_feed *f, dl_grid *g, dl_rect r, int ascii, int ylog, int num_it,
                    int cursor, int with_list)
{
    draw_lrfind(f, g, r, ascii, ylog, num_it, cursor, -1, with_list);
}

static void lrfind_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    lrfind_state *st = s->self;
    dl_grid_text(g, 0, 0, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD, "dllab - learning-rate finder");
    if (st->feed->snap.message[0])
        dl_grid_text(g, 30, 0, g->cols - 30, DL_ROLE_DIM, 0, st->feed->snap.message);
    draw_lrfind(st->feed, g, (dl_rect){0, 1, g->cols, g->rows - 2}, env->ascii, st->ylog,
                st->num_it, st->cursor, st->jumped, 1);
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
        st->jumped = -1;
        return DL_R_REDRAW;
    case DL_ACT_CURSOR_RIGHT:
        if (st->cursor < n - 1)
            st->cursor++;
        st->cursor_moved = 1;
        st->jumped = -1;
        return DL_R_REDRAW;
    case DL_ACT_Y_LOG:
        st->ylog = !st->ylog;
        return DL_R_REDRAW;
    case DL_ACT_SUGGEST_VALLEY:
    case DL_ACT_SUGGEST_STEEP:
    case DL_ACT_SUGGEST_MINIMUM:
    case DL_ACT_SUGGEST_SLIDE: {
        dl_suggestion sug[DL_SUGGEST_COUNT];
        int have = suggestions(st->feed, st->num_it, sug);
        for (int k = 0; k < DL_SUGGEST_COUNT; k++) {
            if (suggestion_rows[k].jump != a)
                continue;
            int c = have && sug[k].ok ? nearest_point(st->feed, sug[k].lr) : -1;
            if (c < 0) {
                dl_app_message(app, have ? sug[k].reason : "no curve yet");
                return DL_R_REDRAW;
            }
            st->cursor = c;
            st->cursor_moved = 1;
            st->jumped = k;
        }
        return DL_R_REDRAW;
    }
    case DL_ACT_USE_LR: {
        if (st->cursor < 0 || st->cursor >= n) {
            dl_app_message(app, "no curve yet");
            return DL_R_REDRAW;
        }
        double lr = st->feed->lrfind.x[st->cursor];
        dl_suggestion sug[DL_SUGGEST_COUNT];
        if (st->jumped >= 0 && suggestions(st->feed, st->num_it, sug) && sug[st->jumped].ok)
            lr = sug[st->jumped].lr; /* the value the list shows, not the nearest point's */
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
        st->jumped = -1;
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
    st->jumped = -1;
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
