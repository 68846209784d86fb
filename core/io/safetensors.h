/* safetensors: read and write the safetensors format (8-byte little-endian header length, JSON
 * header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, raw little-endian data).
 * Reads F32, F16, BF16, F64 (converted to float32) and I64; writes F32 and I64. Every offset and
 * length is checked against the file size; a malformed file is an error naming the file and the
 * tensor, never a crash. Writing goes to a temporary name in the same folder, is fsynced, renamed
 * over the target, and the folder fsynced, so a crash or a full disk never leaves a torn file and
 * never destroys the previous version. */
#ifndef DL_SAFETENSORS_H
#define DL_SAFETENSORS_H

#include <stddef.h>

#include "core/err.h"
#include "core/tensor_map.h"

/* Reads every tensor and the metadata of path into out (which must be initialised). */
dl_status dl_safetensors_read(const char *path, dl_tensor_map *out, dl_err *err);
/* Parses an in-memory file image (same checks; name is used in messages). */
dl_status dl_safetensors_parse(const void *buf, size_t len, const char *name, dl_tensor_map *out,
                               dl_err *err);
/* Serialises m (tensors in map order, metadata as __metadata__) into a malloc'd buffer. */
dl_status dl_safetensors_serialize(const dl_tensor_map *m, void **buf, size_t *len, dl_err *err);
/* Atomically writes m to path (temp file, fsync, rename, fsync folder). ENOSPC -> DL_ENOSPC. */
dl_status dl_safetensors_write(const char *path, const dl_tensor_map *m, dl_err *err);

#endif
