/* screen-home: what `dllab` opens: the runs of the store, newest last (name, date, data, arch,
 * best metric, status), re-read every two seconds so runs training elsewhere appear and move.
 * Up/Down select, Enter opens the run view, Space marks runs for comparison, c compares the
 * marked ones (through a hook: the compare screen is its own module), b makes the selected run
 * the baseline, d deletes it after a y/n question, n opens the new-run form (screen-newrun.c),
 * whose Enter ends the UI with the configuration to train. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/run/run_cfg.h"
#include "core/store/store.h"
#include "ui/screens.h"

typedef struct home_state {
    dl_store *st;
    dl_home_hooks hooks;
    dl_run *runs;
    size_t n;
    int64_t *marked;
    int nmarked;
    int sel, top;
    int asking_delete;
    dl_run_cfg request; /* filled by the new-run form */
    int has_request;
    double last_load;
    char error[DL_ERR_MSG_MAX];
    char note[DL_ERR_MSG_MAX]; /* what the last training from here said; until the next key */
} home_state;

static int load(home_state *h)
{
    dl_run *runs = NULL;
    size_t n = 0;
    dl_err err;
    h->last_load = dl_ui_now();
    if (dl_store_runs_list(h->st, NULL, &runs, &n, &err) != DL_OK) {
        snprintf(h->error, sizeof h->error, "%s", err.msg);
        return -1;
    }
    int64_t sel_id = h->sel >= 0 && (size_t)h->sel < h->n ? h->runs[h->sel].id : -1;
    int changed = n != h->n;
    for (size_t i = 0; !changed && i < n; i++)
        changed = runs[i].id != h->runs[i].id || runs[i].status != h->runs[i].status ||
                  runs[i].n_batches != h->runs[i].n_batches ||
                  runs[i].n_epochs != h->runs[i].n_epochs ||
                  runs[i].baseline != h->runs[i].baseline;
    dl_runs_free(h->runs, h->n);
    h->runs = runs;
    h->n = n;
    h->error[0] = '\0';
    /* Keep the selection on the same run when rows move; a new store starts at the newest. */
    h->sel = n ? (int)n - 1 : 0;
    for (size_t i = 0; i < n; i++)
        if (runs[i].id == sel_id)
            h->sel = (int)i;
    return changed;
}

static int is_marked(const home_state *h, int64_t id)
{
    for (int i = 0; i < h->nmarked; i++)
        if (h->marked[i] == id)
            return 1;
    return 0;
}

static void toggle_mark(home_state *h, int64_t id)
{
    for (int i = 0; i < h->nmarked; i++)
        if (h->marked[i] == id) {
            h->marked[i] = h->marked[--h->nmarked];
            return;
        }
    int64_t *m = realloc(h->marked, sizeof *m * (size_t)(h->nmarked + 1));
    if (!m)
        return;
    h->marked = m;
    h->marked[h->nmarked++] = id;
}

