/* tensor: a float32 NCHW array with explicit ownership.
 * A tensor either owns its data (allocated by dl_tensor_alloc, freed by dl_tensor_free) or is a
 * view into memory someone else owns (dl_tensor_view; free is then a no-op). Shapes are
 * outermost-first as in PyTorch. Data is 64-byte aligned when owned. */
#ifndef DL_TENSOR_H
#define DL_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DL_MAX_DIMS 6

typedef struct dl_tensor {
    float *data;
    int ndim;
    int64_t shape[DL_MAX_DIMS];
    bool owns;
} dl_tensor;

int64_t dl_shape_numel(int ndim, const int64_t *shape);
static inline int64_t dl_tensor_numel(const dl_tensor *t) { return dl_shape_numel(t->ndim, t->shape); }
/* Allocates zeroed, 64-byte aligned storage. */
dl_status dl_tensor_alloc(dl_tensor *t, int ndim, const int64_t *shape, dl_err *err);
dl_tensor dl_tensor_view(float *data, int ndim, const int64_t *shape);
void dl_tensor_free(dl_tensor *t);
bool dl_shape_equal(int nd_a, const int64_t *a, int nd_b, const int64_t *b);
/* Formats a shape as "(2, 3, 7, 7)" into buf. */
const char *dl_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap);

/* Aligned allocation used for every large float buffer in the engine (zeroed). */
void *dl_alloc_aligned(size_t bytes);
void dl_free_aligned(void *p);

#endif
