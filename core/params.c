/* params: the contiguous parameter store; see params.h. */
#include "core/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN_ELEMS 16 /* 64 bytes of floats: every tensor starts on a cache line */

void dl_params_init(dl_params *ps)
{
    memset(ps, 0, sizeof *ps);
    ps->n_groups = 1;
}

void dl_params_free(dl_params *ps)
{
    free(ps->e);
    if (!ps->data_shared)
        dl_free_aligned(ps->data);
    dl_free_aligned(ps->grad);
    dl_free_aligned(ps->state0);
    dl_free_aligned(ps->state1);
    dl_free_aligned(ps->buf);
    dl_free_aligned(ps->ibuf);
    memset(ps, 0, sizeof *ps);
}

static long add_entry(dl_params *ps, const char *name, dl_entry_kind kind, int ndim,
                      const int64_t *shape, int group, unsigned flags, dl_err *err)
{
    if (ps->finalized) {
        dl_err_set(err, DL_EINVAL, "parameter '%s' registered after the store was finalised", name);
        return -1;
    }
    if (strlen(name) >= DL_NAME_MAX || ndim < 0 || ndim > 4 || group < 0 ||
        group >= DL_MAX_GROUPS) {
        dl_err_set(err, DL_EINVAL, "bad parameter registration '%s' (ndim %d, group %d)", name,
                   ndim, group);
        return -1;
    }
    if (dl_params_find(ps, name) >= 0) {
        dl_err_set(err, DL_EINVAL, "parameter '%s' registered twice", name);
        return -1;
    }
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 128;
        dl_entry *e = realloc(ps->e, cap * sizeof *e);
        if (!e) {
            dl_err_set(err, DL_ENOMEM, "out of memory registering '%s'", name);
            return -1;
        }
        ps->e = e;
        ps->cap = cap;
    }
    dl_entry *en = &ps->e[ps->n];
    memset(en, 0, sizeof *en);
    snprintf(en->name, sizeof en->name, "%s", name);
    en->kind = kind;
    en->ndim = ndim;
    if (ndim > 0) /* a 0-d tensor may come with shape == NULL */
        memcpy(en->shape, shape, sizeof(int64_t) * (size_t)ndim);
    en->numel = (size_t)dl_shape_numel(ndim, shape);
    en->group = group;
    en->flags = flags;
    size_t *total = kind == DL_ENTRY_PARAM     ? &ps->total
                    : kind == DL_ENTRY_BUF_F32 ? &ps->buf_total
                                               : &ps->ibuf_total;
    en->offset = *total;
    *total += (en->numel + ALIGN_ELEMS - 1) / ALIGN_ELEMS * ALIGN_ELEMS;
    if (group + 1 > ps->n_groups)
        ps->n_groups = group + 1;
    return (long)ps->n++;
}

void dl_params_set_init(dl_params *ps, long i, dl_init_rule rule, int fan_in)
{
    if (i >= 0 && (size_t)i < ps->n) {
        ps->e[i].init = rule;
        ps->e[i].fan_in = fan_in;
    }
}

long dl_params_add(dl_params *ps, const char *name, int ndim, const int64_t *shape, int group,
                   unsigned flags, dl_err *err)
{
    return add_entry(ps, name, DL_ENTRY_PARAM, ndim, shape, group, flags, err);
}

long dl_params_add_buffer(dl_params *ps, const char *name, dl_entry_kind kind, int ndim,
                          const int64_t *shape, dl_err *err)
{
    if (kind == DL_ENTRY_PARAM) {
        dl_err_set(err, DL_EINVAL, "buffer '%s' registered as a parameter", name);
        return -1;
    }
    return add_entry(ps, name, kind, ndim, shape, 0, 0, err);
}

dl_status dl_params_finalize(dl_params *ps, dl_err *err)
{
    size_t t = ps->total ? ps->total : ALIGN_ELEMS;
    ps->data = dl_alloc_aligned(t * sizeof(float));
    ps->grad = dl_alloc_aligned(t * sizeof(float));
    ps->state0 = dl_alloc_aligned(t * sizeof(float));
    ps->state1 = dl_alloc_aligned(t * sizeof(float));
    ps->buf = dl_alloc_aligned((ps->buf_total ? ps->buf_total : 1) * sizeof(float));
    ps->ibuf = dl_alloc_aligned((ps->ibuf_total ? ps->ibuf_total : 1) * sizeof(int64_t));
    if (!ps->data || !ps->grad || !ps->state0 || !ps->state1 || !ps->buf || !ps->ibuf)
        return dl_err_set(err, DL_ENOMEM, "cannot allocate the parameter store (%zu floats x 4)",
                          t);
    ps->finalized = true;
    return DL_OK;
}

bool dl_params_trainable(const dl_params *ps, size_t i)
{
    const dl_entry *e = &ps->e[i];
    if (e->kind != DL_ENTRY_PARAM)
        return false;
    return !ps->frozen[e->group] || (e->flags & DL_PARAM_NORM);
}

long dl_params_find(const dl_params *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->e[i].name, name) == 0)
            return (long)i;
    return -1;
}

size_t dl_params_count(const dl_params *ps)
{
    size_t n = 0;
    for (size_t i = 0; i < ps->n; i++)
        if (ps->e[i].kind == DL_ENTRY_PARAM)
            n += ps->e[i].numel;
    return n;
}

void dl_params_zero_grad(dl_params *ps) { memset(ps->grad, 0, ps->total * sizeof(float)); }

