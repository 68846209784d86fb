/* tensor: what every array in the engine shares: shapes (outermost-first as in PyTorch, at most
 * DL_MAX_DIMS dimensions) and 64-byte aligned, zeroed float buffers. Named arrays live in
 * tensor_map.h, parameters in params.h; there is no free-standing tensor object (nothing used
 * the one that was here). */
#ifndef DL_TENSOR_H
#define DL_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DL_MAX_DIMS 6

int64_t dl_shape_numel(int ndim, const int64_t *shape);
bool dl_shape_equal(int nd_a, const int64_t *a, int nd_b, const int64_t *b);
/* Formats a shape as "(2, 3, 7, 7)" into buf. */
const char *dl_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap);

/* Aligned allocation used for every large float buffer in the engine (zeroed). */
void *dl_alloc_aligned(size_t bytes);
void dl_free_aligned(void *p);

#endif
