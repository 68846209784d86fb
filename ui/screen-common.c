/* screen-common: drawing pieces shared by the training, run and compare screens: number
 * formats, the fastai epoch table (the key bar is ui/keybar.c); the clock
 * the home, run and compare screens time their store reloads with; run names cut to a column. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/fmt.h"
#include "core/numfmt.h"
#include "ui/actions.h"
#include "ui/screens.h"

double dl_ui_now(void) { return dl_clock_now(); }

/* A run name cut to w cells keeps its end, where runs of one data and arch differ
 * ("fmnist-~et-xs-3", not "fmnist-resnet-x"). Only ASCII names are cut here (bytes are cells);
 * others are left to the grid, which cuts them at the end. */
const char *dl_ui_fit_name(const char *name, int w, char *buf, size_t cap)
{
    int n = (int)strlen(name);
    if (n <= w || w < 4 || (size_t)w >= cap)
        return name;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x80)
            return name;
    int tail = (w - 1) / 2, head = w - 1 - tail;
    snprintf(buf, cap, "%.*s~%s", head, name, name + n - tail);
    return buf;
}

/* The formats are core's (core/fmt.h), so commands print what the screens show. */
void dl_fmt_lr(double lr, char *buf, int cap) { dl_fmt_lr_text(lr, buf, (size_t)cap); }

void dl_fmt_duration(double s, char *buf, int cap) { dl_fmt_duration_text(s, buf, (size_t)cap); }

/* A column heading in cw cells: whole when it fits, else without its underscores
 * ("trainloss"), cut to cw. */
static const char *heading(const char *name, int cw, char *buf, size_t cap)
{
    if ((int)strlen(name) <= cw)
        return name;
    size_t j = 0;
    for (const char *p = name; *p && j + 1 < cap && (int)j < cw; p++)
        if (*p != '_')
            buf[j++] = *p;
    buf[j] = 0;
    return buf;
}

void dl_draw_epoch_table(dl_grid *g, dl_rect r, const dl_feed_epoch *rows, int n,
                         const char (*metric_names)[DL_SNAP_NAME], int n_metrics, int ascii)
{
    dl_grid_box(g, r, ascii, "epochs");
    int x = r.x + 1, w = r.w - 2, y = r.y + 1, h = r.h - 2;
    if (w < 10 || h < 1)
        return;
    char line[256], hb[3][24];
    /* fine_tune's frozen epochs read "frozen 0", then the unfrozen ones "0 1 2" (as the headless
     * tables); the column widens only when such a row is there */
    int ew = 5;
    for (int i = 0; i < n; i++)
        if (rows[i].frozen_fit && ew < 9)
            ew = rows[i].epoch < 10 ? 8 : 9;
    /* Number columns are 10 wide ("%.6f" as fastai); narrower when the panel would otherwise
     * cut the time column off (a wide epoch label). */
    int cols = 2 + n_metrics, cw = 10;
    while (cw > 8 && ew + cols * (cw + 1) + 7 > w)
        cw--;
    int k = snprintf(line, sizeof line, "%-*s %*s %*s", ew, "epoch", cw,
                     heading("train_loss", cw, hb[0], sizeof hb[0]), cw,
                     heading("valid_loss", cw, hb[1], sizeof hb[1]));
    for (int m = 0; m < n_metrics && k < (int)sizeof line - 16; m++)
        k += snprintf(line + k, sizeof line - (size_t)k, " %*.*s", cw, cw,
                      heading(metric_names[m], cw, hb[2], sizeof hb[2]));
    snprintf(line + k, sizeof line - (size_t)k, " %6s", "time");
    dl_grid_text(g, x, y, w, DL_ROLE_TITLE, DL_ATTR_BOLD, line);
    /* Newest rows win when they do not all fit. */
    int first = n > h - 1 ? n - (h - 1) : 0;
    double prev_t = first > 0 ? rows[first - 1].t : 0;
    for (int i = first; i < n; i++) {
        const dl_feed_epoch *e = &rows[i];
        char t[16];
        dl_fmt_duration(e->t - prev_t, t, sizeof t);
        prev_t = e->t;
        char a[32], b[32], c[32], ep[24]; /* a diverging 1553458094.0 must not push time out */
        snprintf(ep, sizeof ep, "%s%d", e->frozen_fit ? "frozen " : "", e->epoch);
        k = snprintf(line, sizeof line, "%-*s %*s %*s", ew, ep, cw,
                     dl_fmt_fit(e->train_loss, 6, cw, a, sizeof a), cw,
                     dl_fmt_fit(e->valid_loss, 6, cw, b, sizeof b));
        for (int m = 0; m < n_metrics && k < (int)sizeof line - 16; m++) {
            if (m < e->n_metrics)
                k += snprintf(line + k, sizeof line - (size_t)k, " %*s", cw,
                              dl_fmt_fit(e->metric[m], 6, cw, c, sizeof c));
            else /* the UI missed that validation's snapshot */
                k += snprintf(line + k, sizeof line - (size_t)k, " %*s", cw, "-");
        }
        snprintf(line + k, sizeof line - (size_t)k, " %6s", t);
        dl_grid_text(g, x, y + 1 + i - first, w, DL_ROLE_DEFAULT, 0, line);
    }
}
