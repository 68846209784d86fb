/* actions: the action enum, key dispatch and help, all expanded from ui/actions.def. Keys are
 * dllab's own codes (printable ASCII as itself, DL_KEY_* for the rest) so this module needs no
 * curses; ui/term translates curses key codes. */
#ifndef DL_UI_ACTIONS_H
#define DL_UI_ACTIONS_H

#include "ui/grid.h"

/* Screens, as bits so an action can belong to several. */
enum {
    DL_SCR_HOME = 1 << 0,
    DL_SCR_TRAIN = 1 << 1,
    DL_SCR_LRFIND = 1 << 2,
    DL_SCR_CONFUSION = 1 << 3,
    DL_SCR_IMAGES = 1 << 4,
    DL_SCR_RUN = 1 << 5,
    DL_SCR_COMPARE = 1 << 6,
    DL_SCR_FORM = 1 << 7,       /* the new-run form: text input, no bindings of its own */
    DL_SCR_MULTILABEL = 1 << 8, /* c on a multi-label run: per-class table + threshold sweep */
    DL_SCR_LAST = DL_SCR_MULTILABEL,
    DL_SCR_ALL = (DL_SCR_LAST << 1) - 1 /* derives from the list: a new screen goes above */
};

/* Non-printable keys. */
enum {
    DL_KEY_ESC = 27,
    DL_KEY_ENTER = '\n',
    DL_KEY_BASE = 0x200000, /* above every Unicode code point */
    DL_KEY_UP,
    DL_KEY_DOWN,
    DL_KEY_LEFT,
    DL_KEY_RIGHT,
    DL_KEY_PGUP,
    DL_KEY_PGDN,
    DL_KEY_HOME,
    DL_KEY_END,
    DL_KEY_BACKSPACE,
    DL_KEY_RESIZE
};

typedef enum dl_action {
    DL_ACT_NONE = 0,
#define ACTION(id, name, key, screens, help) DL_ACT_##id,
#include "ui/actions.def"
#undef ACTION
    DL_ACT_COUNT
} dl_action;

typedef struct dl_action_info {
    dl_action id;
    const char *name;
    int key;
    int screens;
    const char *help;
} dl_action_info;

/* All actions, DL_ACT_COUNT - 1 entries, in table order. */
const dl_action_info *dl_actions(int *count);
const dl_action_info *dl_action_info_of(dl_action a);
/* The action bound to key on screen, or DL_ACT_NONE. */
dl_action dl_action_for_key(int screen, int key);
/* Looks an action up by its name ("lr-up"); DL_ACT_NONE when unknown. */
dl_action dl_action_by_name(const char *name);
/* A key's display name: "q", "Tab", "Enter", "Space", "Left", "Esc"... (static buffer per key). */
const char *dl_key_name(int key);
/* Draws the help overlay for screen into r: a boxed two-column list "key  help". Returns the
 * number of actions listed. */
int dl_actions_help(dl_grid *g, dl_rect r, int screen, int ascii);

#endif
