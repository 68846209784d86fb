/* app: screen stack, key dispatch, overlays and the poll() loop (see app.h). */
#include "core/clock.h"
#include "ui/app.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ui/term.h"

#define MAX_SCREENS 16
#define MAX_FDS 4

struct dl_app {
    dl_screen stack[MAX_SCREENS];
    int depth;
    dl_ui_opts opts;
    dl_ui_env env;
    int help;       /* help overlay shown */
    int confirming; /* quit asked, waiting for y/n */
    int quit;
    int dirty;
    char message[160];
    int fds[MAX_FDS], nfds;
};

dl_app *dl_app_new(const dl_ui_opts *opts)
{
    dl_app *app = calloc(1, sizeof *app);
    if (!app)
        return NULL;
    if (opts)
        app->opts = *opts;
    app->env.ascii = app->opts.ascii;
    app->env.depth = app->opts.no_color ? DL_COLOR_MONO : DL_COLOR_256;
    app->dirty = 1;
    return app;
}

static void close_screen(dl_screen *s)
{
    if (s->close)
        s->close(s);
}

void dl_app_free(dl_app *app)
{
    if (!app)
        return;
    while (app->depth > 0)
        close_screen(&app->stack[--app->depth]);
    free(app);
}

int dl_app_push(dl_app *app, const dl_screen *s)
{
    if (app->depth >= MAX_SCREENS)
        return -1;
    app->stack[app->depth++] = *s;
    app->dirty = 1;
    return 0;
}

dl_screen *dl_app_top(dl_app *app) { return app->depth ? &app->stack[app->depth - 1] : NULL; }
int dl_app_depth(const dl_app *app) { return app->depth; }
void dl_app_dirty(dl_app *app) { app->dirty = 1; }
const dl_ui_env *dl_app_env(const dl_app *app) { return &app->env; }
void dl_app_set_env(dl_app *app, const dl_ui_env *env)
{
    app->env = *env;
    app->dirty = 1;
}
int dl_app_help_visible(const dl_app *app) { return app->help; }
int dl_app_quitting(const dl_app *app) { return app->quit; }
void dl_app_request_quit(dl_app *app) { app->quit = 1; }

int dl_app_watch_fd(dl_app *app, int fd)
{
    if (app->nfds >= MAX_FDS || fd < 0)
        return -1;
    app->fds[app->nfds++] = fd;
    return 0;
}

void dl_app_message(dl_app *app, const char *msg)
{
    snprintf(app->message, sizeof app->message, "%s", msg ? msg : "");
    app->dirty = 1;
}

static int apply(dl_app *app, int r)
{
    if (r & DL_R_REDRAW)
        app->dirty = 1;
    if (r & DL_R_POP && app->depth > 0) {
        close_screen(&app->stack[--app->depth]);
        app->dirty = 1;
        if (app->depth == 0)
            app->quit = 1;
    }
    if (r & DL_R_QUIT)
        app->quit = 1;
    return r;
}

