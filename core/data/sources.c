/* data/sources: turn a folder or a CSV into raw items (path, label strings, split).
 * Folder per class (label = parent folder), the train/valid(val) grandparent layout (files under
 * neither are left out and counted), labels from file names by a POSIX ERE (group 1), and CSVs
 * (file name, delimited labels, optional validity column). Walks are sorted by name so item order
 * never depends on the file system. Refuses: a regex that does not match a file name, unknown CSV
 * columns, empty file names, validity values other than true/false/1/0. A CSV row naming a
 * missing file is skipped with a warning naming its line; more than 5 % such rows is an error. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/data/internal.h"
#include "core/printable.h"
#include "core/file.h"
#include "core/log.h"

bool dl_is_image_name(const char *name)
{
    static const char *ext[] = {".jpg", ".jpeg", ".jpe",  ".jfif", ".png", ".gif",
                                ".bmp", ".tif",  ".tiff", ".webp", ".ppm"};
    const char *dot = strrchr(name, '.');
    if (!dot)
        return false;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (strcasecmp(dot, ext[i]) == 0)
            return true;
    return false;
}

dl_status dl_raw_add(dl_rawset *rs, const char *path, const char *const *labels, int n_labels,
                     int split, dl_err *err)
{
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 256;
        dl_raw_item *q = realloc(rs->items, nc * sizeof *q);
        if (!q)
            return dl_err_set(err, DL_ENOMEM, "out of memory listing items");
        rs->items = q;
        rs->cap = nc;
    }
    dl_raw_item *it = &rs->items[rs->n];
    memset(it, 0, sizeof *it);
    it->split = split;
    it->path = path ? strdup(path) : NULL;
    it->labels = calloc(n_labels > 0 ? n_labels : 1, sizeof(char *));
    if ((path && !it->path) || !it->labels)
        goto nomem;
    for (int k = 0; k < n_labels; k++) {
        it->labels[k] = strdup(labels[k]);
        if (!it->labels[k])
            goto nomem;
        it->n_labels = k + 1;
    }
    rs->n++;
    return DL_OK;
nomem:
    for (int k = 0; k < it->n_labels; k++)
        free(it->labels[k]);
    free(it->labels);
    free(it->path);
    return dl_err_set(err, DL_ENOMEM, "out of memory listing items");
}

dl_status dl_raw_skip(dl_rawset *rs, const char *path, const char *reason, dl_err *err)
{
    if (rs->n_skipped == rs->skip_cap) {
        size_t nc = rs->skip_cap ? rs->skip_cap * 2 : 16;
        char **a = realloc(rs->skipped, nc * sizeof *a);
        if (!a)
            return dl_err_set(err, DL_ENOMEM, "out of memory");
        rs->skipped = a;
        char **b = realloc(rs->skip_reason, nc * sizeof *b);
        if (!b)
            return dl_err_set(err, DL_ENOMEM, "out of memory");
        rs->skip_reason = b;
        rs->skip_cap = nc;
    }
    rs->skipped[rs->n_skipped] = strdup(path);
    rs->skip_reason[rs->n_skipped] = strdup(reason);
    rs->n_skipped++;
    dl_log(DL_LOG_WARN, "skipping %s: %s", path, reason);
    return DL_OK;
}

void dl_rawset_free(dl_rawset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        for (int k = 0; k < rs->items[i].n_labels; k++)
            free(rs->items[i].labels[k]);
        free(rs->items[i].labels);
        free(rs->items[i].path);
    }
    free(rs->items);
    free(rs->csv_path);
    free(rs->root);
    free(rs->blob);
    free(rs->blob2);
    for (size_t i = 0; i < rs->n_skipped; i++) {
        free(rs->skipped[i]);
        free(rs->skip_reason[i]);
    }
    free(rs->skipped);
    free(rs->skip_reason);
    memset(rs, 0, sizeof *rs);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

typedef struct walk_ctx {
    dl_rawset *rs;
    regex_t *re;
    const char *top;
    int split; /* DL_RAW_RANDOM, or -2 to decide by the first path component */
} walk_ctx;