static void home_draw(dl_screen *s, dl_grid *g, const dl_ui_env *env)
{
    home_state *h = s->self;
    dl_grid_text(g, 0, 0, g->cols, DL_ROLE_TITLE, DL_ATTR_BOLD, "dllab - runs");
    dl_grid_textf(g, 14, 0, g->cols - 14, DL_ROLE_DIM, 0, "%s  (%zu runs, %d marked)",
                  dl_store_dir(h->st), h->n, h->nmarked);
    /* Fixed columns but the name's and the data's: the name takes 20 characters, or up to 40 when
     * a run's name is longer and the width allows; the data column takes what is left (and goes
     * below 6 characters). */
    int name_w = 20, longest = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->runs[i].name && (int)strlen(h->runs[i].name) > longest)
            longest = (int)strlen(h->runs[i].name);
    if (longest > name_w)
        name_w = longest < 40 ? longest : 40;
    if (name_w > g->cols - 55)
        name_w = g->cols - 55 > 20 ? g->cols - 55 : 20;
    int data_w = g->cols - 55 - name_w;
    if (data_w < 6)
        data_w = 0;
    if (data_w > 40)
        data_w = 40;
    char line[512];
    snprintf(line, sizeof line, "  %-*s %-11s %-*s%s%-10s %-17s %s", name_w, "name", "started",
             data_w, data_w ? "data" : "", data_w ? " " : "", "arch", "best", "status");
    dl_grid_text(g, 0, 2, g->cols, DL_ROLE_AXIS, DL_ATTR_BOLD, line);
    int rows = g->rows - 5;
    if (h->sel < h->top)
        h->top = h->sel;
    if (h->sel >= h->top + rows)
        h->top = h->sel - rows + 1;
    if (h->n == 0)
        dl_grid_text(g, 2, 4, g->cols - 2, DL_ROLE_DIM, 0,
                     "No runs yet. Press n for a new run (Fashion-MNIST, or your own images).");
    for (int r = 0; r < rows && (size_t)(h->top + r) < h->n; r++) {
        const dl_run *run = &h->runs[h->top + r];
        char when[32] = "-", best[40] = "-";
        time_t t = (time_t)run->created;
        struct tm tm;
        if (run->created > 0 && localtime_r(&t, &tm))
            strftime(when, sizeof when, "%m-%d %H:%M", &tm);
        if (run->metric_name && *run->metric_name && run->metric_value == run->metric_value)
            snprintf(best, sizeof best, "%.10s %.4f", run->metric_name, run->metric_value);
        else if (run->best_valid_loss == run->best_valid_loss)
            snprintf(best, sizeof best, "valid %.4f", run->best_valid_loss);
        else if (strcmp(dl_run_kind(run), "lrfind") == 0) /* a sweep, not a 0-epoch training */
            snprintf(best, sizeof best, "lr finder");
        char cut[128];
        snprintf(line, sizeof line, "%c %-*.*s %-11s %-*.*s%s%-10.10s %-17.17s %s%s",
                 is_marked(h, run->id) ? '*' : ' ', name_w, name_w,
                 run->name ? dl_ui_fit_name(run->name, name_w, cut, sizeof cut) : "-", when, data_w,
                 data_w, data_w ? (run->dataset ? run->dataset : "-") : "", data_w ? " " : "",
                 run->arch ? run->arch : "-", best, dl_run_status_name(run->status),
                 run->baseline ? " baseline" : "");
        int sel = h->top + r == h->sel;
        int role = run->status == DL_RUN_RUNNING ? DL_ROLE_GOOD
                   : run->status == DL_RUN_DIVERGED || run->status == DL_RUN_CRASHED
                       ? DL_ROLE_BAD
                       : DL_ROLE_DEFAULT;
        if (sel)
            dl_grid_fill(g, (dl_rect){0, 3 + r, g->cols, 1}, ' ', DL_ROLE_SELECT, DL_ATTR_REVERSE);
        dl_grid_text(g, 0, 3 + r, g->cols, sel ? DL_ROLE_SELECT : role, sel ? DL_ATTR_REVERSE : 0,
                     line);
    }
    int by = g->rows - 2;
    if (h->error[0] || h->note[0])
        dl_grid_text(g, 0, by, g->cols, DL_ROLE_BAD, 0, h->error[0] ? h->error : h->note);
    if (h->asking_delete && (size_t)h->sel < h->n)
        dl_grid_textf(g, 0, by, g->cols, DL_ROLE_WARN, DL_ATTR_BOLD,
                      "Delete run %s, its rows and its checkpoints? (y/n)", h->runs[h->sel].name);
    (void)env;
    dl_draw_keybar(g, (dl_rect){0, g->rows - 1, g->cols, 1}, DL_SCR_HOME);
}

