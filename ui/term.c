/* term: curses start/stop, signals, stderr redirect, grid flush, key input (see term.h). */
#include "ui/term.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>

#include "ui/actions.h"

/* Signal handlers need these, so they are file-scope: whether curses owns the screen now. */
static volatile sig_atomic_t curses_up;
/* Where a dying process can still talk to the user: the real stderr (saved while ours goes to the
 * log) and the log's path, which a crash leaves behind. */
static volatile int fatal_fd = STDERR_FILENO;
static char fatal_log[512];
static struct sigaction old_segv, old_abrt, old_bus, old_fpe;

/* Fatal signals: give the terminal back before dying, then die of the same signal. endwin is not
 * async-signal-safe, but the process is going down anyway and a sane terminal is worth the risk
 * (htop's CRT_handleSIGSEGV does the same). */
static void on_fatal(int sig)
{
    if (curses_up) {
        curses_up = 0;
        endwin();
    }
    static const char msg[] = "dllab: fatal signal; terminal restored";
    ssize_t w = write(fatal_fd, msg, sizeof msg - 1);
    if (fatal_log[0]) {
        w = write(fatal_fd, "; stderr of the session is in ", 30);
        w = write(fatal_fd, fatal_log, strlen(fatal_log));
    }
    w = write(fatal_fd, "\n", 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_fatal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGABRT, &sa, &old_abrt);
    sigaction(SIGBUS, &sa, &old_bus);
    sigaction(SIGFPE, &sa, &old_fpe);
}

static void restore_fatal(void)
{
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGABRT, &old_abrt, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    sigaction(SIGFPE, &old_fpe, NULL);
}

static int redirect_stderr(dl_term *t, const char *path, dl_err *err)
{
    int fd;
    if (path) {
        snprintf(t->stderr_log, sizeof t->stderr_log, "%s", path);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        t->stderr_is_temp = 0;
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(t->stderr_log, sizeof t->stderr_log, "%s/dllab-stderr-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        fd = mkstemp(t->stderr_log);
        t->stderr_is_temp = 1;
    }
    if (fd < 0)
        return dl_err_set(err, DL_EIO, "%s: cannot open the stderr log: %s", t->stderr_log,
                          strerror(errno));
    fflush(stderr);
    t->saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    if (t->saved_stderr >= 0) {
        fatal_fd = t->saved_stderr;
        snprintf(fatal_log, sizeof fatal_log, "%s", t->stderr_log);
    }
    return DL_OK;
}

static void restore_stderr(dl_term *t)
{
    if (t->saved_stderr < 0)
        return;
    fflush(stderr);
    dup2(t->saved_stderr, STDERR_FILENO);
    fatal_fd = STDERR_FILENO;
    fatal_log[0] = '\0';
    close(t->saved_stderr);
    t->saved_stderr = -1;
    /* Replay what was written while the screen was up, so warnings are not lost. */
    if (t->stderr_is_temp) {
        FILE *f = fopen(t->stderr_log, "r");
        if (f) {
            char buf[4096];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, stderr);
            fclose(f);
        }
        unlink(t->stderr_log);
    }
}

static void pair_cache_reset(void);
/* The screen newterm made: deleted when the UI stops, since one process may open the UI again
 * (home -> training -> home) and each start makes a new one. */
static SCREEN *screen;

dl_status dl_term_start(dl_term *t, const dl_ui_opts *opts, const char *stderr_log, dl_err *err)
{
    dl_ui_opts none = {0};
    if (!opts)
        opts = &none;
    memset(t, 0, sizeof *t);
    t->saved_stderr = -1;
    setlocale(LC_ALL, "");
    t->ascii = dl_ui_want_ascii(opts->ascii, nl_langinfo(CODESET));
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return dl_err_set(err, DL_EINVAL,
                          "the terminal UI needs a terminal on stdin and stdout (use --no-tui)");
    const char *term = getenv("TERM");
    if (!term || !*term || strcmp(term, "dumb") == 0)
        return dl_err_set(err, DL_EUNSUPPORTED,
                          "TERM is '%s': the terminal UI needs a real terminal (use --no-tui)",
                          term ? term : "");
    if (redirect_stderr(t, stderr_log, err) != DL_OK)
        return err ? err->code : DL_EIO;
    /* ncurses reads ESCDELAY at start: a lone Esc must not wait a second. */
    setenv("ESCDELAY", "25", 0);
    if (!(screen = newterm(NULL, stdout, stdin))) {
        restore_stderr(t);
        return dl_err_set(err, DL_EUNSUPPORTED, "cannot start curses for TERM '%s'", term);
    }
    curses_up = 1;
    pair_cache_reset(); /* pairs of an earlier screen do not exist in this one */
    install_fatal();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    int ncolors = 0;
    if (has_colors()) {
        start_color();
        use_default_colors();
        ncolors = COLORS;
    }
    t->depth = dl_color_detect(opts->no_color, getenv("NO_COLOR"), getenv("COLORTERM"),
                               has_colors(), ncolors);
    t->direct_rgb = ncolors >= (1 << 24);
    if (t->depth != DL_COLOR_MONO)
        for (int r = 1; r < DL_ROLE_COUNT; r++) {
            dl_role_style st = dl_role_style_for(r, t->depth);
            init_extended_pair(r, st.fg, st.bg);
        }
    t->in_fd = STDIN_FILENO;
    dl_term_update_size(t);
    return DL_OK;
}