/* Sorted, dot-free entries of a directory. */
static dl_status list_dir(const char *dir, char ***names, size_t *n, dl_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return dl_err_set(err, DL_EIO, "%s: cannot open folder: %s", dir, strerror(errno));
    size_t cap = 64, cnt = 0;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (cnt == cap) {
            cap *= 2;
            char **q = realloc(v, cap * sizeof *q);
            if (!q)
                break;
            v = q;
        }
        v[cnt++] = strdup(e->d_name);
    }
    closedir(d);
    if (!v)
        return dl_err_set(err, DL_ENOMEM, "out of memory reading %s", dir);
    qsort(v, cnt, sizeof *v, cmp_str);
    *names = v;
    *n = cnt;
    return DL_OK;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Adds the files under dir (recursively). parent = label folder name for files directly in dir. */
static dl_status walk(walk_ctx *w, const char *dir, const char *parent, int split, int depth,
                      size_t *found, dl_err *err)
{
    if (depth > 32)
        return dl_err_set(err, DL_EINVAL, "%s: folders nested too deeply (symlink loop?)", dir);
    char **names;
    size_t n;
    dl_status st = list_dir(dir, &names, &n, err);
    if (st)
        return st;
    char path[PATH_MAX];
    for (size_t i = 0; i < n && !st; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (is_dir(path)) {
            size_t sub = 0;
            st = walk(w, path, names[i], split, depth + 1, &sub, err);
            if (!st && sub == 0 && !w->re)
                dl_log(DL_LOG_WARN, "%s: empty class folder (no images)", path);
            *found += sub;
            continue;
        }
        if (!dl_is_image_name(names[i])) {
            if (parent || w->re)
                st = dl_raw_skip(w->rs, path, "not an image (by its name)", err);
            continue;
        }
        const char *label = parent;
        char buf[NAME_MAX + 1];
        if (w->re) {
            regmatch_t m[2];
            if (regexec(w->re, names[i], 2, m, 0) != 0 || m[1].rm_so < 0) {
                st = dl_err_set(err, DL_EINVAL, "%s: --label-re does not match the file name '%s'",
                                path, names[i]);
                break;
            }
            size_t len = (size_t)(m[1].rm_eo - m[1].rm_so);
            if (len == 0 || len > NAME_MAX) {
                st = dl_err_set(err, DL_EINVAL, "%s: --label-re group 1 is empty for '%s'", path,
                                names[i]);
                break;
            }
            memcpy(buf, names[i] + m[1].rm_so, len);
            buf[len] = 0;
            label = buf;
        }
        if (!label) { /* a file directly in the top folder: no class */
            w->rs->left_out++;
            continue;
        }
        st = dl_raw_add(w->rs, path, &label, 1, split, err);
        (*found)++;
    }
    free_names(names, n);
    return st;
}

