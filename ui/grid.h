/* grid: an in-memory screen of cells (code point + colour role + attributes + optional RGB).
 * Every widget draws into a grid, never into curses; the app loop copies the grid to the
 * terminal, and tests compare grids with golden text. Refuses nothing silently: writes outside
 * the grid are clipped, text is UTF-8 decoded (invalid bytes become '?'). */
#ifndef DL_UI_GRID_H
#define DL_UI_GRID_H

#include <stddef.h>
#include <stdint.h>

/* Semantic colour roles (mapped to curses pairs by ui/colors). */
typedef enum dl_role {
    DL_ROLE_DEFAULT = 0,
    DL_ROLE_TITLE,
    DL_ROLE_AXIS,
    DL_ROLE_TRAIN_RAW,
    DL_ROLE_TRAIN,
    DL_ROLE_VALID,
    DL_ROLE_MARKER,
    DL_ROLE_CURSOR,
    DL_ROLE_GOOD,
    DL_ROLE_WARN,
    DL_ROLE_BAD,
    DL_ROLE_DIM,
    DL_ROLE_SELECT,
    DL_ROLE_SERIES1, /* compare: one role per run, SERIES1..SERIES6 */
    DL_ROLE_SERIES2,
    DL_ROLE_SERIES3,
    DL_ROLE_SERIES4,
    DL_ROLE_SERIES5,
    DL_ROLE_SERIES6,
    DL_ROLE_COUNT
} dl_role;

enum {
    DL_ATTR_BOLD = 1u << 0,
    DL_ATTR_DIM = 1u << 1,
    DL_ATTR_REVERSE = 1u << 2,
    DL_ATTR_RGB_FG = 1u << 3, /* fg holds 0xRRGGBB (images) instead of the role's colour */
    DL_ATTR_RGB_BG = 1u << 4
};

typedef struct dl_cell {
    uint32_t ch;     /* Unicode code point; ' ' when empty */
    uint8_t role;    /* dl_role */
    uint8_t attr;    /* DL_ATTR_* */
    uint32_t fg, bg; /* 0xRRGGBB when DL_ATTR_RGB_FG / _BG */
} dl_cell;

typedef struct dl_grid {
    int cols, rows;
    dl_cell *cells; /* rows*cols, row-major */
} dl_grid;

/* A rectangle of cells: x,y top-left column/row, w,h size. */
typedef struct dl_rect {
    int x, y, w, h;
} dl_rect;

/* Allocates a cleared grid; returns NULL when out of memory or size is not positive. */
dl_grid *dl_grid_new(int cols, int rows);
void dl_grid_free(dl_grid *g);
/* Resizes (contents are cleared). Returns 0 or -1 when out of memory. */
int dl_grid_resize(dl_grid *g, int cols, int rows);
void dl_grid_clear(dl_grid *g);
/* The cell at (x,y), or NULL outside the grid. */
dl_cell *dl_grid_at(dl_grid *g, int x, int y);
const dl_cell *dl_grid_cat(const dl_grid *g, int x, int y);
void dl_grid_put(dl_grid *g, int x, int y, uint32_t ch, int role, unsigned attr);
/* Writes UTF-8 text at (x,y), at most maxw cells (maxw < 0: to the grid's edge). Returns the
 * number of cells written. */
int dl_grid_text(dl_grid *g, int x, int y, int maxw, int role, unsigned attr, const char *utf8);
int dl_grid_textf(dl_grid *g, int x, int y, int maxw, int role, unsigned attr, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Fills a rectangle with ch in role/attr. */
void dl_grid_fill(dl_grid *g, dl_rect r, uint32_t ch, int role, unsigned attr);
/* A single-line box around r (ASCII '+','-','|' when ascii, else box drawing) with an optional
 * title in the top edge. */
void dl_grid_box(dl_grid *g, dl_rect r, int ascii, const char *title);

/* Number of cells text would take (code points; all our glyphs are single width). */
int dl_utf8_width(const char *utf8);
/* Decodes one code point from s (n bytes left); stores its length in *len. Invalid -> '?'. */
uint32_t dl_utf8_decode(const char *s, size_t n, int *len);
/* Encodes cp into out (>= 4 bytes); returns the length. */
int dl_utf8_encode(uint32_t cp, char *out);

/* Text of the grid: one UTF-8 line per row, trailing spaces trimmed, each ending in '\n'.
 * Returns a malloc'd string (NULL when out of memory). */
char *dl_grid_dump(const dl_grid *g);
/* The role layer: one character per cell ('.' default, 'a'+role-1 otherwise) — lets a golden
 * file pin colours too. Malloc'd. */
char *dl_grid_dump_roles(const dl_grid *g);

#endif
