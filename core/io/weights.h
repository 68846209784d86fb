/* weights: reads a weight file whatever its format, deciding by content rather than by extension:
 * a zip archive or a legacy PyTorch pickle/tar goes to the .pth importer (core/io/pth.h),
 * anything else to the safetensors reader (core/io/safetensors.h), whose checks then apply. */
#ifndef DL_IO_WEIGHTS_H
#define DL_IO_WEIGHTS_H

#include <stddef.h>

#include "core/err.h"
#include "core/tensor_map.h"

typedef enum dl_weights_format { DL_WEIGHTS_SAFETENSORS, DL_WEIGHTS_PTH } dl_weights_format;

dl_weights_format dl_weights_sniff(const void *buf, size_t len);
dl_status dl_weights_read(const char *path, dl_tensor_map *out, dl_err *err);
dl_status dl_weights_parse(const void *buf, size_t len, const char *name, dl_tensor_map *out,
                           dl_err *err);

#endif