dl_status dl_source_folder(const char *dir, const char *label_re, dl_rawset *rs, dl_err *err)
{
    if (!is_dir(dir)) {
        char near[512];
        if (dl_data_suggest(dir, near, sizeof near))
            return dl_err_set(err, DL_ENOTFOUND, "%s: no such folder; did you mean %s?", dir, near);
        return dl_err_set(err, DL_ENOTFOUND, "%s: no such folder", dir);
    }
    regex_t re;
    walk_ctx w = {.rs = rs, .top = dir};
    if (label_re) {
        int rc = regcomp(&re, label_re, REG_EXTENDED);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &re, msg, sizeof msg);
            return dl_err_set(err, DL_EINVAL, "--label-re '%s': %s", label_re, msg);
        }
        if (re.re_nsub < 1) {
            regfree(&re);
            return dl_err_set(err, DL_EINVAL, "--label-re '%s' needs one (group) for the label",
                              label_re);
        }
        w.re = &re;
    }
    char tr[PATH_MAX], va[PATH_MAX];
    snprintf(tr, sizeof tr, "%s/train", dir);
    snprintf(va, sizeof va, "%s/valid", dir);
    if (!is_dir(va))
        snprintf(va, sizeof va, "%s/val", dir);
    dl_status st = DL_OK;
    size_t found = 0;
    if (is_dir(tr) && is_dir(va)) {
        rs->kind = DL_SOURCE_GRANDPARENT;
        /* Files under neither folder are in no split (fastai's GrandparentSplitter). */
        char **names;
        size_t n;
        st = list_dir(dir, &names, &n, err);
        if (st)
            goto out;
        char path[PATH_MAX];
        for (size_t i = 0; i < n && !st; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            int split = strcmp(path, tr) == 0   ? DL_RAW_TRAIN
                        : strcmp(path, va) == 0 ? DL_RAW_VALID
                                                : DL_RAW_NONE;
            if (split == DL_RAW_NONE) {
                size_t before = rs->n;
                if (is_dir(path))
                    st = walk(&w, path, NULL, DL_RAW_NONE, 1, &found, err);
                else if (dl_is_image_name(names[i]))
                    rs->left_out++;
                /* counted, then dropped: they belong to neither split */
                for (size_t k = before; k < rs->n; k++) {
                    for (int j = 0; j < rs->items[k].n_labels; j++)
                        free(rs->items[k].labels[j]);
                    free(rs->items[k].labels);
                    free(rs->items[k].path);
                }
                rs->left_out += rs->n - before;
                rs->n = before;
                continue;
            }
            st = walk(&w, path, NULL, split, 1, &found, err);
        }
        free_names(names, n);
    } else {
        rs->kind = label_re ? DL_SOURCE_REGEX : DL_SOURCE_FOLDER;
        st = walk(&w, dir, NULL, DL_RAW_RANDOM, 0, &found, err);
    }
out:
    if (w.re)
        regfree(&re);
    if (!st && rs->n == 0)
        st = dl_err_set(
            err, DL_ENOTFOUND, "%s: no images found%s", dir,
            label_re ? "" : " (expected DIR/<class>/*.jpg or DIR/train|valid/<class>/*.jpg)");
    return st;
}

static bool parse_bool(const char *s, int *v)
{
    if (!strcasecmp(s, "true") || !strcmp(s, "1")) {
        *v = 1;
        return true;
    }
    if (!strcasecmp(s, "false") || !strcmp(s, "0")) {
        *v = 0;
        return true;
    }
    return false;
}

static dl_status need_col(const dl_csv *c, const char *path, const char *name, const char *opt,
                          int *col, dl_err *err)
{
    *col = dl_csv_col(c, name);
    if (*col >= 0)
        return DL_OK;
    char have[512] = "";
    for (int k = 0; k < c->cols; k++) {
        size_t l = strlen(have);
        snprintf(have + l, sizeof have - l, "%s%s", k ? ", " : "", c->cells[k]);
    }
    return dl_err_set(err, DL_ENOTFOUND, "%s:%d: no column '%s' (%s; columns: %s)", path,
                      c->line[0], name, opt, have);
}

/* Whether a CSV file name points outside the folder it is relative to: absolute, or with a '..'
 * component (a CSV from elsewhere must not make dllab open /etc/passwd or ../../secrets). */
static bool leaves_folder(const char *name)
{
    if (name[0] == '/')
        return true;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n;
        p += *p == '/';
    }
    return false;
}

