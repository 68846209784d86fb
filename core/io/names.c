/* names: key renaming for foreign checkpoints; see names.h. */
#include "core/io/names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* Replaces the first `drop` characters of *name with `with`. */
static dl_status replace_head(char **name, size_t drop, const char *with, dl_err *err)
{
    size_t wl = strlen(with), rest = strlen(*name) - drop;
    char *n = malloc(wl + rest + 1);
    if (!n)
        return dl_err_set(err, DL_ENOMEM, "out of memory renaming '%s'", *name);
    memcpy(n, with, wl);
    memcpy(n + wl, *name + drop, rest + 1);
    free(*name);
    *name = n;
    return DL_OK;
}

static int is_fastai_export(const dl_tensor_map *m)
{
    /* Every key starts "0." or "1." and the stem conv is "0.0.weight". */
    int stem = 0;
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->items[i].name;
        if (!starts(k, "0.") && !starts(k, "1."))
            return 0;
        stem |= strcmp(k, "0.0.weight") == 0;
    }
    return stem;
}

static dl_status rename_fastai(dl_tensor_map *m, dl_err *err)
{
    static const char *body[8] = {"conv1.",  "bn1.",    NULL,      NULL,
                                  "layer1.", "layer2.", "layer3.", "layer4."};
    for (size_t i = 0; i < m->n; i++) {
        char **k = &m->items[i].name;
        dl_status st = DL_OK;
        int child = starts(*k, "0.") && isdigit((unsigned char)(*k)[2]) && (*k)[3] == '.'
                        ? (*k)[2] - '0'
                        : -1;
        if (child >= 0 && body[child]) /* children 2 and 3 (relu, maxpool) hold nothing */
            st = replace_head(k, 4, body[child], err);
        else if (starts(*k, "1."))
            st = replace_head(k, 2, "head.", err);
        if (st != DL_OK)
            return st;
    }
    return DL_OK;
}

dl_status dl_weights_rename(dl_tensor_map *m, dl_weights_style *style, dl_err *err)
{
    const char *kind = "torchvision";
    const char *removed = NULL;
    static const char *prefixes[] = {"module.",  "model.", "backbone.",
                                     "encoder.", "net.",   "state_dict."};
    for (size_t p = 0; m->n && p < sizeof prefixes / sizeof prefixes[0]; p++) {
        size_t i = 0;
        while (i < m->n && starts(m->items[i].name, prefixes[p]))
            i++;
        if (i < m->n)
            continue;
        for (i = 0; i < m->n; i++) {
            dl_status st = replace_head(&m->items[i].name, strlen(prefixes[p]), "", err);
            if (st != DL_OK)
                return st;
        }
        removed = prefixes[p];
        break;
    }
    dl_status st = DL_OK;
    if (is_fastai_export(m)) {
        kind = "fastai export";
        st = rename_fastai(m, err);
    } else {
        for (size_t i = 0; i < m->n && st == DL_OK; i++)
            if (starts(m->items[i].name, "head.fc.")) {
                kind = "timm (head.fc -> fc)";
                st = replace_head(&m->items[i].name, 5, "", err);
            }
    }
    if (st != DL_OK)
        return st;
    for (size_t i = 0; i < m->n; i++) /* a renaming must not merge two tensors */
        for (size_t j = i + 1; j < m->n; j++)
            if (strcmp(m->items[i].name, m->items[j].name) == 0)
                return dl_err_set(err, DL_EFORMAT,
                                  "two tensors are both named '%s' after renaming (%s)",
                                  m->items[i].name, kind);
    if (style && removed)
        snprintf(style->text, sizeof style->text, "%s, prefix '%s' removed", kind, removed);
    else if (style)
        snprintf(style->text, sizeof style->text, "%s", kind);
    return DL_OK;
}
