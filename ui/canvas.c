/* canvas: braille dots, clipped Bresenham lines, braille/ASCII rendering (see canvas.h). */
#include "ui/canvas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Unicode braille numbering: dots 1-3 down the left column, 4-6 down the right, 7 and 8 at the
 * bottom (left, right). */
static const uint8_t braille_bits[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};

uint8_t dl_braille_bit(int dx, int dy)
{
    if (dx < 0 || dx > 1 || dy < 0 || dy > 3)
        return 0;
    return braille_bits[dy][dx];
}

dl_canvas *dl_canvas_new(int cols, int rows)
{
    if (cols <= 0 || rows <= 0)
        return NULL;
    dl_canvas *c = calloc(1, sizeof *c);
    size_t n = (size_t)cols * rows;
    if (!c)
        return NULL;
    c->cols = cols;
    c->rows = rows;
    c->bits = calloc(n, 1);
    c->role = calloc(n, 1);
    c->attr = calloc(n, 1);
    if (!c->bits || !c->role || !c->attr) {
        dl_canvas_free(c);
        return NULL;
    }
    return c;
}

void dl_canvas_free(dl_canvas *c)
{
    if (!c)
        return;
    free(c->bits);
    free(c->role);
    free(c->attr);
    free(c);
}

void dl_canvas_clear(dl_canvas *c)
{
    size_t n = (size_t)c->cols * c->rows;
    memset(c->bits, 0, n);
    memset(c->role, 0, n);
    memset(c->attr, 0, n);
}

void dl_canvas_dot(dl_canvas *c, int px, int py, int role, unsigned attr)
{
    if (px < 0 || py < 0 || px >= c->cols * 2 || py >= c->rows * 4)
        return;
    size_t i = (size_t)(py / 4) * c->cols + px / 2;
    c->bits[i] |= braille_bits[py % 4][px % 2];
    c->role[i] = (uint8_t)role;
    c->attr[i] = (uint8_t)attr;
}

int dl_canvas_get(const dl_canvas *c, int px, int py)
{
    if (px < 0 || py < 0 || px >= c->cols * 2 || py >= c->rows * 4)
        return 0;
    return (c->bits[(size_t)(py / 4) * c->cols + px / 2] & braille_bits[py % 4][px % 2]) != 0;
}

/* Liang-Barsky clipping of the segment to [xmin,xmax]x[ymin,ymax]; 0 when nothing is left. */
static int clip(double *x0, double *y0, double *x1, double *y1, double xmin, double xmax,
                double ymin, double ymax)
{
    double dx = *x1 - *x0, dy = *y1 - *y0, t0 = 0, t1 = 1;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {*x0 - xmin, xmax - *x0, *y0 - ymin, ymax - *y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1)
                return 0;
            if (t > t0)
                t0 = t;
        } else {
            if (t < t0)
                return 0;
            if (t < t1)
                t1 = t;
        }
    }
    double ox = *x0, oy = *y0;
    *x0 = ox + t0 * dx;
    *y0 = oy + t0 * dy;
    *x1 = ox + t1 * dx;
    *y1 = oy + t1 * dy;
    return 1;
}

void dl_canvas_line(dl_canvas *c, double fx0, double fy0, double fx1, double fy1, int role,
                    unsigned attr)
{
    if (!isfinite(fx0) || !isfinite(fy0) || !isfinite(fx1) || !isfinite(fy1))
        return;
    /* Clip to the dot centres' extent (half a dot of slack so rounding stays inside). */
    if (!clip(&fx0, &fy0, &fx1, &fy1, -0.5, c->cols * 2 - 0.5, -0.5, c->rows * 4 - 0.5))
        return;
    int x0 = (int)lround(fx0), y0 = (int)lround(fy0), x1 = (int)lround(fx1), y1 = (int)lround(fy1);
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        dl_canvas_dot(c, x0, y0, role, attr);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

char dl_canvas_ascii_glyph(uint8_t bits)
{
    /* Upper half = dot rows 0-1, lower half = rows 2-3. */
    int upper = (bits & 0x1B) != 0, lower = (bits & 0xE4) != 0;
    if (upper && lower)
        return ':';
    if (upper)
        return '\'';
    if (lower)
        return '.';
    return ' ';
}

void dl_canvas_render(const dl_canvas *c, dl_grid *g, int x, int y, int ascii)
{
    for (int r = 0; r < c->rows; r++)
        for (int k = 0; k < c->cols; k++) {
            size_t i = (size_t)r * c->cols + k;
            if (!c->bits[i])
                continue;
            uint32_t ch =
                ascii ? (uint32_t)dl_canvas_ascii_glyph(c->bits[i]) : 0x2800u + c->bits[i];
            dl_grid_put(g, x + k, y + r, ch, c->role[i], c->attr[i]);
        }
}
