/* colors: colour-depth and glyph decisions, palette approximation (see colors.h). */
#include "ui/colors.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ui/grid.h"

dl_color_depth dl_color_detect(int no_color_flag, const char *no_color_env, const char *colorterm,
                               int has_colors, int ncolors)
{
    if (no_color_flag || (no_color_env && *no_color_env) || !has_colors)
        return DL_COLOR_MONO;
    if (ncolors >= (1 << 24))
        return DL_COLOR_TRUE;
    if (colorterm &&
        (strcasecmp(colorterm, "truecolor") == 0 || strcasecmp(colorterm, "24bit") == 0) &&
        ncolors >= 8)
        return DL_COLOR_TRUE;
    if (ncolors >= 256)
        return DL_COLOR_256;
    if (ncolors >= 8)
        return DL_COLOR_8;
    return DL_COLOR_MONO;
}

int dl_ui_want_ascii(int ascii_flag, const char *codeset)
{
    if (ascii_flag || !codeset)
        return 1;
    return !(strcasecmp(codeset, "UTF-8") == 0 || strcasecmp(codeset, "utf8") == 0);
}

const char *dl_color_depth_name(dl_color_depth d)
{
    switch (d) {
    case DL_COLOR_MONO:
        return "mono";
    case DL_COLOR_8:
        return "8";
    case DL_COLOR_256:
        return "256";
    case DL_COLOR_TRUE:
        return "truecolor";
    }
    return "?";
}

static const int cube[6] = {0, 95, 135, 175, 215, 255};

static int cube_index(int v)
{
    /* xterm cube levels are 0, 95, 135, ...: the thresholds sit between them. */
    if (v < 48)
        return 0;
    if (v < 115)
        return 1;
    return (v - 35) / 40;
}

static int dist2(int r1, int g1, int b1, int r2, int g2, int b2)
{
    return (r1 - r2) * (r1 - r2) + (g1 - g2) * (g1 - g2) + (b1 - b2) * (b1 - b2);
}

int dl_color_rgb_to_256(uint32_t rgb)
{
    int r = rgb >> 16 & 0xFF, g = rgb >> 8 & 0xFF, b = rgb & 0xFF;
    int qr = cube_index(r), qg = cube_index(g), qb = cube_index(b);
    int cr = cube[qr], cg = cube[qg], cb = cube[qb];
    int cidx = 16 + 36 * qr + 6 * qg + qb;
    if (cr == r && cg == g && cb == b)
        return cidx;
    int avg = (r + g + b) / 3;
    int gidx = avg > 238 ? 23 : (avg - 3) / 10;
    if (gidx < 0)
        gidx = 0;
    int grey = 8 + 10 * gidx;
    if (dist2(grey, grey, grey, r, g, b) < dist2(cr, cg, cb, r, g, b))
        return 232 + gidx;
    return cidx;
}

uint32_t dl_color_256_rgb(int idx)
{
    static const uint32_t basic[16] = {0x000000, 0x800000, 0x008000, 0x808000, 0x000080, 0x800080,
                                       0x008080, 0xc0c0c0, 0x808080, 0xff0000, 0x00ff00, 0xffff00,
                                       0x0000ff, 0xff00ff, 0x00ffff, 0xffffff};
    if (idx < 0 || idx > 255)
        return 0;
    if (idx < 16)
        return basic[idx];
    if (idx >= 232) {
        uint32_t v = (uint32_t)(8 + 10 * (idx - 232));
        return v << 16 | v << 8 | v;
    }
    idx -= 16;
    return (uint32_t)cube[idx / 36] << 16 | (uint32_t)cube[idx / 6 % 6] << 8 |
           (uint32_t)cube[idx % 6];
}

int dl_color_rgb_to_8(uint32_t rgb)
{
    int r = rgb >> 16 & 0xFF, g = rgb >> 8 & 0xFF, b = rgb & 0xFF;
    /* curses order: black red green yellow blue magenta cyan white. */
    static const int pal[8][3] = {{0, 0, 0},   {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
                                  {0, 0, 238}, {205, 0, 205}, {0, 205, 205}, {229, 229, 229}};
    int best = 0, bd = 1 << 30;
    for (int i = 0; i < 8; i++) {
        int d = dist2(r, g, b, pal[i][0], pal[i][1], pal[i][2]);
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}

int dl_color_luma(uint32_t rgb)
{
    int r = rgb >> 16 & 0xFF, g = rgb >> 8 & 0xFF, b = rgb & 0xFF;
    return (299 * r + 587 * g + 114 * b) / 1000;
}

/* curses colour numbers without including curses here. */
enum { C_BLACK, C_RED, C_GREEN, C_YELLOW, C_BLUE, C_MAGENTA, C_CYAN, C_WHITE };

dl_role_style dl_role_style_for(int role, dl_color_depth d)
{
    /* One scheme: [role] = {8-colour fg, 256-colour fg, attr}. */
    static const struct {
        int fg8, fg256;
        unsigned attr;
    } scheme[DL_ROLE_COUNT] = {
        [DL_ROLE_DEFAULT] = {-1, -1, 0},
        [DL_ROLE_TITLE] = {-1, -1, DL_ATTR_BOLD},
        [DL_ROLE_AXIS] = {-1, 245, 0},
        [DL_ROLE_TRAIN_RAW] = {C_BLUE, 61, DL_ATTR_DIM},
        [DL_ROLE_TRAIN] = {C_BLUE, 39, DL_ATTR_BOLD},
        [DL_ROLE_VALID] = {C_YELLOW, 214, DL_ATTR_BOLD},
        [DL_ROLE_MARKER] = {C_MAGENTA, 170, DL_ATTR_BOLD},
        [DL_ROLE_CURSOR] = {C_WHITE, 231, DL_ATTR_BOLD},
        [DL_ROLE_GOOD] = {C_GREEN, 71, 0},
        [DL_ROLE_WARN] = {C_YELLOW, 178, DL_ATTR_BOLD},
        [DL_ROLE_BAD] = {C_RED, 196, DL_ATTR_BOLD},
        [DL_ROLE_DIM] = {-1, 244, DL_ATTR_DIM},
        [DL_ROLE_SELECT] = {-1, -1, DL_ATTR_REVERSE},
        [DL_ROLE_SERIES1] = {C_BLUE, 39, 0},
        [DL_ROLE_SERIES2] = {C_YELLOW, 214, 0},
        [DL_ROLE_SERIES3] = {C_GREEN, 77, 0},
        [DL_ROLE_SERIES4] = {C_MAGENTA, 170, 0},
        [DL_ROLE_SERIES5] = {C_CYAN, 44, 0},
        [DL_ROLE_SERIES6] = {C_RED, 203, 0},
    };
    dl_role_style st = {-1, -1, 0};
    if (role < 0 || role >= DL_ROLE_COUNT)
        return st;
    st.attr = scheme[role].attr;
    if (d == DL_COLOR_MONO) {
        /* Without colour only emphasis remains; dim raw data, bold highlights. */
        return st;
    }
    st.fg = d == DL_COLOR_8 ? scheme[role].fg8 : scheme[role].fg256;
    if (d == DL_COLOR_8)
        st.attr &= ~(unsigned)DL_ATTR_DIM; /* many 8-colour terminals render dim as invisible */
    return st;
}