int dl_app_key(dl_app *app, int key)
{
    dl_screen *s = dl_app_top(app);
    if (key == DL_KEY_RESIZE) {
        app->dirty = 1;
        return DL_R_REDRAW;
    }
    if (app->message[0]) {
        app->message[0] = '\0';
        app->dirty = 1;
    }
    if (app->confirming) {
        app->confirming = 0;
        app->dirty = 1;
        if (s && s->quit_prompt && s->key)
            return apply(app, s->key(s, DL_ACT_QUIT, key, app));
        if (key == 'y' || key == 'Y' || key == 'q') {
            int r = s && s->key ? s->key(s, DL_ACT_QUIT, key, app) : DL_R_NONE;
            return apply(app, r | DL_R_QUIT);
        }
        return DL_R_REDRAW;
    }
    if (!s)
        return apply(app, DL_R_QUIT);
    if (s->text_input && s->key)
        return apply(app, s->key(s, DL_ACT_NONE, key, app));
    dl_action a = dl_action_for_key(s->id, key);
    if (app->help) {
        /* Any key closes help; the help key only closes it. */
        app->help = 0;
        app->dirty = 1;
        if (a == DL_ACT_HELP || a == DL_ACT_BACK)
            return DL_R_REDRAW;
    }
    switch (a) {
    case DL_ACT_HELP:
        app->help = 1;
        app->dirty = 1;
        return DL_R_REDRAW;
    case DL_ACT_QUIT:
        app->confirming = 1;
        app->dirty = 1;
        return DL_R_REDRAW;
    default:
        break;
    }
    int r = s->key ? s->key(s, a, key, app) : DL_R_UNHANDLED;
    if (a == DL_ACT_BACK && (r & DL_R_UNHANDLED)) {
        /* Esc on the first screen would close dllab's last screen without telling it (a training
         * went on with no dashboard and no table): it asks, like q. */
        if (app->depth == 1) {
            app->confirming = 1;
            app->dirty = 1;
            return DL_R_REDRAW;
        }
        r = (r & ~DL_R_UNHANDLED) | DL_R_POP;
    }
    return apply(app, r);
}

static void draw_too_small(dl_grid *g)
{
    char line[96];
    snprintf(line, sizeof line, "terminal too small: %dx%d", g->cols, g->rows);
    dl_grid_text(g, 0, 0, -1, DL_ROLE_WARN, DL_ATTR_BOLD, line);
    snprintf(line, sizeof line, "dllab needs at least %dx%d.", DL_UI_MIN_COLS, DL_UI_MIN_ROWS);
    dl_grid_text(g, 0, 1, -1, DL_ROLE_DEFAULT, 0, line);
    dl_grid_text(g, 0, 2, -1, DL_ROLE_DEFAULT, 0, "Training goes on; resize, or q to quit.");
}

void dl_app_draw(dl_app *app, dl_grid *g)
{
    dl_grid_clear(g);
    dl_screen *s = dl_app_top(app);
    int small = g->cols < DL_UI_MIN_COLS || g->rows < DL_UI_MIN_ROWS;
    if (small)
        draw_too_small(g);
    else if (s && s->draw)
        s->draw(s, g, &app->env);
    if (!small && app->help && s) {
        int w = g->cols >= 100 ? g->cols - 8 : g->cols - 4, h = g->rows - 2;
        dl_actions_help(g, (dl_rect){(g->cols - w) / 2, 1, w, h}, s->id, app->env.ascii);
    }
    if (app->confirming) {
        const char *q = s && s->quit_prompt ? s->quit_prompt : "Quit dllab? (y/n)";
        int w = dl_utf8_width(q) + 4, x = (g->cols - w) / 2, y = g->rows / 2 - 1;
        if (x < 0)
            x = 0;
        dl_rect r = {x, y, w, 3};
        dl_grid_fill(g, r, ' ', DL_ROLE_DEFAULT, 0);
        dl_grid_box(g, r, app->env.ascii, NULL);
        dl_grid_text(g, x + 2, y + 1, w - 4, DL_ROLE_WARN, DL_ATTR_BOLD, q);
    }
    if (app->message[0]) {
        dl_rect bottom = {0, g->rows - 1, g->cols, 1};
        dl_grid_fill(g, bottom, ' ', DL_ROLE_DEFAULT, 0);
        dl_grid_text(g, 0, g->rows - 1, g->cols, DL_ROLE_WARN, 0, app->message);
    }
    app->dirty = 0;
}

/* ---- the loop ---------------------------------------------------------------------------- */

/* The self-pipe a signal handler writes to (handlers can reach nothing else); one UI loop per
 * process. */
static int sig_pipe[2] = {-1, -1};

static void on_quit_signal(int sig)
{
    (void)sig;
    int saved = errno;
    char b = 'q';
    if (sig_pipe[1] >= 0) {
        ssize_t w = write(sig_pipe[1], &b, 1);
        (void)w;
    }
    errno = saved;
}

