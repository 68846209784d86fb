/* grid: the in-memory cell screen every widget draws into (see grid.h). */
#include "ui/grid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dl_grid *dl_grid_new(int cols, int rows)
{
    if (cols <= 0 || rows <= 0)
        return NULL;
    dl_grid *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    if (dl_grid_resize(g, cols, rows) != 0) {
        free(g);
        return NULL;
    }
    return g;
}

void dl_grid_free(dl_grid *g)
{
    if (!g)
        return;
    free(g->cells);
    free(g);
}

int dl_grid_resize(dl_grid *g, int cols, int rows)
{
    if (cols <= 0 || rows <= 0)
        return -1;
    dl_cell *c = malloc((size_t)cols * rows * sizeof *c);
    if (!c)
        return -1;
    free(g->cells);
    g->cells = c;
    g->cols = cols;
    g->rows = rows;
    dl_grid_clear(g);
    return 0;
}

void dl_grid_clear(dl_grid *g)
{
    for (int i = 0; i < g->cols * g->rows; i++)
        g->cells[i] = (dl_cell){.ch = ' '};
}

dl_cell *dl_grid_at(dl_grid *g, int x, int y)
{
    if (x < 0 || y < 0 || x >= g->cols || y >= g->rows)
        return NULL;
    return &g->cells[(size_t)y * g->cols + x];
}

const dl_cell *dl_grid_cat(const dl_grid *g, int x, int y)
{
    return dl_grid_at((dl_grid *)g, x, y);
}

void dl_grid_put(dl_grid *g, int x, int y, uint32_t ch, int role, unsigned attr)
{
    dl_cell *c = dl_grid_at(g, x, y);
    if (c)
        *c = (dl_cell){.ch = ch, .role = (uint8_t)role, .attr = (uint8_t)attr};
}

uint32_t dl_utf8_decode(const char *s, size_t n, int *len)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0) {
        *len = 0;
        return 0;
    }
    if (u[0] < 0x80) {
        *len = 1;
        return u[0];
    }
    int need = (u[0] & 0xE0) == 0xC0   ? 2
               : (u[0] & 0xF0) == 0xE0 ? 3
               : (u[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (need == 0 || (size_t)need > n) {
        *len = 1;
        return '?';
    }
    uint32_t cp = u[0] & (0x7F >> need);
    for (int i = 1; i < need; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *len = 1;
            return '?';
        }
        cp = cp << 6 | (u[i] & 0x3F);
    }
    *len = need;
    return cp;
}

int dl_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int dl_utf8_width(const char *s)
{
    int w = 0, len;
    size_t n = strlen(s);
    while (n > 0) {
        dl_utf8_decode(s, n, &len);
        s += len;
        n -= (size_t)len;
        w++;
    }
    return w;
}

int dl_grid_text(dl_grid *g, int x, int y, int maxw, int role, unsigned attr, const char *s)
{
    if (maxw < 0)
        maxw = g->cols - x;
    int w = 0, len;
    size_t n = strlen(s);
    while (n > 0 && w < maxw) {
        uint32_t cp = dl_utf8_decode(s, n, &len);
        s += len;
        n -= (size_t)len;
        if (cp == '\n' || cp == '\t')
            cp = ' ';
        dl_grid_put(g, x + w, y, cp, role, attr);
        w++;
    }
    return w;
}

int dl_grid_textf(dl_grid *g, int x, int y, int maxw, int role, unsigned attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return dl_grid_text(g, x, y, maxw, role, attr, buf);
}

void dl_grid_fill(dl_grid *g, dl_rect r, uint32_t ch, int role, unsigned attr)
{
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++)
            dl_grid_put(g, x, y, ch, role, attr);
}

void dl_grid_box(dl_grid *g, dl_rect r, int ascii, const char *title)
{
    if (r.w < 2 || r.h < 2)
        return;
    uint32_t h = ascii ? '-' : 0x2500, v = ascii ? '|' : 0x2502;
    uint32_t tl = ascii ? '+' : 0x250C, tr = ascii ? '+' : 0x2510;
    uint32_t bl = ascii ? '+' : 0x2514, br = ascii ? '+' : 0x2518;
    int x1 = r.x + r.w - 1, y1 = r.y + r.h - 1;
    for (int x = r.x + 1; x < x1; x++) {
        dl_grid_put(g, x, r.y, h, DL_ROLE_AXIS, 0);
        dl_grid_put(g, x, y1, h, DL_ROLE_AXIS, 0);
    }
    for (int y = r.y + 1; y < y1; y++) {
        dl_grid_put(g, r.x, y, v, DL_ROLE_AXIS, 0);
        dl_grid_put(g, x1, y, v, DL_ROLE_AXIS, 0);
    }
    dl_grid_put(g, r.x, r.y, tl, DL_ROLE_AXIS, 0);
    dl_grid_put(g, x1, r.y, tr, DL_ROLE_AXIS, 0);
    dl_grid_put(g, r.x, y1, bl, DL_ROLE_AXIS, 0);
    dl_grid_put(g, x1, y1, br, DL_ROLE_AXIS, 0);
    if (title && *title && r.w > 4) {
        int n = dl_grid_text(g, r.x + 2, r.y, r.w - 4, DL_ROLE_TITLE, DL_ATTR_BOLD, " ");
        n += dl_grid_text(g, r.x + 2 + n, r.y, r.w - 4 - n, DL_ROLE_TITLE, DL_ATTR_BOLD, title);
        dl_grid_text(g, r.x + 2 + n, r.y, r.w - 4 - n, DL_ROLE_TITLE, DL_ATTR_BOLD, " ");
    }
}

char *dl_grid_dump(const dl_grid *g)
{
    size_t cap = (size_t)g->rows * ((size_t)g->cols * 4 + 1) + 1;
    char *out = malloc(cap), *p = out;
    if (!out)
        return NULL;
    for (int y = 0; y < g->rows; y++) {
        char *line = p, *end = p;
        for (int x = 0; x < g->cols; x++) {
            uint32_t ch = g->cells[(size_t)y * g->cols + x].ch;
            p += dl_utf8_encode(ch ? ch : ' ', p);
            if (ch != ' ' && ch != 0)
                end = p;
        }
        (void)line;
        p = end;
        *p++ = '\n';
    }
    *p = '\0';
    return out;
}

char *dl_grid_dump_roles(const dl_grid *g)
{
    char *out = malloc((size_t)g->rows * (g->cols + 1) + 1), *p = out;
    if (!out)
        return NULL;
    for (int y = 0; y < g->rows; y++) {
        for (int x = 0; x < g->cols; x++) {
            int r = g->cells[(size_t)y * g->cols + x].role;
            *p++ = r == 0 ? '.' : (char)('a' + r - 1);
        }
        *p++ = '\n';
    }
    *p = '\0';
    return out;
}