static int home_key(dl_screen *s, dl_action a, int key, dl_app *app)
{
    home_state *h = s->self;
    dl_err err;
    h->note[0] = '\0';
    if (h->asking_delete) {
        h->asking_delete = 0;
        if ((key == 'y' || key == 'Y') && (size_t)h->sel < h->n) {
            if (dl_store_run_remove(h->st, h->runs[h->sel].id, &err) != DL_OK)
                dl_app_message(app, err.msg);
            load(h);
        }
        return DL_R_REDRAW;
    }
    const dl_run *cur = (size_t)h->sel < h->n ? &h->runs[h->sel] : NULL;
    switch (a) {
    case DL_ACT_UP:
        if (h->sel > 0)
            h->sel--;
        return DL_R_REDRAW;
    case DL_ACT_DOWN:
        if ((size_t)h->sel + 1 < h->n)
            h->sel++;
        return DL_R_REDRAW;
    case DL_ACT_MARK:
        if (cur)
            toggle_mark(h, cur->id);
        if ((size_t)h->sel + 1 < h->n)
            h->sel++;
        return DL_R_REDRAW;
    case DL_ACT_OPEN: {
        if (!cur)
            return DL_R_NONE;
        dl_screen rs;
        int64_t owner = 0;
        /* a run another process trains opens attached (steerable); any other, the run view */
        if (cur->status == DL_RUN_RUNNING &&
            dl_store_run_owner(h->st, cur->id, &owner, NULL) == DL_OK && owner &&
            dl_screen_attach(&rs, h->st, cur->id, NULL, &err) == DL_OK) {
            if (dl_app_push(app, &rs) != 0)
                rs.close(&rs);
            return DL_R_REDRAW;
        }
        if (dl_screen_run(&rs, h->st, cur->id, &err) != DL_OK) {
            dl_app_message(app, err.msg);
            return DL_R_REDRAW;
        }
        if (dl_app_push(app, &rs) != 0)
            rs.close(&rs);
        return DL_R_REDRAW;
    }
    case DL_ACT_DELETE:
        if (cur)
            h->asking_delete = 1;
        return DL_R_REDRAW;
    case DL_ACT_BASELINE:
        if (cur && dl_store_baseline_set(h->st, cur->id, !cur->baseline, &err) != DL_OK)
            dl_app_message(app, err.msg);
        load(h);
        return DL_R_REDRAW;
    case DL_ACT_COMPARE:
        if (h->nmarked < 2) {
            dl_app_message(app, "mark at least two runs with Space to compare them");
            return DL_R_REDRAW;
        }
        if (!h->hooks.compare) {
            dl_app_message(app, "compare is not available in this build (dllab compare RUN RUN)");
            return DL_R_REDRAW;
        }
        return h->hooks.compare(h->hooks.user, app, h->marked, h->nmarked);
    case DL_ACT_NEW_RUN: {
        dl_screen form;
        if (dl_screen_new_run(&form, &h->request, &h->has_request, &err) != DL_OK) {
            dl_app_message(app, err.msg);
            return DL_R_REDRAW;
        }
        if (dl_app_push(app, &form) != 0)
            form.close(&form);
        return DL_R_REDRAW;
    }
    default:
        return DL_R_UNHANDLED;
    }
}

static int home_tick(dl_screen *s, dl_app *app)
{
    home_state *h = s->self;
    (void)app;
    if (dl_ui_now() - h->last_load < 2.0)
        return DL_R_NONE;
    return load(h) != 0 ? DL_R_REDRAW : DL_R_NONE;
}

static void home_close(dl_screen *s)
{
    home_state *h = s->self;
    dl_runs_free(h->runs, h->n);
    free(h->marked);
    free(h);
}

const dl_run_cfg *dl_home_request(const dl_screen *home)
{
    const home_state *h = home->self;
    return h->has_request ? &h->request : NULL;
}

void dl_home_select(dl_screen *home, const char *name, const char *message)
{
    home_state *h = home->self;
    for (size_t i = 0; name && i < h->n; i++)
        if (h->runs[i].name && !strcmp(h->runs[i].name, name))
            h->sel = (int)i;
    snprintf(h->note, sizeof h->note, "%s", message ? message : "");
}

dl_status dl_screen_home(dl_screen *out, dl_store *st, const dl_home_hooks *hooks, dl_err *err)
{
    home_state *h = calloc(1, sizeof *h);
    if (!h)
        return dl_err_set(err, DL_ENOMEM, "no memory for the home screen");
    h->st = st;
    if (hooks)
        h->hooks = *hooks;
    if (load(h) < 0) {
        dl_status code = dl_err_set(err, DL_EIO, "%s", h->error);
        free(h);
        return code;
    }
    *out = (dl_screen){.name = "home",
                       .id = DL_SCR_HOME,
                       .self = h,
                       .draw = home_draw,
                       .key = home_key,
                       .tick = home_tick,
                       .close = home_close};
    return DL_OK;
}
