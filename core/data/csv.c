/* data/csv: a small RFC 4180 reader (comma separator, "quoted" fields with "" as an escaped
 * quote, quoted newlines, LF or CRLF line ends, optional UTF-8 BOM). Refuses: an unclosed quote,
 * text after a closing quote, a row whose field count differs from the header's, an empty file,
 * a NUL byte (fields are C strings: it would cut the field silently).
 * Errors read "file:line: reason" with the line where the row starts. */
#include <stdlib.h>
#include <string.h>

#include "core/data/internal.h"
#include "core/file.h"

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static bool sb_put(sbuf *b, char ch)
{
    if (b->n + 1 >= b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        char *q = realloc(b->p, nc);
        if (!q)
            return false;
        b->p = q;
        b->cap = nc;
    }
    b->p[b->n++] = ch;
    return true;
}

typedef struct vec {
    char **cells;
    size_t n, cap;
} vec;

static bool vec_push(vec *v, char *s)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        char **q = realloc(v->cells, nc * sizeof *q);
        if (!q)
            return false;
        v->cells = q;
        v->cap = nc;
    }
    v->cells[v->n++] = s;
    return true;
}

dl_status dl_csv_parse(const char *t, size_t n, const char *fname, dl_csv *out, dl_err *err)
{
    memset(out, 0, sizeof *out);
    vec cells = {0};
    int *lines = NULL;
    size_t nrows = 0, lines_cap = 0;
    sbuf f = {0};
    size_t i = 0;
    int line = 1, row_line = 1, cols = -1, row_fields = 0;
    dl_status st = DL_OK;
    if (n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    if (i >= n) {
        st = dl_err_set(err, DL_EFORMAT, "%s:1: empty CSV file", fname);
        goto fail;
    }
    while (i < n) {
        /* one field */
        f.n = 0;
        bool quoted = false;
        if (t[i] == '"') {
            quoted = true;
            int qline = line;
            i++;
            for (;;) {
                if (i >= n) {
                    st = dl_err_set(err, DL_EFORMAT, "%s:%d: unclosed quote", fname, qline);
                    goto fail;
                }
                if (t[i] == '"') {
                    if (i + 1 < n && t[i + 1] == '"') {
                        if (!sb_put(&f, '"'))
                            goto nomem;
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (t[i] == '\n')
                    line++;
                if (t[i] == 0)
                    goto nul;
                if (!sb_put(&f, t[i++]))
                    goto nomem;
            }
        } else {
            while (i < n && t[i] != ',' && t[i] != '\n' &&
                   !(t[i] == '\r' && i + 1 < n && t[i + 1] == '\n') &&
                   !(t[i] == '\r' && i + 1 == n)) {
                if (t[i] == '"') {
                    st = dl_err_set(err, DL_EFORMAT, "%s:%d: quote inside an unquoted field", fname,
                                    line);
                    goto fail;
                }
                if (t[i] == 0)
                    goto nul;
                if (!sb_put(&f, t[i++]))
                    goto nomem;
            }
        }
        if (quoted && i < n && t[i] != ',' && t[i] != '\n' && t[i] != '\r') {
            st = dl_err_set(err, DL_EFORMAT, "%s:%d: text after a closing quote", fname, line);
            goto fail;
        }
        char *cell = malloc(f.n + 1);
        if (!cell)
            goto nomem;
        memcpy(cell, f.p ? f.p : "", f.n);
        cell[f.n] = 0;
        if (!vec_push(&cells, cell)) {
            free(cell);
            goto nomem;
        }
        row_fields++;
        bool end_row = i >= n || t[i] != ',';
        if (!end_row) {
            i++;
            if (i >= n) { /* trailing comma at EOF: one more empty field */
                char *e = calloc(1, 1);
                if (!e || !vec_push(&cells, e)) {
                    free(e);
                    goto nomem;
                }
                row_fields++;
                end_row = true;
            } else
                continue;
        }
        if (i < n && t[i] == '\r')
            i++;
        if (i < n && t[i] == '\n')
            i++;
        /* A blank line (a single empty unquoted field) is skipped, except as a real row. */
        if (row_fields == 1 && !quoted && cells.cells[cells.n - 1][0] == 0) {
            free(cells.cells[--cells.n]);
        } else {
            if (cols < 0)
                cols = row_fields;
            else if (row_fields != cols) {
                st = dl_err_set(err, DL_EFORMAT, "%s:%d: %d fields, the header has %d", fname,
                                row_line, row_fields, cols);
                goto fail;
            }
            if (nrows == lines_cap) {
                lines_cap = lines_cap ? lines_cap * 2 : 64;
                int *q = realloc(lines, lines_cap * sizeof *q);
                if (!q)
                    goto nomem;
                lines = q;
            }
            lines[nrows++] = row_line;
        }
        line++;
        row_line = line;
        row_fields = 0;
    }
    if (nrows == 0) {
        st = dl_err_set(err, DL_EFORMAT, "%s:1: empty CSV file", fname);
        goto fail;
    }
    free(f.p);
    out->cells = cells.cells;
    out->line = lines;
    out->rows = nrows;
    out->cols = cols;
    return DL_OK;
nul: /* C strings would silently cut the field there */
    st = dl_err_set(err, DL_EFORMAT, "%s:%d: NUL byte in a field (field %d; is this a text file?)",
                    fname, line, row_fields + 1);
    goto fail;
nomem:
    st = dl_err_set(err, DL_ENOMEM, "%s: out of memory", fname);
fail:
    for (size_t k = 0; k < cells.n; k++)
        free(cells.cells[k]);
    free(cells.cells);
    free(lines);
    free(f.p);
    return st;
}

dl_status dl_csv_read(const char *path, dl_csv *out, dl_err *err)
{
    void *buf;
    size_t n;
    /* the image reader's cap, but named for what it is (it said "too large for an image file") */
    dl_status st = dl_file_read(path, (size_t)512 << 20, "a CSV file", &buf, &n, err);
    if (st == DL_ENOTFOUND &&
        err) /* as every data file: a missing one is the data set's I/O failure */
        err->code = DL_EIO;
    if (st)
        return st == DL_ENOTFOUND ? DL_EIO : st;
    st = dl_csv_parse((const char *)buf, n, path, out, err);
    free(buf);
    return st;
}

int dl_csv_col(const dl_csv *c, const char *name)
{
    for (int k = 0; k < c->cols; k++)
        if (strcmp(c->cells[k], name) == 0)
            return k;
    return -1;
}

void dl_csv_free(dl_csv *c)
{
    if (c->cells)
        for (size_t k = 0; k < c->rows * (size_t)c->cols; k++)
            free(c->cells[k]);
    free(c->cells);
    free(c->line);
    memset(c, 0, sizeof *c);
}
