/* tensor: aligned allocation and shape helpers; see tensor.h. */
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
