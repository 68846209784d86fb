/* tensor_map: an ordered list of named tensors (a state dict) plus string metadata.
 * It is the common currency between weight files (safetensors, .pth) and the parameter store:
 * readers produce one, writers consume one, and the model maps it onto its parameters by name.
 * Tensors are float32 or int64 (int64 only for counters such as num_batches_tracked); file
 * readers convert F16/BF16/F64 to float32. The map owns every name and data buffer in it. */
#ifndef DL_TENSOR_MAP_H
#define DL_TENSOR_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/tensor.h"

typedef enum dl_dtype { DL_DTYPE_F32 = 0, DL_DTYPE_I64 = 1 } dl_dtype;

typedef struct dl_named_tensor {
    char *name;
    dl_dtype dtype;
    int ndim;
    int64_t shape[DL_MAX_DIMS];
    void *data; /* float* or int64_t*, numel elements, 64-byte aligned */
} dl_named_tensor;

typedef struct dl_meta_kv {
    char *key;
    char *value;
} dl_meta_kv;

typedef struct dl_tensor_map {
    dl_named_tensor *items;
    size_t n, cap;
    dl_meta_kv *meta;
    size_t n_meta, meta_cap;
} dl_tensor_map;

void dl_tensor_map_init(dl_tensor_map *m);
void dl_tensor_map_free(dl_tensor_map *m);
/* Adds a tensor, copying name and data (data may be NULL: zero-filled). Duplicate names are an
 * error. */
dl_status dl_tensor_map_add(dl_tensor_map *m, const char *name, dl_dtype dtype, int ndim,
                            const int64_t *shape, const void *data, dl_err *err);
/* Adds a tensor taking ownership of data (allocated with dl_alloc_aligned). */
dl_status dl_tensor_map_add_owned(dl_tensor_map *m, const char *name, dl_dtype dtype, int ndim,
                                  const int64_t *shape, void *data, dl_err *err);
const dl_named_tensor *dl_tensor_map_get(const dl_tensor_map *m, const char *name);
dl_status dl_tensor_map_set_meta(dl_tensor_map *m, const char *key, const char *value, dl_err *err);
const char *dl_tensor_map_get_meta(const dl_tensor_map *m, const char *key);
size_t dl_dtype_size(dl_dtype t);
const char *dl_dtype_name(dl_dtype t); /* "F32", "I64" as in safetensors */

#endif