dl_status dl_params_share_data(dl_params *replica, const dl_params *master, dl_err *err)
{
    if (replica->n != master->n || replica->total != master->total ||
        replica->buf_total != master->buf_total)
        return dl_err_set(err, DL_ESHAPE,
                          "replica's parameters (%zu entries, %zu floats) differ from the model's "
                          "(%zu entries, %zu floats)",
                          replica->n, replica->total, master->n, master->total);
    if (!replica->data_shared)
        dl_free_aligned(replica->data);
    dl_free_aligned(replica->state0);
    dl_free_aligned(replica->state1);
    replica->state0 = replica->state1 = NULL;
    replica->data = master->data;
    replica->data_shared = true;
    return DL_OK;
}

void dl_params_freeze_to(dl_params *ps, int n)
{
    if (n < 0)
        n += ps->n_groups;
    for (int g = 0; g < ps->n_groups; g++)
        ps->frozen[g] = g < n;
}

dl_status dl_params_to_map(const dl_params *ps, dl_tensor_map *out, dl_err *err)
{
    for (size_t i = 0; i < ps->n; i++) {
        const dl_entry *e = &ps->e[i];
        const void *src = e->kind == DL_ENTRY_PARAM     ? (const void *)dl_params_data(ps, i)
                          : e->kind == DL_ENTRY_BUF_F32 ? (const void *)dl_params_buf(ps, i)
                                                        : (const void *)dl_params_ibuf(ps, i);
        dl_status st = dl_tensor_map_add(out, e->name,
                                         e->kind == DL_ENTRY_BUF_I64 ? DL_DTYPE_I64 : DL_DTYPE_F32,
                                         e->ndim, e->shape, src, err);
        if (st != DL_OK)
            return st;
    }
    return DL_OK;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return prefix && *prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Appends a name to a bounded comma-separated list used in error messages. */
static void list_name(char *buf, size_t cap, int *count, const char *name)
{
    if (*count < 10) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, "%s%s", *count ? ", " : "", name);
    } else if (*count == 10) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, ", ...");
    }
    (*count)++;
}

dl_status dl_params_load_map(dl_params *ps, const dl_tensor_map *map, const dl_load_opts *opts,
                             dl_err *err)
{
    dl_load_opts none = {0};
    if (!opts)
        opts = &none;
    char missing[600] = "", unexpected[600] = "";
    int n_missing = 0, n_unexpected = 0;
    size_t plen = opts->src_prefix ? strlen(opts->src_prefix) : 0;
    char key[DL_NAME_MAX + 64];

    for (size_t i = 0; i < ps->n; i++) {
        dl_entry *e = &ps->e[i];
        if (has_prefix(e->name, opts->skip_prefix))
            continue;
        snprintf(key, sizeof key, "%s%s", plen ? opts->src_prefix : "", e->name);
        const dl_named_tensor *t = dl_tensor_map_get(map, key);
        if (!t) {
            bool nbt = strstr(e->name, "num_batches_tracked") != NULL;
            if (!(nbt && opts->allow_missing_nbt))
                list_name(missing, sizeof missing, &n_missing, e->name);
            continue;
        }
        char a[64], b[64];
        if (!dl_shape_equal(e->ndim, e->shape, t->ndim, t->shape))
            return dl_err_set(err, DL_ESHAPE,
                              "tensor '%s': the file has shape %s, the model expects %s", key,
                              dl_shape_str(t->ndim, t->shape, a, sizeof a),
                              dl_shape_str(e->ndim, e->shape, b, sizeof b));
        bool want_i64 = e->kind == DL_ENTRY_BUF_I64;
        if (want_i64 != (t->dtype == DL_DTYPE_I64))
            return dl_err_set(err, DL_EFORMAT, "tensor '%s': dtype %s, expected %s", key,
                              dl_dtype_name(t->dtype), want_i64 ? "I64" : "F32");
    }
    if (!opts->allow_unexpected) {
        for (size_t j = 0; j < map->n; j++) {
            const char *name = map->items[j].name;
            if (plen && strncmp(name, opts->src_prefix, plen) != 0) {
                list_name(unexpected, sizeof unexpected, &n_unexpected, name);
                continue;
            }
            const char *local = name + plen;
            if (dl_params_find(ps, local) < 0 && !has_prefix(local, opts->skip_prefix))
                list_name(unexpected, sizeof unexpected, &n_unexpected, name);
        }
    }
    if (n_missing || n_unexpected)
        return dl_err_set(
            err, DL_EFORMAT, "weights do not fit the model: %d missing%s%s%s, %d unexpected%s%s%s",
            n_missing, n_missing ? " (" : "", missing, n_missing ? ")" : "", n_unexpected,
            n_unexpected ? " (" : "", unexpected, n_unexpected ? ")" : "");

    /* All checks passed: only now touch the model, so a failed load leaves it unchanged. */
    for (size_t i = 0; i < ps->n; i++) {
        dl_entry *e = &ps->e[i];
        if (has_prefix(e->name, opts->skip_prefix))
            continue;
        snprintf(key, sizeof key, "%s%s", plen ? opts->src_prefix : "", e->name);
        const dl_named_tensor *t = dl_tensor_map_get(map, key);
        if (!t)
            continue;
        void *dst = e->kind == DL_ENTRY_PARAM     ? (void *)dl_params_data(ps, i)
                    : e->kind == DL_ENTRY_BUF_F32 ? (void *)dl_params_buf(ps, i)
                                                  : (void *)dl_params_ibuf(ps, i);
        memcpy(dst, t->data, e->numel * dl_dtype_size(t->dtype));
    }
    return DL_OK;
}