dl_status dl_source_csv(const dl_data_config *cfg, const char *root, dl_rawset *rs, dl_err *err)
{
    char path[PATH_MAX];
    if (cfg->csv[0] == '/')
        snprintf(path, sizeof path, "%s", cfg->csv);
    else
        snprintf(path, sizeof path, "%s/%s", root, cfg->csv);
    dl_csv c;
    dl_status st = dl_csv_read(path, &c, err);
    if (st)
        return st;
    rs->kind = DL_SOURCE_CSV;
    int fc, lc, vc = -1;
    if ((st = need_col(&c, path, cfg->fname_col, "--fname-col", &fc, err)) ||
        (st = need_col(&c, path, cfg->label_col, "--label-col", &lc, err)) ||
        (cfg->valid_col && (st = need_col(&c, path, cfg->valid_col, "--valid-col", &vc, err)))) {
        dl_csv_free(&c);
        return st;
    }
    char img[PATH_MAX], first_missing[PATH_MAX + 600] = "";
    size_t missing = 0;
    char **labs = NULL;
    size_t labcap = 0;
    for (size_t r = 1; r < c.rows && !st; r++) {
        char **row = c.cells + r * c.cols;
        int line = c.line[r];
        if (!row[fc][0]) {
            st = dl_err_set(err, DL_EFORMAT, "%s:%d: empty file name in column '%s'", path, line,
                            cfg->fname_col);
            break;
        }
        int split = DL_RAW_RANDOM;
        if (vc >= 0) {
            int v;
            if (!parse_bool(row[vc], &v)) {
                st = dl_err_set(err, DL_EFORMAT,
                                "%s:%d: column '%s' is '%s', expected true/false/1/0", path, line,
                                cfg->valid_col, row[vc]);
                break;
            }
            split = v ? DL_RAW_VALID : DL_RAW_TRAIN;
        }
        if (leaves_folder(row[fc])) {
            char shown[512];
            st = dl_err_set(err, DL_EFORMAT,
                            "%s:%d: file name '%s' leaves the data folder (an absolute path or "
                            "'..'): refused",
                            path, line, dl_printable(row[fc], shown, sizeof shown));
            break;
        }
        if (cfg->folder)
            snprintf(img, sizeof img, "%s/%s/%s", root, cfg->folder, row[fc]);
        else
            snprintf(img, sizeof img, "%s/%s", root, row[fc]);
        struct stat sb;
        if (stat(img, &sb) != 0) {
            /* the README's rule for bad files: skipped with a warning naming the CSV line; more
             * than 5 % of the rows is an error (below) */
            char why[PATH_MAX + 64], shown[512];
            snprintf(why, sizeof why, "listed at %s:%d but missing", path, line);
            if (missing++ == 0)
                snprintf(first_missing, sizeof first_missing, "%s:%d: image '%s' does not exist",
                         path, line, dl_printable(row[fc], shown, sizeof shown));
            st = dl_raw_skip(rs, img, why, err);
            continue;
        }
        /* Split the label cell on the delimiter; empty pieces are dropped (an empty cell = no
         * label). */
        char *cell = row[lc];
        int nl = 0;
        char *p = cell;
        while (*p) {
            char *q = p;
            while (*q && *q != cfg->label_delim)
                q++;
            bool last = !*q;
            *q = 0;
            if (*p) {
                if ((size_t)nl == labcap) {
                    labcap = labcap ? labcap * 2 : 8;
                    char **nlabs = realloc(labs, labcap * sizeof *nlabs);
                    if (!nlabs) {
                        st = dl_err_set(err, DL_ENOMEM, "out of memory");
                        break;
                    }
                    labs = nlabs;
                }
                labs[nl++] = p;
            }
            if (last)
                break;
            p = q + 1;
        }
        if (!st && (st = dl_raw_add(rs, img, (const char *const *)labs, nl, split, err)) == DL_OK)
            rs->items[rs->n - 1].line = line;
    }
    free(labs);
    size_t rows = c.rows > 0 ? c.rows - 1 : 0;
    dl_csv_free(&c);
    if (!st && missing * 20 > rows)
        st = dl_err_set(err, DL_ENOTFOUND,
                        "%zu of %zu rows name images that do not exist (more than 5 %%); first: %s",
                        missing, rows, first_missing);
    if (!st && rs->n == 0)
        st = dl_err_set(err, DL_ENOTFOUND, "%s: no rows", path);
    if (!st && !(rs->csv_path = strdup(path)))
        st = dl_err_set(err, DL_ENOMEM, "out of memory");
    return st;
}

/* core/file.c's mkdir -p under the name the data sources use */
dl_status dl_mkdirs(const char *path, dl_err *err) { return dl_mkdir_p(path, err); }

const char *dl_default_cache_dir(char *buf, size_t cap)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (x && *x)
        snprintf(buf, cap, "%s/dllab", x);
    else if (h && *h)
        snprintf(buf, cap, "%s/.cache/dllab", h);
    else
        snprintf(buf, cap, "/tmp/dllab-cache");
    return buf;
}
