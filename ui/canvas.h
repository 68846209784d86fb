/* canvas: a braille dot canvas. Each cell holds 2x4 dots (U+2800 + bit pattern), so a canvas
 * of cols x rows cells has (2*cols) x (4*rows) dots, y growing downwards. Lines are joined with
 * Bresenham after clipping to the canvas, so steep segments leave no gaps and points far outside
 * cost nothing. A cell has one colour role: the last series drawn into it wins (draw the focused
 * series last). Renders into a dl_grid as braille, or, in ASCII mode (non-UTF-8 locales, where
 * braille prints blank), as ' . : \'' by which half of the cell holds dots. */
#ifndef DL_UI_CANVAS_H
#define DL_UI_CANVAS_H

#include <stdint.h>

#include "ui/grid.h"

typedef struct dl_canvas {
    int cols, rows; /* size in cells */
    uint8_t *bits;  /* cols*rows braille bit patterns */
    uint8_t *role;  /* cols*rows colour roles */
    uint8_t *attr;  /* cols*rows DL_ATTR_* */
} dl_canvas;

/* The braille bit of dot (dx, dy) inside a cell, dx in 0..1, dy in 0..3. */
uint8_t dl_braille_bit(int dx, int dy);

dl_canvas *dl_canvas_new(int cols, int rows);
void dl_canvas_free(dl_canvas *c);
void dl_canvas_clear(dl_canvas *c);
static inline int dl_canvas_width(const dl_canvas *c) { return c->cols * 2; }
static inline int dl_canvas_height(const dl_canvas *c) { return c->rows * 4; }
/* Sets dot (px, py); outside the canvas it is ignored. role/attr colour the whole cell. */
void dl_canvas_dot(dl_canvas *c, int px, int py, int role, unsigned attr);
int dl_canvas_get(const dl_canvas *c, int px, int py);
/* A line between dot coordinates (may lie partly or wholly outside; non-finite ends draw
 * nothing). Coordinates are rounded to the nearest dot after clipping. */
void dl_canvas_line(dl_canvas *c, double x0, double y0, double x1, double y1, int role,
                    unsigned attr);
/* Draws the canvas into g with its top-left cell at (x, y). Empty cells are left untouched, so
 * a canvas can be overlaid on a background. */
void dl_canvas_render(const dl_canvas *c, dl_grid *g, int x, int y, int ascii);
/* The ASCII glyph standing for a braille pattern. */
char dl_canvas_ascii_glyph(uint8_t bits);

#endif
