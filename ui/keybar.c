/* keybar: the one-line key bar at the bottom of a screen. Keys come from the action table
 * (actions.def), drawn most useful first by the ranking below, as many as fit; when some are left
 * out, the bar ends with "? more" (the help overlay lists every key). An 80-column dashboard thus
 * shows pause, stop, the lr keys and the finder instead of the first table rows. */
#include <string.h>

#include "ui/actions.h"
#include "ui/screens.h"

/* Rank (lower first) and an optional shorter label for the bar; actions not listed keep their
 * table order after the ranked ones. One row per action; the help overlay keeps the full names. */
static const struct {
    dl_action id;
    int rank;
    const char *label; /* NULL: the action's own name */
} ranking[] = {
    {DL_ACT_QUIT, 0, NULL},
    {DL_ACT_PAUSE, 1, NULL},
    {DL_ACT_STOP_EPOCH, 2, "stop-epoch"},
    {DL_ACT_LR_SET, 3, NULL},
    {DL_ACT_LR_DOWN, 4, NULL},
    {DL_ACT_LR_UP, 5, NULL},
    {DL_ACT_LRFIND, 6, NULL},
    {DL_ACT_CONFUSION, 7, NULL},
    {DL_ACT_TOP_LOSSES, 8, NULL},
    {DL_ACT_UNFREEZE, 9, NULL},
    {DL_ACT_FREEZE, 10, NULL},
    {DL_ACT_SAVE, 11, NULL},
    {DL_ACT_OPEN, 1, NULL},
    {DL_ACT_NEW_RUN, 2, NULL},
    {DL_ACT_MARK, 3, NULL},
    {DL_ACT_COMPARE, 4, NULL},
    {DL_ACT_USE_LR, 1, NULL},
    {DL_ACT_CURSOR_LEFT, 2, NULL},
    {DL_ACT_CURSOR_RIGHT, 3, NULL},
    {DL_ACT_HELP, 50, NULL}, /* drawn last, as "? help" or "? more" */
};

static int rank_of(dl_action id, int table_pos, const char **label)
{
    for (size_t i = 0; i < sizeof ranking / sizeof ranking[0]; i++)
        if (ranking[i].id == id) {
            if (ranking[i].label)
                *label = ranking[i].label;
            return ranking[i].rank;
        }
    return 20 + table_pos;
}

static bool on_bar(const dl_action_info *a, int screen)
{
    return (a->screens & screen) && a->id != DL_ACT_BACK && a->id != DL_ACT_UP &&
           a->id != DL_ACT_DOWN && a->id != DL_ACT_HELP;
}

static int entry_width(const char *key, const char *label)
{
    return dl_utf8_width(key) + 1 + dl_utf8_width(label) + 2;
}

void dl_draw_keybar(dl_grid *g, dl_rect r, int screen)
{
    int n;
    const dl_action_info *t = dl_actions(&n);
    /* the bar's actions, ranked (a stable insertion sort: the table is a few dozen rows) */
    int order[128], rank[128], m = 0;
    const char *label[128];
    for (int i = 0; i < n && m < 128; i++) {
        if (!on_bar(&t[i], screen))
            continue;
        const char *lb = t[i].name;
        int rk = rank_of(t[i].id, i, &lb);
        int j = m++;
        while (j > 0 && rank[j - 1] > rk) {
            order[j] = order[j - 1], rank[j] = rank[j - 1], label[j] = label[j - 1];
            j--;
        }
        order[j] = i, rank[j] = rk, label[j] = lb;
    }
    int help_w = entry_width("?", "more"), x = r.x, end = r.x + r.w;
    int shown = 0;
    for (int j = 0; j < m; j++) {
        const char *k = dl_key_name(t[order[j]].key);
        int need = entry_width(k, label[j]);
        /* room for "? more" stays unless this is the last key */
        if (x + need + (j + 1 < m ? help_w : 0) > end)
            break;
        x += dl_grid_text(g, x, r.y, -1, DL_ROLE_SELECT, 0, k);
        x += 1;
        x += dl_grid_text(g, x, r.y, -1, DL_ROLE_DIM, 0, label[j]);
        x += 2;
        shown++;
    }
    const char *more = shown < m ? "more" : "help";
    if (x + entry_width("?", more) - 2 <= end) {
        x += dl_grid_text(g, x, r.y, -1, DL_ROLE_SELECT, 0, "?");
        x += 1;
        dl_grid_text(g, x, r.y, -1, DL_ROLE_DIM, 0, more);
    }
}