void dl_term_stop(dl_term *t)
{
    if (curses_up) {
        curses_up = 0;
        curs_set(1);
        endwin();
        restore_fatal();
        delscreen(screen);
        screen = NULL;
    }
    restore_stderr(t);
}

void dl_term_update_size(dl_term *t)
{
    t->cols = COLS;
    t->rows = LINES;
}

/* RGB cells (images) need pairs of their own: allocated after the role pairs, reused by value,
 * and recycled wholesale when the terminal runs out. File-scope because curses' pair table is
 * itself process-wide; only the UI thread touches either. */
#define PAIR_CACHE 4096
static struct {
    int fg, bg, pair;
} pair_cache[PAIR_CACHE];
static int next_pair = DL_ROLE_COUNT;

static void pair_cache_reset(void)
{
    memset(pair_cache, 0, sizeof pair_cache);
    next_pair = DL_ROLE_COUNT;
}

static int rgb_pair(dl_term *t, int fg, int bg)
{
    unsigned h = ((unsigned)fg * 2654435761u ^ (unsigned)bg * 40503u) % PAIR_CACHE;
    for (int probe = 0; probe < 16; probe++) {
        unsigned i = (h + probe) % PAIR_CACHE;
        if (pair_cache[i].pair && pair_cache[i].fg == fg && pair_cache[i].bg == bg)
            return pair_cache[i].pair;
        if (!pair_cache[i].pair) {
            if (next_pair >= COLOR_PAIRS)
                break;
            pair_cache[i].fg = fg;
            pair_cache[i].bg = bg;
            pair_cache[i].pair = next_pair++;
            init_extended_pair(pair_cache[i].pair, fg, bg);
            return pair_cache[i].pair;
        }
    }
    /* Full: start over (cells drawn earlier in this frame may change colour; rare). */
    memset(pair_cache, 0, sizeof pair_cache);
    next_pair = DL_ROLE_COUNT;
    (void)t;
    return rgb_pair(t, fg, bg);
}

static int colour_number(dl_term *t, uint32_t rgb)
{
    if (t->direct_rgb)
        return (int)rgb;
    if (t->depth == DL_COLOR_8)
        return dl_color_rgb_to_8(rgb);
    return dl_color_rgb_to_256(rgb);
}

void dl_term_flush(dl_term *t, const dl_grid *g)
{
    for (int y = 0; y < g->rows && y < LINES; y++)
        for (int x = 0; x < g->cols && x < COLS; x++) {
            const dl_cell *c = &g->cells[(size_t)y * g->cols + x];
            attr_t a = A_NORMAL;
            int pair = 0;
            if (c->attr & DL_ATTR_BOLD)
                a |= A_BOLD;
            if (c->attr & DL_ATTR_DIM)
                a |= A_DIM;
            if (c->attr & DL_ATTR_REVERSE)
                a |= A_REVERSE;
            dl_role_style st = dl_role_style_for(c->role, t->depth);
            if (st.attr & DL_ATTR_REVERSE)
                a |= A_REVERSE;
            if (t->depth == DL_COLOR_MONO) {
                if (st.attr & DL_ATTR_BOLD)
                    a |= A_BOLD;
            } else if (c->attr & (DL_ATTR_RGB_FG | DL_ATTR_RGB_BG)) {
                int fg = c->attr & DL_ATTR_RGB_FG ? colour_number(t, c->fg) : -1;
                int bg = c->attr & DL_ATTR_RGB_BG ? colour_number(t, c->bg) : -1;
                pair = rgb_pair(t, fg, bg);
            } else {
                pair = c->role;
                if (st.attr & DL_ATTR_DIM)
                    a |= A_DIM;
            }
            wchar_t wc[2] = {(wchar_t)(c->ch ? c->ch : ' '), 0};
            if (t->ascii && c->ch > 126)
                wc[0] = '?';
            cchar_t cc;
            setcchar(&cc, wc, a, 0, &pair); /* extended pair numbers go through opts */
            mvadd_wch(y, x, &cc);
        }
    wnoutrefresh(stdscr);
    doupdate();
}

int dl_term_key(dl_term *t)
{
    (void)t;
    wint_t wc;
    int r = get_wch(&wc);
    if (r == ERR)
        return -1;
    if (r == KEY_CODE_YES) {
        switch (wc) {
        case KEY_UP:
            return DL_KEY_UP;
        case KEY_DOWN:
            return DL_KEY_DOWN;
        case KEY_LEFT:
            return DL_KEY_LEFT;
        case KEY_RIGHT:
            return DL_KEY_RIGHT;
        case KEY_PPAGE:
            return DL_KEY_PGUP;
        case KEY_NPAGE:
            return DL_KEY_PGDN;
        case KEY_HOME:
            return DL_KEY_HOME;
        case KEY_END:
            return DL_KEY_END;
        case KEY_BACKSPACE:
            return DL_KEY_BACKSPACE;
        case KEY_ENTER:
            return DL_KEY_ENTER;
        case KEY_RESIZE:
            return DL_KEY_RESIZE;
        case KEY_F(1):
            return '?';
        default:
            return -1;
        }
    }
    if (wc == '\r')
        return DL_KEY_ENTER;
    if (wc == 127 || wc == 8)
        return DL_KEY_BACKSPACE;
    return (int)wc;
}
