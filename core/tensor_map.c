/* tensor_map: named tensors and metadata; see tensor_map.h. */
#include "core/tensor_map.h"

#include <stdlib.h>
#include <string.h>

void dl_tensor_map_init(dl_tensor_map *m) { memset(m, 0, sizeof *m); }

void dl_tensor_map_free(dl_tensor_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].name);
        dl_free_aligned(m->items[i].data);
    }
    for (size_t i = 0; i < m->n_meta; i++) {
        free(m->meta[i].key);
        free(m->meta[i].value);
    }
    free(m->items);
    free(m->meta);
    memset(m, 0, sizeof *m);
}

size_t dl_dtype_size(dl_dtype t) { return t == DL_DTYPE_I64 ? 8 : 4; }
const char *dl_dtype_name(dl_dtype t) { return t == DL_DTYPE_I64 ? "I64" : "F32"; }

const dl_named_tensor *dl_tensor_map_get(const dl_tensor_map *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->items[i].name, name) == 0)
            return &m->items[i];
    return NULL;
}

dl_status dl_tensor_map_add_owned(dl_tensor_map *m, const char *name, dl_dtype dtype, int ndim,
                                  const int64_t *shape, void *data, dl_err *err)
{
    if (ndim < 0 || ndim > DL_MAX_DIMS)
        return dl_err_set(err, DL_EINVAL, "tensor '%s' has %d dimensions (at most %d)", name, ndim,
                          DL_MAX_DIMS);
    if (dl_tensor_map_get(m, name))
        return dl_err_set(err, DL_EFORMAT, "duplicate tensor name '%s'", name);
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        dl_named_tensor *items = realloc(m->items, cap * sizeof *items);
        if (!items)
            return dl_err_set(err, DL_ENOMEM, "out of memory adding tensor '%s'", name);
        m->items = items;
        m->cap = cap;
    }
    dl_named_tensor *t = &m->items[m->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name)
        return dl_err_set(err, DL_ENOMEM, "out of memory adding tensor '%s'", name);
    t->dtype = dtype;
    t->ndim = ndim;
    if (ndim > 0) /* a 0-d tensor may come with shape == NULL */
        memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
    t->data = data;
    m->n++;
    return DL_OK;
}

dl_status dl_tensor_map_add(dl_tensor_map *m, const char *name, dl_dtype dtype, int ndim,
                            const int64_t *shape, const void *data, dl_err *err)
{
    if (ndim < 0 || ndim > DL_MAX_DIMS)
        return dl_err_set(err, DL_EINVAL, "tensor '%s' has %d dimensions (at most %d)", name, ndim,
                          DL_MAX_DIMS);
    size_t bytes = (size_t)dl_shape_numel(ndim, shape) * dl_dtype_size(dtype);
    void *copy = dl_alloc_aligned(bytes);
    if (!copy)
        return dl_err_set(err, DL_ENOMEM, "cannot allocate %zu bytes for tensor '%s'", bytes, name);
    if (data)
        memcpy(copy, data, bytes);
    dl_status st = dl_tensor_map_add_owned(m, name, dtype, ndim, shape, copy, err);
    if (st != DL_OK)
        dl_free_aligned(copy);
    return st;
}

dl_status dl_tensor_map_set_meta(dl_tensor_map *m, const char *key, const char *value, dl_err *err)
{
    for (size_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v)
                return dl_err_set(err, DL_ENOMEM, "out of memory setting metadata '%s'", key);
            free(m->meta[i].value);
            m->meta[i].value = v;
            return DL_OK;
        }
    if (m->n_meta == m->meta_cap) {
        size_t cap = m->meta_cap ? m->meta_cap * 2 : 8;
        dl_meta_kv *meta = realloc(m->meta, cap * sizeof *meta);
        if (!meta)
            return dl_err_set(err, DL_ENOMEM, "out of memory setting metadata '%s'", key);
        m->meta = meta;
        m->meta_cap = cap;
    }
    m->meta[m->n_meta].key = strdup(key);
    m->meta[m->n_meta].value = strdup(value);
    if (!m->meta[m->n_meta].key || !m->meta[m->n_meta].value) {
        free(m->meta[m->n_meta].key);
        free(m->meta[m->n_meta].value);
        return dl_err_set(err, DL_ENOMEM, "out of memory setting metadata '%s'", key);
    }
    m->n_meta++;
    return DL_OK;
}

const char *dl_tensor_map_get_meta(const dl_tensor_map *m, const char *key)
{
    for (size_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i].key, key) == 0)
            return m->meta[i].value;
    return NULL;
}