static double now_ms(void) { return dl_clock_now() * 1e3; }

dl_status dl_app_run(dl_app *app, const char *stderr_log, dl_err *err)
{
    dl_term t;
    dl_status st = dl_term_start(&t, &app->opts, stderr_log, err);
    if (st != DL_OK)
        return st;
    app->env.ascii = t.ascii;
    app->env.depth = t.depth;
    dl_grid *g = dl_grid_new(t.cols > 0 ? t.cols : 80, t.rows > 0 ? t.rows : 24);
    if (!g) {
        dl_term_stop(&t);
        return dl_err_set(err, DL_ENOMEM, "no memory for a %dx%d screen", t.cols, t.rows);
    }
    if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        dl_grid_free(g);
        dl_term_stop(&t);
        return dl_err_set(err, DL_EIO, "pipe: %s", strerror(errno));
    }
    struct sigaction sa, old_int, old_term, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* A closed terminal window quits like Ctrl-C (the trainer saves its state and the run is
     * marked), instead of killing dllab and leaving a finished training marked crashed. */
    sigaction(SIGHUP, &sa, &old_hup);

    /* Frames are at least DL_UI_FRAME_MS apart, and at least 20x the last frame's drawing time
     * apart: drawing never takes more than ~5% of a core from the trainer, even when a very long
     * run makes each frame slow. */
    double last_draw = -1e9, gap = DL_UI_FRAME_MS;
    app->dirty = 1;
    while (!app->quit && app->depth > 0) {
        double now = now_ms();
        int timeout = DL_UI_POLL_MS;
        if (app->dirty) {
            double wait = last_draw + gap - now;
            timeout = wait > 0 ? (int)wait + 1 : 0;
        }
        struct pollfd pf[2 + MAX_FDS];
        int n = 0;
        pf[n++] = (struct pollfd){.fd = t.in_fd, .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
        for (int i = 0; i < app->nfds; i++)
            pf[n++] = (struct pollfd){.fd = app->fds[i], .events = POLLIN};
        int pr = poll(pf, (nfds_t)n, timeout);
        if (pr < 0 && errno != EINTR)
            break;
        /* EINTR (SIGWINCH) falls through to reading keys: ncurses queues KEY_RESIZE. */
        if (pr > 0 && (pf[1].revents & POLLIN)) {
            char buf[16];
            while (read(sig_pipe[0], buf, sizeof buf) > 0)
                ;
            dl_screen *s = dl_app_top(app);
            if (s && s->key)
                s->key(s, DL_ACT_QUIT, -1, app);
            app->quit = 1;
            break;
        }
        int key;
        while (!app->quit && (key = dl_term_key(&t)) != -1) {
            if (key == DL_KEY_RESIZE) {
                dl_term_update_size(&t);
                if (t.cols > 0 && t.rows > 0)
                    dl_grid_resize(g, t.cols, t.rows);
            }
            dl_app_key(app, key);
        }
        for (int i = 0; i < app->depth && !app->quit; i++) {
            dl_screen *s = &app->stack[i];
            /* Screens below the top keep ticking (training goes on under an overlay screen);
             * their data may show on the top screen too, so any change redraws. */
            if (s->tick && (s->tick(s, app) & DL_R_REDRAW))
                app->dirty = 1;
        }
        now = now_ms();
        if (app->dirty && !app->quit && now - last_draw >= gap) {
            dl_app_draw(app, g);
            dl_term_flush(&t, g);
            last_draw = now;
            double cost = now_ms() - now;
            gap = cost * 20 > DL_UI_FRAME_MS ? cost * 20 : DL_UI_FRAME_MS;
            if (gap > 1000)
                gap = 1000;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    dl_grid_free(g);
    dl_term_stop(&t);
    return DL_OK;
}
