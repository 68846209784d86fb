/* read_file: a weight file read whole (core/file.h's reader, uncapped: ResNet-50 alone is 100 MB)
 * and handed to its parser, which works on the in-memory image so that every bounds check is
 * against one known length. A missing file is DL_ENOTFOUND, other failures DL_EIO. */
#ifndef DL_IO_READ_FILE_H
#define DL_IO_READ_FILE_H

#include <stddef.h>

#include "core/err.h"
#include "core/tensor_map.h"

/* A weight-file parser: the image buf[len] (name for messages) into out. */
typedef dl_status (*dl_io_parse_fn)(const void *buf, size_t len, const char *name,
                                    dl_tensor_map *out, dl_err *err);
/* Reads path and parses it with parse (the path names the file in messages), freeing the image. */
dl_status dl_io_read_parse(const char *path, dl_io_parse_fn parse, dl_tensor_map *out, dl_err *err);

#endif
