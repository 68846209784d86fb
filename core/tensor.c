/* tensor: allocation and shape helpers; see tensor.h. */
#include "core/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t dl_shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

void *dl_alloc_aligned(size_t bytes)
{
    void *p = NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded == 0)
        rounded = 64;
    if (posix_memalign(&p, 64, rounded) != 0)
        return NULL;
    memset(p, 0, rounded);
    return p;
}

void dl_free_aligned(void *p) { free(p); }

dl_status dl_tensor_alloc(dl_tensor *t, int ndim, const int64_t *shape, dl_err *err)
{
    if (ndim < 0 || ndim > DL_MAX_DIMS)
        return dl_err_set(err, DL_EINVAL, "tensor with %d dimensions (at most %d)", ndim, DL_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return dl_err_set(err, DL_EINVAL, "negative tensor dimension %lld", (long long)shape[i]);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    if (ndim > 0) /* a 0-d tensor may come with shape == NULL */
        memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
    size_t n = (size_t)dl_shape_numel(ndim, shape);
    t->data = dl_alloc_aligned(n * sizeof(float));
    if (!t->data)
        return dl_err_set(err, DL_ENOMEM, "cannot allocate a tensor of %zu floats", n);
    t->owns = true;
    return DL_OK;
}

dl_tensor dl_tensor_view(float *data, int ndim, const int64_t *shape)
{
    dl_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.ndim = ndim;
    if (ndim > 0) /* a 0-d tensor may come with shape == NULL */
        memcpy(t.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return t;
}

void dl_tensor_free(dl_tensor *t)
{
    if (t->owns)
        dl_free_aligned(t->data);
    t->data = NULL;
    t->owns = false;
}

bool dl_shape_equal(int nd_a, const int64_t *a, int nd_b, const int64_t *b)
{
    if (nd_a != nd_b)
        return false;
    for (int i = 0; i < nd_a; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

const char *dl_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap)
{
    size_t len = 0;
    len += (size_t)snprintf(buf + len, cap - len, "(");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (len < cap)
        snprintf(buf + len, cap - len, ")");
    return buf;
}
