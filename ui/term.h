/* term: the only file that talks to curses. It starts and restores the terminal (also on Ctrl-C
 * and on fatal signals, whose handlers call endwin before re-raising), picks colours and glyphs
 * through ui/colors, redirects stderr to a log file while the screen is up (and replays it after
 * endwin, as htop does), copies a dl_grid to the screen and reads keys as dllab key codes.
 * Only the UI thread may call it. */
#ifndef DL_UI_TERM_H
#define DL_UI_TERM_H

#include <stdio.h>

#include "core/err.h"
#include "ui/colors.h"
#include "ui/grid.h"

typedef struct dl_term {
    int cols, rows;
    int ascii;
    dl_color_depth depth;
    int direct_rgb;       /* terminfo takes 24-bit colour numbers */
    int in_fd;            /* fd to poll for keys */
    int saved_stderr;     /* dup of the real stderr while redirected, else -1 */
    char stderr_log[512]; /* where stderr went */
    int stderr_is_temp;   /* remove the log after replaying it */
} dl_term;

/* Starts curses on the controlling terminal. stderr_log: file for stderr while the screen is up
 * (NULL: a temporary file replayed to the real stderr and removed on stop). */
dl_status dl_term_start(dl_term *t, const dl_ui_opts *opts, const char *stderr_log, dl_err *err);
/* Restores the terminal and stderr; safe to call twice. */
void dl_term_stop(dl_term *t);
/* Re-reads the size after KEY_RESIZE. */
void dl_term_update_size(dl_term *t);
/* Copies g to the screen (only cells that differ are sent: curses diffs) and refreshes. */
void dl_term_flush(dl_term *t, const dl_grid *g);
/* Next key as a dllab key code (DL_KEY_* / code point), or -1 when none is waiting. */
int dl_term_key(dl_term *t);

#endif
