/* app: the UI loop and the screens that plug into it.
 * A screen is {draw, key, tick} over its own state (tmux's window_mode, tig's view_ops). The app
 * keeps a stack of screens, owns the help overlay, the quit confirmation and the "terminal too
 * small" screen (below 80x24; ticks keep running, so training continues), and turns keys into
 * actions through ui/actions. Effects come back as DL_R_* flags and are applied once per turn.
 *
 * Loop (dl_app_run): only this thread touches curses. It waits in poll() on the keyboard, the
 * app's own wake-up pipe (signals) and any fds added with dl_app_watch_fd (the learner's wake fd),
 * with a timeout of at most 250 ms; then it drains keys, ticks the screens, and redraws only when
 * something is dirty, at most ~20 times a second, and never more often than 20x a frame's drawing
 * time allows (so drawing stays under ~5% of a core on very long runs). SIGINT/SIGTERM write to the
 * wake-up pipe and become a quit without confirmation (the top screen's key() sees DL_ACT_QUIT with
 * key -1 first, so a training screen can ask its trainer to stop and save).
 *
 * Drawing and key handling are separate from the loop (dl_app_draw, dl_app_key) so tests drive
 * them without a terminal. */
#ifndef DL_UI_APP_H
#define DL_UI_APP_H

#include "core/err.h"
#include "ui/actions.h"
#include "ui/colors.h"
#include "ui/grid.h"

enum {
    DL_R_NONE = 0,
    DL_R_REDRAW = 1 << 0, /* something visible changed */
    DL_R_QUIT = 1 << 1,   /* leave the loop */
    DL_R_POP = 1 << 2,    /* close this screen (back to the one below) */
    DL_R_UNHANDLED = 1 << 3
};

#define DL_UI_MIN_COLS 80
#define DL_UI_MIN_ROWS 24
#define DL_UI_FRAME_MS 50 /* at most ~20 redraws a second */
#define DL_UI_POLL_MS 250

typedef struct dl_app dl_app;

/* What a screen may know about the terminal. */
typedef struct dl_ui_env {
    int ascii;
    dl_color_depth depth;
} dl_ui_env;

typedef struct dl_screen dl_screen;
struct dl_screen {
    const char *name;
    int id; /* one DL_SCR_* bit: selects its key bindings and help */
    void *self;
    /* Draws the whole screen into g (already cleared, g->cols x g->rows >= 80x24). */
    void (*draw)(dl_screen *s, dl_grid *g, const dl_ui_env *env);
    /* Handles an action (DL_ACT_NONE: key had no binding here, e.g. text typed into a prompt).
     * Returns DL_R_* flags. */
    int (*key)(dl_screen *s, dl_action a, int key, dl_app *app);
    /* Called every loop turn: pull new data; return DL_R_REDRAW when there is some. May be NULL. */
    int (*tick)(dl_screen *s, dl_app *app);
    /* Called when the screen is popped or the app is freed. May be NULL. */
    void (*close)(dl_screen *s);
    /* Set by a screen that takes text (a form): every key goes to key() as DL_ACT_NONE, before
     * the app's own bindings (q, ?, Esc), so a path may contain them. */
    int text_input;
    /* The question q asks (NULL: "Quit dllab? (y/n)"). With one, the answer key goes to key() as
     * DL_ACT_QUIT and the screen decides (DL_R_QUIT leaves, anything else stays). */
    const char *quit_prompt;
};

dl_app *dl_app_new(const dl_ui_opts *opts);
/* Frees the app and closes every screen still on the stack. */
void dl_app_free(dl_app *app);
/* Pushes s (copied) on top; returns 0, or -1 when the stack (16) is full. */
int dl_app_push(dl_app *app, const dl_screen *s);
dl_screen *dl_app_top(dl_app *app);
int dl_app_depth(const dl_app *app);
/* Watches fd for readability (drained by the caller's tick); up to 4 fds. */
int dl_app_watch_fd(dl_app *app, int fd);
/* Marks the screen dirty (redraw at the next frame). */
void dl_app_dirty(dl_app *app);
/* Shows msg on the bottom line until the next key. */
void dl_app_message(dl_app *app, const char *msg);
const dl_ui_env *dl_app_env(const dl_app *app);
/* For tests and --ascii without a terminal. */
void dl_app_set_env(dl_app *app, const dl_ui_env *env);

/* Feeds one key (dllab key code); returns the resulting DL_R_* flags. */
int dl_app_key(dl_app *app, int key);
/* Draws the current frame (top screen, or too-small, plus help/confirm overlays) into g. */
void dl_app_draw(dl_app *app, dl_grid *g);
int dl_app_help_visible(const dl_app *app);
int dl_app_quitting(const dl_app *app);

/* Runs the loop on the terminal until a screen quits, the stack empties or a signal arrives.
 * stderr_log: see dl_term_start. Returns DL_OK or the terminal error. */
dl_status dl_app_run(dl_app *app, const char *stderr_log, dl_err *err);
/* Asks a running loop to end (from the UI thread; other threads should post to a watched fd). */
void dl_app_request_quit(dl_app *app);

#endif
