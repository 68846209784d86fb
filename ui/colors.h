/* colors: deciding how much colour and which glyphs the terminal gets, and mapping RGB to
 * smaller palettes. The decisions are pure functions of the flags, the environment and what
 * terminfo reports, so they are unit-tested; ui/term applies them to curses.
 *  - NO_COLOR (any non-empty value) or --no-color: monochrome (roles told apart by glyph/bold).
 *  - COLORTERM=truecolor|24bit, or terminfo with >= 2^24 colours: true colour. ncurses can only
 *    emit 24-bit colour when terminfo says so (e.g. TERM=xterm-direct); otherwise images use the
 *    256-colour approximation even when COLORTERM claims more.
 *  - >= 256 colours: 256; >= 8: 8; none: monochrome.
 *  - ASCII mode when asked (--ascii) or when the locale's codeset is not UTF-8: braille and
 *    box-drawing characters print blank there. */
#ifndef DL_UI_COLORS_H
#define DL_UI_COLORS_H

#include <stdint.h>

typedef enum dl_color_depth {
    DL_COLOR_MONO = 0,
    DL_COLOR_8,
    DL_COLOR_256,
    DL_COLOR_TRUE
} dl_color_depth;

/* Options the command line hands to the UI. */
typedef struct dl_ui_opts {
    int no_color; /* --no-color */
    int ascii;    /* --ascii */
} dl_ui_opts;

dl_color_depth dl_color_detect(int no_color_flag, const char *no_color_env, const char *colorterm,
                               int has_colors, int ncolors);
/* 1 when the UI must use ASCII: forced, or codeset (nl_langinfo(CODESET)) is not UTF-8. */
int dl_ui_want_ascii(int ascii_flag, const char *codeset);
const char *dl_color_depth_name(dl_color_depth d);

/* Nearest xterm-256 index (6x6x6 cube 16..231 or grey ramp 232..255), as tmux's
 * colour_find_rgb. */
int dl_color_rgb_to_256(uint32_t rgb);
/* The RGB value of an xterm-256 index. */
uint32_t dl_color_256_rgb(int idx);
/* Nearest of the 8 basic colours (0 black .. 7 white, curses COLOR_* order). */
int dl_color_rgb_to_8(uint32_t rgb);
/* Luma 0..255 of an RGB value (for ASCII shading). */
int dl_color_luma(uint32_t rgb);

/* The colour of a role in a depth: a curses colour number (-1 = terminal default) and whether
 * it should be bold/dim. */
typedef struct dl_role_style {
    int fg, bg;
    unsigned attr; /* DL_ATTR_* */
} dl_role_style;
dl_role_style dl_role_style_for(int role, dl_color_depth d);

#endif
