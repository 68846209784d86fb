/* actions: the table from actions.def, key lookup and the help overlay (see actions.h). */
#include "ui/actions.h"

#include <stdio.h>
#include <string.h>

static const dl_action_info table[] = {
#define ACTION(id, name, key, screens, help) {DL_ACT_##id, name, key, screens, help},
#include "ui/actions.def"
#undef ACTION
};

const dl_action_info *dl_actions(int *count)
{
    if (count)
        *count = (int)(sizeof table / sizeof table[0]);
    return table;
}

const dl_action_info *dl_action_info_of(dl_action a)
{
    if (a <= DL_ACT_NONE || a >= DL_ACT_COUNT)
        return NULL;
    return &table[a - 1];
}

dl_action dl_action_for_key(int screen, int key)
{
    if (key == '\r')
        key = '\n';
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].key == key && (table[i].screens & screen))
            return table[i].id;
    return DL_ACT_NONE;
}

dl_action dl_action_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].id;
    return DL_ACT_NONE;
}

const char *dl_key_name(int key)
{
    static char buf[8][16];
    static int slot;
    switch (key) {
    case '\t':
        return "Tab";
    case '\n':
        return "Enter";
    case ' ':
        return "Space";
    case DL_KEY_ESC:
        return "Esc";
    case DL_KEY_UP:
        return "Up";
    case DL_KEY_DOWN:
        return "Down";
    case DL_KEY_LEFT:
        return "Left";
    case DL_KEY_RIGHT:
        return "Right";
    case DL_KEY_PGUP:
        return "PgUp";
    case DL_KEY_PGDN:
        return "PgDn";
    case DL_KEY_HOME:
        return "Home";
    case DL_KEY_END:
        return "End";
    case DL_KEY_BACKSPACE:
        return "Backspace";
    case DL_KEY_RESIZE:
        return "Resize";
    }
    char *b = buf[slot++ % 8];
    if (key > 32 && key < 127)
        snprintf(b, 16, "%c", key);
    else
        snprintf(b, 16, "#%d", key);
    return b;
}

int dl_actions_help(dl_grid *g, dl_rect r, int screen, int ascii)
{
    dl_grid_fill(g, r, ' ', DL_ROLE_DEFAULT, 0);
    dl_grid_box(g, r, ascii, "keys (? closes)");
    int shown = 0, y = r.y + 1, col_w = r.w - 2, x = r.x + 2;
    int n = (int)(sizeof table / sizeof table[0]);
    /* Two columns when there is room for them. */
    int per_col = r.h - 2, cols = 1, longest = 0;
    for (int i = 0; i < n; i++)
        if ((table[i].screens & screen) && dl_utf8_width(table[i].help) > longest)
            longest = dl_utf8_width(table[i].help);
    /* Two columns only when both fit their longest help line. */
    if ((r.w - 4) / 2 >= 7 + longest + 2) {
        cols = 2;
        col_w = (r.w - 4) / 2;
    }
    for (int i = 0; i < n; i++) {
        if (!(table[i].screens & screen))
            continue;
        int c = shown / per_col;
        if (c >= cols)
            break;
        int yy = y + shown % per_col, xx = x + c * col_w;
        dl_grid_text(g, xx, yy, 7, DL_ROLE_TITLE, DL_ATTR_BOLD, dl_key_name(table[i].key));
        dl_grid_text(g, xx + 7, yy, col_w - 9, DL_ROLE_DEFAULT, 0, table[i].help);
        shown++;
    }
    return shown;
}
